// Fuse (engine/src/text/fusion.h): a hand-computed example per method and
// a straightforward reference on random legs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "text/fusion.h"

using namespace verity;
using namespace verity::text;

namespace {

std::vector<std::string> Ids(const std::vector<FusedHit>& hits) {
  std::vector<std::string> ids;
  for (const FusedHit& h : hits) ids.push_back(h.id);
  return ids;
}

// Text leg (higher is better) and a dense leg (distances, half weight).
std::vector<LegRanking> ExampleLegs() {
  LegRanking text{true, 1.0f, {{"a", 3.0f}, {"b", 2.0f}, {"c", 1.0f}}};
  LegRanking dense{false, 0.5f, {{"b", 0.1f}, {"d", 0.2f}}};
  return {text, dense};
}

// The reference: per id, each leg's contribution, then a sum in leg order.
std::vector<FusedHit> Reference(const std::vector<LegRanking>& legs, FusionMethod method, uint32_t rrf_k, uint32_t k) {
  std::map<std::string, std::vector<double>> parts;  // id -> per-leg contribution (NaN: absent)
  std::map<std::string, std::vector<LegScore>> leg_scores;
  double weights = 0;
  for (size_t l = 0; l < legs.size(); ++l) weights += legs[l].weight;
  for (size_t l = 0; l < legs.size(); ++l) {
    const LegRanking& leg = legs[l];
    double lo = 0, hi = 0;
    for (size_t r = 0; r < leg.hits.size(); ++r) {
      lo = r == 0 ? leg.hits[r].second : std::min<double>(lo, leg.hits[r].second);
      hi = r == 0 ? leg.hits[r].second : std::max<double>(hi, leg.hits[r].second);
    }
    for (size_t r = 0; r < leg.hits.size(); ++r) {
      const auto& [id, score] = leg.hits[r];
      auto& p = parts[id];
      auto& s = leg_scores[id];
      p.resize(legs.size(), std::nan(""));
      s.resize(legs.size());
      double norm = 1.0;
      if (hi > lo) norm = leg.higher_is_better ? (score - lo) / (hi - lo) : (hi - score) / (hi - lo);
      p[l] = method == FusionMethod::kRrf ? leg.weight / (rrf_k + static_cast<double>(r + 1)) : leg.weight * norm;
      s[l] = LegScore{static_cast<int32_t>(r), score};
    }
  }
  std::vector<FusedHit> out;
  for (auto& [id, p] : parts) {
    double sum = 0.0;
    for (double x : p) {
      if (!std::isnan(x)) sum += x;
    }
    if (method == FusionMethod::kConvex && weights > 0) sum /= weights;
    out.push_back(FusedHit{id, sum, leg_scores[id]});
  }
  std::sort(out.begin(), out.end(), [](const FusedHit& a, const FusedHit& b) {
    return a.score > b.score || (a.score == b.score && a.id < b.id);
  });
  if (out.size() > k) out.resize(k);
  return out;
}

}  // namespace

TEST_CASE("RRF fusion of a hand-computed example", "[text]") {
  const auto hits = Fuse(ExampleLegs(), FusionMethod::kRrf, 60, 10);
  // a: 1/61; b: 1/62 + 0.5/61; c: 1/63; d: 0.5/62.
  REQUIRE(Ids(hits) == std::vector<std::string>{"b", "a", "c", "d"});
  CHECK(hits[0].score == Approx(1.0 / 62 + 0.5 / 61).epsilon(1e-12));
  CHECK(hits[1].score == Approx(1.0 / 61).epsilon(1e-12));
  CHECK(hits[2].score == Approx(1.0 / 63).epsilon(1e-12));
  CHECK(hits[3].score == Approx(0.5 / 62).epsilon(1e-12));
  REQUIRE(hits[0].legs.size() == 2);
  CHECK(hits[0].legs[0].rank == 1);
  CHECK(hits[0].legs[0].score == 2.0f);
  CHECK(hits[0].legs[1].rank == 0);
  CHECK(hits[0].legs[1].score == 0.1f);
  CHECK_FALSE(hits[1].legs[1].found());
  CHECK_FALSE(hits[3].legs[0].found());
  CHECK(Ids(Fuse(ExampleLegs(), FusionMethod::kRrf, 60, 2)) == std::vector<std::string>{"b", "a"});
  CHECK(Fuse(ExampleLegs(), FusionMethod::kRrf, 60, 0).empty());
}

