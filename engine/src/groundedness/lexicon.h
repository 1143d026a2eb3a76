// The groundedness scorer's lexicon (internal to groundedness/): English
// words, WordNet antonyms and verbs, compiled into the library from Debian's
// wamerican and wordnet-base at build time (make_lexicon.py, which pins its
// inputs by SHA-256, so that a build can only ever hold one lexicon per
// scorer version). No file is read at run time. Pure functions over
// immutable data built on first use (thread-safe: function-local statics).
#pragma once

#include <string_view>

namespace verity::groundedness_lexicon {

// Whether `word` (lower-case ASCII) is a known lower-case English word:
// listed in wamerican's american-english in lower case and not also
// capitalised ("naturally" is, "bob" and "will" are not: "Bob", "Will").
bool IsKnownWord(std::string_view word);
// Whether `a` and `b` (lower-case) are WordNet antonyms, or inflect two
// antonyms alike: the same suffix -s, -d/-ed or -ing on both ("increased" /
// "decreased").
bool AreAntonyms(std::string_view a, std::string_view b);
// Whether `word` (lower-case) is a past form of a WordNet verb: regular
// (-ed, -d, -ied, doubled consonant + -ed) or from verb.exc ("wrote").
bool IsPastVerb(std::string_view word);
// Whether `word` (lower-case) is a WordNet verb lemma.
bool IsVerbLemma(std::string_view word);
// Whether `word` is an inflected verb: a past form, or a regular -s / -es /
// -ing form of a verb lemma ("summarizes", "providing").
bool IsVerbForm(std::string_view word);

// The generated data (lexicon_data.cc, in the build directory): sorted,
// '\n'-terminated lines.
std::string_view KnownWordsData();
std::string_view AntonymData();  // "a b" lines, both directions
std::string_view VerbData();
std::string_view IrregularPastData();

}  // namespace verity::groundedness_lexicon
