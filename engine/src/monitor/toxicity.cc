// The toxicity flagger (toxicity.h; docs/monitoring.md, "Toxicity and bias
// flags").
//
// Per call: the UTF-8 text is converted to UTF-16 once, with the byte
// offset of each UTF-16 unit kept beside it; ICU's word BreakIterator
// walks it; each segment holding a letter or a digit becomes a Word: its
// folded spelling (FoldSegment) and its byte span. The lexicon maps a
// term's first folded word to the terms starting with it, so matching is
// one hash look-up per word plus a comparison of the few candidate terms'
// following words. The BreakIterator and the buffers live in one State per
// thread (a BreakIterator is not thread-safe).
#include "monitor/toxicity.h"

#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <limits>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "monitor/toxicity_wordlists.h"
#include "text/analyzer.h"
#include "verity/types.h"

namespace verity::monitor {
namespace {

// Text beyond this many bytes is not read (ICU indexes with int32_t).
constexpr size_t kMaxTextBytes = size_t{1} << 30;

struct Word {
  std::string folded;
  size_t begin = 0;
  size_t end = 0;
};

// Per-thread ICU state and buffers. `words` is null if ICU could not
// create the iterator (Create checks that on the creating thread).
struct State {
  std::unique_ptr<icu::BreakIterator> words;
  std::u16string utf16;
  std::vector<size_t> offsets;  // offsets[k]: byte offset of utf16[k]'s code point; one past the end too
  std::vector<std::string> terms;
  std::string segment_utf8;
  const icu::UnicodeString empty;  // the iterator's text between calls (it keeps a pointer to its text)
  State() {
    UErrorCode error = U_ZERO_ERROR;
    words.reset(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), error));
    if (U_FAILURE(error)) words.reset();
  }
};

State& ThreadState() {
  thread_local State state;
  return state;
}

const icu::Normalizer2* NfkcCaseFold() {
  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = icu::Normalizer2::getNFKCCasefoldInstance(error);
  return U_FAILURE(error) ? nullptr : normalizer;
}

bool HasLetterOrDigit(const char16_t* s, int32_t n, uint32_t mask) {
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U16_NEXT(s, i, n, c);
    if ((U_GET_GC_MASK(c) & mask) != 0) return true;
  }
  return false;
}

bool HasPictograph(const char16_t* s, int32_t n) {
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U16_NEXT(s, i, n, c);
    if (u_hasBinaryProperty(c, UCHAR_EXTENDED_PICTOGRAPHIC)) return true;
  }
  return false;
}

// Whether a folded term is a number only ("13."): such list terms are left out.
bool IsNumberOnly(std::string_view utf8) {
  for (int32_t i = 0, n = static_cast<int32_t>(utf8.size()); i < n;) {
    UChar32 c;
    U8_NEXT(utf8.data(), i, n, c);
    if (c != 0x1F && (c < 0 || (U_GET_GC_MASK(c) & U_GC_N_MASK) == 0)) return false;
  }
  return true;
}

// A pictograph segment (an emoji: no letter, no digit) is its own spelling,
// without variation selectors and skin-tone modifiers.
std::string FoldPictograph(const char16_t* s, int32_t n) {
  icu::UnicodeString kept;
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U16_NEXT(s, i, n, c);
    if (c == 0xFE0E || c == 0xFE0F || (c >= 0x1F3FB && c <= 0x1F3FF)) continue;
    kept.append(c);
  }
  std::string out;
  kept.toUTF8String(out);
  return out;
}

