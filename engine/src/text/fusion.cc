// Fuse (fusion.h): reciprocal rank fusion and convex (min-max) fusion.
//
// Determinism: every id's fused score is summed over the legs in input
// order, in doubles; convex fusion divides that sum once by the sum of all
// the legs' weights. A leg that lists an id twice keeps its first (better)
// entry.
#include "text/fusion.h"

#include <algorithm>
#include <unordered_map>

namespace verity::text {
namespace {

// Min-max normalisation of one leg's hits: the best is 1, the worst 0; a
// leg whose hits all score the same gives each 1.
struct LegRange {
  double min = 0;
  double max = 0;
  double Normalise(double score, bool higher_is_better) const {
    if (!(max > min)) return 1.0;
    return higher_is_better ? (score - min) / (max - min) : (max - score) / (max - min);
  }
};

LegRange RangeOf(const LegRanking& leg) {
  LegRange range;
  for (size_t i = 0; i < leg.hits.size(); ++i) {
    const double s = leg.hits[i].second;
    range.min = i == 0 ? s : std::min(range.min, s);
    range.max = i == 0 ? s : std::max(range.max, s);
  }
  return range;
}

}  // namespace

std::vector<FusedHit> Fuse(const std::vector<LegRanking>& legs, FusionMethod method, uint32_t rrf_k, uint32_t k) {
  if (k == 0) return {};
  std::vector<FusedHit> hits;
  std::unordered_map<std::string, size_t> index;  // id -> position in hits
  double weight_sum = 0;
  for (size_t l = 0; l < legs.size(); ++l) {
    const LegRanking& leg = legs[l];
    const double weight = static_cast<double>(leg.weight);
    weight_sum += weight;
    const LegRange range = RangeOf(leg);
    for (size_t rank = 0; rank < leg.hits.size(); ++rank) {
      const auto& [id, score] = leg.hits[rank];
      auto [it, added] = index.try_emplace(id, hits.size());
      if (added) {
        hits.push_back(FusedHit{id, 0.0, std::vector<LegScore>(legs.size())});
      }
      FusedHit& hit = hits[it->second];
      if (hit.legs[l].found()) continue;  // listed twice in this leg
      hit.legs[l] = LegScore{static_cast<int32_t>(rank), score};
      if (method == FusionMethod::kRrf) {
        hit.score += weight / (static_cast<double>(rrf_k) + static_cast<double>(rank + 1));
      } else {
        hit.score += weight * range.Normalise(score, leg.higher_is_better);
      }
    }
  }
  if (method == FusionMethod::kConvex && weight_sum > 0) {
    for (FusedHit& hit : hits) hit.score /= weight_sum;
  }
  auto better = [](const FusedHit& a, const FusedHit& b) {
    return a.score > b.score || (a.score == b.score && a.id < b.id);
  };
  const size_t n = std::min<size_t>(k, hits.size());
  std::partial_sort(hits.begin(), hits.begin() + static_cast<ptrdiff_t>(n), hits.end(), better);
  hits.resize(n);
  return hits;
}

}  // namespace verity::text
