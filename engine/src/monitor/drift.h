// Retrieval drift (issue #28): is the stream of queries a collection
// receives still the one it received when the reference was taken?
//
// Two signals per retrieval, both cheap to get at Retrieve time:
//   * the top-1 score (the engine's distance of the best hit, smaller is
//     closer; any monotone score works, e.g. BM25, as long as one tracker
//     sees one kind), and
//   * the query's nearest centroid, among k centroids trained by k-means on a
//     sample of the collection's vectors (TrainCentroids / AssignCentroid).
// DriftTracker keeps a reference window (the first `reference_size`
// observations, then frozen) and a sliding current window (the last
// `current_size` observations, a ring buffer), and compares them with the
// population stability index (PSI) of each signal: scores binned at the
// reference's deciles, centroid assignments by centroid. docs/monitoring.md,
// "Retrieval drift", says what is computed exactly, why PSI, and the measured
// detection delay and false-alarm rate.
//
// How Monitor (monitor.h) uses it: per collection, centroids trained in the
// background on the collection's first 5,000 rows (k = 64, the collection's
// metric, seed 1), and one tracker per leg; after each vector Retrieve that
// returned at least one hit,
//   tracker->Observe(top-1 distance, AssignCentroid(centroids, query))
// and verityd exports tracker->Report() as verity_drift_psi{signal=...}.
// A text or fused retrieval has no query vector: its region is
//   TextRegion(top-1 document_id, or its id when empty, num_centroids)
// in place of AssignCentroid, with BM25 or the fused score as the score (one
// tracker per leg, so one kind of score per tracker).
// Retrievals with no hit are not observed. After an acknowledged change (a
// new KB version) the operator resets the references
// (Database::ResetMonitorReference: new trackers).
//
// Determinism: TrainCentroids is a function of (vectors, n, dim, k, seed,
// metric) and of the distance kernel set in use (index/distance.h; the
// AVX-512, AVX2 and portable kernels may round differently, so pin
// VERITY_KERNELS to compare across machines). The tracker is a function of
// the sequence of observations. TextRegion is a function of the id's bytes
// and k alone. kDriftVersion changes whenever any computed
// number would change for the same inputs.
//
// Errors: bad input is InvalidArgument naming the field and the limit; no
// function throws (beyond std::bad_alloc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "verity/status.h"
#include "verity/types.h"

namespace verity {

// Version of everything below: centroid training, text regions, binning,
// PSI, thresholds.
inline constexpr int kDriftVersion = 1;

// Score bins: the reference's deciles, so each reference bin holds ~10%.
inline constexpr size_t kDriftScoreBins = 10;

// PSI's epsilon for empty bins: a pseudo-count of half an observation is
// added to every bin of both windows (Jeffreys' prior), so a bin's
// proportion is (n_i + 0.5) / (N + 0.5 * B) and ln(c/r) stays finite. For
// N = 1000 and B = 10 an empty bin counts as 5e-4 of its window. Chosen over
// the customary floor of 1e-4 on the proportion because sparse histograms
// (64 centroids over 500 queries, ~8 a bin) made the floor's ln(c/r) blow up
// on bins of 0-2 observations: on Fashion-MNIST the floor gave 7 false
// alarms in 35,010 stable windows, the pseudo-count none (docs/monitoring.md).
inline constexpr double kPsiPseudoCount = 0.5;

// The conventional PSI reading: < 0.1 no shift, 0.1-0.2 moderate, > 0.2 a
// significant shift. DriftTracker alarms above this plus the PSI that two
// samples of the same distribution show by chance (ExpectedNullPsi).
inline constexpr double kDefaultPsiThreshold = 0.2;

// Limits on the inputs.
inline constexpr size_t kMaxDriftDim = 65536;
inline constexpr size_t kMaxCentroids = 4096;
inline constexpr size_t kMaxDriftWindow = 1 << 20;
inline constexpr size_t kMinDriftWindow = 10 * kDriftScoreBins;

// ---------------------------------------------------------------- centroids

// k centroids of dimension dim, row-major, for one metric. A value.
struct Centroids {
  size_t k = 0;
  size_t dim = 0;
  Metric metric = Metric::kL2;
  std::vector<float> data;  // k * dim