// The folded spelling of the segment s[0, n): ASCII is lower-cased; other
// text is NFKC case folded and then ASCII folded by `analyzer` (whose terms
// are concatenated, should it cut the folded segment into several).
std::string FoldSegment(const char16_t* s, int32_t n, const text::Analyzer& analyzer,
                        const icu::Normalizer2& nfkc_cf, State* state) {
  std::string out;
  bool ascii = true;
  for (int32_t i = 0; i < n && ascii; ++i) ascii = s[i] < 0x80;
  if (ascii) {
    out.resize(static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) {
      char c = static_cast<char>(s[i]);
      out[static_cast<size_t>(i)] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    return out;
  }
  UErrorCode error = U_ZERO_ERROR;
  const icu::UnicodeString folded =
      nfkc_cf.normalize(icu::UnicodeString(false, reinterpret_cast<const UChar*>(s), n), error);
  if (U_FAILURE(error)) return out;
  state->segment_utf8.clear();
  folded.toUTF8String(state->segment_utf8);
  state->terms.clear();
  analyzer.Analyze(state->segment_utf8, &state->terms);
  for (const std::string& term : state->terms) out += term;
  return out;
}

// Cuts `text` into its words (see toxicity.h), appending them to `out`.
void CutWords(std::string_view text, const text::Analyzer& analyzer, const icu::Normalizer2& nfkc_cf,
              std::vector<Word>* out) {
  State& state = ThreadState();
  if (state.words == nullptr) return;  // Create saw ICU work; a thread where it cannot flags nothing
  text = text.substr(0, std::min(text.size(), kMaxTextBytes));
  state.utf16.clear();
  state.offsets.clear();
  const auto length = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < length;) {
    const auto at = static_cast<size_t>(i);
    UChar32 c;
    U8_NEXT(text.data(), i, length, c);
    if (c < 0) c = 0xFFFD;
    if (c <= 0xFFFF) {
      state.utf16.push_back(static_cast<char16_t>(c));
      state.offsets.push_back(at);
    } else {
      state.utf16.push_back(static_cast<char16_t>(U16_LEAD(c)));
      state.utf16.push_back(static_cast<char16_t>(U16_TRAIL(c)));
      state.offsets.push_back(at);
      state.offsets.push_back(at);
    }
  }
  state.offsets.push_back(text.size());
  const icu::UnicodeString view(false, reinterpret_cast<const UChar*>(state.utf16.data()),
                                static_cast<int32_t>(state.utf16.size()));
  state.words->setText(view);
  int32_t start = state.words->first();
  for (int32_t end = state.words->next(); end != icu::BreakIterator::DONE; start = end, end = state.words->next()) {
    const char16_t* segment = state.utf16.data() + start;
    std::string folded;
    if (HasLetterOrDigit(segment, end - start, U_GC_L_MASK | U_GC_N_MASK)) {
      folded = FoldSegment(segment, end - start, analyzer, nfkc_cf, &state);
    } else if (HasPictograph(segment, end - start)) {
      folded = FoldPictograph(segment, end - start);
    }
    if (folded.empty()) continue;
    out->push_back({std::move(folded), state.offsets[static_cast<size_t>(start)],
                    state.offsets[static_cast<size_t>(end)]});
  }
  state.words->setText(state.empty);  // drop the pointer to this call's buffer
}

