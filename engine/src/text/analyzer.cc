// The text analyzer (analyzer.h; docs/text-search.md, "Analyzer").
//
// Per call: the UTF-8 text is converted to UTF-16 once (invalid bytes become
// U+FFFD), in chunks of at most kChunkBytes; ICU's word BreakIterator walks
// it; each kept segment is folded into a reused UTF-16 buffer and written
// as UTF-8 into a reused std::string, then checked against the stopwords,
// stemmed and bounded. The ICU and Snowball objects and the buffers live in
// one State per thread, shared by every Analyzer (none of them depends on
// an analyzer's config but the stemmer, of which a thread keeps one per
// algorithm it has used): ICU's BreakIterator and Snowball's sb_stemmer are
// not thread-safe, and a per-thread state costs no lock and stays bounded
// however many analyzers come and go.
#include "text/analyzer.h"

#include <libstemmer.h>
#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utext.h>
#include <unicode/utf16.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "text/analyzer_internal.h"
#include "util/utf8.h"

namespace verity::text {
namespace {

// Text is analyzed in pieces of at most this many bytes, cut after an ASCII
// space or newline (where UAX #29 always breaks, so the terms are those of
// the whole text); only a run of more than kChunkBytes / 2 bytes without
// either is cut elsewhere (at a code point boundary). It bounds the
// per-thread UTF-16 buffer, which is kept between calls.
constexpr size_t kChunkBytes = 64 << 10;

// ASCII folding's table: Latin letters that Unicode does not decompose
// (canonically), with their usual ASCII spelling. Sorted by code point.
// Not folded (kept as they are): other Latin letters without a canonical
// decomposition (ŋ, ə, ʒ, ƒ, ...), compatibility forms (fullwidth Ａ,
// superscripts, ligatures like ﬁ, though case folding already spells ﬁ, ﬀ
// and the like as "fi", "ff"), and every letter of a non-Latin script: its
// marks are kept too (Cyrillic й, Greek ά, Japanese が, Thai tone marks
// stay), as is punctuation other than U+2019.
struct AsciiFoldEntry {
  UChar32 from;
  const char* to;
};
constexpr AsciiFoldEntry kAsciiFolds[] = {
    {0x00C6, "AE"}, {0x00D0, "D"},  {0x00D8, "O"},  {0x00DE, "TH"}, {0x00DF, "ss"}, {0x00E6, "ae"},
    {0x00F0, "d"},  {0x00F8, "o"},  {0x00FE, "th"}, {0x0110, "D"},  {0x0111, "d"},  {0x0126, "H"},
    {0x0127, "h"},  {0x0131, "i"},  {0x0132, "IJ"}, {0x0133, "ij"}, {0x013F, "L"},  {0x0140, "l"},
    {0x0141, "L"},  {0x0142, "l"},  {0x0152, "OE"}, {0x0153, "oe"}, {0x0166, "T"},  {0x0167, "t"},
    {0x017F, "s"},  {0x1E9E, "SS"},
};

const char* AsciiFoldOf(UChar32 c) {
  const auto* it = std::lower_bound(std::begin(kAsciiFolds), std::end(kAsciiFolds), c,
                                    [](const AsciiFoldEntry& e, UChar32 v) { return e.from < v; });
  return it != std::end(kAsciiFolds) && it->from == c ? it->to : nullptr;
}

bool IsLatin(UChar32 c) {
  UErrorCode error = U_ZERO_ERROR;
  return uscript_getScript(c, &error) == USCRIPT_LATIN;
}

bool IsMark(UChar32 c) { return u_charType(c) == U_NON_SPACING_MARK; }

void Put16(UChar32 c, std::u16string* out) {
  if (c <= 0xFFFF) {
    out->push_back(static_cast<char16_t>(c));
  } else {
    out->push_back(static_cast<char16_t>(U16_LEAD(c)));
    out->push_back(static_cast<char16_t>(U16_TRAIL(c)));
  }
}

bool HasLetterOrDigit(const UChar* s, int32_t n) {
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U16_NEXT(s, i, n, c);
    if ((U_GET_GC_MASK(c) & (U_GC_L_MASK | U_GC_N_MASK)) != 0) return true;
  }
  return false;
}

// Appends s[0, n) as UTF-8, with U+2019 (right single quotation mark, the
// typographic apostrophe) written as U+0027, so that "don’t" and "don't"
// are one term. A lone surrogate (never produced by ICU from UTF-8) would
// be written as U+FFFD.
void AppendUtf8(const UChar* s, int32_t n, std::string* out) {
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U16_NEXT(s, i, n, c);
    if (U_IS_SURROGATE(c)) c = 0xFFFD;
    if (c == 0x2019) c = '\'';
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (c >> 6)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (c >> 12)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (c >> 18)));
      out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
}

