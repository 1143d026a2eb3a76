// The deterministic groundedness scorer (no LLM) and its HTML audit report.
//
// ScoreGroundedness splits an answer into sentences and asks, for each one,
// whether the retrieved chunks back it: enough of the sentence's words occur
// in one window of one chunk (or, for a sentence of two clauses, of two
// chunks), in roughly the same order; every critical token of the sentence
// (numbers, negations, names) occurs there too; and no antonym, dropped
// negation or word taken from another clause of the source contradicts it.
// G = supported sentences / scored sentences. Each sentence carries a
// deterministic citation: the best chunk (and the second one of a two-chunk
// match), the support value and its parts, and the byte span of the match.
// docs/groundedness.md explains the algorithm, the calibration and the
// benchmark; the exact rules are below.
//
// Determinism: the output depends only on the input bytes and the options.
// No randomness, no locale (case folding is ASCII only, floats are formatted
// with std::to_chars), no hash-table iteration order reaches the output, no
// file is read at run time: the lexicon (known words, antonyms, verbs) is
// compiled in from Debian's wamerican and wordnet-base, whose files the
// build pins by SHA-256 (groundedness/make_lexicon.py). Every result carries
// the scorer version; the version changes whenever any rule below (or the
// lexicon) changes in a way that can change a result.
//
// Thread-safety: every function here is pure (no shared state but the
// immutable lexicon, built on first use); call them from any number of
// threads.
//
// What it cannot detect (by design, not bugs):
//   - paraphrase and synonyms: "profits rose" is not backed by "earnings
//     increased" (no stemming, no lexicon of synonyms); such sentences
//     score low;
//   - a role change that keeps every name next to its source neighbours
//     and moves no verb ("Bob paid Alice" against "Alice paid Bob": "paid"
//     keeps its place, the names sit at the edges);
//   - world knowledge: a true statement absent from the chunks is unsupported;
//   - claims spread over more than two chunks, or over two chunks without
//     a clause boundary (a conjunction or ';') between the two parts;
//   - contradictions by words that are not WordNet antonyms of each other;
//   - non-ASCII case: only A-Z are folded and recognised as capitals.
//
// RULES (version "verity-groundedness/3"; what changed from version 2 is
// marked "v3")
//
// Sentences (SplitSentences). Byte offsets into the answer, UTF-8 aware.
//   - A line break ends a sentence.
//   - '!' and '?' end a sentence when followed (after any further '.', '!',
//     '?' and closing quotes or brackets: " ' ) ] } ’ ” ») by whitespace or
//     the end of the text, unless the next non-space character on the line
//     is a lower-case ASCII letter ("etc. and", "Why? because").
//   - A single '.' does not end a sentence either when the word before it
//     is a known abbreviation (Mr Mrs Ms Dr Prof Sr Jr St Mt vs cf al approx
//     fig vol p pp e.g. i.e. ...: kAbbreviations in text.cc), a single
//     capital letter (an initial, "J. Smith"), or 1-3 digits opening the
//     line (a list number, "1."); nor (v3) when 1-3 digits stand before it
//     and one space and a digit after it ("Debian 9. 0": a spaced-out
//     decimal point). A '.' not followed by whitespace never ends a
//     sentence ("3.5", "e.g.,", "example.com").
//   - A sentence is trimmed of surrounding whitespace and of a leading list
//     marker ("-", "*", "+", "•", "#"..., "12." or "12)" followed by a
//     space); its offsets exclude them. Empty sentences are dropped.
//   - A sentence longer than kMaxSentenceBytes is cut into pieces of at most
//     that many bytes, each ending at the last space or tab before the limit
//     (or at a code point boundary when there is none), trimmed of spaces
//     and tabs; each piece is a sentence.
//
// Tokens (of sentences and chunks alike).
//   - A word is a maximal run of letters and digits, where a letter is an
//     ASCII letter or any non-ASCII code point except a fixed set of
//     punctuation, spaces and symbols (curly quotes, dashes, ellipsis,
//     bullets, no-break space, guillemets, currency signs...). Invalid UTF-8
//     bytes separate words.
//   - Joined into one word: a '.' between two digits ("3.5"), a ','
//     between a digit and exactly three digits ("1,000" -> "1000"), a '%'
//     right after a number ("12%"), dots of dotted abbreviations ("e.g.",
//     "U.S."), and an apostrophe (' or ’) between letters.
//   - Normalisation: ASCII case folding, apostrophes and thousands commas
//     removed. "Xn't" becomes two tokens, X and "not" ("can't" -> "can",
//     "not"; "won't" -> "will", "not"); "cannot" -> "can", "not". The
//     suffixes 's 're 'll 've 'd 'm are dropped ("Alice's" -> "alice").
//   - Numbers (v3, numbers.cc) become one canonical token: digits without
//     separators or leading zeros, a '.' kept as written ("9.0" stays, it
//     is a version). Joined: 1-3 digits, ", " and exactly three digits
//     ("3, 800" -> "3800"); 1-3 digits, ". " and digits ("1. 3" -> "1.3").
//     Ordinals lose their suffix ("6th" -> "6"; "sixth" -> "6" from "third"
//     on, and "twenty-first"; not "first" and "second"). Number words are
//     summed ("twenty one" -> "21", "two hundred and fifty" -> "250",
//     "three thousand" -> "3000", up to billions). Scales multiply: a
//     suffix k m mn bn or a following hundred / thousand / million /
//     billion ("5m", "5 million" -> "5000000"; "3.5 billion" ->
//     "3500000000"). "percent" and "per cent" after a number become '%'.
//     A currency sign before a number ($ £ € ¥) or a currency or unit word
//     after it (dollars, pounds, euros, yen, km, kg, kb, mb, gb, tb, hours,
//     minutes and their spellings: kUnits) becomes a unit token after the
//     number ("£40" and "40 pounds" -> "40", "gbp"); unit words elsewhere
//     become the unit token too. A merged number is shown (in
//     missing_critical) as its first token when that is in digits ("3.7" of
//     "3.7 billion"), else as the whole phrase.
//   - Stopwords (a fixed English list, kStopwords in text.cc) are dropped.
//     Negations and quantity words (more, less, only, all...) are not
//     stopwords. What remains are the content tokens; a sentence with none,
//     or with negations only (e.g. "Yes.", "It is.", "No."), is not scored.
//
// Critical tokens of a sentence:
//   - numbers: any token containing a digit (after normalisation);
//   - negations: not, no, never, none, nor, neither, nobody, nothing,
//     nowhere, without (with n't and cannot mapped to "not");
//   - names: a token written with an ASCII capital first that is not a
//     stopword, number or negation. At the start of the sentence (v3) only
//     when it is not a common sentence opener (kOpeners) and either is
//     written capitalised mid-sentence somewhere in the answer or the
//     chunks (the previous non-space character is not . ! ? : or a line
//     break, ignoring quotes and '('), or is not a known word: a lower-case
//     entry of wamerican's word list that is not also listed capitalised
//     ("Naturally" is not a name, "Bob" and "Debian" are).
//
// Window (v3). For a sentence S of n content tokens and a chunk C: among
// the windows of C no wider than n + max(4, ceil(n / 2)) content tokens,
// the ones holding the most distinct tokens of S (each taken as the
// narrowest such window ending at a token of S); of those (the first 64 in
// chunk order), the one with the longest common subsequence with S, then
// the narrowest, then the earliest; trimmed to its first and last token
// shared with S. Every
// signal below is computed on this window W, not the whole chunk.
//
// Signals of S against W:
//   P = token precision       = |{i : S_i occurs in W}| / n
//   L = ROUGE-L precision     = LCS(S, W) / n       (over content tokens)
//   T = trigram containment   = |trigrams of S occurring in W| / (n - 2),
//                               or L when n < 3
//   match_support = max((P + L) / 2, T), rounded to 4 decimals.
//   missing critical tokens: a critical token of S absent from W; a number
//     written k times in S needs k occurrences within W extended by 3
//     tokens on each side (v3: "from 2005 until 2005").
//   negation conflicts (v3, local): a negation of S whose next token occurs
//     in W with no negation among the two tokens before any occurrence is
//     a missing critical token (the negation was added); a negation of C in
//     W or up to two tokens before it, whose next token (in W, in the same
//     sentence of C: no . ! ? ; between) occurs in S with no negation among
//     the two tokens before any occurrence, is a conflicting negation (the
//     sentence dropped it).
//   contradictions (v3): a token of S absent from W whose neighbour in S
//     (the content token before or after it) is, in W, next to (after or
//     before) a WordNet antonym of it (or an antonym inflected alike: -s,
//     -ed, -ing): "dormant contributor" against "active contributor".
//   role conflicts (v3): distances count W's tokens outside parentheses,
//     and a pair is "in place" when its first token occurs before its
//     second, at most 3 apart, within W extended by 3 tokens on each side.
//     A run of names written together ("Ian Murdock") with a neighbour in S
//     (the token before or after the run) that is in W but not in place is
//     a conflict (names swapped); so is a verb whose preceding token is in W
//     but not in place (the subject of another clause). A verb here is an
//     inflected form of a WordNet verb lemma: a past form (regular -ed, or
//     from verb.exc), a regular -s / -es / -ing form, or a lemma after a
//     modal (may might must can could will would should) in the answer.
//   short evidence (v3): when n < 5, S needs one of its trigrams in W (n >=
//     3), its bigram adjacent and in order in W (n = 2), or a critical token
//     other than a negation in W; else the gate fails.
//   support = max(0, match_support - 0.5 x (role conflicts +
//     contradictions)), rounded to 4 decimals.
//
// Verdict: a chunk qualifies when support >= threshold, no critical token
// is missing, no negation conflicts and the short-evidence gate passes. A
// scored sentence is supported when a chunk qualifies; it cites the one
// with the highest support (ties: the lower index). Else (v3), when two
// chunks back it together: S is cut between two content tokens where the
// answer text between them holds a ';' or the word and / but / while /
// whereas, into two parts of at least 4 content tokens each; the first part
// qualifies against one of the three chunks with the highest match_support
// (ties: the lower index) and the second against another of them. Support
// is then the parts' supports weighted by their token counts; the sentence
// cites both chunks (the first part's chunk, then second_chunk_index), the
// best such cut and pair (ties: the earliest cut, then the candidates'
// order). Otherwise the sentence is unsupported and cites the chunk with
// the highest support (ties: the lower index), with all of that chunk's
// signals, or no chunk when no chunk shares a content token with it.
//
// Matched span: the byte range of W's tokens in the cited chunk's text (and
// of the second part's window in the second chunk).
//
// Cost: O(sum over chunks of chunk tokens + sentences x chunks x (matching
// chunk tokens x window / 64)) time (bit-parallel LCS over the candidate
// windows), plus, for a sentence no single chunk backs, the same for up to
// 6 ordered chunk pairs per clause boundary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "verity/status.h"