  const float* row(size_t i) const { return data.data() + i * dim; }
};

// k-means on n row-major vectors: k-means++ seeding, then Lloyd iterations
// (at most 25, or until no assignment changes). The random draws come from
// std::mt19937_64(seed), converted to [0, 1) by this code (not by a standard
// distribution, whose output differs between libraries). Distances are the
// engine's (index/distance.h): squared L2 for kL2, 1 - dot for kIp and
// kCosine; for kCosine the vectors must be unit length (as the engine stores
// them) and each centroid is renormalised; for kIp the centroid is the plain
// mean (k-means is not a clean fit for inner product: a limit). An emptied
// cluster is re-seeded with the vector farthest from its centroid.
// Errors: InvalidArgument if vectors is null, dim is 0 or > kMaxDriftDim, k
// is 0 or > kMaxCentroids, n < k, or a value is not finite (naming its row).
// The caller owns `vectors`; it is only read during the call.
// Cost: ~0.5 s for 5,000 x 784 floats and k = 64 (bench/bench_drift.cc).
Result<Centroids> TrainCentroids(const float* vectors, size_t n, size_t dim, size_t k, uint64_t seed, Metric metric);

// The index of the centroid nearest `query` (dim values, the metric's
// distance); ties go to the smallest index. Precondition: centroids.k > 0
// and `query` holds centroids.dim floats. ~k * dim multiply-adds.
int AssignCentroid(const Centroids& centroids, const float* query);

// ---------------------------------------------------------------- text region

// The "nearest centroid" of a text or fused retrieval, which has no query
// vector: the region of the knowledge base that answered. The caller passes
// the top-1 hit's document_id (its id when document_id is empty) and
// k = DriftOptions::num_centroids; the region is
//   big-endian u64 of the first 8 bytes of SHA-256(document_id), mod k,
// a value in [0, k). SHA-256 (OpenSSL, util/sha256.h) makes it the same on
// every machine, compiler and standard library (std::hash is not), and
// spreads documents evenly over the k bins whatever their names.
// What it sees: a move of the answering documents between bins (traffic
// answered by other pages than before). What it does not: a move between
// documents of one bin (k bins for any number of documents: with D
// documents, ~D/k share each bin, and a shift among them is invisible), nor
// any meaning of the regions (a bin is a hash bucket, not a topic; two
// unrelated pages may share one). Precondition: 0 < k <= kMaxCentroids (the
// tracker's num_centroids limits). Thread-safe (no
// shared state); 0.2-0.3 µs (one SHA-256 of a short string;
// bench/bench_drift_text.cc). Does not throw except std::bad_alloc.
int TextRegion(std::string_view document_id, size_t k);

// ---------------------------------------------------------------- PSI

// PSI = sum over bins i of (c_i - r_i) * ln(c_i / r_i), where r_i and c_i are
// the bin's smoothed proportions in the reference and current counts:
// (n_i + pseudo_count) / (N + pseudo_count * B), B the number of bins. Bins
// empty in both windows are skipped (they carry no information); an empty
// window gives 0. Precondition: both vectors have the same size.
double PopulationStabilityIndex(const std::vector<uint64_t>& reference, const std::vector<uint64_t>& current,
                                double pseudo_count = kPsiPseudoCount);

// The PSI expected between two independent samples of one distribution over
// `bins` bins: (bins - 1) * (1 / n_reference + 1 / n_current). Large-sample
// approximation (PSI ≈ chi-square(bins - 1) / harmonic size); 0 if a size is 0.
double ExpectedNullPsi(size_t bins, size_t n_reference, size_t n_current);

// The kDriftScoreBins - 1 inner bin edges of `scores`: edge j (1-based) is
// the value at sorted position floor(j * n / kDriftScoreBins). Bin of v =
// number of edges <= v, so without ties bin j holds exactly the sorted
// positions [j*n/10, (j+1)*n/10). Ties can leave a bin empty (see
// kPsiPseudoCount). Precondition: scores is not empty.
std::vector<float> DecileEdges(std::vector<float> scores);
size_t ScoreBin(const std::vector<float>& edges, float score);

// ---------------------------------------------------------------- tracker

struct DriftOptions {
  // The reference: the first this many observations, then frozen.
  // Default: 1000. Limits: kMinDriftWindow..kMaxDriftWindow.
  size_t reference_size = 1000;
  // The current window: the last this many observations after the
  // reference. Default: 500. Limits: kMinDriftWindow..kMaxDriftWindow.
  size_t current_size = 500;
  // Number of centroids (bins of the assignment histogram): Centroids::k.
  // Limits: 1..kMaxCentroids.
  size_t num_centroids = 64;
  // A signal alarms when its PSI exceeds psi_threshold + ExpectedNullPsi for
  // its bin count and window sizes. Default: kDefaultPsiThreshold. Limit: > 0.
  double psi_threshold = kDefaultPsiThreshold;
};

struct DriftReport {
  int version = kDriftVersion;
  uint64_t observations = 0;   // every accepted Observe since creation
  size_t reference_count = 0;  // observations in the reference (== reference_size once frozen)
  bool reference_frozen = false;
  size_t current_count = 0;  // observations in the current window
  // True once the reference is frozen and the current window full: the PSIs
  // and alarms below are computed only then (0 and false before).
  bool ready = false;
  double score_psi = 0;
  double centroid_psi = 0;
  double score_threshold = 0;     // psi_threshold + ExpectedNullPsi(10, ...)
  double centroid_threshold = 0;  // psi_threshold + ExpectedNullPsi(k, ...)
  bool score_alarm = false;
  bool centroid_alarm = false;
  bool alarm = false;              // either
  std::vector<float> score_edges;  // the reference's decile edges (once frozen)
};

// Thread-safety: every method locks the tracker's mutex; Observe is O(log 10)
// plus O(1) under the lock (Report is O(k)), so it can sit on the Retrieve
// path. Not copyable or movable (it owns the mutex): held by unique_ptr.
// Memory: O(reference_size) floats until the reference freezes, then
// O(current_size + k) — bounded whatever the number of observations.
class DriftTracker {
 public:
  // InvalidArgument naming the option and its limit.
  static Result<std::unique_ptr<DriftTracker>> Create(const DriftOptions& options);