// Where the piece of `text` starting at `begin` ends (see kChunkBytes).
size_t ChunkEnd(std::string_view text, size_t begin) {
  if (text.size() - begin <= kChunkBytes) return text.size();
  const size_t limit = begin + kChunkBytes;
  for (size_t i = limit; i > begin + kChunkBytes / 2; --i) {
    if (text[i - 1] == ' ' || text[i - 1] == '\n') return i;
  }
  const size_t cut = utf8::FloorBoundary(text, limit);
  return cut > begin ? cut : limit;
}

// Whether ASCII text takes the fast path (analyzer_internal.h).
std::atomic<bool> ascii_fast_path{true};

// A non-ASCII run goes to ICU up to the first space or newline after which
// at least this many bytes are ASCII, so that text in another script is not
// cut into a piece per word (each costs ICU a new setText).
constexpr size_t kMinAsciiRun = 256;

size_t FindNonAscii(std::string_view text, size_t from) {
  for (size_t i = from; i < text.size(); ++i) {
    if (static_cast<unsigned char>(text[i]) >= 0x80) return i;
  }
  return std::string_view::npos;
}

size_t FindSpace(std::string_view text, size_t from) {
  for (size_t i = from; i < text.size(); ++i) {
    if (text[i] == ' ' || text[i] == '\n') return i;
  }
  return std::string_view::npos;
}

// Calls piece(text, ascii) for consecutive pieces of `text` that cover it,
// cut after a space or newline (where a word cannot continue, see
// kChunkBytes: the terms of the pieces are those of the whole), `ascii`
// when the piece is pure ASCII.
template <typename Piece>
void ForEachPiece(std::string_view text, Piece&& piece) {
  size_t begin = 0;
  while (begin < text.size()) {
    const size_t non_ascii = FindNonAscii(text, begin);
    if (non_ascii == std::string_view::npos) return piece(text.substr(begin), true);
    // The ASCII words before it.
    size_t cut = non_ascii;
    while (cut > begin && text[cut - 1] != ' ' && text[cut - 1] != '\n') --cut;
    if (cut > begin) piece(text.substr(begin, cut - begin), true);
    // From there to a space followed by enough ASCII (or the end).
    size_t end = text.size();
    for (size_t from = non_ascii;;) {
      const size_t space = FindSpace(text, from);
      if (space == std::string_view::npos) break;
      const size_t next = FindNonAscii(text, space);
      if (next == std::string_view::npos || next - space >= kMinAsciiRun) {
        end = space + 1;
        break;
      }
      from = next;
    }
    piece(text.substr(cut, end - cut), false);
    begin = end;
  }
}

// UAX #29 word-break classes of the ASCII characters that can be in a word,
// as ICU 72's root rules have them: "@" is a letter there (so that e-mail
// addresses stay whole), the colon is not MidLetter, and the double quote
// only matters next to Hebrew letters.
enum class AsciiClass : uint8_t { kOther, kLetter, kDigit, kExtendNumLet, kMidNumLet, kMidNum };

AsciiClass ClassOf(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '@') return AsciiClass::kLetter;
  if (c >= '0' && c <= '9') return AsciiClass::kDigit;
  if (c == '_') return AsciiClass::kExtendNumLet;
  if (c == '.' || c == '\'') return AsciiClass::kMidNumLet;  // ' is Single_Quote, which acts the same here
  if (c == ',' || c == ';') return AsciiClass::kMidNum;
  return AsciiClass::kOther;
}

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool InWord(AsciiClass c) {
  return c == AsciiClass::kLetter || c == AsciiClass::kDigit || c == AsciiClass::kExtendNumLet;
}

