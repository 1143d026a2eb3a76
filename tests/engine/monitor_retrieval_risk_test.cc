// Retrieval weakness (monitor/retrieval_risk.h): the percentile against a
// reference computation written here independently, the direction of
// distances and scores, readiness, empty and truncated contexts, bad config.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "monitor/retrieval_risk.h"

using namespace verity;

namespace {

// Nearest rank, written from its definition rather than the closed form:
// the smallest value x in the sample such that at least q% of the sample is
// <= x, i.e. the first sorted position k (1-based) with 100 * k >= q * n.
float ReferencePercentile(std::vector<float> values, uint32_t q) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  for (size_t k = 1; k <= n; ++k) {
    if (100 * k >= static_cast<size_t>(q) * n) return values[k - 1];
  }
  return values.back();
}

// Percentile rank as documented, counted by a linear scan.
double ReferenceRank(const std::vector<float>& values, float top1, bool is_score) {
  size_t count = 0;
  for (float v : values) count += is_score ? (v <= top1) : (v >= top1);
  return 100.0 * static_cast<double>(count) / static_cast<double>(values.size());
}

std::unique_ptr<TopScoreReference> MakeReference(size_t size, uint32_t percentile) {
  TopScoreReferenceOptions options;
  options.reference_size = size;
  options.percentile = percentile;
  auto ref = TopScoreReference::Create(options);
  REQUIRE(ref.ok());
  return std::move(ref).value();
}

// Values with many ties: integers 0..range-1 scaled.
std::vector<float> Generate(size_t n, int range, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<float> out(n);
  for (auto& v : out) v = static_cast<float>(rng() % static_cast<uint64_t>(range)) * 0.25f;
  return out;
}

}  // namespace

TEST_CASE("NearestRankPercentile matches the definition on generated data", "[monitor]") {
  for (size_t n : {1u, 2u, 3u, 7u, 19u, 20u, 21u, 99u, 101u, 1000u, 1013u}) {
    for (int range : {3, 50, 100000}) {  // heavy ties .. nearly distinct
      std::vector<float> values = Generate(n, range, n * 31 + static_cast<size_t>(range));
      std::vector<float> sorted = values;
      std::sort(sorted.begin(), sorted.end());
      for (uint32_t q : {1u, 5u, 10u, 33u, 50u, 67u, 90u, 95u, 99u}) {
        INFO("n=" << n << " range=" << range << " q=" << q);
        REQUIRE(NearestRankPercentile(sorted, q) == ReferencePercentile(values, q));
      }
    }
  }
}

TEST_CASE("TopScoreReference: thresholds and ranks against the reference computation", "[monitor]") {
  for (size_t n : {20u, 23u, 137u, 1000u}) {
    for (uint32_t p : {1u, 5u, 13u, 50u}) {
      INFO("n=" << n << " p=" << p);
      auto ref = MakeReference(n, p);
      const std::vector<float> dense = Generate(n, 40, n + p);
      const std::vector<float> text = Generate(n, 40, n + p + 1000);
      for (size_t i = 0; i < n; ++i) {
        REQUIRE(ref->Observe(RetrievalLeg::kDense, dense[i]).ok());
        REQUIRE(ref->Observe(RetrievalLeg::kText, text[i]).ok());
      }
      const float dense_threshold = ReferencePercentile(dense, 100 - p);
      const float text_threshold = ReferencePercentile(text, p);
      REQUIRE(ref->State(RetrievalLeg::kDense).threshold == dense_threshold);
      REQUIRE(ref->State(RetrievalLeg::kText).threshold == text_threshold);
      REQUIRE_FALSE(ref->State(RetrievalLeg::kFused).frozen);  // legs are apart
      for (float probe = -0.5f; probe <= 11.0f; probe += 0.125f) {
        auto d = ref->Judge(RetrievalLeg::kDense, probe);
        REQUIRE(d.ready);
        REQUIRE(d.weak == (probe > dense_threshold));
        REQUIRE(d.percentile_rank == Approx(ReferenceRank(dense, probe, false)));
        auto t = ref->Judge(RetrievalLeg::kText, probe);
        REQUIRE(t.weak == (probe < text_threshold));
        REQUIRE(t.percentile_rank == Approx(ReferenceRank(text, probe, true)));
      }
    }
  }
}

