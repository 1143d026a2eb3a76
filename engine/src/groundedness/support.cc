// The groundedness scorer's evidence matching (groundedness/support.h).
// Part of the scorer's rules: a change here that can change a result must
// bump kGroundednessScorerVersion and docs/groundedness.md.
#include "groundedness/support.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "groundedness/lexicon.h"

namespace verity::groundedness_support {
namespace {

using groundedness_lexicon::AreAntonyms;
using groundedness_lexicon::IsPastVerb;
using groundedness_lexicon::IsVerbForm;
using groundedness_lexicon::IsVerbLemma;
using groundedness_text::Tokenize;

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

  size_t Length(const uint32_t* b, size_t len) const {
    std::vector<uint64_t> v(words_, ~uint64_t{0});
    for (size_t k = 0; k < len; ++k) {
      auto it = masks_.find(b[k]);
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

std::string Shown(std::string_view text, const Token& t) {
  return std::string(text.substr(t.show_begin, t.show_end - t.show_begin));
}

// How many windows of the best coverage BestWindow compares by LCS (the
// first ones in chunk order): bounds the cost on a huge repetitive chunk.
constexpr size_t kMaxWindowCandidates = 64;

// The best window: at most `width` chunk tokens wide, holding the most
// distinct tokens of the sentence; among those, the one with the longest
// common subsequence with the sentence (then the narrowest, then the
// earliest), trimmed to its first and last matching token. Each candidate
// is the narrowest window ending at a matching token. False when nothing
// matches.
bool BestWindow(const Sentence& s, const ChunkIndex& chunk, const LcsMatcher& lcs, size_t width, size_t* l, size_t* r) {
  std::vector<uint32_t> hits;
  for (uint32_t id : std::unordered_set<uint32_t>(s.ids.begin(), s.ids.end())) {
    auto it = chunk.positions.find(id);
    if (it != chunk.positions.end()) hits.insert(hits.end(), it->second.begin(), it->second.end());
  }
  if (hits.empty()) return false;
  std::sort(hits.begin(), hits.end());
  const std::vector<uint32_t>& b = chunk.content.ids;
  std::vector<std::pair<uint32_t, uint32_t>> candidates;  // [lo, hi] per hi
  std::vector<size_t> coverage;
  std::unordered_map<uint32_t, size_t> count;
  size_t distinct = 0, best = 0;
  for (size_t lo = 0, hi = 0; hi < hits.size(); ++hi) {
    if (count[b[hits[hi]]]++ == 0) ++distinct;
    while (hits[hi] - hits[lo] >= width) {
      if (--count[b[hits[lo]]] == 0) --distinct;
      ++lo;
    }
    while (lo < hi && count[b[hits[lo]]] > 1) {  // narrowest for this end
      --count[b[hits[lo]]];
      ++lo;
    }
    candidates.emplace_back(hits[lo], hits[hi]);
    coverage.push_back(distinct);
    best = std::max(best, distinct);
  }
  size_t best_lcs = 0, compared = 0;
  bool found = false;
  for (size_t k = 0; k < candidates.size() && compared < kMaxWindowCandidates; ++k) {
    if (coverage[k] != best) continue;
    ++compared;
    const auto [lo, hi] = candidates[k];
    const size_t common = lcs.Length(b.data() + lo, hi - lo + 1);
    if (!found || common > best_lcs || (common == best_lcs && hi - lo < *r - *l)) {
      found = true, best_lcs = common, *l = lo, *r = hi;
    }
  }
  return true;
}

// The positions of token `id` in the chunk within [lo, hi] (sorted), so
// that a word repeated all over a large chunk costs only its window's share.
struct Positions {
  const uint32_t* begin = nullptr;
  const uint32_t* end = nullptr;
};
Positions InRange(const ChunkIndex& chunk, uint32_t id, size_t lo, size_t hi) {
  auto it = chunk.positions.find(id);
  if (it == chunk.positions.end() || lo > hi) return {};
  const std::vector<uint32_t>& all = it->second;
  auto from = std::lower_bound(all.begin(), all.end(), static_cast<uint32_t>(std::min<size_t>(lo, UINT32_MAX)));
  auto to = std::upper_bound(from, all.end(), static_cast<uint32_t>(std::min<size_t>(hi, UINT32_MAX)));
  return {all.data() + (from - all.begin()), all.data() + (to - all.begin())};
}

// Whether chunk positions p < q in [lo, hi] hold `first` then `second`, at
// most `distance` apart (counting tokens outside parentheses).
bool InPlace(const ChunkIndex& chunk, size_t lo, size_t hi, uint32_t first, uint32_t second, size_t distance) {
  const Positions qs = InRange(chunk, second, lo, hi);
  const Positions ps = InRange(chunk, first, lo, hi);
  for (const uint32_t* q = qs.begin; q != qs.end; ++q) {
    // The latest p before q is the closest one.
    const uint32_t* p = std::lower_bound(ps.begin, ps.end, *q);
    if (p != ps.begin && chunk.rank[*q] - chunk.rank[*(p - 1)] <= distance) return true;
  }
  return false;
}

// Whether a negation is among the two content tokens before position q.
bool NegatedAt(const std::vector<Token>& tokens, size_t q) {
  return (q >= 1 && tokens[q - 1].negation) || (q >= 2 && tokens[q - 2].negation);
}
bool NegatedAt(const Sentence& s, size_t i) {
  return (i >= 1 && s.tokens[i - 1]->negation) || (i >= 2 && s.tokens[i - 2]->negation);
}

// Negations present on one side only, near the same word (see the RULES).
void CheckNegations(const Sentence& s, const ChunkIndex& chunk, std::string_view chunk_text, size_t l, size_t r,
                    Evidence& e) {
  const std::vector<Token>& ct = chunk.content.tokens;
  const std::vector<uint32_t>& b = chunk.content.ids;
  const size_t n = s.ids.size();
  // Added: the sentence negates a word the window has without a negation.
  for (size_t i = 0; i + 1 < n; ++i) {
    if (!s.tokens[i]->negation || s.tokens[i + 1]->negation) continue;
    const Positions qs = InRange(chunk, s.ids[i + 1], l, r);
    bool seen = false, negated = false;
    for (const uint32_t* q = qs.begin; q != qs.end; ++q) {
      seen = true;
      negated = negated || NegatedAt(ct, *q);
    }
    std::string shown = Shown(s.text, *s.tokens[i]);
    if (seen && !negated && std::find(e.missing.begin(), e.missing.end(), shown) == e.missing.end()) {
      e.missing.push_back(std::move(shown));
    }
  }
  // Dropped: a negation in (or just before) the window negates a word the
  // sentence has without a negation.
  std::unordered_set<uint32_t> reported;
  for (size_t p = l >= 2 ? l - 2 : 0; p <= r; ++p) {
    if (!ct[p].negation) continue;
    size_t q = p + 1;
    while (q <= r && ct[q].negation) ++q;
    if (q > r || q < l) continue;
    // A negation does not reach across a sentence end.
    const std::string_view gap = chunk_text.substr(ct[p].end, ct[q].begin - std::min(ct[q].begin, ct[p].end));
    if (gap.find_first_of(".!?;") != std::string_view::npos) continue;
    bool seen = false, negated = false;
    for (size_t i = 0; i < n; ++i) {
      if (s.ids[i] != b[q]) continue;
      seen = true;
      negated = negated || NegatedAt(s, i);
    }
    if (seen && !negated && reported.insert(b[p]).second) e.conflicts.push_back(Shown(chunk_text, ct[p]));
  }
}

// A sentence word absent from the window whose neighbour in the sentence is
// next to one of its antonyms in the window ("dormant contributor" against
// "active contributor").
void CheckAntonyms(const Sentence& s, const ChunkIndex& chunk, std::string_view chunk_text, size_t l, size_t r,
                   const std::unordered_set<uint32_t>& window_ids, Evidence& e) {
  const std::vector<Token>& ct = chunk.content.tokens;
  const size_t n = s.ids.size();
  for (size_t i = 0; i < n; ++i) {
    const Token& t = *s.tokens[i];
    if (window_ids.count(s.ids[i]) || t.number || t.negation) continue;
    for (int side : {-1, 1}) {
      if ((side < 0 && i == 0) || (side > 0 && i + 1 >= n)) continue;
      if (r == l) continue;  // a one-token window has no neighbour pair
      const Positions ps = side < 0 ? InRange(chunk, s.ids[i - 1], l, r - 1) : InRange(chunk, s.ids[i + 1], l + 1, r);
      for (const uint32_t* it = ps.begin; it != ps.end; ++it) {
        const uint32_t p = *it;
        const Token& other = ct[side < 0 ? p + 1 : p - 1];
        if (AreAntonyms(t.norm, other.norm)) {
          e.contradictions.push_back(Shown(s.text, t) + "/" + Shown(chunk_text, other));
          side = 2;  // one report per word
          break;
        }
      }
      if (side == 2) break;
    }
  }
}

// Whether a letter stands between two tokens (a dropped stopword).
bool HasLetter(std::string_view text, const Token& a, const Token& b) {
  for (size_t k = a.show_end; k < b.show_begin && k < text.size(); ++k) {
    const char c = text[k];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  }
  return false;
}

// Whether content token i of the sentence is a verb the role check looks
// at: a past form; with params.all_verb_forms also an -s / -ing form, or a
// verb lemma right after a modal ("may accept").
bool IsVerb(const Sentence& s, size_t i, const Params& params) {
  const Token& t = *s.tokens[i];
  if (IsPastVerb(t.norm)) return true;
  if (!params.all_verb_forms) return false;
  if (IsVerbForm(t.norm)) return true;
  if (i == 0 || !IsVerbLemma(t.norm)) return false;
  const Token& before = *s.tokens[i - 1];
  if (t.show_begin <= before.show_end) return false;
  std::string gap = " ";
  for (char c : s.text.substr(before.show_end, t.show_begin - before.show_end)) {
    gap.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
  }
  gap += " ";
  for (const char* modal : {" may ", " might ", " must ", " can ", " could ", " will ", " would ", " should "}) {
    if (gap.find(modal) != std::string::npos) return true;
  }
  return false;
}

// Names with a neighbour in the sentence that is not their neighbour in the
// window, and past-tense verbs whose preceding word is not theirs there
// (the words come from different clauses of the source).
void CheckRoles(const Sentence& s, const ChunkIndex& chunk, size_t l, size_t r,
                const std::unordered_set<uint32_t>& window_ids, const Params& params, Evidence& e) {
  const size_t n = s.ids.size();
  auto known = [&](size_t a, size_t b) { return window_ids.count(s.ids[a]) && window_ids.count(s.ids[b]); };
  // Pairs may reach role_distance tokens beyond the window (a repeated word
  // at its edge: "6 July, and ... on 7 July").
  const size_t lo = l >= params.role_distance ? l - params.role_distance : 0;
  const size_t hi = r + params.role_distance;
  auto in_place = [&](size_t a, size_t b) { return InPlace(chunk, lo, hi, s.ids[a], s.ids[b], params.role_distance); };
  for (size_t i = 0; i < n;) {
    if (!s.name[i]) {
      ++i;
      continue;
    }
    size_t j = i;  // a run of names written together: "Ian Murdock"
    while (j + 1 < n && s.name[j + 1] && !HasLetter(s.text, *s.tokens[j], *s.tokens[j + 1])) ++j;
    size_t pairs = 0, placed = 0;
    if (i > 0 && known(i - 1, i)) ++pairs, placed += in_place(i - 1, i);
    if (j + 1 < n && known(j, j + 1)) ++pairs, placed += in_place(j, j + 1);
    if (pairs > 0 && placed < pairs) e.role_conflicts.push_back(Shown(s.text, *s.tokens[i]));
    i = j + 1;
  }
  for (size_t i = 1; i < n; ++i) {
    const Token& t = *s.tokens[i];
    if (s.name[i] || t.number || !known(i - 1, i) || !IsVerb(s, i, params)) continue;
    if (!in_place(i - 1, i)) e.role_conflicts.push_back(Shown(s.text, t));
  }
}

}  // namespace

const Params& V3Params() {
  static const Params params;
  return params;
}

double Quantise(double x) { return std::round(x * 10000.0) / 10000.0; }

uint32_t Vocabulary::Id(const std::string& norm) {
  auto [it, inserted] = ids.emplace(norm, static_cast<uint32_t>(ids.size()));
  return it->second;
}

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

ChunkIndex IndexChunk(std::string_view text, Vocabulary& vocab) {
  ChunkIndex ci;
  ci.content = ContentOf(text, 0, text.size(), vocab);
  const std::vector<Token>& tokens = ci.content.tokens;
  uint32_t outside = 0;
  int depth = 0;
  size_t pos = 0;
  for (size_t k = 0; k < tokens.size(); ++k) {
    ci.positions[ci.content.ids[k]].push_back(static_cast<uint32_t>(k));
    for (; pos < tokens[k].begin && pos < text.size(); ++pos) {
      if (text[pos] == '(' || text[pos] == '[') ++depth;
      if ((text[pos] == ')' || text[pos] == ']') && depth > 0) --depth;
    }
    ci.rank.push_back(outside);
    if (depth == 0) ++outside;
  }
  return ci;
}

bool Evidence::Qualifies(double threshold) const {
  return has_window && support >= threshold && missing.empty() && conflicts.empty() && !short_evidence;
}

Evidence MatchChunk(const Sentence& s, const ChunkIndex& chunk, std::string_view chunk_text, const Params& params) {
  Evidence e;
  const size_t n = s.ids.size();
  const size_t width = n + std::max(params.window_min_slack, static_cast<size_t>(std::ceil(n * params.window_slack)));
  size_t l = 0, r = 0;
  const LcsMatcher lcs(s.ids);
  e.has_window = BestWindow(s, chunk, lcs, width, &l, &r);
  if (!e.has_window) {
    for (size_t i = 0; i < n; ++i) {
      std::string shown = Shown(s.text, *s.tokens[i]);
      if (s.critical[i] && std::find(e.missing.begin(), e.missing.end(), shown) == e.missing.end()) {
        e.missing.push_back(std::move(shown));
      }
    }
    return e;
  }
  e.window_l = l, e.window_r = r;
  const std::vector<uint32_t>& b = chunk.content.ids;
  const std::vector<Token>& ct = chunk.content.tokens;
  std::unordered_set<uint32_t> window_ids(b.begin() + static_cast<long>(l), b.begin() + static_cast<long>(r) + 1);
  size_t present = 0;
  for (uint32_t id : s.ids) present += window_ids.count(id);
  e.precision = Quantise(static_cast<double>(present) / static_cast<double>(n));
  e.rouge_l = Quantise(static_cast<double>(lcs.Length(b.data() + l, r - l + 1)) / static_cast<double>(n));
  size_t contained = 0;
  if (n >= 3) {
    for (size_t i = 0; i + 2 < n; ++i) {
      for (size_t p = l; p + 2 <= r; ++p) {
        if (b[p] == s.ids[i] && b[p + 1] == s.ids[i + 1] && b[p + 2] == s.ids[i + 2]) {
          ++contained;
          break;
        }
      }
    }
    e.trigram = Quantise(static_cast<double>(contained) / static_cast<double>(n - 2));
  } else {
    e.trigram = e.rouge_l;
  }
  e.match_support = Quantise(std::max((e.precision + e.rouge_l) / 2.0, e.trigram));
  e.span_begin = ct[l].begin, e.span_end = ct[r].end;
  for (size_t k = l; k <= r; ++k) {
    e.span_begin = std::min(e.span_begin, ct[k].begin);
    e.span_end = std::max(e.span_end, ct[k].end);
  }
  // Critical tokens must be in the window; a short sentence needs more.
  bool anchored = false;
  // A number written twice needs two in the window (give or take
  // role_distance tokens): "from 2005 until 2005" against "2005 ... 2006".
  std::unordered_map<uint32_t, size_t> uses;
  const size_t near_lo = l >= params.role_distance ? l - params.role_distance : 0;
  const size_t near_hi = std::min(b.size() - 1, r + params.role_distance);
  for (size_t i = 0; i < n; ++i) {
    if (!s.critical[i]) continue;
    size_t available = window_ids.count(s.ids[i]) ? n : 0;
    if (available > 0 && s.tokens[i]->number) {
      available = 0;
      for (size_t k = near_lo; k <= near_hi; ++k) available += b[k] == s.ids[i];
    }
    if (++uses[s.ids[i]] <= available) {
      anchored = anchored || !s.tokens[i]->negation;
      continue;
    }
    std::string shown = Shown(s.text, *s.tokens[i]);
    if (std::find(e.missing.begin(), e.missing.end(), shown) == e.missing.end()) e.missing.push_back(std::move(shown));
  }
  if (n < params.min_evidence_tokens) {
    bool ngram = false;
    if (n >= 3) ngram = contained > 0;
    if (n == 2) ngram = InPlace(chunk, l, r, s.ids[0], s.ids[1], 1);
    e.short_evidence = !ngram && !anchored;
  }
  CheckNegations(s, chunk, chunk_text, l, r, e);
  CheckAntonyms(s, chunk, chunk_text, l, r, window_ids, e);
  CheckRoles(s, chunk, l, r, window_ids, params, e);
  const double penalty = params.role_penalty * static_cast<double>(e.role_conflicts.size()) +
                         params.contradiction_penalty * static_cast<double>(e.contradictions.size());
  e.support = Quantise(std::max(0.0, e.match_support - penalty));
  return e;
}

}  // namespace verity::groundedness_support