namespace verity {

// Recorded with every result. Changes whenever a rule above changes.
inline constexpr const char kGroundednessScorerVersion[] = "verity-groundedness/3";
// The longest sentence scored whole (bytes); see "Sentences".
inline constexpr size_t kMaxSentenceBytes = 4096;

// One retrieved chunk, in retrieval order.
struct SourceChunk {
  std::string id;
  std::string text;  // UTF-8 (invalid bytes are tolerated)
};

struct GroundednessOptions {
  // A scored sentence needs support >= threshold (and its critical tokens)
  // to count as supported. In [0, 1]; rounded to 4 decimals. 0.6 lets a
  // faithful sentence carry about a third of words the chunk does not have
  // (connectives, "according to the report") or some reordering, while a
  // sentence with half its content invented falls below. Default: 0.6
  double threshold = 0.6;
};

enum class SentenceVerdict { kSupported, kUnsupported, kNotScored };
// "supported", "unsupported", "not_scored".
const char* SentenceVerdictName(SentenceVerdict verdict);

struct SentenceScore {
  std::string text;  // the sentence's bytes, answer[begin, end)
  size_t begin = 0;  // byte offsets in the answer
  size_t end = 0;
  SentenceVerdict verdict = SentenceVerdict::kNotScored;
  bool scored() const { return verdict != SentenceVerdict::kNotScored; }
  // Of the cited chunk (all 0 when not scored or no chunk is cited).
  double support = 0;
  double token_precision = 0;
  double rouge_l_precision = 0;
  double trigram_containment = 0;
  int32_t chunk_index = -1;  // index in the chunks given; -1 = none cited
  std::string chunk_id;
  // Matched span in the cited chunk's text (begin == end: none).
  size_t span_begin = 0;
  size_t span_end = 0;
  // Critical tokens absent from the cited chunk, as written in the sentence,
  // first occurrence of each, in sentence order.
  std::vector<std::string> missing_critical;
  // Negations of the cited chunk's matched span that the sentence drops, as
  // written in the chunk.
  std::vector<std::string> conflicting_negations;
  // Version 3's signals (left empty / 0 / -1 in results of versions 1-2).
  // max((P + L) / 2, T) before the role and contradiction penalties;
  // `support` is after them.
  double match_support = 0;
  // Antonym contradictions, "sentence-word/chunk-word" as written.
  std::vector<std::string> contradictions;
  // Names and verbs whose neighbours in the sentence come from
  // another clause of the source, as written in the sentence.
  std::vector<std::string> role_conflicts;
  // The minimum-evidence gate failed (a short sentence without an exact
  // n-gram, name or number in the span).
  bool short_evidence = false;
  // The second chunk of a two-chunk citation (-1 = none) and its span.
  int32_t second_chunk_index = -1;
  std::string second_chunk_id;
  size_t second_span_begin = 0;
  size_t second_span_end = 0;
};

struct GroundednessResult {
  std::string scorer_version;  // kGroundednessScorerVersion
  double threshold = 0;
  // supported / scored; 0 when nothing is scored (empty answer, or only
  // sentences without content tokens): check `scored` to tell.
  double g = 0;
  uint32_t scored = 0;
  uint32_t supported = 0;
  std::vector<SentenceScore> sentences;  // every sentence, scored or not
};

// The sentences of `text` as byte ranges [begin, end), by the rules above.
struct ByteRange {
  size_t begin = 0;
  size_t end = 0;
};
std::vector<ByteRange> SplitSentences(std::string_view text);

// The critical tokens of every sentence of `text` (numbers, negations,
// names), normalised, sorted and without duplicates. Numbers are normalised
// as above ("five" and "5" are both "5"); names follow version 2's rule (a
// capitalised word that is not a stopword, and at a sentence start not an
// opener): a question has no context to tell "Naturally" from a name, and
// a stricter test only means fewer cache hits.
// The answer cache (answer_cache.h) refuses a semantic hit whose question's
// critical tokens differ from the cached question's.
std::vector<std::string> CriticalTokens(std::string_view text);
// Whether a normalised critical token is a negation (not, no, never, ...);
// a token with a digit is a number; the others are names.
bool IsNegationToken(std::string_view normalised);

// Scores `answer` against `chunks` (any number, including none: then every
// scored sentence is unsupported). Returns InvalidArgument when
// options.threshold is not in [0, 1]. Never throws except std::bad_alloc.
Result<GroundednessResult> ScoreGroundedness(std::string_view answer, const std::vector<SourceChunk>& chunks,
                                             const GroundednessOptions& options = {});

// Canonical JSON: fixed key order, no whitespace, floats with exactly 4
// decimals, strings as UTF-8 with invalid bytes replaced by U+FFFD and
// control characters escaped. Identical results give identical bytes.
// Chunk fields are null when no chunk is cited.
std::string ToJson(const GroundednessResult& result);

// ---------------------------------------------------------------- report

// One audited answer for AuditHtml.
struct AuditReportEntry {
  std::string retrieval_id;
  std::string collection;
  uint64_t version = 0;  // the collection version retrieved at
  // The answer scored. Optional: when given (and the sentences' offsets fit
  // it), the text between sentences is shown as written; else a space.
  std::string answer;
  std::vector<SourceChunk> chunks;  // as passed to ScoreGroundedness
  GroundednessResult result;
};

struct AuditReportOptions {
  std::string title = "Verity groundedness audit";
  // The summary counts the answers whose G is below this. Default: 0.5
  double low_g_threshold = 0.5;
  // How many lowest-G answers the summary lists. Default: 5
  size_t worst_count = 5;
  // Bytes of chunk text shown on each side of a matched span. Default: 160
  size_t excerpt_context_bytes = 160;
};

// A self-contained HTML page (inline CSS, no script, no external resource;
// every text HTML-escaped) reporting `entries`: a summary (count, mean G,
// share below low_g_threshold, the worst answers), then per answer a header
// and its sentences, coloured by verdict, each with its citation.
// Stable hooks for tools and tests:
//   section.answer#answer-N            one per entry (N from 0)
//   span.sentence.{supported|unsupported|not_scored}#answer-N-s-M
//   li.citation.{verdict}#answer-N-c-M  chunk id (.chunk-id), support
//                                      (.support), excerpt (.excerpt) with
//                                      the span in mark.match, missing
//                                      critical tokens (.missing)
//   section.summary, .g (G values), data-g / data-support attributes.
// Deterministic: identical input gives identical bytes (no timestamps).
std::string AuditHtml(const std::vector<AuditReportEntry>& entries, const AuditReportOptions& options = {});

}  // namespace verity