// The fast path for ASCII text: calls emit(begin, end) for each UAX #29
// word segment of `text` that holds a letter or a digit, the segments
// ICU's word BreakIterator gives for it (a test and fuzz_analyzer compare
// the two). Segments of other characters (spaces, CR LF, punctuation) never
// hold one, so only the word rules matter: letters, digits and "_" join
// (WB5, WB8-WB10, WB13a/b), a letter joins a letter across "." or "'"
// (WB6/7), a digit a digit across "." "'" "," ";" (WB11/12). The letter
// or digit check is on [A-Za-z0-9] ("@" alone, or "__", is not a term).
template <typename Emit>
void ForEachAsciiWord(std::string_view text, Emit&& emit) {
  const size_t n = text.size();
  for (size_t i = 0; i < n; ++i) {
    AsciiClass current = ClassOf(text[i]);
    if (!InWord(current)) continue;
    const size_t begin = i;
    bool has_alnum = IsAlnum(text[i]);
    while (i + 1 < n) {
      const AsciiClass next = ClassOf(text[i + 1]);
      if (InWord(next)) {
        has_alnum |= IsAlnum(text[i + 1]);
        current = next;
        i += 1;
        continue;
      }
      if (i + 2 < n && (next == AsciiClass::kMidNumLet || next == AsciiClass::kMidNum)) {
        const AsciiClass after = ClassOf(text[i + 2]);
        const bool letters = current == AsciiClass::kLetter && next == AsciiClass::kMidNumLet &&
                             after == AsciiClass::kLetter;
        const bool digits = current == AsciiClass::kDigit && after == AsciiClass::kDigit;
        if (letters || digits) {
          has_alnum |= IsAlnum(text[i + 2]);
          current = after;
          i += 2;
          continue;
        }
      }
      break;
    }
    if (has_alnum) emit(begin, i + 1);
  }
}

[[noreturn]] void Die(const char* what) {
  // Only an allocation failure gets here (Create checked that ICU and the
  // stemmer work): analyzing on with missing terms would silently break the
  // index's and the replays' exactness.
  std::fprintf(stderr, "verity: text analyzer: %s\n", what);
  std::abort();
}

// A Snowball stemmer with a direct-mapped cache of recent stems: stemming
// is most of the english preset's cost, and words repeat (a few thousand
// make most of any text). The cache returns what the stemmer would (a stem
// depends on the word alone). Not thread-safe: one per thread.
class CachedStemmer {
 public:
  // Null if libstemmer has no UTF-8 stemmer of that name (or no memory).
  static std::unique_ptr<CachedStemmer> Create(const std::string& algorithm) {
    sb_stemmer* stemmer = sb_stemmer_new(algorithm.c_str(), "UTF_8");
    if (stemmer == nullptr) return nullptr;
    return std::unique_ptr<CachedStemmer>(new CachedStemmer(algorithm, stemmer));
  }
  ~CachedStemmer() { sb_stemmer_delete(stemmer_); }
  CachedStemmer(const CachedStemmer&) = delete;
  CachedStemmer& operator=(const CachedStemmer&) = delete;

  const std::string& algorithm() const { return algorithm_; }

  // Replaces *term (UTF-8) by its stem.
  void Stem(std::string* term) {
    Slot* slot = nullptr;
    if (term->size() <= kMaxCachedBytes) {
      slot = &slots_[Hash(*term) & (kSlots - 1)];
      if (slot->used && slot->word == *term) {
        *term = slot->stem;  // reuses *term's buffer
        return;
      }
    }
    const sb_symbol* stem =
        sb_stemmer_stem(stemmer_, reinterpret_cast<const sb_symbol*>(term->data()), static_cast<int>(term->size()));
    if (stem == nullptr) Die("the Snowball stemmer is out of memory");
    const auto length = static_cast<size_t>(sb_stemmer_length(stemmer_));
    if (slot != nullptr) {
      slot->word = *term;
      slot->stem.assign(reinterpret_cast<const char*>(stem), length);
      slot->used = true;
    }
    term->assign(reinterpret_cast<const char*>(stem), length);
  }

 private:
  static constexpr size_t kSlots = 4096;         // a power of two
  static constexpr size_t kMaxCachedBytes = 24;  // longer words are rare: stemmed, not cached
  struct Slot {
    std::string word;
    std::string stem;
    bool used = false;
  };

  CachedStemmer(std::string algorithm, sb_stemmer* stemmer)
      : algorithm_(std::move(algorithm)), stemmer_(stemmer), slots_(kSlots) {}

  static uint64_t Hash(std::string_view s) {  // FNV-1a
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    return h ^ (h >> 29);
  }

  std::string algorithm_;
  sb_stemmer* stemmer_;  // owned
  std::vector<Slot> slots_;
};

}  // namespace

