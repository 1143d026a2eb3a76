// The groundedness scorer's text layer: word lists, characters, sentence
// splitting (SplitSentences) and tokens (groundedness/text.h). Part of the
// scorer's rules: a change here that can change a result must bump
// kGroundednessScorerVersion and docs/groundedness.md.
#include "groundedness/text.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "util/utf8.h"
#include "verity/groundedness.h"

namespace verity {
namespace groundedness_text {

// ------------------------------------------------------------ word lists

// Function words dropped before scoring. Negations and quantity or
// comparison words (more, less, only, all, before, after...) are kept: they
// change what a sentence claims.
constexpr std::string_view kStopwords[] = {
    "a", "about", "also", "am", "an", "and", "are", "as", "at", "be", "been", "being", "but", "by", "can", "could",
    "did", "do", "does", "doing", "e.g", "each", "etc", "for", "from", "had", "has", "have", "having", "he", "her",
    "here", "hers", "herself", "him", "himself", "his", "how", "i", "i.e", "if", "in", "into", "is", "it", "its",
    "itself", "just", "let", "may", "me", "might", "must", "my", "myself", "of", "on", "onto", "or", "our", "ours",
    "ourselves", "shall", "she", "should", "so", "than", "that", "the", "their", "theirs", "them", "themselves", "then",
    "there", "these", "they", "this", "those", "through", "to", "too", "us", "very", "via", "was", "we", "were", "what",
    "when", "where", "which", "while", "who", "whom", "whose", "why", "will", "with", "would", "you", "your", "yours",
    "yourself", "yourselves",
    // answer fillers
    "ok", "okay", "please", "thanks", "yes"};

constexpr std::string_view kNegations[] = {"neither", "never", "no",      "nobody",  "none",
                                           "nor",     "not",   "nothing", "nowhere", "without"};

// Capitalised only because they open a sentence: not names there.
constexpr std::string_view kOpeners[] = {
    "according", "additionally", "afterwards",    "again",     "alternatively", "although",     "basically",
    "because",   "briefly",      "consequently",  "currently", "essentially",   "finally",      "first",
    "firstly",   "fortunately",  "furthermore",   "generally", "hence",         "however",      "importantly",
    "indeed",    "instead",      "lastly",        "later",     "like",          "meanwhile",    "moreover",
    "next",      "notably",      "note",          "ok",        "okay",          "otherwise",    "overall",
    "please",    "second",       "secondly",      "similarly", "since",         "specifically", "still",
    "summary",   "sure",         "therefore",     "third",     "though",        "thus",         "today",
    "typically", "ultimately",   "unfortunately", "unlike",    "usually",       "well",         "yes",
    "yet"};

// Words before a '.' that do not end a sentence (compared case-folded).
constexpr std::string_view kAbbreviations[] = {
    "al", "approx", "capt", "ca", "cf", "col", "dr",   "e.g", "fig", "figs", "gen", "gov", "hon", "i.e", "jr",   "lt",
    "mr", "mrs",    "ms",   "mt", "p",  "pp",  "prof", "rep", "rev", "sen",  "sgt", "sr",  "st",  "vol", "vols", "vs"};

template <size_t N>
bool Contains(const std::string_view (&list)[N], std::string_view word) {
  return std::find(std::begin(list), std::end(list), word) != std::end(list);
}

bool IsStopword(std::string_view w) { return Contains(kStopwords, w); }
bool IsNegation(std::string_view w) { return Contains(kNegations, w); }
bool IsOpener(std::string_view w) { return Contains(kOpeners, w); }
bool IsAbbreviation(std::string_view w) { return Contains(kAbbreviations, w); }

// ------------------------------------------------------------ characters

bool IsAsciiDigit(uint32_t c) { return c >= '0' && c <= '9'; }
bool IsAsciiUpper(uint32_t c) { return c >= 'A' && c <= 'Z'; }
bool IsAsciiLower(uint32_t c) { return c >= 'a' && c <= 'z'; }
bool IsAsciiAlnum(uint32_t c) { return IsAsciiDigit(c) || IsAsciiUpper(c) || IsAsciiLower(c); }
char FoldAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Fold(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = FoldAscii(c);
  return out;
}

// Non-ASCII code points that are punctuation, spaces or symbols, not letters.
bool IsNonAsciiSeparator(uint32_t c) {
  if (c >= 0x80 && c <= 0xBF) return c != 0xAA && c != 0xB5 && c != 0xBA;  // Latin-1 symbols, NBSP
  if (c == 0xD7 || c == 0xF7) return true;                                 // × ÷
  if (c >= 0x2000 && c <= 0x206F) return true;                             // spaces, dashes, quotes, •, …
  if (c >= 0x2190 && c <= 0x23FF) return true;                             // arrows, math, technical
  if (c >= 0x2500 && c <= 0x27BF) return true;                             // box drawing, shapes, dingbats
  if (c >= 0x3000 && c <= 0x303F) return true;                             // CJK punctuation
  if (c >= 0xFE30 && c <= 0xFE4F) return true;                             // CJK compatibility forms
  if (c >= 0xFF01 && c <= 0xFF0F) return true;                             // fullwidth punctuation
  if (c == 0xFEFF || c == 0xFFFD) return true;                             // BOM, replacement
  if (c >= 0x1F000 && c <= 0x1FAFF) return true;                           // emoji and pictographs
  return false;
}

// Letters and digits: ASCII alphanumerics and non-separator non-ASCII.
bool IsWordCp(uint32_t c) {
  if (c == utf8::kInvalid) return false;
  if (c < 0x80) return IsAsciiAlnum(c);
  return !IsNonAsciiSeparator(c);
}
bool IsLetterCp(uint32_t c) { return IsWordCp(c) && !IsAsciiDigit(c); }

uint32_t CpAt(std::string_view text, size_t i, size_t* len) {
  uint32_t cp = 0;
  *len = (i < text.size()) ? utf8::Decode(text, i, &cp) : 0;
  return *len == 0 ? utf8::kInvalid : cp;
}

// The code point that ends at text[i - 1] (i > 0).
uint32_t CpBefore(std::string_view text, size_t i) {
  size_t start = utf8::FloorBoundary(text, i - 1);
  uint32_t cp = 0;
  size_t len = utf8::Decode(text, start, &cp);
  return start + len == i ? cp : utf8::kInvalid;
}

bool IsApostrophe(std::string_view text, size_t i, size_t* len) {
  if (text[i] == '\'') return *len = 1, true;
  if (text.substr(i, 3) == "\u2019") return *len = 3, true;
  return false;
}

bool IsSpaceAt(std::string_view text, size_t i, size_t* len) {
  char c = text[i];
  if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') return *len = 1, true;
  if (text.substr(i, 2) == "\u00A0") return *len = 2, true;
  return false;
}

bool IsCloser(uint32_t c) {
  return c == '"' || c == '\'' || c == ')' || c == ']' || c == '}' || c == 0x2019 || c == 0x201D || c == 0xBB;
}

// ------------------------------------------------------------ sentences

// Trims whitespace and a leading list marker from [b, e).
ByteRange TrimSentence(std::string_view text, size_t b, size_t e) {
  size_t len = 0;
  auto skip_space = [&] {
    while (b < e && IsSpaceAt(text, b, &len)) b += len;
  };
  skip_space();
  // List markers: "-", "*", "+", "•", a run of '#', or 1-3 digits and '.' or ')' — each followed by a space.
  size_t m = b;
  if (m < e && (text[m] == '-' || text[m] == '*' || text[m] == '+')) {
    ++m;
  } else if (text.substr(m, 3) == "\u2022") {
    m += 3;
  } else if (m < e && text[m] == '#') {
    while (m < e && text[m] == '#') ++m;
  } else {
    size_t d = m;
    while (d < e && d - m < 3 && IsAsciiDigit(static_cast<unsigned char>(text[d]))) ++d;
    if (d > m && d < e && (text[d] == '.' || text[d] == ')')) m = d + 1;
  }
  if (m > b && m < e && IsSpaceAt(text, m, &len)) {
    b = m;
    skip_space();
  }
  while (e > b) {
    if (IsSpaceAt(text, e - 1, &len)) {
      --e;
    } else if (e - b >= 2 && text.substr(e - 2, 2) == "\u00A0") {
      e -= 2;
    } else {
      break;
    }
  }
  return {b, e};
}

// Whether the single '.' at `dot` is an abbreviation's, an initial's or a
// list number's rather than a sentence end. `start` is the sentence start.
bool DotIsNotAnEnd(std::string_view text, size_t start, size_t dot) {
  size_t ws = dot;
  size_t len = 0;
  while (ws > start && !IsSpaceAt(text, ws - 1, &len)) --ws;
  std::string_view word = text.substr(ws, dot - ws);
  while (!word.empty() && (word.front() == '(' || word.front() == '[' || word.front() == '"' || word.front() == '\'')) {
    word.remove_prefix(1);
  }
  if (word.empty()) return false;
  if (IsAbbreviation(Fold(word))) return true;
  if (word.size() == 1 && IsAsciiUpper(static_cast<unsigned char>(word[0]))) return true;
  // "1." opening a line is a list number.
  bool digits = word.size() <= 3 && std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) {
    size_t b = start;
    while (b < ws && IsSpaceAt(text, b, &len)) b += len;
    if (b == ws) return true;
  }
  return false;
}

}  // namespace groundedness_text