  DriftTracker(const DriftTracker&) = delete;
  DriftTracker& operator=(const DriftTracker&) = delete;

  // One retrieval: its top-1 score and its query's centroid. InvalidArgument
  // if the score is not finite or the centroid is outside
  // [0, num_centroids); nothing is recorded then.
  Status Observe(float top1_score, int centroid);

  DriftReport Report() const;

  // Makes the current window the new reference (its deciles, its centroid
  // histogram) and empties the current window: after a drift is
  // acknowledged (e.g. a new knowledge-base version). FailedPrecondition
  // unless the reference is frozen and the current window is full.
  Status RebaseReference();

  const DriftOptions& options() const { return options_; }

 private:
  struct Entry {
    float score;
    uint32_t score_bin;
    uint32_t centroid;
  };

  explicit DriftTracker(const DriftOptions& options);
  void FreezeReferenceLocked();
  void FreezeFromLocked(std::vector<float> scores, const std::vector<uint32_t>& centroids);

  const DriftOptions options_;
  mutable std::mutex mu_;
  uint64_t observations_ = 0;                  // GUARDED_BY(mu_)
  bool frozen_ = false;                        // GUARDED_BY(mu_)
  std::vector<float> warmup_scores_;           // GUARDED_BY(mu_), until frozen
  std::vector<uint32_t> warmup_centroids_;     // GUARDED_BY(mu_), until frozen
  std::vector<float> edges_;                   // GUARDED_BY(mu_)
  std::vector<uint64_t> ref_score_counts_;     // GUARDED_BY(mu_)
  std::vector<uint64_t> ref_centroid_counts_;  // GUARDED_BY(mu_)
  std::vector<Entry> ring_;                    // GUARDED_BY(mu_), current_size slots
  size_t ring_next_ = 0;                       // GUARDED_BY(mu_)
  size_t ring_count_ = 0;                      // GUARDED_BY(mu_)
  std::vector<uint64_t> cur_score_counts_;     // GUARDED_BY(mu_)
  std::vector<uint64_t> cur_centroid_counts_;  // GUARDED_BY(mu_)
};

}  // namespace verity
