// Over 600 lines on purpose: issue #25 rewrites this scorer (and replaces
// this file), so it is not split now (#24).
// The groundedness scorer: sentence splitting, tokens, support and critical
// tokens, canonical JSON. The rules are documented in
// include/verity/groundedness.h; any change here that can change a result
// must bump kGroundednessScorerVersion and docs/groundedness.md.
#include "verity/groundedness.h"

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

namespace verity {
namespace {

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

}  // namespace

std::vector<ByteRange> SplitSentences(std::string_view text) {
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

namespace {

// ------------------------------------------------------------ tokens

struct Token {
  std::string norm;  // normalised form
  size_t begin = 0;  // bytes this token covers in its text (for spans)
  size_t end = 0;
  size_t show_begin = 0;  // bytes shown when the token is reported
  size_t show_end = 0;
  bool capital = false;  // written with an ASCII capital first
  bool stop = false;
  bool negation = false;
  bool number = false;
};

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
    EmitWord(t, ws, j, out);
    i = j;
  }
  return out;
}

// ------------------------------------------------------------ scoring

struct Vocabulary {
  std::unordered_map<std::string, uint32_t> ids;
  uint32_t Id(const std::string& norm) {
    auto [it, inserted] = ids.emplace(norm, static_cast<uint32_t>(ids.size()));
    return it->second;
  }
};

struct Trigram {
  uint32_t a, b, c;
  bool operator==(const Trigram&) const = default;
};
struct TrigramHash {
  size_t operator()(const Trigram& t) const {
    uint64_t h = t.a;
    h = h * 0x9E3779B97F4A7C15ull + t.b;
    h = h * 0x9E3779B97F4A7C15ull + t.c;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

// Content tokens of a text, as ids, with their Token.
struct Content {
  std::vector<Token> tokens;  // content tokens only
  std::vector<uint32_t> ids;
  bool first_is_content = false;  // tokens[0] is the text's first token
};

Content ContentOf(std::string_view text, size_t begin, size_t end, Vocabulary& vocab) {
  Content c;
  std::vector<Token> all = Tokenize(text, begin, end);
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].stop) continue;
    if (i == 0) c.first_is_content = true;
    c.ids.push_back(vocab.Id(all[i].norm));
    c.tokens.push_back(std::move(all[i]));
  }
  return c;
}

struct ChunkIndex {
  Content content;
  std::unordered_set<uint32_t> id_set;
  std::unordered_set<Trigram, TrigramHash> trigrams;
};

// Bit-parallel LCS length (Hyyrö): a column of the LCS table as bits.
class LcsMatcher {
 public:
  explicit LcsMatcher(const std::vector<uint32_t>& a) : n_(a.size()), words_((a.size() + 63) / 64) {
    for (size_t i = 0; i < n_; ++i) {
      auto& mask = masks_[a[i]];
      if (mask.empty()) mask.assign(words_, 0);
      mask[i / 64] |= uint64_t{1} << (i % 64);
    }
  }

  size_t Length(const std::vector<uint32_t>& b) const {
    std::vector<uint64_t> v(words_, ~uint64_t{0});
    for (uint32_t symbol : b) {
      auto it = masks_.find(symbol);
      if (it == masks_.end()) continue;  // cannot be in a common subsequence
      const std::vector<uint64_t>& m = it->second;
      uint64_t carry = 0;
      for (size_t w = 0; w < words_; ++w) {
        const uint64_t u = v[w] & m[w];
        const uint64_t s1 = v[w] + u;
        const uint64_t c1 = s1 < v[w];
        const uint64_t s2 = s1 + carry;
        const uint64_t c2 = s2 < s1;
        carry = c1 | c2;
        v[w] = s2 | (v[w] & ~m[w]);
      }
    }
    size_t ones = 0;
    for (size_t w = 0; w < words_; ++w) {
      uint64_t bits = v[w];
      if (w + 1 == words_ && n_ % 64 != 0) bits &= (uint64_t{1} << (n_ % 64)) - 1;
      ones += static_cast<size_t>(__builtin_popcountll(bits));
    }
    return n_ - ones;
  }