TEST_CASE("convex fusion of a hand-computed example", "[text]") {
  const auto hits = Fuse(ExampleLegs(), FusionMethod::kConvex, 60, 3);
  // Text normalised: a 1, b 0.5, c 0. Dense flipped: b 1, d 0. Weights 1.5.
  // a: 1 / 1.5; b: (0.5 + 0.5 * 1) / 1.5, the same: the smaller id first.
  REQUIRE(Ids(hits) == std::vector<std::string>{"a", "b", "c"});
  CHECK(hits[0].score == Approx(2.0 / 3).epsilon(1e-12));
  CHECK(hits[1].score == hits[0].score);
  CHECK(hits[2].score == 0.0);
  // A leg whose hits all score the same gives each 1.
  LegRanking flat{true, 2.0f, {{"x", 5.0f}, {"y", 5.0f}}};
  LegRanking other{true, 2.0f, {{"y", 1.0f}}};
  const auto f = Fuse({flat, other}, FusionMethod::kConvex, 60, 10);
  REQUIRE(Ids(f) == std::vector<std::string>{"y", "x"});
  CHECK(f[0].score == 1.0);  // (2 * 1 + 2 * 1) / 4
  CHECK(f[1].score == 0.5);  // 2 * 1 / 4
}

TEST_CASE("Fuse equals a reference implementation on random legs", "[text]") {
  std::mt19937 rng(3);
  for (int round = 0; round < 300; ++round) {
    std::vector<LegRanking> legs(std::uniform_int_distribution<int>(1, 3)(rng));
    for (LegRanking& leg : legs) {
      leg.higher_is_better = rng() % 2 == 0;
      leg.weight = static_cast<float>(std::uniform_int_distribution<int>(0, 4)(rng)) / 2;
      std::vector<int> ids(30);
      for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int>(i);
      std::shuffle(ids.begin(), ids.end(), rng);
      ids.resize(std::uniform_int_distribution<size_t>(0, 12)(rng));
      std::vector<float> scores;
      for (size_t i = 0; i < ids.size(); ++i) scores.push_back(static_cast<float>(rng() % 5));  // ties
      std::sort(scores.begin(), scores.end());
      if (leg.higher_is_better) std::reverse(scores.begin(), scores.end());
      for (size_t i = 0; i < ids.size(); ++i) leg.hits.emplace_back("id" + std::to_string(ids[i]), scores[i]);
    }
    const uint32_t rrf_k = 1 + rng() % 100;
    for (FusionMethod method : {FusionMethod::kRrf, FusionMethod::kConvex}) {
      const uint32_t k = std::uniform_int_distribution<uint32_t>(1, 40)(rng);
      const auto got = Fuse(legs, method, rrf_k, k);
      const auto want = Reference(legs, method, rrf_k, k);
      INFO("round " << round << " method " << static_cast<int>(method) << " k " << k);
      REQUIRE(Ids(got) == Ids(want));
      for (size_t i = 0; i < got.size(); ++i) {
        REQUIRE(got[i].score == want[i].score);
        REQUIRE(got[i].legs.size() == legs.size());
        for (size_t l = 0; l < legs.size(); ++l) {
          REQUIRE(got[i].legs[l].rank == want[i].legs[l].rank);
          REQUIRE(got[i].legs[l].score == want[i].legs[l].score);
        }
      }
    }
  }
}