// One thread's ICU and Snowball objects and buffers (see the file comment).
struct Analyzer::State {
  State() {
    UErrorCode error = U_ZERO_ERROR;
    words.reset(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), error));
    if (U_FAILURE(error)) words.reset();
    error = U_ZERO_ERROR;
    nfd = icu::Normalizer2::getNFDInstance(error);
    if (U_FAILURE(error)) nfd = nullptr;
  }
  ~State() { utext_close(&utext); }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  bool usable() const { return words != nullptr && nfd != nullptr; }

  // This thread's stemmer for `algorithm` (a name StemmerNames lists), or
  // null if libstemmer cannot make one.
  CachedStemmer* Stemmer(const std::string& algorithm) {
    for (const auto& stemmer : stemmers) {
      if (stemmer->algorithm() == algorithm) return stemmer.get();
    }
    std::unique_ptr<CachedStemmer> stemmer = CachedStemmer::Create(algorithm);
    if (stemmer == nullptr) return nullptr;
    stemmers.push_back(std::move(stemmer));
    return stemmers.back().get();
  }

  // What one Analyze call does with the terms it makes.
  struct Sink {
    const AnalyzerConfig& config;
    StopwordList stopwords;
    CachedStemmer* stemmer;  // null: no stemming
    std::vector<std::string>* terms;
    size_t added = 0;
  };

  // One piece of at most kChunkBytes: its ASCII parts by the fast path,
  // the rest by ICU.
  void AnalyzeChunk(std::string_view chunk, Sink* sink);
  void AnalyzeIcuPiece(std::string_view piece, Sink* sink);
  void AnalyzeAsciiPiece(std::string_view piece, Sink* sink);
  // Removes `term` if it is a stopword, else stems it and appends it to the
  // sink's terms unless it is too long.
  void Emit(Sink* sink);
  void MakeTerm(const AnalyzerConfig& config, const UChar* s, int32_t n);
  void AsciiFold(const UChar* s, int32_t n);

  std::unique_ptr<icu::BreakIterator> words;
  const icu::Normalizer2* nfd = nullptr;  // ICU's singleton
  UText utext = UTEXT_INITIALIZER;
  std::vector<std::unique_ptr<CachedStemmer>> stemmers;  // one per algorithm used
  std::u16string utf16;        // the chunk
  std::u16string folded;       // a segment, case-folded
  std::u16string ascii;        // a segment, ASCII-folded
  icu::UnicodeString decomposition;
  std::string term;            // the term being made, UTF-8
};

void Analyzer::State::AnalyzeChunk(std::string_view chunk, Sink* sink) {
  if (!ascii_fast_path.load(std::memory_order_relaxed)) return AnalyzeIcuPiece(chunk, sink);
  ForEachPiece(chunk, [&](std::string_view piece, bool ascii) {
    if (ascii) {
      AnalyzeAsciiPiece(piece, sink);
    } else {
      AnalyzeIcuPiece(piece, sink);
    }
  });
}

void Analyzer::State::AnalyzeIcuPiece(std::string_view chunk, Sink* sink) {
  // Each byte of UTF-8 gives at most one UTF-16 unit.
  if (utf16.size() < chunk.size()) utf16.resize(chunk.size());
  int32_t length = 0;
  UErrorCode error = U_ZERO_ERROR;
  u_strFromUTF8WithSub(utf16.data(), static_cast<int32_t>(utf16.size()), &length, chunk.data(),
                       static_cast<int32_t>(chunk.size()), 0xFFFD, nullptr, &error);
  if (U_FAILURE(error)) Die("UTF-8 conversion failed");
  utext_openUChars(&utext, utf16.data(), length, &error);
  words->setText(&utext, error);
  if (U_FAILURE(error)) Die("cannot set the break iterator's text");

  int32_t start = words->first();
  for (int32_t end = words->next(); end != icu::BreakIterator::DONE; start = end, end = words->next()) {
    // Not ICU's rule status: it calls "__" a word too. A term holds a letter or a digit.
    const UChar* segment = utf16.data() + start;
    if (!HasLetterOrDigit(segment, end - start)) continue;
    MakeTerm(sink->config, segment, end - start);
    Emit(sink);
  }
}

void Analyzer::State::AnalyzeAsciiPiece(std::string_view chunk, Sink* sink) {
  const bool case_fold = sink->config.case_fold;
  ForEachAsciiWord(chunk, [&](size_t begin, size_t end) {
    term.assign(chunk.data() + begin, end - begin);
    if (case_fold) {
      for (char& c : term) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
    }
    Emit(sink);
  });
}

void Analyzer::State::Emit(Sink* sink) {
  if (IsStopword(sink->stopwords, term)) return;
  if (sink->stemmer != nullptr) sink->stemmer->Stem(&term);
  if (term.empty() || term.size() > sink->config.max_term_bytes) return;
  sink->terms->push_back(term);
  ++sink->added;
}

