// The toxicity / bias flagger (issue #28; docs/monitoring.md, "Toxicity and
// bias flags"): a lexical flag, not a classifier. It says whether a text
// (an answer, or a query) contains a term of a multi-language word list —
// the npm package naughty-words, the "List of Dirty, Naughty, Obscene and
// Otherwise Bad Words", compiled into the build — and which terms, in
// which languages, at which byte spans.
//
// Matching is on words, never on substrings: the text is cut into words by
// ICU's word BreakIterator (UAX #29, as the text analyzer does; only
// segments holding a letter or a digit count), and each word is folded by
// NFKC case folding (full-width Latin, ligatures, compatibility forms,
// upper case) and then by the text analyzer's ASCII folding (Latin accents
// dropped, "ß" -> "ss"). The list's terms are cut and folded the same way
// when the flagger is created; a term of several words matches the same
// words in a row (whatever separates them: spaces, punctuation). So
// "Scunthorpe" is not flagged for "cunt", "ASS" and "Äss" are flagged for
// "ass", "ass-hat" is not flagged for "ass" but is for "ass" followed by
// "hat" if the list has "ass hat". List terms without a letter ("13.") are
// left out: they would flag every number.
//
// Deterministic: the same text, config and build give the same result on
// every machine. kToxicityScorerVersion changes whenever Flag's result may
// change for some input with the same word list; the word list's own
// version is WordListVersion(). The lead records both with each result
// (ToxicityResult carries them).
//
// How Monitor (monitor.h) uses it: one flagger per database, created at open
// from MonitorOptions (Create costs a few ms: it folds the ~2,600 terms);
// Flag(answer) (and Flag(query) with flag_queries) when an answer is
// annotated, storing flagged, matches, scorer_version and
// word_list_version in the annotation.
//
// Thread-safety: a ToxicityFlagger is immutable after Create; Flag may be
// called from any number of threads at once (per-thread ICU state).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "verity/status.h"

namespace verity::monitor {

// Bumped whenever Flag's result may change for some input with the same
// word list (a change to the cutting, the folding or the matching).
inline constexpr char kToxicityScorerVersion[] = "toxicity-lexical-1";

// The word list compiled in: package "naughty-words", its npm version
// ("1.2.0") and license ("CC-BY-4.0").
std::string WordListPackage();
std::string WordListVersion();
std::string WordListLicense();

// The languages the compiled-in list has, sorted: "ar", "cs", "de", "en",
// ... (the package's file names without ".json").
std::vector<std::string> WordListLanguages();

struct ToxicityConfig {
  // The languages whose terms are flagged; empty = every language of the
  // list. Each must be one of WordListLanguages().
  std::vector<std::string> languages;
  // Terms never flagged in this deployment (e.g. a medical word the list
  // has): a list term whose folded words equal an allowed entry's is left
  // out, in every language. Each entry must hold a letter or a digit; at
  // most kMaxAllowEntries entries of at most kMaxAllowEntryBytes bytes.
  std::vector<std::string> allow;
};
inline constexpr size_t kMaxAllowEntries = 10000;
inline constexpr size_t kMaxAllowEntryBytes = 256;

struct ToxicityMatch {
  std::string term;                    // the list's term, as the list spells it
  std::vector<std::string> languages;  // the configured languages whose list has it, sorted
  size_t begin = 0;                    // byte span in the text: [begin, end), from the
  size_t end = 0;                      //   first matched word's start to the last one's end
  bool operator==(const ToxicityMatch&) const = default;
};

struct ToxicityResult {
  bool flagged = false;                // !matches.empty()
  std::vector<ToxicityMatch> matches;  // by begin, then by end; overlapping matches all listed
  std::string scorer_version;          // kToxicityScorerVersion
  std::string word_list_version;       // WordListVersion()
};

class ToxicityFlagger {
 public:
  // InvalidArgument naming the field for a bad config: "languages[2]:
  // unknown language 'xx'; known: ar, cs, ...", "allow[0]: holds no word
  // (...)", "allow: N entries; the limit is 10000". Internal if ICU cannot
  // create its word BreakIterator or normalizer.
  static Result<std::unique_ptr<ToxicityFlagger>> Create(const ToxicityConfig& config);
  ~ToxicityFlagger();
  ToxicityFlagger(const ToxicityFlagger&) = delete;
  ToxicityFlagger& operator=(const ToxicityFlagger&) = delete;

  // Flags `text` (UTF-8; invalid bytes read as U+FFFD, never an error).
  ToxicityResult Flag(std::string_view text) const;

  // How many distinct folded terms are flagged (after languages and allow).
  size_t term_count() const;

 private:
  struct Lexicon;
  explicit ToxicityFlagger(std::unique_ptr<Lexicon> lexicon);
  std::unique_ptr<Lexicon> lexicon_;
};

}  // namespace verity::monitor