 private:
  size_t n_;
  size_t words_;
  std::unordered_map<uint32_t, std::vector<uint64_t>> masks_;
};

double Quantise(double x) { return std::round(x * 10000.0) / 10000.0; }

struct Match {
  double support = 0, precision = 0, rouge_l = 0, trigram = 0;
  size_t span_begin = 0, span_end = 0;
  std::vector<std::string> missing;
  std::vector<std::string> conflicts;
};

struct SentenceFeatures {
  const Content* content;
  std::string_view text;  // the answer
  std::unordered_set<uint32_t> id_set;
  std::vector<size_t> critical;  // indexes into content->tokens
  LcsMatcher lcs;
  std::vector<Trigram> trigrams;
};

Match MatchChunk(const SentenceFeatures& s, const ChunkIndex& chunk, std::string_view chunk_text) {
  Match m;
  const std::vector<uint32_t>& a = s.content->ids;
  const double n = static_cast<double>(a.size());
  size_t present = 0;
  for (uint32_t id : a) present += chunk.id_set.count(id);
  m.precision = present / n;
  m.rouge_l = static_cast<double>(s.lcs.Length(chunk.content.ids)) / n;
  if (a.size() >= 3) {
    size_t contained = 0;
    for (const Trigram& t : s.trigrams) contained += chunk.trigrams.count(t);
    m.trigram = static_cast<double>(contained) / static_cast<double>(s.trigrams.size());
  } else {
    m.trigram = m.rouge_l;
  }
  m.precision = Quantise(m.precision);
  m.rouge_l = Quantise(m.rouge_l);
  m.trigram = Quantise(m.trigram);
  m.support = Quantise(std::max((m.precision + m.rouge_l) / 2.0, m.trigram));

  // Missing critical tokens, first occurrence of each.
  std::unordered_set<uint32_t> reported;
  for (size_t k : s.critical) {
    uint32_t id = a[k];
    if (chunk.id_set.count(id) || !reported.insert(id).second) continue;
    const Token& t = s.content->tokens[k];
    m.missing.emplace_back(s.text.substr(t.show_begin, t.show_end - t.show_begin));
  }

  // Matched span: the smallest window of the chunk holding every distinct
  // content token shared with the sentence (earliest on ties).
  const std::vector<uint32_t>& b = chunk.content.ids;
  std::unordered_map<uint32_t, size_t> need;
  for (uint32_t id : s.id_set) {
    if (chunk.id_set.count(id)) need.emplace(id, 0);
  }
  if (need.empty()) return m;
  size_t have = 0;
  size_t best_l = 0, best_r = b.size();
  bool found = false;
  for (size_t l = 0, r = 0; r < b.size(); ++r) {
    auto it = need.find(b[r]);
    if (it != need.end() && it->second++ == 0) ++have;
    while (have == need.size()) {
      if (!found || r - l < best_r - best_l) best_l = l, best_r = r, found = true;
      auto lt = need.find(b[l]);
      if (lt != need.end() && --lt->second == 0) --have;
      ++l;
    }
  }
  const std::vector<Token>& ct = chunk.content.tokens;
  m.span_begin = ct[best_l].begin;
  m.span_end = ct[best_r].end;
  for (size_t k = best_l; k <= best_r; ++k) {
    m.span_begin = std::min(m.span_begin, ct[k].begin);
    m.span_end = std::max(m.span_end, ct[k].end);
  }

  // Negations in the span that negate a token of the sentence, absent from it.
  std::unordered_set<uint32_t> conflict_ids;
  for (size_t p = best_l; p <= best_r; ++p) {
    if (!ct[p].negation || s.id_set.count(b[p])) continue;
    size_t q = p + 1;
    while (q <= best_r && ct[q].negation) ++q;
    if (q <= best_r && s.id_set.count(b[q]) && conflict_ids.insert(b[p]).second) {
      m.conflicts.emplace_back(chunk_text.substr(ct[p].show_begin, ct[p].show_end - ct[p].show_begin));
    }
  }
  return m;
}