TEST_CASE("Retrieval weakness: distances are weak when large, scores when small", "[monitor]") {
  auto ref = MakeReference(100, 5);
  for (int i = 1; i <= 100; ++i) {  // 1..100
    REQUIRE(ref->Observe(RetrievalLeg::kDense, static_cast<float>(i)).ok());
    REQUIRE(ref->Observe(RetrievalLeg::kFused, static_cast<float>(i)).ok());
  }
  // Dense: the 95th percentile of 1..100 is 95; 96 is weak, 95 is not.
  std::vector<ChunkSignal> far = {{96.0f, 0, true}, {99.0f, 0, true}};
  auto r = AssessRetrieval(*ref, RetrievalLeg::kDense, far).value();
  CHECK(r.ready);
  CHECK(r.weak);
  CHECK(r.threshold == 95.0);
  CHECK(r.top1 == 96.0);  // the smallest distance
  CHECK(r.percentile_rank == Approx(5.0));
  std::vector<ChunkSignal> near = {{95.0f, 0, true}};
  CHECK_FALSE(AssessRetrieval(*ref, RetrievalLeg::kDense, near).value().weak);
  // Fused: the 5th percentile is 5; 4 is weak, 5 is not; the same distance
  // values read as scores are the best ones, never weak.
  std::vector<ChunkSignal> low = {{0, 4.0f, true}, {0, 2.0f, true}};
  auto s = AssessRetrieval(*ref, RetrievalLeg::kFused, low).value();
  CHECK(s.weak);
  CHECK(s.top1 == 4.0);  // the largest score
  CHECK(s.threshold == 5.0);
  CHECK(s.percentile_rank == Approx(4.0));
  std::vector<ChunkSignal> at = {{0, 5.0f, true}};
  CHECK_FALSE(AssessRetrieval(*ref, RetrievalLeg::kFused, at).value().weak);
  std::vector<ChunkSignal> high_score = {{0, 96.0f, true}};
  CHECK_FALSE(AssessRetrieval(*ref, RetrievalLeg::kFused, high_score).value().weak);
}

TEST_CASE("Retrieval weakness: not ready before the reference is full, frozen after", "[monitor]") {
  auto ref = MakeReference(20, 5);
  std::vector<ChunkSignal> chunk = {{1000.0f, 0, true}};
  for (int i = 0; i < 19; ++i) {
    REQUIRE(ref->Observe(RetrievalLeg::kDense, static_cast<float>(i)).ok());
    auto r = AssessRetrieval(*ref, RetrievalLeg::kDense, chunk).value();
    REQUIRE_FALSE(r.ready);
    REQUIRE_FALSE(r.weak);
    REQUIRE(r.threshold == 0);
    REQUIRE(r.top1 == 1000.0);
  }
  REQUIRE(ref->Observe(RetrievalLeg::kDense, 19.0f).ok());
  auto r = AssessRetrieval(*ref, RetrievalLeg::kDense, chunk).value();
  CHECK(r.ready);
  CHECK(r.weak);
  CHECK(r.threshold == 18.0);  // ceil(95 * 20 / 100) = 19th of 0..19, i.e. 18
  // Frozen: later observations do not move the threshold.
  for (int i = 0; i < 50; ++i) REQUIRE(ref->Observe(RetrievalLeg::kDense, 5000.0f).ok());
  CHECK(ref->State(RetrievalLeg::kDense).count == 20);
  CHECK(ref->State(RetrievalLeg::kDense).threshold == 18.0f);
  ref->Reset(RetrievalLeg::kDense);
  CHECK_FALSE(ref->State(RetrievalLeg::kDense).frozen);
  CHECK(ref->State(RetrievalLeg::kDense).count == 0);
}

