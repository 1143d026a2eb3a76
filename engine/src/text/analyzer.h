// The text analyzer: turns a record's text, or a query, into index terms
// (docs/text-search.md, "Analyzer"). Steps, in order: Unicode word
// segmentation (UAX #29, ICU's word BreakIterator; only segments that hold
// a letter or a digit are kept), Unicode case folding (optional), ASCII
// folding (optional: Latin letters' accents stripped by NFD + removing
// nonspacing marks, plus a small table for letters that do not decompose,
// "ß" -> "ss", "ø" -> "o"), stopword removal (optional, by
// language), Snowball stemming (optional, libstemmer), and dropping terms
// longer than max_term_bytes.
//
// Deterministic: the same text and config give the same terms on every
// machine and run (the retrieval log's replays depend on it). A change to
// what Analyze produces for some input is a change of kAnalyzerCodeVersion.
//
// Thread-safety: an Analyzer is immutable after Create; Analyze may be
// called from many threads at once (it keeps per-thread ICU and Snowball
// state internally).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "verity/status.h"
#include "verity/types.h"

namespace verity::text {

// Bumped whenever Analyze's output changes for any input.
inline constexpr uint32_t kAnalyzerCodeVersion = 1;

// The config a preset stands for, or InvalidArgument naming `field` for an
// unknown preset ("standard", "english"; "" means "standard").
Result<AnalyzerConfig> PresetConfig(const std::string& preset, const std::string& field);

// Fills the settings `config` leaves empty from its preset (empty stopwords
// or stemmer take the preset's, ascii_fold is OR-ed; types.h), then checks
// it as ValidateAnalyzerConfig does. InvalidArgument names `field`.
Status ResolvePreset(AnalyzerConfig* config, const std::string& field);

// Checks a config: a known preset, a known stopword language and Snowball
// algorithm, max_term_bytes in 1..1024. InvalidArgument names
// `field` + ".stopwords" and so on, and lists the accepted values.
Status ValidateAnalyzerConfig(const AnalyzerConfig& config, const std::string& field);

// Names of the Snowball algorithms libstemmer offers (for error messages and docs).
std::vector<std::string> StemmerNames();

class Analyzer {
 public:
  // InvalidArgument (as ValidateAnalyzerConfig) for a bad config;
  // Internal if ICU cannot create its iterators.
  static Result<std::unique_ptr<Analyzer>> Create(const AnalyzerConfig& config);
  ~Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  // Appends `text`'s terms, in text order, with repeats, to `terms`.
  // Invalid UTF-8 is read as U+FFFD (never an error). Returns the number
  // of terms appended.
  size_t Analyze(std::string_view text, std::vector<std::string>* terms) const;

  const AnalyzerConfig& config() const { return config_; }

 private:
  explicit Analyzer(AnalyzerConfig config);
  // Per-thread ICU and Snowball objects and buffers, shared by every
  // Analyzer of the thread (a thread keeps one stemmer per algorithm).
  struct State;
  State& ThreadState() const;

  AnalyzerConfig config_;
};

}  // namespace verity::text