std::vector<ByteRange> SplitSentences(std::string_view text) {
  using namespace groundedness_text;
  std::vector<ByteRange> out;
  const size_t n = text.size();
  auto is_blank = [&](size_t k) { return text[k] == ' ' || text[k] == '\t' || text[k] == '\r'; };
  auto emit = [&](size_t b, size_t e) {
    ByteRange r = TrimSentence(text, b, e);
    // A sentence too long is cut into pieces of at most kMaxSentenceBytes,
    // each at the last blank before the limit (else at a code point), so
    // that scoring stays linear in the answer (the LCS of a sentence costs
    // its length squared).
    while (r.end - r.begin > kMaxSentenceBytes) {
      size_t cut = r.begin + kMaxSentenceBytes;
      size_t blank = cut;
      while (blank > r.begin && !is_blank(blank)) --blank;
      if (blank > r.begin) {
        cut = blank;
      } else {
        // Back to the start of a code point; invalid UTF-8 may have none.
        size_t start = cut;
        while (start > r.begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        if (start > r.begin) cut = start;
      }
      size_t piece_end = cut;
      while (piece_end > r.begin && is_blank(piece_end - 1)) --piece_end;
      out.push_back({r.begin, piece_end});
      while (cut < r.end && is_blank(cut)) ++cut;
      r.begin = cut;
    }
    if (r.begin < r.end) out.push_back(r);
  };
  size_t start = 0;
  size_t i = 0;
  size_t len = 0;
  while (i < n) {
    char c = text[i];
    if (c == '\n') {
      emit(start, i);
      start = ++i;
      continue;
    }
    if (c != '.' && c != '!' && c != '?') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n && (text[j] == '.' || text[j] == '!' || text[j] == '?')) ++j;
    const bool single_dot = (j == i + 1 && c == '.');
    while (j < n) {
      uint32_t cp = CpAt(text, j, &len);
      if (!IsCloser(cp)) break;
      j += len;
    }
    bool end = (j == n || IsSpaceAt(text, j, &len));
    if (end && single_dot && DotIsNotAnEnd(text, start, i)) end = false;
    // "9. 0": a spaced-out decimal point (1-3 digits, ". ", a digit).
    if (end && single_dot && j + 1 < n && text[j] == ' ' && IsAsciiDigit(static_cast<unsigned char>(text[j + 1]))) {
      size_t d = i;
      while (d > start && IsAsciiDigit(static_cast<unsigned char>(text[d - 1]))) --d;
      if (d < i && i - d <= 3 && (d == start || !IsWordCp(CpBefore(text, d)))) end = false;
    }
    if (end) {
      size_t k = j;
      while (k < n && text[k] != '\n' && IsSpaceAt(text, k, &len)) k += len;
      if (k < n && IsAsciiLower(static_cast<unsigned char>(text[k]))) end = false;
    }
    if (end) {
      emit(start, j);
      start = j;
    }
    i = j;
  }
  emit(start, n);
  return out;
}