// Sets `term` to the segment s[0, n), folded as `config` says.
void Analyzer::State::MakeTerm(const AnalyzerConfig& config, const UChar* s, int32_t n) {
  term.clear();
  bool ascii_only = true;
  for (int32_t i = 0; i < n && ascii_only; ++i) ascii_only = s[i] < 0x80;
  if (ascii_only) {  // The common case: folding is at most A-Z -> a-z.
    term.resize(static_cast<size_t>(n));
    char* out = term.data();
    for (int32_t i = 0; i < n; ++i) {
      char c = static_cast<char>(s[i]);
      if (config.case_fold && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      out[i] = c;
    }
    return;
  }
  if (config.case_fold) {
    // Full case folding makes at most 3 UTF-16 units of one.
    const auto capacity = static_cast<size_t>(n) * 3;
    if (folded.size() < capacity) folded.resize(capacity);
    UErrorCode error = U_ZERO_ERROR;
    const int32_t length = u_strFoldCase(folded.data(), static_cast<int32_t>(folded.size()), s, n,
                                         U_FOLD_CASE_DEFAULT, &error);
    if (U_FAILURE(error)) Die("case folding failed");
    s = folded.data();
    n = length;
  }
  if (config.ascii_fold) {
    AsciiFold(s, n);
    s = ascii.data();
    n = static_cast<int32_t>(ascii.size());
  }
  AppendUtf8(s, n, &term);
}

// Sets `ascii` to s[0, n) with Latin letters spelled in ASCII where
// possible: a Latin letter is decomposed (NFD) and its nonspacing marks
// dropped ("é" -> "e"), or spelled as kAsciiFolds says ("ø" -> "o"); a
// nonspacing mark that follows a Latin letter or an ASCII character is
// dropped too (decomposed input: "e" U+0301 -> "e"). Everything else is
// kept (see kAsciiFolds for what is not folded).
void Analyzer::State::AsciiFold(const UChar* s, int32_t n) {
  ascii.clear();
  bool after_latin = false;
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U16_NEXT(s, i, n, c);
    if (c < 0x80) {
      ascii.push_back(static_cast<char16_t>(c));
      after_latin = true;
    } else if (IsMark(c)) {
      if (!after_latin) Put16(c, &ascii);
    } else if (!IsLatin(c)) {
      Put16(c, &ascii);
      after_latin = false;
    } else {
      after_latin = true;
      if (const char* to = AsciiFoldOf(c)) {
        while (*to != '\0') ascii.push_back(static_cast<char16_t>(*to++));
      } else if (nfd->getDecomposition(c, decomposition)) {
        const UChar* d = decomposition.getBuffer();
        const int32_t dn = decomposition.length();
        for (int32_t k = 0; k < dn;) {
          UChar32 part;
          U16_NEXT(d, k, dn, part);
          if (IsMark(part)) continue;
          if (const char* part_to = AsciiFoldOf(part)) {
            while (*part_to != '\0') ascii.push_back(static_cast<char16_t>(*part_to++));
          } else {
            Put16(part, &ascii);
          }
        }
      } else {
        Put16(c, &ascii);
      }
    }
  }
}

Analyzer::Analyzer(AnalyzerConfig config) : config_(std::move(config)) {}

Analyzer::~Analyzer() = default;

Analyzer::State& Analyzer::ThreadState() const {
  thread_local State state;
  return state;
}

Result<std::unique_ptr<Analyzer>> Analyzer::Create(const AnalyzerConfig& config) {
  VERITY_RETURN_IF_ERROR(ValidateAnalyzerConfig(config, "analyzer"));
  std::unique_ptr<Analyzer> analyzer(new Analyzer(config));
  State& state = analyzer->ThreadState();
  if (!state.usable()) return Status::Internal("analyzer: ICU cannot create its word break iterator or NFD normalizer");
  if (!config.stemmer.empty() && state.Stemmer(config.stemmer) == nullptr) {
    return Status::Internal("analyzer.stemmer: libstemmer cannot create the \"" + config.stemmer +
                            "\" stemmer for UTF-8");
  }
  return analyzer;
}

size_t Analyzer::Analyze(std::string_view text, std::vector<std::string>* terms) const {
  State& state = ThreadState();
  if (!state.usable()) Die("ICU cannot create its word break iterator");
  CachedStemmer* stemmer = nullptr;
  if (!config_.stemmer.empty()) {
    stemmer = state.Stemmer(config_.stemmer);
    if (stemmer == nullptr) Die("libstemmer cannot create a stemmer");
  }
  State::Sink sink{config_, StopwordListFor(config_.stopwords), stemmer, terms};
  for (size_t begin = 0; begin < text.size();) {
    const size_t end = ChunkEnd(text, begin);
    state.AnalyzeChunk(text.substr(begin, end - begin), &sink);
    begin = end;
  }
  return sink.added;
}

void SetAsciiFastPathForTesting(bool enabled) { ascii_fast_path.store(enabled); }

}  // namespace verity::text
