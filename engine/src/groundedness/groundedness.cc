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

#include "groundedness/text.h"
#include "util/utf8.h"

namespace verity {
namespace {

using groundedness_text::IsNegation;
using groundedness_text::IsOpener;
using groundedness_text::Token;
using groundedness_text::Tokenize;

// ------------------------------------------------------------ scoring

struct Vocabulary {
  std::unordered_map<std::string, uint32_t> ids;
  uint32_t Id(const std::string& norm) {
    auto [it, inserted] = ids.emplace(norm, static_cast<uint32_t>(ids.size()));
    return it->second;
  }
};

struct Trigram {
  uint32_t a, b, c;
  bool operator==(const Trigram&) const = default;
};
struct TrigramHash {
  size_t operator()(const Trigram& t) const {
    uint64_t h = t.a;
    h = h * 0x9E3779B97F4A7C15ull + t.b;
    h = h * 0x9E3779B97F4A7C15ull + t.c;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

// Content tokens of a text, as ids, with their Token.
struct Content {
  std::vector<Token> tokens;  // content tokens only
  std::vector<uint32_t> ids;
  bool first_is_content = false;  // tokens[0] is the text's first token
};

Content ContentOf(std::string_view text, size_t begin, size_t end, Vocabulary& vocab) {
  Content c;
  std::vector<Token> all = Tokenize(text, begin, end);
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].stop) continue;
    if (i == 0) c.first_is_content = true;
    c.ids.push_back(vocab.Id(all[i].norm));
    c.tokens.push_back(std::move(all[i]));
  }
  return c;
}

struct ChunkIndex {
  Content content;
  std::unordered_set<uint32_t> id_set;
  std::unordered_set<Trigram, TrigramHash> trigrams;
};

// Bit-parallel LCS length (Hyyrö): a column of the LCS table as bits.
class LcsMatcher {
 public:
  explicit LcsMatcher(const std::vector<uint32_t>& a) : n_(a.size()), words_((a.size() + 63) / 64) {
    for (size_t i = 0; i < n_; ++i) {
      auto& mask = masks_[a[i]];
      if (mask.empty()) mask.assign(words_, 0);
      mask[i / 64] |= uint64_t{1} << (i % 64);
    }
  }

  size_t Length(const std::vector<uint32_t>& b) const {
    std::vector<uint64_t> v(words_, ~uint64_t{0});
    for (uint32_t symbol : b) {
      auto it = masks_.find(symbol);
      if (it == masks_.end()) continue;  // cannot be in a common subsequence
      const std::vector<uint64_t>& m = it->second;
      uint64_t carry = 0;
      for (size_t w = 0; w < words_; ++w) {
        const uint64_t u = v[w] & m[w];
        const uint64_t s1 = v[w] + u;
        const uint64_t c1 = s1 < v[w];
        const uint64_t s2 = s1 + carry;
        const uint64_t c2 = s2 < s1;
        carry = c1 | c2;
        v[w] = s2 | (v[w] & ~m[w]);
      }
    }
    size_t ones = 0;
    for (size_t w = 0; w < words_; ++w) {
      uint64_t bits = v[w];
      if (w + 1 == words_ && n_ % 64 != 0) bits &= (uint64_t{1} << (n_ % 64)) - 1;
      ones += static_cast<size_t>(__builtin_popcountll(bits));
    }
    return n_ - ones;
  }

