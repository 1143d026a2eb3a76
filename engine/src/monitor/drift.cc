#include "monitor/drift.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "index/distance.h"
#include "util/sha256.h"

namespace verity {
namespace {

constexpr int kMaxLloydIterations = 25;

// [0, 1) from 53 random bits: the same on every standard library.
double Uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

Status CheckTrainInput(const float* vectors, size_t n, size_t dim, size_t k) {
  if (vectors == nullptr) return Status::InvalidArgument("vectors is null");
  if (dim == 0 || dim > kMaxDriftDim) {
    return Status::InvalidArgument("dim is " + std::to_string(dim) + "; it must be 1.." + std::to_string(kMaxDriftDim));
  }
  if (k == 0 || k > kMaxCentroids) {
    return Status::InvalidArgument("k is " + std::to_string(k) + "; it must be 1.." + std::to_string(kMaxCentroids));
  }
  if (n < k) {
    return Status::InvalidArgument("n is " + std::to_string(n) + "; it must be at least k (" + std::to_string(k) + ")");
  }
  for (size_t i = 0; i < n * dim; ++i) {
    if (!std::isfinite(vectors[i])) {
      return Status::InvalidArgument("vectors row " + std::to_string(i / dim) + " has a value that is not finite");
    }
  }
  return Status::Ok();
}

// k-means++: the first centre uniformly, each next one with probability
// proportional to the distance to the nearest centre chosen so far.
void SeedPlusPlus(const float* vectors, size_t n, size_t dim, Centroids& c, std::mt19937_64& rng) {
  std::vector<double> nearest(n, std::numeric_limits<double>::infinity());
  size_t pick = std::min(n - 1, static_cast<size_t>(Uniform01(rng) * static_cast<double>(n)));
  for (size_t j = 0; j < c.k; ++j) {
    std::copy(vectors + pick * dim, vectors + (pick + 1) * dim, c.data.begin() + static_cast<ptrdiff_t>(j * dim));
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
      const double d = std::max(0.0, static_cast<double>(Distance(c.metric, vectors + i * dim, c.row(j), dim)));
      nearest[i] = std::min(nearest[i], d);
      total += nearest[i];
    }
    if (j + 1 == c.k) break;
    if (total <= 0) {  // every vector sits on a centre: take the next row
      pick = (pick + 1) % n;
      continue;
    }
    double target = Uniform01(rng) * total;
    pick = n - 1;
    for (size_t i = 0; i < n; ++i) {
      target -= nearest[i];
      if (target < 0) {
        pick = i;
        break;
      }
    }
  }
}

// New centres as the means of their members (renormalised for cosine); an
// empty cluster takes the vector farthest from its current centre.
void UpdateCentres(const float* vectors, size_t n, size_t dim, const std::vector<int>& assign,
                   const std::vector<double>& dist, Centroids& c) {
  std::vector<double> sums(c.k * dim, 0.0);
  std::vector<size_t> counts(c.k, 0);
  for (size_t i = 0; i < n; ++i) {
    const size_t a = static_cast<size_t>(assign[i]);
    ++counts[a];
    for (size_t d = 0; d < dim; ++d) sums[a * dim + d] += vectors[i * dim + d];
  }
  std::vector<double> far = dist;
  for (size_t j = 0; j < c.k; ++j) {
    float* out = c.data.data() + j * dim;
    if (counts[j] == 0) {
      const size_t i = static_cast<size_t>(std::max_element(far.begin(), far.end()) - far.begin());
      far[i] = -1;  // not twice
      std::copy(vectors + i * dim, vectors + (i + 1) * dim, out);
      continue;
    }
    double norm = 0;
    for (size_t d = 0; d < dim; ++d) {
      const double v = sums[j * dim + d] / static_cast<double>(counts[j]);
      out[d] = static_cast<float>(v);
      norm += v * v;
    }
    if (c.metric == Metric::kCosine && norm > 0) {
      const double inv = 1.0 / std::sqrt(norm);
      for (size_t d = 0; d < dim; ++d) out[d] = static_cast<float>(out[d] * inv);
    }
  }
}

}  // namespace

