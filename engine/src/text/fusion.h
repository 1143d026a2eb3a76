// Fusion of a hybrid search's legs into one ranking (docs/text-search.md,
// "Hybrid search"). Pure functions; no locking.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "verity/types.h"

namespace verity::text {

// One leg's ranking, best first, as the leg returned it.
struct LegRanking {
  bool higher_is_better = true;  // text and sparse scores; false for dense distances
  float weight = 1;
  std::vector<std::pair<std::string, float>> hits;  // (id, score or distance), each id once
};

struct FusedHit {
  std::string id;
  double score = 0;                 // the fused score, larger is better
  std::vector<LegScore> legs;       // one per input leg, in input order
};

// The k best ids by fused score (descending; ties: id ascending).
// kRrf: sum over legs of weight / (rrf_k + rank), rank counted from 1.
// kConvex: sum over legs of weight * normalised score / sum of weights,
//   normalised per leg by min-max over that leg's hits (a leg whose hits
//   all score the same gives each 1; lower-is-better legs are flipped so
//   that the best is 1); a leg that did not return the id adds 0.
std::vector<FusedHit> Fuse(const std::vector<LegRanking>& legs, FusionMethod method, uint32_t rrf_k, uint32_t k);

}  // namespace verity::text