namespace groundedness_text {

// ------------------------------------------------------------ tokens

void AddToken(std::vector<Token>& out, std::string norm, size_t b, size_t e, size_t sb, size_t se, bool capital) {
  if (norm.empty()) return;
  Token t;
  t.negation = IsNegation(norm);
  t.stop = !t.negation && IsStopword(norm);
  t.number = std::any_of(norm.begin(), norm.end(), [](char c) { return c >= '0' && c <= '9'; });
  t.norm = std::move(norm);
  t.begin = b, t.end = e, t.show_begin = sb, t.show_end = se;
  t.capital = capital;
  out.push_back(std::move(t));
}

// Folds case and removes apostrophes and thousands commas.
std::string NormaliseWord(std::string_view w) {
  std::string out;
  out.reserve(w.size());
  for (size_t i = 0; i < w.size();) {
    size_t len = 0;
    if (IsApostrophe(w, i, &len)) {
      i += len;
      continue;
    }
    if (w[i] == ',') {
      ++i;
      continue;
    }
    out.push_back(FoldAscii(w[i]));
    ++i;
  }
  return out;
}

// Turns the word text[ws, we) into tokens (contractions become two).
void EmitWord(std::string_view text, size_t ws, size_t we, std::vector<Token>& out) {
  std::string_view w = text.substr(ws, we - ws);
  const bool capital = IsAsciiUpper(static_cast<unsigned char>(w[0]));
  // The last apostrophe, if any.
  size_t apos = std::string_view::npos;
  size_t apos_len = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    size_t len = 0;
    if (IsApostrophe(w, i, &len)) apos = i, apos_len = len;
  }
  if (apos != std::string_view::npos) {
    const std::string suffix = Fold(w.substr(apos + apos_len));
    std::string_view prefix = w.substr(0, apos);
    if (suffix == "t" && prefix.size() > 1 && FoldAscii(prefix.back()) == 'n') {
      std::string base = NormaliseWord(prefix.substr(0, prefix.size() - 1));
      if (base == "ca") base = "can";
      if (base == "wo") base = "will";
      if (base == "sha") base = "shall";
      AddToken(out, std::move(base), ws, ws + prefix.size() - 1, ws, we, capital);
      AddToken(out, "not", ws, we, ws, we, capital);
      return;
    }
    if (suffix == "s" || suffix == "re" || suffix == "ll" || suffix == "ve" || suffix == "d" || suffix == "m") {
      AddToken(out, NormaliseWord(prefix), ws, we, ws, we, capital);
      return;
    }
  }
  std::string norm = NormaliseWord(w);
  if (norm == "cannot") {
    AddToken(out, "can", ws, ws + 3, ws, we, capital);
    AddToken(out, "not", ws, we, ws, we, capital);
    return;
  }
  AddToken(out, std::move(norm), ws, we, ws, we, capital);
}

