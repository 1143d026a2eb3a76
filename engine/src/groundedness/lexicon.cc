// The lexicon's lookups over the generated data (groundedness/lexicon.h).
// Part of the scorer's rules: a change here that can change a result must
// bump kGroundednessScorerVersion.
#include "groundedness/lexicon.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace verity::groundedness_lexicon {
namespace {

// The lines of a generated list (already sorted).
std::vector<std::string_view> Lines(std::string_view data) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] != '\n') continue;
    out.push_back(data.substr(start, i - start));
    start = i + 1;
  }
  return out;
}

bool InSorted(const std::vector<std::string_view>& list, std::string_view word) {
  return std::binary_search(list.begin(), list.end(), word);
}

const std::vector<std::string_view>& Known() {
  static const std::vector<std::string_view> list = Lines(KnownWordsData());
  return list;
}
const std::vector<std::string_view>& Antonyms() {
  static const std::vector<std::string_view> list = Lines(AntonymData());
  return list;
}
const std::vector<std::string_view>& Verbs() {
  static const std::vector<std::string_view> list = Lines(VerbData());
  return list;
}
const std::vector<std::string_view>& IrregularPast() {
  static const std::vector<std::string_view> list = Lines(IrregularPastData());
  return list;
}

bool AntonymLemmas(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return false;
  std::string key(a);
  key.push_back(' ');
  key.append(b);
  return InSorted(Antonyms(), key);
}

bool EndsWith(std::string_view w, std::string_view suffix) {
  return w.size() > suffix.size() && w.substr(w.size() - suffix.size()) == suffix;
}

// Candidate lemmas of a regular -ed / -s / -ing form (most specific first).
std::vector<std::string> StripSuffix(std::string_view w, std::string_view suffix) {
  std::vector<std::string> out;
  if (!EndsWith(w, suffix)) return out;
  std::string stem(w.substr(0, w.size() - suffix.size()));
  out.push_back(stem);
  if (suffix != "s") out.push_back(stem + "e");  // increased -> increase
  if (stem.size() > 2 && stem.back() == stem[stem.size() - 2]) out.push_back(stem.substr(0, stem.size() - 1));
  if (suffix == "ed" && !stem.empty() && stem.back() == 'i') out.push_back(stem.substr(0, stem.size() - 1) + "y");
  return out;
}

}  // namespace

bool IsKnownWord(std::string_view word) { return InSorted(Known(), word); }

bool AreAntonyms(std::string_view a, std::string_view b) {
  if (AntonymLemmas(a, b)) return true;
  for (std::string_view suffix : {"ed", "s", "ing"}) {
    for (const std::string& la : StripSuffix(a, suffix)) {
      for (const std::string& lb : StripSuffix(b, suffix)) {
        if (AntonymLemmas(la, lb)) return true;
      }
    }
  }
  return false;
}

bool IsPastVerb(std::string_view word) {
  if (InSorted(IrregularPast(), word)) return true;
  for (const std::string& lemma : StripSuffix(word, "ed")) {
    if (InSorted(Verbs(), lemma)) return true;
  }
  return false;
}

bool IsVerbLemma(std::string_view word) { return InSorted(Verbs(), word); }

bool IsVerbForm(std::string_view word) {
  if (IsPastVerb(word)) return true;
  for (std::string_view suffix : {"s", "es", "ing"}) {
    for (const std::string& lemma : StripSuffix(word, suffix)) {
      if (lemma.size() > 1 && InSorted(Verbs(), lemma)) return true;
    }
  }
  return false;
}

}  // namespace verity::groundedness_lexicon
