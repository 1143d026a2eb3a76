// Retrieval weakness (issue #28, the retrieval half of hallucination risk):
// was this retrieval's best hit weak for its collection, and did the context
// the model saw hold anything, or everything the search found?
//
// TopScoreReference keeps, per collection and per kind of leg, a reference
// sample of the top-1 values of the collection's retrievals: the first
// `reference_size` values observed, then frozen (like DriftTracker's
// reference; chosen over a ring buffer so that the threshold does not slide
// with the very drift it should reveal, and so that one fixed sequence of
// observations gives one fixed threshold). The kinds are kept apart because
// their directions differ:
//   * kDense: the engine's distance of the best hit; smaller is closer. Weak
//     = the top-1 distance is LARGER than the reference's (100 - p)th
//     percentile of top-1 distances (p = `percentile`, default 5: the 95th).
//   * kText (BM25 or sparse dot product) and kFused (a hybrid's fused
//     score): a score; larger is better. Weak = the top-1 score is SMALLER
//     than the reference's p-th percentile (default the 5th).
// Percentile (nearest rank, exact): for n sorted values v[1] <= ... <= v[n]
// and an integer q in 1..99, the q-th percentile is v[ceil(q * n / 100)],
// computed in integers, (q * n + 99) / 100. docs/monitoring.md, "Retrieval
// weakness", has the rest.
//
// How Monitor (monitor.h) uses it: one TopScoreReference per collection.
// After a Retrieve (and when it annotates an answer, from the retrieval's
// log record, whose chunks keep distance, score and in_context):
//   RetrievalRisk risk = AssessRetrieval(*ref, leg, result.chunks).value();
//   if (!result.chunks.empty()) ref->Observe(leg, risk.top1);
// with leg = kDense for a vector retrieval, kText for a text one, kFused for
// a hybrid one (LegOf; sparse-only retrievals are not observed). Assess first, then Observe, so that a retrieval is
// never judged against a reference holding itself. Retrievals with no chunk
// are not observed (they have no top-1; empty_context reports them).
//
// Determinism: a function of the sequence of observations and the options.
// kRetrievalRiskVersion changes whenever a computed field would change for
// the same inputs.
//
// Errors: bad input is InvalidArgument naming the field and the limit; no
// function throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "verity/context.h"
#include "verity/status.h"

namespace verity {

// Version of everything below: the percentile, the directions, the fields.
inline constexpr uint32_t kRetrievalRiskVersion = 1;

// Limits on the options.
inline constexpr size_t kMinTopScoreReference = 20;
inline constexpr size_t kMaxTopScoreReference = 1 << 20;
inline constexpr uint32_t kMinWeakPercentile = 1;
inline constexpr uint32_t kMaxWeakPercentile = 50;

// The kind of a retrieval's ranking value (see the file comment).
enum class RetrievalLeg { kDense = 0, kText = 1, kFused = 2 };
inline constexpr size_t kNumRetrievalLegs = 3;
const char* RetrievalLegName(RetrievalLeg leg);  // "dense", "text", "fused"

// True when larger is better for the leg (kText, kFused), false when
// smaller is (kDense).
bool LegIsScore(RetrievalLeg leg);

// The q-th nearest-rank percentile of `sorted` (ascending):
// sorted[ceil(q * n / 100) - 1]. Preconditions: sorted is not empty, q in
// 1..99.
float NearestRankPercentile(const std::vector<float>& sorted, uint32_t q);

struct TopScoreReferenceOptions {
  // The reference: the first this many top-1 values of a leg, then frozen.
  // Default 1000. Limits: kMinTopScoreReference..kMaxTopScoreReference.
  size_t reference_size = 1000;
  // p: a score is weak below the p-th percentile, a distance above the
  // (100 - p)th. Default 5. Limits: kMinWeakPercentile..kMaxWeakPercentile.
  uint32_t percentile = 5;
};

// One leg's reference as a value (for reports and the console).
struct LegReferenceState {
  size_t count = 0;     // values held (== reference_size once frozen)
  bool frozen = false;  // full: thresholds are computed
  float threshold = 0;  // the weak threshold, once frozen
};

// Thread-safety: every method locks the object's mutex; Observe is O(1)
// (amortised; the freeze sorts once, O(n log n)), Assess O(log n). Not
// copyable or movable (it owns the mutex): held by unique_ptr.
// Memory: at most kNumRetrievalLegs * reference_size floats, whatever the
// number of observations.
class TopScoreReference {
 public:
  // InvalidArgument naming the option and its limit.
  static Result<std::unique_ptr<TopScoreReference>> Create(const TopScoreReferenceOptions& options);