bool IsNumericWord(std::string_view w) {
  return !w.empty() &&
         std::all_of(w.begin(), w.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.' || c == ','; });
}

// Tokens of text[begin, end), offsets relative to `text`.
std::vector<Token> Tokenize(std::string_view text, size_t begin, size_t end) {
  std::vector<Token> out;
  std::string_view t = text.substr(0, end);
  size_t i = begin;
  size_t len = 0;
  while (i < end) {
    uint32_t cp = CpAt(t, i, &len);
    if (!IsWordCp(cp)) {
      i += len;
      continue;
    }
    const size_t ws = i;
    size_t seg_start = i;  // start of the current run of word characters
    size_t j = i;
    while (true) {
      while (j < end) {
        uint32_t c = CpAt(t, j, &len);
        if (!IsWordCp(c)) break;
        j += len;
      }
      if (j >= end || j == ws) break;
      const uint32_t prev = CpBefore(t, j);
      size_t joiner = 0;
      const char c = t[j];
      if (c == '.' && IsAsciiDigit(prev) && j + 1 < end && IsAsciiDigit(static_cast<unsigned char>(t[j + 1]))) {
        joiner = 1;  // decimal: 3.5
      } else if (c == ',' && IsAsciiDigit(prev)) {
        // thousands: a digit, ',', exactly three digits, then no digit
        auto digit_at = [&](size_t k) { return k < end && IsAsciiDigit(static_cast<unsigned char>(t[k])); };
        if (digit_at(j + 1) && digit_at(j + 2) && digit_at(j + 3) && !digit_at(j + 4)) joiner = 1;
      } else if (c == '.' && j - seg_start == 1 && IsAsciiAlnum(prev) && !IsAsciiDigit(prev) && j + 2 < end &&
                 IsAsciiAlnum(static_cast<unsigned char>(t[j + 1])) &&
                 !IsAsciiDigit(static_cast<unsigned char>(t[j + 1])) && t[j + 2] == '.') {
        joiner = 1;  // dotted abbreviation: e.g. / U.S.
      } else if (IsApostrophe(t, j, &len) && IsLetterCp(prev) && j + len < end) {
        size_t next_len = 0;
        if (IsLetterCp(CpAt(t, j + len, &next_len))) joiner = len;  // don't, Alice's
      }
      if (joiner == 0) break;
      j += joiner;
      seg_start = j;
    }
    if (j < end && t[j] == '%' && IsNumericWord(t.substr(ws, j - ws))) ++j;
    const size_t first = out.size();
    EmitWord(t, ws, j, out);
    if (first < out.size() && out[first].capital) {
      size_t p = ws;
      while (p > 0 && (t[p - 1] == ' ' || t[p - 1] == '\t' || t[p - 1] == '"' || t[p - 1] == '(')) --p;
      const bool opens = p == 0 || t[p - 1] == '.' || t[p - 1] == '!' || t[p - 1] == '?' || t[p - 1] == ':' ||
                         t[p - 1] == '\n' || t[p - 1] == '\r';
      out[first].mid_capital = !opens && ws > begin;
    }
    i = j;
  }
  NormaliseNumbers(t, out);
  return out;
}

}  // namespace groundedness_text
}  // namespace verity