// ------------------------------------------------------------ JSON

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t len = utf8::Decode(s, i, &cp);
    if (cp == utf8::kInvalid) {
      out += "\uFFFD";
    } else if (cp == '"') {
      out += "\\\"";
    } else if (cp == '\\') {
      out += "\\\\";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out.push_back(kHex[cp >> 4]);
      out.push_back(kHex[cp & 0xF]);
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  out.push_back('"');
}

// Fixed 4-decimal formatting, locale-independent.
std::string FormatFixed4(double x) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::fixed, 4);
  if (ec != std::errc()) return "0.0000";
  return std::string(buf, ptr);
}

}  // namespace

const char* SentenceVerdictName(SentenceVerdict verdict) {
  switch (verdict) {
    case SentenceVerdict::kSupported:
      return "supported";
    case SentenceVerdict::kUnsupported:
      return "unsupported";
    case SentenceVerdict::kNotScored:
      return "not_scored";
  }
  return "not_scored";
}

bool IsNegationToken(std::string_view normalised) { return IsNegation(normalised); }

std::vector<std::string> CriticalTokens(std::string_view text) {
  Vocabulary vocab;
  std::vector<std::string> out;
  for (const ByteRange& range : SplitSentences(text)) {
    const Content content = ContentOf(text, range.begin, range.end, vocab);
    for (size_t k = 0; k < content.tokens.size(); ++k) {
      const Token& t = content.tokens[k];
      const bool first = (k == 0 && content.first_is_content);
      const bool name = t.capital && !(first && IsOpener(t.norm));
      if (t.number || t.negation || name) out.push_back(t.norm);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Over 80 lines on purpose: the scorer is rewritten by issue #25 (#24).
Result<GroundednessResult> ScoreGroundedness(std::string_view answer, const std::vector<SourceChunk>& chunks,
                                             const GroundednessOptions& options) {
  if (!(options.threshold >= 0.0 && options.threshold <= 1.0)) {
    return Status::InvalidArgument("options.threshold must be in [0, 1], got " + FormatFixed4(options.threshold));
  }
  GroundednessResult result;
  result.scorer_version = kGroundednessScorerVersion;
  result.threshold = Quantise(options.threshold);

  Vocabulary vocab;
  std::vector<ChunkIndex> index(chunks.size());
  for (size_t c = 0; c < chunks.size(); ++c) {
    ChunkIndex& ci = index[c];
    ci.content = ContentOf(chunks[c].text, 0, chunks[c].text.size(), vocab);
    const std::vector<uint32_t>& ids = ci.content.ids;
    ci.id_set.insert(ids.begin(), ids.end());
    for (size_t k = 0; k + 2 < ids.size(); ++k) ci.trigrams.insert({ids[k], ids[k + 1], ids[k + 2]});
  }

  for (const ByteRange& range : SplitSentences(answer)) {
    SentenceScore score;
    score.begin = range.begin;
    score.end = range.end;
    score.text = std::string(answer.substr(range.begin, range.end - range.begin));
    const Content content = ContentOf(answer, range.begin, range.end, vocab);
    const bool only_negations =
        std::all_of(content.tokens.begin(), content.tokens.end(), [](const Token& t) { return t.negation; });
    if (only_negations) {  // also when there is no content token at all
      score.verdict = SentenceVerdict::kNotScored;
      result.sentences.push_back(std::move(score));
      continue;
    }
    SentenceFeatures s{&content, answer, {content.ids.begin(), content.ids.end()}, {}, LcsMatcher(content.ids), {}};
    for (size_t k = 0; k < content.tokens.size(); ++k) {
      const Token& t = content.tokens[k];
      const bool first = (k == 0 && content.first_is_content);
      const bool name = t.capital && !(first && IsOpener(t.norm));
      if (t.number || t.negation || name) s.critical.push_back(k);
    }
    for (size_t k = 0; k + 2 < content.ids.size(); ++k) {
      s.trigrams.push_back({content.ids[k], content.ids[k + 1], content.ids[k + 2]});
    }

    int best_ok = -1, best_any = -1;
    Match ok_match, any_match;
    for (size_t c = 0; c < chunks.size(); ++c) {
      Match m = MatchChunk(s, index[c], chunks[c].text);
      const bool qualifies = m.support >= result.threshold && m.missing.empty() && m.conflicts.empty();
      if (qualifies && (best_ok < 0 || m.support > ok_match.support)) {
        best_ok = static_cast<int>(c);
        ok_match = m;
      }
      if (m.support > 0 && (best_any < 0 || m.support > any_match.support)) {
        best_any = static_cast<int>(c);
        any_match = std::move(m);
      }
    }
    const int best = best_ok >= 0 ? best_ok : best_any;
    const Match& m = best_ok >= 0 ? ok_match : any_match;
    score.verdict = best_ok >= 0 ? SentenceVerdict::kSupported : SentenceVerdict::kUnsupported;
    if (best >= 0) {
      score.support = m.support;
      score.token_precision = m.precision;
      score.rouge_l_precision = m.rouge_l;
      score.trigram_containment = m.trigram;
      score.chunk_index = best;
      score.chunk_id = chunks[static_cast<size_t>(best)].id;
      score.span_begin = m.span_begin;
      score.span_end = m.span_end;
      score.missing_critical = m.missing;
      score.conflicting_negations = m.conflicts;
    } else {
      // No chunk shares a content token: every critical token is missing.
      std::unordered_set<uint32_t> reported;
      for (size_t k : s.critical) {
        if (!reported.insert(content.ids[k]).second) continue;
        const Token& t = content.tokens[k];
        score.missing_critical.emplace_back(answer.substr(t.show_begin, t.show_end - t.show_begin));
      }
    }
    ++result.scored;
    if (score.verdict == SentenceVerdict::kSupported) ++result.supported;
    result.sentences.push_back(std::move(score));
  }
  result.g = result.scored == 0 ? 0.0 : Quantise(static_cast<double>(result.supported) / result.scored);
  return result;
}

std::string ToJson(const GroundednessResult& r) {
  std::string out;
  out.reserve(256 + r.sentences.size() * 256);
  out += "{\"scorer\":";
  AppendJsonString(out, r.scorer_version);
  out += ",\"threshold\":" + FormatFixed4(r.threshold);
  out += ",\"g\":" + FormatFixed4(r.g);
  out += ",\"sentences_total\":" + std::to_string(r.sentences.size());
  out += ",\"scored\":" + std::to_string(r.scored);
  out += ",\"supported\":" + std::to_string(r.supported);
  out += ",\"sentences\":[";
  for (size_t i = 0; i < r.sentences.size(); ++i) {
    const SentenceScore& s = r.sentences[i];
    if (i > 0) out.push_back(',');
    out += "{\"index\":" + std::to_string(i);
    out += ",\"begin\":" + std::to_string(s.begin);
    out += ",\"end\":" + std::to_string(s.end);
    out += ",\"text\":";
    AppendJsonString(out, s.text);
    out += ",\"verdict\":\"";
    out += SentenceVerdictName(s.verdict);
    out += "\",\"support\":" + FormatFixed4(s.support);
    out += ",\"token_precision\":" + FormatFixed4(s.token_precision);
    out += ",\"rouge_l_precision\":" + FormatFixed4(s.rouge_l_precision);
    out += ",\"trigram_containment\":" + FormatFixed4(s.trigram_containment);
    const bool cited = s.chunk_index >= 0;
    out += ",\"chunk_index\":" + (cited ? std::to_string(s.chunk_index) : std::string("null"));
    out += ",\"chunk_id\":";
    if (cited) {
      AppendJsonString(out, s.chunk_id);
    } else {
      out += "null";
    }
    const bool span = cited && s.span_end > s.span_begin;
    out += ",\"span_begin\":" + (span ? std::to_string(s.span_begin) : std::string("null"));
    out += ",\"span_end\":" + (span ? std::to_string(s.span_end) : std::string("null"));
    out += ",\"missing_critical\":[";
    for (size_t k = 0; k < s.missing_critical.size(); ++k) {
      if (k > 0) out.push_back(',');
      AppendJsonString(out, s.missing_critical[k]);
    }
    out += "],\"conflicting_negations\":[";
    for (size_t k = 0; k < s.conflicting_negations.size(); ++k) {
      if (k > 0) out.push_back(',');
      AppendJsonString(out, s.conflicting_negations[k]);
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

}  // namespace verity
