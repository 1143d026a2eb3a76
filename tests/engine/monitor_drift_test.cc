// Retrieval drift (monitor/drift.h): PSI against a reference computation
// written here independently, the tracker's windows, k-means determinism and
// a controlled shift on generated data. The Fashion-MNIST shift and the cost
// per Observe are in bench/bench_drift.cc (figures, not assertions on time).
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "monitor/drift.h"

using namespace verity;

namespace {

// PSI written as the symmetric Kullback-Leibler divergence:
// sum r ln(r/c) + sum c ln(c/r), with `a` added to every count (the
// documented pseudo-count), bins empty on both sides skipped. Algebraically
// equal to sum (c - r) ln(c / r).
double ReferencePsi(const std::vector<double>& ref_counts, const std::vector<double>& cur_counts, double a) {
  double nr = 0, nc = 0;
  for (double v : ref_counts) nr += v;
  for (double v : cur_counts) nc += v;
  const double bins = static_cast<double>(ref_counts.size());
  double kl_rc = 0, kl_cr = 0;
  for (size_t i = 0; i < ref_counts.size(); ++i) {
    if (ref_counts[i] == 0 && cur_counts[i] == 0) continue;
    const double r = (ref_counts[i] + a) / (nr + a * bins);
    const double c = (cur_counts[i] + a) / (nc + a * bins);
    kl_rc += r * std::log(r / c);
    kl_cr += c * std::log(c / r);
  }
  return kl_rc + kl_cr;
}

std::vector<double> AsDouble(const std::vector<uint64_t>& v) { return {v.begin(), v.end()}; }

// The bin counts of `scores` at the deciles of `reference`, computed without
// the library: sorted positions n/10, 2n/10, ... as edges, "bin = number of
// edges <= score" by a linear scan.
std::vector<double> ReferenceDecileCounts(std::vector<float> reference, const std::vector<float>& scores) {
  std::sort(reference.begin(), reference.end());
  std::vector<float> edges;
  for (size_t j = 1; j < 10; ++j) edges.push_back(reference[j * reference.size() / 10]);
  std::vector<double> counts(10, 0);
  for (float s : scores) {
    size_t bin = 0;
    for (float e : edges) bin += (e <= s) ? 1 : 0;
    counts[bin] += 1;
  }
  return counts;
}

std::unique_ptr<DriftTracker> MakeTracker(size_t ref, size_t cur, size_t k) {
  DriftOptions o;
  o.reference_size = ref;
  o.current_size = cur;
  o.num_centroids = k;
  auto t = DriftTracker::Create(o);
  REQUIRE(t.ok());
  return std::move(t).value();
}

}  // namespace