Result<Centroids> TrainCentroids(const float* vectors, size_t n, size_t dim, size_t k, uint64_t seed, Metric metric) {
  VERITY_RETURN_IF_ERROR(CheckTrainInput(vectors, n, dim, k));
  Centroids c;
  c.k = k;
  c.dim = dim;
  c.metric = metric;
  c.data.assign(k * dim, 0.0f);
  std::mt19937_64 rng(seed);
  SeedPlusPlus(vectors, n, dim, c, rng);
  std::vector<int> assign(n, -1);
  std::vector<double> dist(n, 0.0);
  for (int iter = 0; iter < kMaxLloydIterations; ++iter) {
    bool changed = false;
    for (size_t i = 0; i < n; ++i) {
      const int a = AssignCentroid(c, vectors + i * dim);
      dist[i] = Distance(metric, vectors + i * dim, c.row(static_cast<size_t>(a)), dim);
      if (a != assign[i]) changed = true;
      assign[i] = a;
    }
    if (!changed) break;
    UpdateCentres(vectors, n, dim, assign, dist, c);
  }
  return c;
}

int AssignCentroid(const Centroids& centroids, const float* query) {
  int best = 0;
  float best_d = std::numeric_limits<float>::infinity();
  for (size_t j = 0; j < centroids.k; ++j) {
    const float d = Distance(centroids.metric, query, centroids.row(j), centroids.dim);
    if (d < best_d) {
      best_d = d;
      best = static_cast<int>(j);
    }
  }
  return best;
}

int TextRegion(std::string_view document_id, size_t k) {
  const std::string digest = Sha256::Raw(document_id);
  uint64_t prefix = 0;
  for (size_t i = 0; i < 8; ++i) prefix = (prefix << 8) | static_cast<unsigned char>(digest[i]);
  return static_cast<int>(prefix % k);
}

double PopulationStabilityIndex(const std::vector<uint64_t>& reference, const std::vector<uint64_t>& current,
                                double pseudo_count) {
  const size_t bins = std::min(reference.size(), current.size());
  double nr = 0, nc = 0;
  for (size_t i = 0; i < bins; ++i) {
    nr += static_cast<double>(reference[i]);
    nc += static_cast<double>(current[i]);
  }
  if (nr == 0 || nc == 0) return 0.0;
  const double a = pseudo_count;
  const double b = static_cast<double>(bins);
  double psi = 0;
  for (size_t i = 0; i < bins; ++i) {
    if (reference[i] == 0 && current[i] == 0) continue;
    const double r = (static_cast<double>(reference[i]) + a) / (nr + a * b);
    const double c = (static_cast<double>(current[i]) + a) / (nc + a * b);
    psi += (c - r) * std::log(c / r);
  }
  return psi;
}

double ExpectedNullPsi(size_t bins, size_t n_reference, size_t n_current) {
  if (bins == 0 || n_reference == 0 || n_current == 0) return 0.0;
  return static_cast<double>(bins - 1) *
         (1.0 / static_cast<double>(n_reference) + 1.0 / static_cast<double>(n_current));
}

std::vector<float> DecileEdges(std::vector<float> scores) {
  std::sort(scores.begin(), scores.end());
  std::vector<float> edges;
  edges.reserve(kDriftScoreBins - 1);
  for (size_t j = 1; j < kDriftScoreBins; ++j) edges.push_back(scores[j * scores.size() / kDriftScoreBins]);
  return edges;
}

size_t ScoreBin(const std::vector<float>& edges, float score) {
  return static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), score) - edges.begin());
}

// ---------------------------------------------------------------- tracker

Result<std::unique_ptr<DriftTracker>> DriftTracker::Create(const DriftOptions& options) {
  const std::string window_limit = std::to_string(kMinDriftWindow) + ".." + std::to_string(kMaxDriftWindow);
  if (options.reference_size < kMinDriftWindow || options.reference_size > kMaxDriftWindow) {
    return Status::InvalidArgument("reference_size is " + std::to_string(options.reference_size) + "; it must be " +
                                   window_limit);
  }
  if (options.current_size < kMinDriftWindow || options.current_size > kMaxDriftWindow) {
    return Status::InvalidArgument("current_size is " + std::to_string(options.current_size) + "; it must be " +
                                   window_limit);
  }
  if (options.num_centroids == 0 || options.num_centroids > kMaxCentroids) {
    return Status::InvalidArgument("num_centroids is " + std::to_string(options.num_centroids) + "; it must be 1.." +
                                   std::to_string(kMaxCentroids));
  }
  if (!(options.psi_threshold > 0) || !std::isfinite(options.psi_threshold)) {
    return Status::InvalidArgument("psi_threshold must be a finite number > 0");
  }
  return std::unique_ptr<DriftTracker>(new DriftTracker(options));
}

DriftTracker::DriftTracker(const DriftOptions& options)
    : options_(options),
      ref_score_counts_(kDriftScoreBins, 0),
      ref_centroid_counts_(options.num_centroids, 0),
      ring_(options.current_size),
      cur_score_counts_(kDriftScoreBins, 0),
      cur_centroid_counts_(options.num_centroids, 0) {
  warmup_scores_.reserve(options.reference_size);
  warmup_centroids_.reserve(options.reference_size);
}