std::string JoinWords(const std::vector<Word>& words) {
  std::string key;
  for (const Word& word : words) {
    if (!key.empty()) key.push_back('\x1f');
    key += word.folded;
  }
  return key;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

struct ToxicityFlagger::Lexicon {
  struct Entry {
    std::vector<std::string> words;  // folded
    std::string term;                // as the list spells it (its first spelling)
    std::vector<std::string> languages;
  };
  std::unique_ptr<text::Analyzer> analyzer;
  const icu::Normalizer2* nfkc_cf = nullptr;
  std::vector<Entry> entries;
  std::unordered_map<std::string, std::vector<uint32_t>> by_first_word;

  std::vector<Word> Cut(std::string_view text) const {
    std::vector<Word> words;
    CutWords(text, *analyzer, *nfkc_cf, &words);
    return words;
  }
};

std::string WordListPackage() { return kWordListPackage; }
std::string WordListVersion() { return kWordListVersion; }
std::string WordListLicense() { return kWordListLicense; }

std::vector<std::string> WordListLanguages() {
  std::set<std::string> languages;
  for (size_t i = 0; i < kWordListEntryCount; ++i) languages.insert(kWordListEntries[i].language);
  return {languages.begin(), languages.end()};
}

namespace {

Status CheckConfig(const ToxicityConfig& config) {
  const std::vector<std::string> known = WordListLanguages();
  for (size_t i = 0; i < config.languages.size(); ++i) {
    if (!std::binary_search(known.begin(), known.end(), config.languages[i])) {
      return Status::InvalidArgument("languages[" + std::to_string(i) + "]: unknown language '" +
                                     config.languages[i] + "'; known: " + Join(known));
    }
  }
  if (config.allow.size() > kMaxAllowEntries) {
    return Status::InvalidArgument("allow: " + std::to_string(config.allow.size()) +
                                   " entries; the limit is " + std::to_string(kMaxAllowEntries));
  }
  for (size_t i = 0; i < config.allow.size(); ++i) {
    if (config.allow[i].size() > kMaxAllowEntryBytes) {
      return Status::InvalidArgument("allow[" + std::to_string(i) + "]: " +
                                     std::to_string(config.allow[i].size()) + " bytes; the limit is " +
                                     std::to_string(kMaxAllowEntryBytes));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<ToxicityFlagger>> ToxicityFlagger::Create(const ToxicityConfig& config) {
  VERITY_RETURN_IF_ERROR(CheckConfig(config));
  auto lexicon = std::make_unique<Lexicon>();
  lexicon->nfkc_cf = NfkcCaseFold();
  if (lexicon->nfkc_cf == nullptr || ThreadState().words == nullptr) {
    return Status::Internal("toxicity: ICU cannot create its word BreakIterator or NFKC_Casefold normalizer");
  }
  AnalyzerConfig analyzer_config;
  analyzer_config.ascii_fold = true;
  analyzer_config.max_term_bytes = 1024;
  VERITY_ASSIGN_OR_RETURN(lexicon->analyzer, text::Analyzer::Create(analyzer_config));

  std::unordered_set<std::string> allowed;
  for (size_t i = 0; i < config.allow.size(); ++i) {
    const std::vector<Word> words = lexicon->Cut(config.allow[i]);
    if (words.empty()) {
      return Status::InvalidArgument("allow[" + std::to_string(i) +
                                     "]: holds no word (a letter or a digit); an allowed term is needed");
    }
    allowed.insert(JoinWords(words));
  }
  const std::set<std::string> languages(config.languages.begin(), config.languages.end());
  std::unordered_map<std::string, uint32_t> index_of;  // JoinWords -> entries index
  for (size_t i = 0; i < kWordListEntryCount; ++i) {
    const WordListEntry& list_entry = kWordListEntries[i];
    if (!languages.empty() && languages.count(list_entry.language) == 0) continue;
    std::vector<Word> words = lexicon->Cut(list_entry.term);
    const std::string key = JoinWords(words);
    if (words.empty() || IsNumberOnly(key) || allowed.count(key) != 0) continue;
    auto [it, inserted] = index_of.emplace(key, static_cast<uint32_t>(lexicon->entries.size()));
    if (inserted) {
      Lexicon::Entry entry;
      for (Word& word : words) entry.words.push_back(std::move(word.folded));
      entry.term = list_entry.term;
      lexicon->by_first_word[entry.words.front()].push_back(it->second);
      lexicon->entries.push_back(std::move(entry));
    }
    std::vector<std::string>& entry_languages = lexicon->entries[it->second].languages;
    if (std::find(entry_languages.begin(), entry_languages.end(), list_entry.language) == entry_languages.end()) {
      entry_languages.push_back(list_entry.language);
    }
  }
  for (Lexicon::Entry& entry : lexicon->entries) std::sort(entry.languages.begin(), entry.languages.end());
  return std::unique_ptr<ToxicityFlagger>(new ToxicityFlagger(std::move(lexicon)));
}

ToxicityFlagger::ToxicityFlagger(std::unique_ptr<Lexicon> lexicon) : lexicon_(std::move(lexicon)) {}
ToxicityFlagger::~ToxicityFlagger() = default;

size_t ToxicityFlagger::term_count() const { return lexicon_->entries.size(); }

ToxicityResult ToxicityFlagger::Flag(std::string_view text) const {
  ToxicityResult result;
  result.scorer_version = kToxicityScorerVersion;
  result.word_list_version = kWordListVersion;
  const std::vector<Word> words = lexicon_->Cut(text);
  for (size_t i = 0; i < words.size(); ++i) {
    const auto found = lexicon_->by_first_word.find(words[i].folded);
    if (found == lexicon_->by_first_word.end()) continue;
    for (const uint32_t index : found->second) {
      const Lexicon::Entry& entry = lexicon_->entries[index];
      const size_t n = entry.words.size();
      if (n > words.size() - i) continue;
      bool same = true;
      for (size_t k = 1; k < n && same; ++k) same = words[i + k].folded == entry.words[k];
      if (same) result.matches.push_back({entry.term, entry.languages, words[i].begin, words[i + n - 1].end});
    }
  }
  std::sort(result.matches.begin(), result.matches.end(), [](const ToxicityMatch& a, const ToxicityMatch& b) {
    return std::tie(a.begin, a.end, a.term) < std::tie(b.begin, b.end, b.term);
  });
  result.flagged = !result.matches.empty();
  return result;
}

}  // namespace verity::monitor