TEST_CASE("PSI matches an independent computation, empty bins included", "[monitor]") {
  // A closed form first, unsmoothed: (0.5, 0.5) against (0.9, 0.1).
  CHECK(PopulationStabilityIndex({50, 50}, {90, 10}, 0.0) == Approx(0.4 * std::log(1.8) + 0.4 * std::log(5.0)));
  CHECK(PopulationStabilityIndex({30, 70}, {300, 700}, 0.0) == Approx(0.0).margin(1e-12));
  // Smoothed, the same histograms at any scale are not quite 0 (the
  // pseudo-count weighs more in the smaller window), but close.
  CHECK(PopulationStabilityIndex({30, 70}, {300, 700}) == Approx(0.0).margin(1e-4));
  CHECK(PopulationStabilityIndex({0, 0}, {1, 2}) == 0.0);  // an empty window: nothing to compare

  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    // Counts from two multinomials (a uniform one and a skewed one) over 12
    // bins, with bins forced empty on one side, the other, and both.
    std::vector<uint64_t> ref(12, 0), cur(12, 0);
    std::discrete_distribution<int> uniform({1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
    std::discrete_distribution<int> skewed({8, 4, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1});
    for (int i = 0; i < 1000; ++i) ++ref[static_cast<size_t>(uniform(rng))];
    for (int i = 0; i < 400; ++i) ++cur[static_cast<size_t>((trial % 2) ? skewed(rng) : uniform(rng))];
    ref[3] = 0;              // empty in the reference only
    cur[5] = 0;              // empty in the current only
    ref[7] = 0, cur[7] = 0;  // empty in both
    const double expected = ReferencePsi(AsDouble(ref), AsDouble(cur), kPsiPseudoCount);
    INFO("trial " << trial);
    CHECK(PopulationStabilityIndex(ref, cur) == Approx(expected).epsilon(1e-9));
    CHECK(std::isfinite(expected));
    CHECK(expected > 0.0);
  }
  // The pseudo-count is what makes an empty reference bin finite: a bin with
  // ~10% of the current and none of the reference counts as 0.5 / 201.5 of
  // the reference and adds ~(0.1 - 0.0025) * ln(0.1 / 0.0025) = 0.36.
  const double one_empty = PopulationStabilityIndex({100, 100, 0}, {90, 90, 20});
  CHECK(one_empty == Approx(ReferencePsi({100, 100, 0}, {90, 90, 20}, 0.5)));
  CHECK(one_empty > 0.35);
  CHECK(one_empty < 0.45);
}

TEST_CASE("decile edges put about a tenth of the reference in each bin and ties leave bins empty", "[monitor]") {
  std::vector<float> s;
  for (int i = 0; i < 1000; ++i) s.push_back(static_cast<float>((i * 7919) % 1000));  // 0..999 shuffled
  const auto edges = DecileEdges(s);
  REQUIRE(edges.size() == 9);
  std::vector<int> counts(10, 0);
  for (float v : s) ++counts[ScoreBin(edges, v)];
  for (int c : counts) CHECK(c == 100);
  // Two values only: the edges repeat and most bins are empty.
  std::vector<float> ties(1000, 1.0f);
  for (int i = 0; i < 300; ++i) ties[static_cast<size_t>(i)] = 0.0f;
  const auto tie_edges = DecileEdges(ties);
  std::vector<int> tie_counts(10, 0);
  for (float v : ties) ++tie_counts[ScoreBin(tie_edges, v)];
  CHECK(tie_counts[0] + tie_counts[1] + tie_counts[2] == 300);
  CHECK(tie_counts[9] == 700);
}

TEST_CASE("the tracker's PSIs equal the reference computation over its windows as they slide", "[monitor]") {
  const size_t kRef = 1000, kCur = 300, kK = 8;
  auto tracker = MakeTracker(kRef, kCur, kK);
  std::mt19937 rng(3);
  std::normal_distribution<float> before(1.0f, 0.2f), after(1.3f, 0.25f);
  std::discrete_distribution<int> c_before({4, 4, 2, 2, 1, 1, 1, 0}), c_after({1, 1, 1, 1, 2, 2, 4, 4});
  std::vector<float> scores;
  std::vector<int> cents;
  auto feed = [&](bool shifted) {
    const float s = shifted ? after(rng) : before(rng);
    const int c = shifted ? c_after(rng) : c_before(rng);
    REQUIRE(tracker->Observe(s, c).ok());
    scores.push_back(s);
    cents.push_back(c);
  };
  for (size_t i = 0; i < kRef; ++i) feed(false);
  DriftReport r = tracker->Report();
  CHECK(r.reference_frozen);
  CHECK_FALSE(r.ready);
  CHECK(r.score_psi == 0.0);
  const std::vector<float> ref_scores(scores.begin(), scores.end());
  std::vector<double> ref_c(kK, 0);
  for (int c : cents) ref_c[static_cast<size_t>(c)] += 1;
  CHECK(ref_c[7] == 0);  // an empty reference centroid bin, exercised below

  // Slide through the stable phase, the shift and well past it (10 windows),
  // checking the report against the last kCur observations recomputed here.
  for (size_t step = 0; step < 10 * kCur; ++step) {
    feed(step >= 2 * kCur);
    if (step + 1 < kCur || step % 97 != 0) continue;
    const std::vector<float> last(scores.end() - static_cast<ptrdiff_t>(kCur), scores.end());
    std::vector<double> cur_c(kK, 0);
    for (auto it = cents.end() - static_cast<ptrdiff_t>(kCur); it != cents.end(); ++it)
      cur_c[static_cast<size_t>(*it)] += 1;
    r = tracker->Report();
    INFO("step " << step);
    REQUIRE(r.ready);
    CHECK(r.current_count == kCur);
    CHECK(r.score_psi == Approx(ReferencePsi(ReferenceDecileCounts(ref_scores, ref_scores),
                                             ReferenceDecileCounts(ref_scores, last), kPsiPseudoCount))
                             .epsilon(1e-9));
    CHECK(r.centroid_psi == Approx(ReferencePsi(ref_c, cur_c, kPsiPseudoCount)).epsilon(1e-9));
    CHECK(r.score_threshold == Approx(kDefaultPsiThreshold + 9.0 * (1.0 / kRef + 1.0 / kCur)));
    CHECK(r.centroid_threshold == Approx(kDefaultPsiThreshold + 7.0 * (1.0 / kRef + 1.0 / kCur)));
    // Before the shift no alarm; a full window after it, both alarm.
    if (step < 2 * kCur) CHECK_FALSE(r.alarm);
    if (step >= 3 * kCur) CHECK((r.score_alarm && r.centroid_alarm));
  }
  CHECK(tracker->Report().observations == kRef + 10 * kCur);
}

TEST_CASE("RebaseReference makes the current window the reference", "[monitor]") {
  auto tracker = MakeTracker(200, 100, 4);
  CHECK(tracker->RebaseReference().code() == StatusCode::kFailedPrecondition);
  for (int i = 0; i < 200; ++i) REQUIRE(tracker->Observe(static_cast<float>(i % 50), i % 2).ok());
  for (int i = 0; i < 100; ++i) REQUIRE(tracker->Observe(100.0f + static_cast<float>(i), 2 + i % 2).ok());
  CHECK(tracker->Report().alarm);
  REQUIRE(tracker->RebaseReference().ok());
  DriftReport r = tracker->Report();
  CHECK(r.reference_count == 100);
  CHECK(r.current_count == 0);
  CHECK(r.score_edges.front() >= 100.0f);
  for (int i = 0; i < 100; ++i) REQUIRE(tracker->Observe(100.0f + static_cast<float>(i), 2 + i % 2).ok());
  r = tracker->Report();
  CHECK(r.ready);
  CHECK(r.score_psi == Approx(0.0).margin(1e-12));
  CHECK_FALSE(r.alarm);
}

TEST_CASE("bad drift input is InvalidArgument naming the field and the limit", "[monitor]") {
  DriftOptions o;
  o.reference_size = 5;
  auto bad = DriftTracker::Create(o);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(bad.status().message(), Catch::Contains("reference_size") && Catch::Contains("100.."));
  o = DriftOptions{};
  o.num_centroids = 0;
  CHECK_THAT(DriftTracker::Create(o).status().message(), Catch::Contains("num_centroids"));
  o = DriftOptions{};
  o.psi_threshold = -1;
  CHECK_THAT(DriftTracker::Create(o).status().message(), Catch::Contains("psi_threshold"));

  auto tracker = MakeTracker(100, 100, 4);
  CHECK_THAT(tracker->Observe(1.0f, 4).message(), Catch::Contains("centroid") && Catch::Contains("0..3"));
  CHECK_THAT(tracker->Observe(NAN, 0).message(), Catch::Contains("top1_score"));
  CHECK(tracker->Report().observations == 0);

  std::vector<float> v(4 * 3, 1.0f);
  CHECK_THAT(TrainCentroids(v.data(), 4, 3, 5, 1, Metric::kL2).status().message(), Catch::Contains("n is 4"));
  CHECK_THAT(TrainCentroids(v.data(), 4, 0, 2, 1, Metric::kL2).status().message(), Catch::Contains("dim"));
  CHECK_THAT(TrainCentroids(nullptr, 4, 3, 2, 1, Metric::kL2).status().message(), Catch::Contains("vectors"));
  v[7] = INFINITY;
  CHECK_THAT(TrainCentroids(v.data(), 4, 3, 2, 1, Metric::kL2).status().message(), Catch::Contains("row 2"));
}

namespace {

// n points around `clusters` well-separated centres in `dim` dimensions;
// labels[i] is point i's centre.
struct Blobs {
  size_t dim = 0;
  std::vector<float> points;
  std::vector<int> labels;
};

Blobs MakeBlobs(size_t n, size_t dim, int clusters, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  std::vector<float> centres(static_cast<size_t>(clusters) * dim);
  for (auto& c : centres) c = 10.0f * noise(rng);
  Blobs b;
  b.dim = dim;
  for (size_t i = 0; i < n; ++i) {
    const int l = static_cast<int>(i % static_cast<size_t>(clusters));
    for (size_t d = 0; d < dim; ++d) b.points.push_back(centres[static_cast<size_t>(l) * dim + d] + noise(rng));
    b.labels.push_back(l);
  }
  return b;
}

}  // namespace

TEST_CASE("TrainCentroids is deterministic for a seed and finds separated clusters", "[monitor]") {
  const Blobs b = MakeBlobs(2000, 16, 8, 5);
  auto a1 = TrainCentroids(b.points.data(), 2000, 16, 8, 42, Metric::kL2);
  auto a2 = TrainCentroids(b.points.data(), 2000, 16, 8, 42, Metric::kL2);
  auto other = TrainCentroids(b.points.data(), 2000, 16, 8, 43, Metric::kL2);
  REQUIRE(a1.ok());
  REQUIRE(a2.ok());
  REQUIRE(other.ok());
  CHECK(a1->data == a2->data);     // bit for bit
  CHECK(a1->data != other->data);  // another seed, another seeding order at least
  // Every true cluster maps to one centroid, and distinct clusters to distinct ones.
  std::vector<int> cluster_to_centroid(8, -1);
  for (size_t i = 0; i < 2000; ++i) {
    const int c = AssignCentroid(*a1, b.points.data() + i * 16);
    int& slot = cluster_to_centroid[static_cast<size_t>(b.labels[i])];
    if (slot == -1) slot = c;
    CHECK(slot == c);
  }
  std::sort(cluster_to_centroid.begin(), cluster_to_centroid.end());
  CHECK(std::unique(cluster_to_centroid.begin(), cluster_to_centroid.end()) == cluster_to_centroid.end());

  // Cosine: unit-length centroids.
  std::vector<float> unit = b.points;
  for (size_t i = 0; i < 2000; ++i) {
    double n2 = 0;
    for (size_t d = 0; d < 16; ++d) n2 += unit[i * 16 + d] * unit[i * 16 + d];
    for (size_t d = 0; d < 16; ++d) unit[i * 16 + d] = static_cast<float>(unit[i * 16 + d] / std::sqrt(n2));
  }
  auto cos = TrainCentroids(unit.data(), 2000, 16, 8, 42, Metric::kCosine);
  REQUIRE(cos.ok());
  for (size_t j = 0; j < 8; ++j) {
    double n2 = 0;
    for (size_t d = 0; d < 16; ++d) n2 += cos->row(j)[d] * cos->row(j)[d];
    CHECK(n2 == Approx(1.0).epsilon(1e-5));
  }
}

TEST_CASE("a controlled shift on generated data: no alarm before, an alarm within a window after", "[monitor]") {
  // Queries from clusters 0-3 of an 8-cluster mixture, then from 4-7; the
  // top-1 "score" is the distance to the nearest of the collection's points
  // that lie in clusters 0-5 (the collection does not cover 6-7).
  const size_t kDim = 16, kRef = 1000, kCur = 500;
  const Blobs base = MakeBlobs(1600, kDim, 8, 11);
  std::vector<float> covered;
  for (size_t i = 0; i < 1600; ++i) {
    if (base.labels[i] < 6)
      covered.insert(covered.end(), base.points.begin() + static_cast<ptrdiff_t>(i * kDim),
                     base.points.begin() + static_cast<ptrdiff_t>((i + 1) * kDim));
  }
  auto cents = TrainCentroids(covered.data(), covered.size() / kDim, kDim, 16, 1, Metric::kL2);
  REQUIRE(cents.ok());
  const Blobs queries = MakeBlobs(8000, kDim, 8, 11);  // same centres (seed 11), fresh noise beyond the first 1600
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    std::mt19937 rng(seed);
    auto tracker = MakeTracker(kRef, kCur, 16);
    auto observe_from = [&](int lo) {
      size_t i;
      do i = 1600 + rng() % 6400;
      while (queries.labels[i] < lo || queries.labels[i] > lo + 3);
      const float* q = queries.points.data() + i * kDim;
      float best = INFINITY;
      for (size_t j = 0; j < covered.size() / kDim; ++j) {
        float d = 0;
        for (size_t k = 0; k < kDim; ++k) d += (q[k] - covered[j * kDim + k]) * (q[k] - covered[j * kDim + k]);
        best = std::min(best, d);
      }
      REQUIRE(tracker->Observe(best, AssignCentroid(*cents, q)).ok());
    };
    for (size_t i = 0; i < kRef + 3 * kCur; ++i) {
      observe_from(0);
      if (i >= kRef + kCur) CHECK_FALSE(tracker->Report().alarm);
    }
    size_t delay = 0;
    while (!tracker->Report().alarm && delay < kCur) {
      observe_from(4);
      ++delay;
    }
    INFO("seed " << seed << ": alarm after " << delay << " shifted queries");
    CHECK(tracker->Report().alarm);
    CHECK(delay < kCur);
  }
}

