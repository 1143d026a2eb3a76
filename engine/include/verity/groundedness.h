// The deterministic groundedness scorer (no LLM) and its HTML audit report.
//
// ScoreGroundedness splits an answer into sentences and asks, for each one,
// whether a single retrieved chunk backs it: enough of the sentence's words
// occur in that chunk, in roughly the same order, and every critical token
// of the sentence (numbers, negations, capitalised names) occurs in it too.
// G = supported sentences / scored sentences. Each sentence carries a
// deterministic citation: the best chunk, the support value and the byte span
// of the match in the chunk's text. docs/groundedness.md explains the
// algorithm and the choices; the exact rules are below.
//
// Determinism: the output depends only on the input bytes and the options.
// No randomness, no locale (case folding is ASCII only, floats are formatted
// with std::to_chars), no hash-table iteration order reaches the output.
// Every result carries the scorer version; the version changes whenever any
// rule below changes in a way that can change a result.
//
// Thread-safety: every function here is pure (no shared state); call them
// from any number of threads.
//
// What it cannot detect (by design, not bugs):
//   - paraphrase and synonyms: "profits rose" is not backed by "earnings
//     increased" (no stemming, no lexicon); such sentences score low;
//   - entity swaps across sentences, or roles swapped inside a sentence
//     when the words and names all occur in the chunk ("Bob paid Alice"
//     against "Alice paid Bob" loses order credit but may still pass);
//   - world knowledge: a true statement absent from the chunks is unsupported;
//   - claims spread over two chunks: chunks are scored one at a time, never
//     concatenated, so such a sentence is unsupported (deliberately strict);
//   - contradictions that do not involve a number, a negation or a name
//     ("increased" vs "decreased", "before" vs "after");
//   - non-ASCII case: only A-Z are folded and recognised as capitals.
//
// RULES (version "verity-groundedness/2")
//
// Sentences (SplitSentences). Byte offsets into the answer, UTF-8 aware.
//   - A line break ends a sentence.
//   - '!' and '?' end a sentence when followed (after any further '.', '!',
//     '?' and closing quotes or brackets: " ' ) ] } ’ ” ») by whitespace or
//     the end of the text, unless the next non-space character on the line
//     is a lower-case ASCII letter ("etc. and", "Why? because").
//   - A single '.' does not end a sentence either when the word before it
//     is a known abbreviation (Mr Mrs Ms Dr Prof Sr Jr St Mt vs cf al approx
//     fig vol p pp e.g. i.e. ...: kAbbreviations in groundedness.cc), a
//     single capital letter (an initial, "J. Smith"), or 1-3 digits opening
//     the line (a list number, "1."). A '.' not followed by whitespace never
//     ends a sentence ("3.5", "e.g.,", "example.com").
//   - A sentence is trimmed of surrounding whitespace and of a leading list
//     marker ("-", "*", "+", "•", "#"..., "12." or "12)" followed by a
//     space); its offsets exclude them. Empty sentences are dropped.
//   - A sentence longer than kMaxSentenceBytes is cut into pieces of at most
//     that many bytes, each ending at the last space or tab before the limit
//     (or at a code point boundary when there is none), trimmed of spaces
//     and tabs; each piece is a sentence. (New in version 2.)
//
// Tokens (of sentences and chunks alike).
//   - A word is a maximal run of letters and digits, where a letter is an
//     ASCII letter or any non-ASCII code point except a fixed set of
//     punctuation and spaces (curly quotes, dashes, ellipsis, bullets,
//     no-break space, guillemets...). Invalid UTF-8 bytes separate words.
//   - Joined into one word: a '.' between two digits ("3.5"), a ','
//     between a digit and exactly three digits ("1,000" -> "1000"), a '%'
//     right after a number ("12%"), dots of dotted abbreviations ("e.g.",
//     "U.S."), and an apostrophe (' or ’) between letters.
//   - Normalisation: ASCII case folding, apostrophes and thousands commas
//     removed. "Xn't" becomes two tokens, X and "not" ("can't" -> "can",
//     "not"; "won't" -> "will", "not"); "cannot" -> "can", "not". The
//     suffixes 's 're 'll 've 'd 'm are dropped ("Alice's" -> "alice").
//   - Stopwords (a fixed English list, kStopwords in groundedness.cc) are
//     dropped. Negations and quantity words (more, less, only, all...) are
//     not stopwords. What remains are the content tokens; a sentence with
//     none, or with negations only (e.g. "Yes.", "It is.", "No."), is not
//     scored.
//
// Support of a sentence S (n content tokens) by one chunk C:
//   P = token precision       = |{i : S_i occurs in C}| / n
//   L = ROUGE-L precision     = LCS(S, C) / n       (over content tokens)
//   T = trigram containment   = |trigrams of S occurring in C| / (n - 2),
//                               or L when n < 3 (no trigram)
//   support = max((P + L) / 2, T), rounded to 4 decimals.
//   (P + L) / 2 gives full credit to words present in the same order and
//   half of the order credit away when they are scrambled; T lets a sentence
//   copied in verbatim phrases count fully. Chunks are never concatenated.
//
// Critical tokens of a sentence (each must occur among the chunk's tokens):
//   - numbers: any token containing a digit ("12%", "3.5", "2021", "3rd");
//   - negations: not, no, never, none, nor, neither, nobody, nothing,
//     nowhere, without (with n't and cannot mapped to "not");
//   - names: a token starting with an ASCII capital that is not a
//     stopword; at the start of the sentence only if it is also not a
//     common sentence opener (However, Overall, According...: kOpeners).
// Negation conflict: in the chunk's matched span, a negation whose next
// content token is one of the sentence's tokens, where the sentence lacks
// that negation ("X is not safe" against "X is safe"), is a conflict.
//
// Verdict: a scored sentence is supported when some chunk has support >=
// threshold, no missing critical token and no negation conflict; it cites
// the highest-support such chunk (ties: the lower index). Otherwise it is
// unsupported and cites the chunk with the highest support (ties: the lower
// index), or no chunk when no chunk shares a content token with it.
//
// Matched span: the smallest window of the cited chunk's tokens that holds
// every distinct content token the sentence shares with the chunk (ties:
// the earliest), as byte offsets of the chunk's text.
//
// Cost: O(sum over chunks of chunk tokens + sentences x chunks x
// (sentence tokens x shared chunk tokens / 64)) time (bit-parallel LCS).
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
  // Names and past-tense verbs whose neighbours in the sentence come from
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

// The critical tokens of every sentence of `text` by the rule above
// (numbers, negations, names), normalised, sorted and without duplicates.
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