Status DriftTracker::Observe(float top1_score, int centroid) {
  if (!std::isfinite(top1_score)) return Status::InvalidArgument("top1_score is not finite");
  if (centroid < 0 || static_cast<size_t>(centroid) >= options_.num_centroids) {
    return Status::InvalidArgument("centroid is " + std::to_string(centroid) + "; it must be 0.." +
                                   std::to_string(options_.num_centroids - 1));
  }
  const auto c = static_cast<uint32_t>(centroid);
  std::lock_guard<std::mutex> lock(mu_);
  ++observations_;
  if (!frozen_) {
    warmup_scores_.push_back(top1_score);
    warmup_centroids_.push_back(c);
    if (warmup_scores_.size() == options_.reference_size) FreezeReferenceLocked();
    return Status::Ok();
  }
  Entry& slot = ring_[ring_next_];
  if (ring_count_ == ring_.size()) {  // evict the oldest
    --cur_score_counts_[slot.score_bin];
    --cur_centroid_counts_[slot.centroid];
  } else {
    ++ring_count_;
  }
  slot = Entry{top1_score, static_cast<uint32_t>(ScoreBin(edges_, top1_score)), c};
  ++cur_score_counts_[slot.score_bin];
  ++cur_centroid_counts_[c];
  ring_next_ = (ring_next_ + 1) % ring_.size();
  return Status::Ok();
}

void DriftTracker::FreezeReferenceLocked() {
  std::vector<float> scores;
  scores.swap(warmup_scores_);
  std::vector<uint32_t> centroids;
  centroids.swap(warmup_centroids_);
  FreezeFromLocked(std::move(scores), centroids);
}

void DriftTracker::FreezeFromLocked(std::vector<float> scores, const std::vector<uint32_t>& centroids) {
  std::fill(ref_score_counts_.begin(), ref_score_counts_.end(), 0);
  std::fill(ref_centroid_counts_.begin(), ref_centroid_counts_.end(), 0);
  edges_ = DecileEdges(scores);
  for (float s : scores) ++ref_score_counts_[ScoreBin(edges_, s)];
  for (uint32_t c : centroids) ++ref_centroid_counts_[c];
  frozen_ = true;
  ring_next_ = 0;
  ring_count_ = 0;
  std::fill(cur_score_counts_.begin(), cur_score_counts_.end(), 0);
  std::fill(cur_centroid_counts_.begin(), cur_centroid_counts_.end(), 0);
}

Status DriftTracker::RebaseReference() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!frozen_ || ring_count_ < ring_.size()) {
    return Status::FailedPrecondition("the current window holds " + std::to_string(ring_count_) + " of " +
                                      std::to_string(ring_.size()) + " observations; it must be full to rebase");
  }
  std::vector<float> scores;
  std::vector<uint32_t> centroids;
  scores.reserve(ring_.size());
  centroids.reserve(ring_.size());
  for (const Entry& e : ring_) {
    scores.push_back(e.score);
    centroids.push_back(e.centroid);
  }
  FreezeFromLocked(std::move(scores), centroids);
  return Status::Ok();
}

DriftReport DriftTracker::Report() const {
  std::lock_guard<std::mutex> lock(mu_);
  DriftReport r;
  r.observations = observations_;
  r.reference_frozen = frozen_;
  r.current_count = ring_count_;
  if (!frozen_) {
    r.reference_count = warmup_scores_.size();
    return r;
  }
  uint64_t ref_n = 0;
  for (uint64_t v : ref_score_counts_) ref_n += v;
  r.reference_count = static_cast<size_t>(ref_n);
  r.score_edges = edges_;
  r.score_threshold = options_.psi_threshold + ExpectedNullPsi(kDriftScoreBins, r.reference_count, ring_.size());
  r.centroid_threshold =
      options_.psi_threshold + ExpectedNullPsi(options_.num_centroids, r.reference_count, ring_.size());
  r.ready = ring_count_ == ring_.size();
  if (!r.ready) return r;
  r.score_psi = PopulationStabilityIndex(ref_score_counts_, cur_score_counts_);
  r.centroid_psi = PopulationStabilityIndex(ref_centroid_counts_, cur_centroid_counts_);
  r.score_alarm = r.score_psi > r.score_threshold;
  r.centroid_alarm = r.centroid_psi > r.centroid_threshold;
  r.alarm = r.score_alarm || r.centroid_alarm;
  return r;
}

}  // namespace verity