TEST_CASE("Retrieval weakness: empty and truncated contexts", "[monitor]") {
  auto ref = MakeReference(20, 5);
  for (int i = 0; i < 20; ++i) REQUIRE(ref->Observe(RetrievalLeg::kText, static_cast<float>(i)).ok());

  auto none = AssessRetrieval(*ref, RetrievalLeg::kText, std::vector<ChunkSignal>{}).value();
  CHECK(none.empty_context);
  CHECK_FALSE(none.truncated_context);
  CHECK(none.chunks == 0);
  CHECK_FALSE(none.weak);
  CHECK_FALSE(none.ready);  // nothing was judged
  CHECK(none.version == kRetrievalRiskVersion);

  std::vector<ChunkSignal> all_out = {{0, 10.0f, false}, {0, 9.0f, false}};
  auto out = AssessRetrieval(*ref, RetrievalLeg::kText, all_out).value();
  CHECK(out.empty_context);
  CHECK(out.truncated_context);
  CHECK(out.in_context == 0);
  CHECK(out.top1 == 10.0);  // the retrieval's top-1, in the context or not

  std::vector<ChunkSignal> some_out = {{0, 10.0f, true}, {0, 9.0f, true}, {0, 8.0f, false}};
  auto some = AssessRetrieval(*ref, RetrievalLeg::kText, some_out).value();
  CHECK_FALSE(some.empty_context);
  CHECK(some.truncated_context);
  CHECK(some.chunks == 3);
  CHECK(some.in_context == 2);

  // The engine's chunks give the same.
  std::vector<RetrievedChunk> engine_chunks(3);
  for (size_t i = 0; i < 3; ++i) {
    engine_chunks[i].score = some_out[i].score;
    engine_chunks[i].in_context = some_out[i].in_context;
  }
  auto from_engine = AssessRetrieval(*ref, RetrievalLeg::kText, engine_chunks).value();
  CHECK(from_engine.truncated_context);
  CHECK(from_engine.in_context == 2);
  CHECK(from_engine.top1 == 10.0);

  std::vector<ChunkSignal> full = {{0, 10.0f, true}};
  auto whole = AssessRetrieval(*ref, RetrievalLeg::kText, full).value();
  CHECK_FALSE(whole.empty_context);
  CHECK_FALSE(whole.truncated_context);
}

TEST_CASE("Retrieval weakness: bad config and bad values are InvalidArgument naming the field", "[monitor]") {
  TopScoreReferenceOptions options;
  options.reference_size = kMinTopScoreReference - 1;
  auto small = TopScoreReference::Create(options);
  REQUIRE_FALSE(small.ok());
  CHECK(small.status().code() == StatusCode::kInvalidArgument);
  CHECK(small.status().message().find("reference_size is 19; it must be 20..1048576") != std::string::npos);
  options.reference_size = kMaxTopScoreReference + 1;
  CHECK_FALSE(TopScoreReference::Create(options).ok());
  options.reference_size = 1000;
  for (uint32_t p : {0u, 51u}) {
    options.percentile = p;
    auto bad = TopScoreReference::Create(options);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().code() == StatusCode::kInvalidArgument);
    CHECK(bad.status().message().find("percentile is " + std::to_string(p) + "; it must be 1..50") !=
          std::string::npos);
  }
  options.percentile = 50;
  REQUIRE(TopScoreReference::Create(options).ok());
  options.percentile = 1;
  auto ref = TopScoreReference::Create(options);
  REQUIRE(ref.ok());

  CHECK(ref.value()->Observe(RetrievalLeg::kDense, std::nanf("")).code() == StatusCode::kInvalidArgument);
  CHECK(ref.value()->State(RetrievalLeg::kDense).count == 0);
  std::vector<ChunkSignal> nan_chunk = {{1.0f, 0, true}, {INFINITY, 0, true}};
  auto bad = AssessRetrieval(*ref.value(), RetrievalLeg::kDense, nan_chunk);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("chunks[1].distance") != std::string::npos);
  // A dense retrieval's score is not read (0 for dense), and vice versa.
  std::vector<ChunkSignal> dense_only = {{1.0f, std::nanf(""), true}};
  CHECK(AssessRetrieval(*ref.value(), RetrievalLeg::kDense, dense_only).ok());
}

TEST_CASE("TopScoreReference: concurrent Observe and Judge keep the reference exact", "[monitor]") {
  // The frozen threshold depends only on the multiset of the first N values,
  // so four threads filling it in any interleaving give the reference's.
  auto ref = MakeReference(1000, 5);
  const std::vector<float> values = Generate(1000, 200, 7);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < values.size(); i += 4) {
        (void)ref->Observe(RetrievalLeg::kFused, values[i]);
        (void)ref->Judge(RetrievalLeg::kFused, values[i]);
      }
    });
  }
  for (auto& th : threads) th.join();
  const LegReferenceState state = ref->State(RetrievalLeg::kFused);
  CHECK(state.frozen);
  CHECK(state.count == 1000);
  CHECK(state.threshold == ReferencePercentile(values, 5));
}