 private:
  size_t n_;
  size_t words_;
  std::unordered_map<uint32_t, std::vector<uint64_t>> masks_;
};

double Quantise(double x) { return std::round(x * 10000.0) / 10000.0; }

struct Match {
  double support = 0, precision = 0, rouge_l = 0, trigram = 0;
  size_t span_begin = 0, span_end = 0;
  std::vector<std::string> missing;
  std::vector<std::string> conflicts;
};

struct SentenceFeatures {
  const Content* content;
  std::string_view text;  // the answer
  std::unordered_set<uint32_t> id_set;
  std::vector<size_t> critical;  // indexes into content->tokens
  LcsMatcher lcs;
  std::vector<Trigram> trigrams;
};

Match MatchChunk(const SentenceFeatures& s, const ChunkIndex& chunk, std::string_view chunk_text) {
  Match m;
  const std::vector<uint32_t>& a = s.content->ids;
  const double n = static_cast<double>(a.size());
  size_t present = 0;
  for (uint32_t id : a) present += chunk.id_set.count(id);
  m.precision = present / n;
  m.rouge_l = static_cast<double>(s.lcs.Length(chunk.content.ids)) / n;
  if (a.size() >= 3) {
    size_t contained = 0;
    for (const Trigram& t : s.trigrams) contained += chunk.trigrams.count(t);
    m.trigram = static_cast<double>(contained) / static_cast<double>(s.trigrams.size());
  } else {
    m.trigram = m.rouge_l;
  }
  m.precision = Quantise(m.precision);
  m.rouge_l = Quantise(m.rouge_l);
  m.trigram = Quantise(m.trigram);
  m.support = Quantise(std::max((m.precision + m.rouge_l) / 2.0, m.trigram));

  // Missing critical tokens, first occurrence of each.
  std::unordered_set<uint32_t> reported;
  for (size_t k : s.critical) {
    uint32_t id = a[k];
    if (chunk.id_set.count(id) || !reported.insert(id).second) continue;
    const Token& t = s.content->tokens[k];
    m.missing.emplace_back(s.text.substr(t.show_begin, t.show_end - t.show_begin));
  }

  // Matched span: the smallest window of the chunk holding every distinct
  // content token shared with the sentence (earliest on ties).
  const std::vector<uint32_t>& b = chunk.content.ids;
  std::unordered_map<uint32_t, size_t> need;
  for (uint32_t id : s.id_set) {
    if (chunk.id_set.count(id)) need.emplace(id, 0);
  }
  if (need.empty()) return m;
  size_t have = 0;
  size_t best_l = 0, best_r = b.size();
  bool found = false;
  for (size_t l = 0, r = 0; r < b.size(); ++r) {
    auto it = need.find(b[r]);
    if (it != need.end() && it->second++ == 0) ++have;
    while (have == need.size()) {
      if (!found || r - l < best_r - best_l) best_l = l, best_r = r, found = true;
      auto lt = need.find(b[l]);
      if (lt != need.end() && --lt->second == 0) --have;
      ++l;
    }
  }
  const std::vector<Token>& ct = chunk.content.tokens;
  m.span_begin = ct[best_l].begin;
  m.span_end = ct[best_r].end;
  for (size_t k = best_l; k <= best_r; ++k) {
    m.span_begin = std::min(m.span_begin, ct[k].begin);
    m.span_end = std::max(m.span_end, ct[k].end);
  }

  // Negations in the span that negate a token of the sentence, absent from it.
  std::unordered_set<uint32_t> conflict_ids;
  for (size_t p = best_l; p <= best_r; ++p) {
    if (!ct[p].negation || s.id_set.count(b[p])) continue;
    size_t q = p + 1;
    while (q <= best_r && ct[q].negation) ++q;
    if (q <= best_r && s.id_set.count(b[q]) && conflict_ids.insert(b[p]).second) {
      m.conflicts.emplace_back(chunk_text.substr(ct[p].show_begin, ct[p].show_end - ct[p].show_begin));
    }
  }
  return m;
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

// Fixed 4-decimal formatting, locale-independent.
std::string FormatFixed4(double x) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::fixed, 4);
  if (ec != std::errc()) return "0.0000";
  return std::string(buf, ptr);
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

// Over 80 lines on purpose: the scorer is rewritten by issue #25 (#24).
Result<GroundednessResult> ScoreGroundedness(std::string_view answer, const std::vector<SourceChunk>& chunks,
                                             const GroundednessOptions& options) {
  if (!(options.threshold >= 0.0 && options.threshold <= 1.0)) {
    return Status::InvalidArgument("options.threshold must be in [0, 1], got " + FormatFixed4(options.threshold));
  }
  GroundednessResult result;
  result.scorer_version = kGroundednessScorerVersion;
  result.threshold = Quantise(options.threshold);

  Vocabulary vocab;
  std::vector<ChunkIndex> index(chunks.size());
  for (size_t c = 0; c < chunks.size(); ++c) {
    ChunkIndex& ci = index[c];
    ci.content = ContentOf(chunks[c].text, 0, chunks[c].text.size(), vocab);
    const std::vector<uint32_t>& ids = ci.content.ids;
    ci.id_set.insert(ids.begin(), ids.end());
    for (size_t k = 0; k + 2 < ids.size(); ++k) ci.trigrams.insert({ids[k], ids[k + 1], ids[k + 2]});
  }

  for (const ByteRange& range : SplitSentences(answer)) {
    SentenceScore score;
    score.begin = range.begin;
    score.end = range.end;
    score.text = std::string(answer.substr(range.begin, range.end - range.begin));
    const Content content = ContentOf(answer, range.begin, range.end, vocab);
    const bool only_negations =
        std::all_of(content.tokens.begin(), content.tokens.end(), [](const Token& t) { return t.negation; });
    if (only_negations) {  // also when there is no content token at all
      score.verdict = SentenceVerdict::kNotScored;
      result.sentences.push_back(std::move(score));
      continue;
    }
    SentenceFeatures s{&content, answer, {content.ids.begin(), content.ids.end()}, {}, LcsMatcher(content.ids), {}};
    for (size_t k = 0; k < content.tokens.size(); ++k) {
      const Token& t = content.tokens[k];
      const bool first = (k == 0 && content.first_is_content);
      const bool name = t.capital && !(first && IsOpener(t.norm));
      if (t.number || t.negation || name) s.critical.push_back(k);
    }
    for (size_t k = 0; k + 2 < content.ids.size(); ++k) {
      s.trigrams.push_back({content.ids[k], content.ids[k + 1], content.ids[k + 2]});
    }

    int best_ok = -1, best_any = -1;
    Match ok_match, any_match;
    for (size_t c = 0; c < chunks.size(); ++c) {
      Match m = MatchChunk(s, index[c], chunks[c].text);
      const bool qualifies = m.support >= result.threshold && m.missing.empty() && m.conflicts.empty();
      if (qualifies && (best_ok < 0 || m.support > ok_match.support)) {
        best_ok = static_cast<int>(c);
        ok_match = m;
      }
      if (m.support > 0 && (best_any < 0 || m.support > any_match.support)) {
        best_any = static_cast<int>(c);
        any_match = std::move(m);
      }
    }
    const int best = best_ok >= 0 ? best_ok : best_any;
    const Match& m = best_ok >= 0 ? ok_match : any_match;
    score.verdict = best_ok >= 0 ? SentenceVerdict::kSupported : SentenceVerdict::kUnsupported;
    if (best >= 0) {
      score.support = m.support;
      score.token_precision = m.precision;
      score.rouge_l_precision = m.rouge_l;
      score.trigram_containment = m.trigram;
      score.chunk_index = best;
      score.chunk_id = chunks[static_cast<size_t>(best)].id;
      score.span_begin = m.span_begin;
      score.span_end = m.span_end;
      score.missing_critical = m.missing;
      score.conflicting_negations = m.conflicts;
    } else {
      // No chunk shares a content token: every critical token is missing.
      std::unordered_set<uint32_t> reported;
      for (size_t k : s.critical) {
        if (!reported.insert(content.ids[k]).second) continue;
        const Token& t = content.tokens[k];
        score.missing_critical.emplace_back(answer.substr(t.show_begin, t.show_end - t.show_begin));
      }
    }
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
    out += ",\"missing_critical\":[";
    for (size_t k = 0; k < s.missing_critical.size(); ++k) {
      if (k > 0) out.push_back(',');
      AppendJsonString(out, s.missing_critical[k]);
    }
    out += "],\"conflicting_negations\":[";
    for (size_t k = 0; k < s.conflicting_negations.size(); ++k) {
      if (k > 0) out.push_back(',');
      AppendJsonString(out, s.conflicting_negations[k]);
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

}  // namespace verity
