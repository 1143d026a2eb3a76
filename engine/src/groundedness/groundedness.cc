// The groundedness scorer: support and critical tokens, the verdicts,
// canonical JSON (sentences and tokens: groundedness/text.h). The rules are
// documented in include/verity/groundedness.h; any change here that can
// change a result must bump kGroundednessScorerVersion and
// docs/groundedness.md.
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

#include "groundedness/lexicon.h"
#include "groundedness/support.h"
#include "groundedness/text.h"
#include "util/utf8.h"

namespace verity {
namespace {

using groundedness_text::IsNegation;
using groundedness_text::IsOpener;
using groundedness_text::Token;
using groundedness_text::Tokenize;

// ------------------------------------------------------------ scoring

using groundedness_lexicon::IsKnownWord;
using groundedness_support::ChunkIndex;
using groundedness_support::Content;
using groundedness_support::ContentOf;
using groundedness_support::Evidence;
using groundedness_support::MatchChunk;
using groundedness_support::Params;
using groundedness_support::Quantise;
using groundedness_support::Sentence;
using groundedness_support::Vocabulary;

// Whether content token k of a sentence is a name: capitalised, not a
// number or negation; at the start of the sentence only when it is not an
// opener and is capitalised mid-sentence somewhere in the answer or the
// context, or is not a known English word.
bool IsName(const Content& c, size_t k, const std::unordered_set<std::string>& mid_caps) {
  const Token& t = c.tokens[k];
  if (!t.capital || t.number || t.negation) return false;
  if (k != 0 || !c.first_is_content) return true;
  if (IsOpener(t.norm)) return false;
  return mid_caps.count(t.norm) > 0 || !IsKnownWord(t.norm);
}

Sentence MakeSentence(const Content& c, size_t from, size_t to, std::string_view answer,
                      const std::unordered_set<std::string>& mid_caps) {
  Sentence s;
  s.text = answer;
  for (size_t k = from; k < to; ++k) {
    const Token& t = c.tokens[k];
    const bool name = IsName(c, k, mid_caps);
    s.tokens.push_back(&t);
    s.ids.push_back(c.ids[k]);
    s.name.push_back(name);
    s.critical.push_back(name || t.number || t.negation);
  }
  return s;
}

// Whether the answer text between content tokens k - 1 and k joins two
// clauses: a semicolon, or one of the conjunctions and / but / while /
// whereas (a bare comma does not: it too often opens an apposition).
bool ClauseBoundary(std::string_view answer, const Token& before, const Token& after) {
  if (after.show_begin <= before.show_end) return false;
  const std::string gap(answer.substr(before.show_end, after.show_begin - before.show_end));
  if (gap.find(';') != std::string::npos) return true;
  std::string padded = " ";
  for (char ch : gap) {
    const bool letter = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
    padded.push_back(!letter ? ' ' : (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch);
  }
  padded += " ";
  for (const char* w : {" and ", " but ", " while ", " whereas "}) {
    if (padded.find(w) != std::string::npos) return true;
  }
  return false;
}

struct Choice {
  int chunk = -1, second = -1;
  Evidence e, e2;
  double support = 0;
  size_t head_tokens = 0;  // of a pair: the first part's content tokens
};

// The best qualifying pair: the sentence cut at a clause boundary into two
// parts of at least min_part_tokens, each qualifying on its own against one
// of the three best chunks. Support: the parts' supports weighted by length.
Choice BestPair(const Content& c, std::string_view answer, const std::unordered_set<std::string>& mid_caps,
                const std::vector<ChunkIndex>& index, const std::vector<SourceChunk>& chunks,
                const std::vector<int>& candidates, double threshold, const Params& params) {
  Choice best;
  const size_t n = c.ids.size();
  for (size_t k = params.min_part_tokens; k + params.min_part_tokens <= n; ++k) {
    if (!ClauseBoundary(answer, c.tokens[k - 1], c.tokens[k])) continue;
    const Sentence head = MakeSentence(c, 0, k, answer, mid_caps);
    const Sentence tail = MakeSentence(c, k, n, answer, mid_caps);
    for (int c1 : candidates) {
      Evidence e1 = MatchChunk(head, index[c1], chunks[c1].text, params);
      if (!e1.Qualifies(threshold)) continue;
      for (int c2 : candidates) {
        if (c2 == c1) continue;
        Evidence e2 = MatchChunk(tail, index[c2], chunks[c2].text, params);
        if (!e2.Qualifies(threshold)) continue;
        const double support = Quantise((k * e1.support + (n - k) * e2.support) / static_cast<double>(n));
        if (best.chunk < 0 || support > best.support) {
          best = Choice{c1, c2, e1, std::move(e2), support, k};
        }
      }
    }
  }
  return best;
}

double Weighted(double a, size_t ka, double b, size_t kb) {
  return Quantise((a * static_cast<double>(ka) + b * static_cast<double>(kb)) / static_cast<double>(ka + kb));
}

void Fill(SentenceScore& score, const Choice& ch, const std::vector<SourceChunk>& chunks, size_t head, size_t n) {
  const Evidence& e = ch.e;
  score.chunk_index = ch.chunk;
  score.chunk_id = chunks[static_cast<size_t>(ch.chunk)].id;
  score.span_begin = e.span_begin;
  score.span_end = e.span_end;
  score.missing_critical = e.missing;
  score.conflicting_negations = e.conflicts;
  score.contradictions = e.contradictions;
  score.role_conflicts = e.role_conflicts;
  score.short_evidence = e.short_evidence;
  if (ch.second < 0) {
    score.support = e.support;
    score.match_support = e.match_support;
    score.token_precision = e.precision;
    score.rouge_l_precision = e.rouge_l;
    score.trigram_containment = e.trigram;
    return;
  }
  const Evidence& f = ch.e2;
  const size_t tail = n - head;
  score.support = ch.support;
  score.match_support = Weighted(e.match_support, head, f.match_support, tail);
  score.token_precision = Weighted(e.precision, head, f.precision, tail);
  score.rouge_l_precision = Weighted(e.rouge_l, head, f.rouge_l, tail);
  score.trigram_containment = Weighted(e.trigram, head, f.trigram, tail);
  score.second_chunk_index = ch.second;
  score.second_chunk_id = chunks[static_cast<size_t>(ch.second)].id;
  score.second_span_begin = f.span_begin;
  score.second_span_end = f.span_end;
}

// Scores one sentence with content tokens: the best single chunk, else the
// best pair of chunks, else the best (unqualified) chunk.
void ScoreSentence(const Content& c, std::string_view answer, const std::unordered_set<std::string>& mid_caps,
                   const std::vector<ChunkIndex>& index, const std::vector<SourceChunk>& chunks, double threshold,
                   SentenceScore& score) {
  const Params& params = groundedness_support::V3Params();
  const Sentence s = MakeSentence(c, 0, c.ids.size(), answer, mid_caps);
  Choice ok, any;
  std::vector<std::pair<double, int>> ranked;
  for (size_t k = 0; k < chunks.size(); ++k) {
    Evidence e = MatchChunk(s, index[k], chunks[k].text, params);
    if (!e.has_window) continue;
    const int ci = static_cast<int>(k);
    ranked.emplace_back(-e.match_support, ci);
    if (e.Qualifies(threshold) && (ok.chunk < 0 || e.support > ok.e.support)) ok = Choice{ci, -1, e, {}, e.support, 0};
    if (any.chunk < 0 || e.support > any.e.support) any = Choice{ci, -1, std::move(e), {}, 0, 0};
  }
  score.verdict = SentenceVerdict::kUnsupported;
  if (ok.chunk >= 0) {
    score.verdict = SentenceVerdict::kSupported;
    Fill(score, ok, chunks, c.ids.size(), c.ids.size());
    return;
  }
  std::stable_sort(ranked.begin(), ranked.end());
  std::vector<int> candidates;
  for (size_t k = 0; k < ranked.size() && k < 3; ++k) candidates.push_back(ranked[k].second);
  Choice pair = BestPair(c, answer, mid_caps, index, chunks, candidates, threshold, params);
  if (pair.chunk >= 0) {
    score.verdict = SentenceVerdict::kSupported;
    Fill(score, pair, chunks, pair.head_tokens, c.ids.size());
    return;
  }
  if (any.chunk >= 0) {
    Fill(score, any, chunks, c.ids.size(), c.ids.size());
    return;
  }
  // No chunk shares a content token: every critical token is missing.
  score.missing_critical = MatchChunk(s, ChunkIndex{}, "", params).missing;
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

void AppendJsonStrings(std::string& out, const std::vector<std::string>& list) {
  out.push_back('[');
  for (size_t k = 0; k < list.size(); ++k) {
    if (k > 0) out.push_back(',');
    AppendJsonString(out, list[k]);
  }
  out.push_back(']');
}

bool IsPreV3(std::string_view version) {
  return version == "verity-groundedness/1" || version == "verity-groundedness/2";
}

// Fixed 4-decimal formatting, locale-independent.
std::string FormatFixed4(double x) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::fixed, 4);
  if (ec != std::errc()) return "0.0000";
  return std::string(buf, ptr);
}

// The signals version 3 added, after "conflicting_negations".
void AppendV3Fields(std::string& out, const SentenceScore& s) {
  out += ",\"match_support\":" + FormatFixed4(s.match_support);
  out += ",\"contradictions\":";
  AppendJsonStrings(out, s.contradictions);
  out += ",\"role_conflicts\":";
  AppendJsonStrings(out, s.role_conflicts);
  out += ",\"short_evidence\":";
  out += s.short_evidence ? "true" : "false";
  const bool second = s.second_chunk_index >= 0;
  out += ",\"second_chunk_index\":" + (second ? std::to_string(s.second_chunk_index) : std::string("null"));
  out += ",\"second_chunk_id\":";
  if (second) {
    AppendJsonString(out, s.second_chunk_id);
  } else {
    out += "null";
  }
  const bool span = second && s.second_span_end > s.second_span_begin;
  out += ",\"second_span_begin\":" + (span ? std::to_string(s.second_span_begin) : std::string("null"));
  out += ",\"second_span_end\":" + (span ? std::to_string(s.second_span_end) : std::string("null"));
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

Result<GroundednessResult> ScoreGroundedness(std::string_view answer, const std::vector<SourceChunk>& chunks,
                                             const GroundednessOptions& options) {
  if (!(options.threshold >= 0.0 && options.threshold <= 1.0)) {
    return Status::InvalidArgument("options.threshold must be in [0, 1], got " + FormatFixed4(options.threshold));
  }
  GroundednessResult result;
  result.scorer_version = kGroundednessScorerVersion;
  result.threshold = Quantise(options.threshold);

  Vocabulary vocab;
  std::unordered_set<std::string> mid_caps;  // words capitalised mid-sentence anywhere
  std::vector<ChunkIndex> index;
  index.reserve(chunks.size());
  for (const SourceChunk& chunk : chunks) {
    index.push_back(groundedness_support::IndexChunk(chunk.text, vocab));
    for (const Token& t : index.back().content.tokens) {
      if (t.mid_capital) mid_caps.insert(t.norm);
    }
  }
  std::vector<std::pair<ByteRange, Content>> sentences;
  for (const ByteRange& range : SplitSentences(answer)) {
    sentences.emplace_back(range, ContentOf(answer, range.begin, range.end, vocab));
    for (const Token& t : sentences.back().second.tokens) {
      if (t.mid_capital) mid_caps.insert(t.norm);
    }
  }

  for (const auto& [range, content] : sentences) {
    SentenceScore score;
    score.begin = range.begin;
    score.end = range.end;
    score.text = std::string(answer.substr(range.begin, range.end - range.begin));
    const bool only_negations =
        std::all_of(content.tokens.begin(), content.tokens.end(), [](const Token& t) { return t.negation; });
    if (only_negations) {  // also when there is no content token at all
      score.verdict = SentenceVerdict::kNotScored;
      result.sentences.push_back(std::move(score));
      continue;
    }
    ScoreSentence(content, answer, mid_caps, index, chunks, result.threshold, score);
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
  // Results of versions 1 and 2 (stored or re-rendered) keep their layout.
  const bool v3_fields = !IsPreV3(r.scorer_version);
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
    out += ",\"missing_critical\":";
    AppendJsonStrings(out, s.missing_critical);
    out += ",\"conflicting_negations\":";
    AppendJsonStrings(out, s.conflicting_negations);
    if (v3_fields) AppendV3Fields(out, s);
    out += "}";
  }
  out += "]}";
  return out;
}

}  // namespace verity
