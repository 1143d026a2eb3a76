// The analyzer's configuration: presets, validation, the Snowball algorithm
// names, and the stopword lists (docs/text-search.md, "Analyzer").
#include <libstemmer.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "text/analyzer.h"
#include "text/analyzer_internal.h"

namespace verity::text {
namespace {

// English function words: articles and determiners, pronouns, auxiliary and
// modal verbs, prepositions, conjunctions, a few adverbs, and the common
// contractions (written with U+0027; the analyzer writes U+2019 as U+0027
// before it gets here). Lower case, so they match only after case folding
// (or in lower-case text). Written for Verity; changing it changes
// Analyze's output, so it is a kAnalyzerCodeVersion change.
constexpr std::string_view kEnglish[] = {
    // Articles, determiners, quantifiers.
    "a", "an", "the", "this", "that", "these", "those", "each", "every", "either", "neither", "some", "any",
    "no", "all", "both", "few", "many", "much", "more", "most", "other", "another", "such", "own", "same",
    // Personal, possessive and reflexive pronouns.
    "i", "me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves", "you", "your", "yours",
    "yourself", "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself", "it", "its",
    "itself", "they", "them", "their", "theirs", "themselves",
    // Interrogative and relative words.
    "who", "whom", "whose", "which", "what", "when", "where", "why", "how",
    // Auxiliary and modal verbs.
    "am", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had", "having", "do", "does",
    "did", "doing", "will", "would", "shall", "should", "can", "could", "may", "might", "must",
    // Prepositions.
    "about", "above", "after", "against", "at", "before", "below", "between", "by", "down", "during",
    "for", "from", "in", "into", "of", "off", "on", "onto", "out", "over", "through", "to", "under",
    "until", "up", "upon", "with", "within", "without",
    // Conjunctions.
    "and", "but", "or", "nor", "so", "yet", "if", "because", "as", "than", "then", "though", "although",
    "while", "whether", "unless", "once",
    // Adverbs and particles.
    "not", "only", "very", "too", "also", "just", "here", "there", "again", "further", "now",
    // Contractions.
    "don't", "doesn't", "didn't", "isn't", "aren't", "wasn't", "weren't", "can't", "couldn't", "won't",
    "wouldn't", "shouldn't", "hasn't", "haven't", "hadn't", "it's", "i'm", "you're", "we're", "they're",
    "i've", "i'll", "you'll", "i'd", "he's", "she's", "that's", "there's",
};

constexpr size_t kMaxStopwordBytes = 10;  // the longest entry above ("themselves", "yourselves")

// The English list by length and first letter: a lookup compares a term
// with the one to five entries of its bucket (cheaper than hashing it; it
// runs for every term).
class StopwordTable {
 public:
  explicit StopwordTable(const std::string_view* words, size_t count) {
    for (size_t i = 0; i < count; ++i) {
      const std::string_view word = words[i];
      // Entries are lower-case ASCII, 1..kMaxStopwordBytes long.
      if (word.empty() || word.size() > kMaxStopwordBytes || word[0] < 'a' || word[0] > 'z') std::abort();
      buckets_[word.size()][Letter(word[0])].push_back(word);
    }
  }
  bool Contains(std::string_view term) const {
    if (term.empty() || term.size() > kMaxStopwordBytes || term[0] < 'a' || term[0] > 'z') return false;
    for (const std::string_view word : buckets_[term.size()][Letter(term[0])]) {
      if (word == term) return true;
    }
    return false;
  }

 private:
  static size_t Letter(char c) { return static_cast<size_t>(c - 'a'); }
  std::vector<std::string_view> buckets_[kMaxStopwordBytes + 1][26];
};

const StopwordTable& EnglishTable() {
  static const auto* table = new StopwordTable(kEnglish, std::size(kEnglish));
  return *table;
}

constexpr std::string_view kStopwordLanguages[] = {"english"};

std::string Quoted(std::string_view s) {
  // Bounded, so that a huge bad value cannot make a huge message.
  return "\"" + std::string(s.substr(0, 64)) + (s.size() > 64 ? "...\"" : "\"");
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

Status Invalid(const std::string& field, std::string detail) {
  return Status::InvalidArgument(std::move(detail)).WithField(field);
}

}  // namespace

bool IsStopword(StopwordList list, std::string_view term) {
  switch (list) {
    case StopwordList::kNone:
      return false;
    case StopwordList::kEnglish:
      return EnglishTable().Contains(term);
  }
  return false;
}

StopwordList StopwordListFor(const std::string& language) {
  return language == "english" ? StopwordList::kEnglish : StopwordList::kNone;
}

std::vector<std::string> StemmerNames() {
  std::vector<std::string> names;
  for (const char** name = sb_stemmer_list(); *name != nullptr; ++name) names.emplace_back(*name);
  std::sort(names.begin(), names.end());
  return names;
}

Result<AnalyzerConfig> PresetConfig(const std::string& preset, const std::string& field) {
  AnalyzerConfig config;
  if (preset.empty() || preset == "standard") {
    config.preset = "standard";
    return config;
  }
  if (preset == "english") {
    config.preset = "english";
    config.stopwords = "english";
    config.stemmer = "english";
    return config;
  }
  return Invalid(field, "unknown analyzer preset " + Quoted(preset) + "; known: standard, english (\"\" = standard)");
}

Status ResolvePreset(AnalyzerConfig* config, const std::string& field) {
  VERITY_ASSIGN_OR_RETURN(const AnalyzerConfig base, PresetConfig(config->preset, field + ".preset"));
  if (config->preset.empty()) config->preset = base.preset;
  if (config->stopwords.empty()) config->stopwords = base.stopwords;
  if (config->stemmer.empty()) config->stemmer = base.stemmer;
  config->ascii_fold = config->ascii_fold || base.ascii_fold;
  return ValidateAnalyzerConfig(*config, field);
}

Status ValidateAnalyzerConfig(const AnalyzerConfig& config, const std::string& field) {
  if (Result<AnalyzerConfig> preset = PresetConfig(config.preset, field + ".preset"); !preset.ok()) {
    return preset.status();
  }
  if (!config.stopwords.empty() &&
      std::find(std::begin(kStopwordLanguages), std::end(kStopwordLanguages), config.stopwords) ==
          std::end(kStopwordLanguages)) {
    return Invalid(field + ".stopwords",
                   "unknown stopword language " + Quoted(config.stopwords) + "; known: \"\" (none), english");
  }
  if (!config.stemmer.empty()) {
    const std::vector<std::string> names = StemmerNames();
    if (std::find(names.begin(), names.end(), config.stemmer) == names.end()) {
      return Invalid(field + ".stemmer", "unknown Snowball algorithm " + Quoted(config.stemmer) +
                                             "; known: \"\" (none), " + JoinNames(names));
    }
  }
  if (config.max_term_bytes < 1 || config.max_term_bytes > kMaxTermBytesLimit) {
    return Invalid(field + ".max_term_bytes", "is " + std::to_string(config.max_term_bytes) +
                                                  "; it must be 1.." + std::to_string(kMaxTermBytesLimit));
  }
  return Status::Ok();
}

}  // namespace verity::text