TEST_CASE("Observe and Report from several threads keep the counts consistent", "[monitor]") {
  auto tracker = MakeTracker(100, 200, 4);
  std::vector<std::thread> threads;
  std::atomic<int> refused{0};  // Catch2's assertions are not thread-safe: count, check after
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&tracker, &refused, t] {
      for (int i = 0; i < 2000; ++i) {
        if (!tracker->Observe(static_cast<float>(i % 37), (i + t) % 4).ok()) ++refused;
        if (i % 100 == 0) (void)tracker->Report();
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(refused.load() == 0);
  const DriftReport r = tracker->Report();
  CHECK(r.observations == 8000);
  CHECK(r.reference_count == 100);
  CHECK(r.current_count == 200);
  CHECK(r.ready);
}

// ---------------------------------------------------------------- text region

namespace {

// The reference: the first 16 hex digits of a published SHA-256 digest read
// as a big-endian u64, mod k.
int RegionFromHexDigest(const std::string& hex, uint64_t k) {
  return static_cast<int>(std::stoull(hex.substr(0, 16), nullptr, 16) % k);
}

}  // namespace

TEST_CASE("TextRegion is the big-endian u64 prefix of SHA-256 mod k", "[monitor][drift]") {
  // FIPS 180-2's examples: SHA-256("abc") and SHA-256("").
  const std::string abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  const std::string empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  for (uint64_t k : {1u, 7u, 64u, 1000u, 4096u}) {
    CHECK(TextRegion("abc", k) == RegionFromHexDigest(abc, k));
    CHECK(TextRegion("", k) == RegionFromHexDigest(empty, k));
  }
  CHECK(TextRegion("abc", 64) == 42);  // 0xba7816bf8f01cfea mod 64 = 0xea mod 64
  // Values from Python's hashlib (int.from_bytes(sha256(s).digest()[:8], "big") % k).
  CHECK(TextRegion("chmod.2", 64) == 13);
  CHECK(TextRegion("chmod.2", 4096) == 3213);
  CHECK(TextRegion(std::string_view("a\0b", 3), 64) == 19);  // every byte counts, NUL included
  CHECK(TextRegion("p\xc3\xa4ge.3", 64) == 17);
}

TEST_CASE("TextRegion spreads document ids evenly over k bins", "[monitor][drift]") {
  std::vector<int> counts(64, 0);
  for (int i = 0; i < 6400; ++i) {
    const int r = TextRegion("page" + std::to_string(i) + ".3", 64);
    REQUIRE(r >= 0);
    REQUIRE(r < 64);
    ++counts[static_cast<size_t>(r)];
  }
  // Deterministic (fixed ids): Python's hashlib gives min 73, max 131 for
  // these ids; a uniform draw would put every bin at 100 +- ~30.
  CHECK(*std::min_element(counts.begin(), counts.end()) == 73);
  CHECK(*std::max_element(counts.begin(), counts.end()) == 131);
}

TEST_CASE("DriftTracker alarms on regions when the answering documents change", "[monitor][drift]") {
  DriftOptions o;
  o.num_centroids = 64;
  auto tracker = std::move(DriftTracker::Create(o)).value();
  std::mt19937_64 rng(5);
  // Reference and stable phase answered by pages 0-199, then by pages 200-399:
  // the same score distribution, only the regions move.
  auto observe = [&](int first_page) {
    const std::string doc = "page" + std::to_string(first_page + static_cast<int>(rng() % 200)) + ".2";
    REQUIRE(tracker->Observe(static_cast<float>(rng() % 1000), TextRegion(doc, o.num_centroids)).ok());
  };
  for (int i = 0; i < 2000; ++i) observe(0);
  DriftReport before = tracker->Report();
  REQUIRE(before.ready);
  CHECK_FALSE(before.centroid_alarm);
  for (int i = 0; i < 500; ++i) observe(200);
  DriftReport after = tracker->Report();
  CHECK(after.centroid_alarm);
  CHECK_FALSE(after.score_alarm);
}