  TopScoreReference(const TopScoreReference&) = delete;
  TopScoreReference& operator=(const TopScoreReference&) = delete;

  // Adds one retrieval's top-1 value to the leg's reference while it is not
  // full; ignored (OK) once frozen. InvalidArgument if top1 is not finite.
  Status Observe(RetrievalLeg leg, float top1);

  // The leg's state (count, frozen, threshold).
  LegReferenceState State(RetrievalLeg leg) const;

  // Judges one top-1 value against the leg's reference: the fields mean
  // what RetrievalRisk's of the same name mean; when the reference is not
  // frozen, ready = weak = false and threshold = percentile_rank = 0.
  struct Judgement {
    bool ready = false;
    bool weak = false;
    double threshold = 0;
    double percentile_rank = 0;
  };
  Judgement Judge(RetrievalLeg leg, float top1) const;

  // Forgets the leg's reference (after an acknowledged change, e.g. a new
  // knowledge-base version): the next reference_size values rebuild it.
  void Reset(RetrievalLeg leg);

  const TopScoreReferenceOptions& options() const { return options_; }

 private:
  explicit TopScoreReference(const TopScoreReferenceOptions& options);

  struct Leg {
    std::vector<float> values;  // observed order until frozen, then sorted
    bool frozen = false;
    float threshold = 0;
  };

  const TopScoreReferenceOptions options_;
  mutable std::mutex mu_;
  Leg legs_[kNumRetrievalLegs];  // GUARDED_BY(mu_)
};

// One chunk of a retrieval, as AssessRetrieval reads it: RetrievedChunk's
// distance, score and in_context.
struct ChunkSignal {
  float distance = 0;
  float score = 0;
  bool in_context = true;
};

// The retrieval-weakness annotation of one retrieval.
struct RetrievalRisk {
  // The top-1 value is worse than the reference threshold (strictly: larger
  // for kDense, smaller otherwise). False when not ready or no chunk.
  bool weak = false;
  // The retrieval's best value over all its chunks, in or out of the
  // context (the smallest distance for kDense, the largest score
  // otherwise); 0 with no chunk.
  double top1 = 0;
  double threshold = 0;  // the reference's weak threshold; 0 if not ready
  // The percentage (0..100) of reference values that top1 is at least as
  // good as: 100 * #{v : v <= top1} / n for a score,
  // 100 * #{v : v >= top1} / n for a distance. Low is weak. 0 if not ready.
  double percentile_rank = 0;
  bool empty_context = false;      // no chunk is in the context (or no chunk)
  bool truncated_context = false;  // some chunk has in_context = false
  size_t chunks = 0;               // chunks retrieved
  size_t in_context = 0;           // of which in the context
  bool ready = false;              // the leg's reference is frozen
  uint32_t version = kRetrievalRiskVersion;
};

// Assesses a retrieval (its chunks, in any order) against the collection's
// reference for `leg`. Does not observe it (see the file comment).
// InvalidArgument if the value read for the leg (distance for kDense, score
// otherwise) is not finite, naming the chunk's index.
Result<RetrievalRisk> AssessRetrieval(const TopScoreReference& reference, RetrievalLeg leg,
                                      std::span<const ChunkSignal> chunks);
// The same over the engine's chunks (RetrieveResult::chunks, or a log
// record's).
Result<RetrievalRisk> AssessRetrieval(const TopScoreReference& reference, RetrievalLeg leg,
                                      const std::vector<RetrievedChunk>& chunks);

}  // namespace verity
