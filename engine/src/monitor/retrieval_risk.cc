#include "monitor/retrieval_risk.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace verity {

const char* RetrievalLegName(RetrievalLeg leg) {
  switch (leg) {
    case RetrievalLeg::kDense:
      return "dense";
    case RetrievalLeg::kText:
      return "text";
    case RetrievalLeg::kFused:
      return "fused";
  }
  return "unknown";
}

bool LegIsScore(RetrievalLeg leg) { return leg != RetrievalLeg::kDense; }

float NearestRankPercentile(const std::vector<float>& sorted, uint32_t q) {
  const size_t n = sorted.size();
  size_t rank = (static_cast<size_t>(q) * n + 99) / 100;  // ceil(q * n / 100)
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1];
}

Result<std::unique_ptr<TopScoreReference>> TopScoreReference::Create(const TopScoreReferenceOptions& options) {
  if (options.reference_size < kMinTopScoreReference || options.reference_size > kMaxTopScoreReference) {
    return Status::InvalidArgument("reference_size is " + std::to_string(options.reference_size) + "; it must be " +
                                   std::to_string(kMinTopScoreReference) + ".." +
                                   std::to_string(kMaxTopScoreReference));
  }
  if (options.percentile < kMinWeakPercentile || options.percentile > kMaxWeakPercentile) {
    return Status::InvalidArgument("percentile is " + std::to_string(options.percentile) + "; it must be " +
                                   std::to_string(kMinWeakPercentile) + ".." + std::to_string(kMaxWeakPercentile));
  }
  return std::unique_ptr<TopScoreReference>(new TopScoreReference(options));
}

TopScoreReference::TopScoreReference(const TopScoreReferenceOptions& options) : options_(options) {}

Status TopScoreReference::Observe(RetrievalLeg leg, float top1) {
  if (!std::isfinite(top1)) {
    return Status::InvalidArgument(std::string("top1 of a ") + RetrievalLegName(leg) + " retrieval is not finite");
  }
  std::lock_guard<std::mutex> lock(mu_);
  Leg& l = legs_[static_cast<size_t>(leg)];
  if (l.frozen) return Status::Ok();
  if (l.values.empty()) l.values.reserve(std::min<size_t>(options_.reference_size, 4096));
  l.values.push_back(top1);
  if (l.values.size() == options_.reference_size) {
    std::sort(l.values.begin(), l.values.end());
    l.values.shrink_to_fit();
    const uint32_t q = LegIsScore(leg) ? options_.percentile : 100 - options_.percentile;
    l.threshold = NearestRankPercentile(l.values, q);
    l.frozen = true;
  }
  return Status::Ok();
}

LegReferenceState TopScoreReference::State(RetrievalLeg leg) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Leg& l = legs_[static_cast<size_t>(leg)];
  return {l.values.size(), l.frozen, l.frozen ? l.threshold : 0.0f};
}

TopScoreReference::Judgement TopScoreReference::Judge(RetrievalLeg leg, float top1) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Leg& l = legs_[static_cast<size_t>(leg)];
  Judgement j;
  if (!l.frozen) return j;
  j.ready = true;
  j.threshold = l.threshold;
  const auto& v = l.values;  // sorted
  size_t at_least_as_good;
  if (LegIsScore(leg)) {
    j.weak = top1 < l.threshold;
    at_least_as_good = static_cast<size_t>(std::upper_bound(v.begin(), v.end(), top1) - v.begin());  // v <= top1
  } else {
    j.weak = top1 > l.threshold;
    at_least_as_good = static_cast<size_t>(v.end() - std::lower_bound(v.begin(), v.end(), top1));  // v >= top1
  }
  j.percentile_rank = 100.0 * static_cast<double>(at_least_as_good) / static_cast<double>(v.size());
  return j;
}

void TopScoreReference::Reset(RetrievalLeg leg) {
  std::lock_guard<std::mutex> lock(mu_);
  legs_[static_cast<size_t>(leg)] = Leg{};
}

Result<RetrievalRisk> AssessRetrieval(const TopScoreReference& reference, RetrievalLeg leg,
                                      std::span<const ChunkSignal> chunks) {
  RetrievalRisk risk;
  risk.chunks = chunks.size();
  const bool is_score = LegIsScore(leg);
  float best = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const float value = is_score ? chunks[i].score : chunks[i].distance;
    if (!std::isfinite(value)) {
      return Status::InvalidArgument("chunks[" + std::to_string(i) + "]." + (is_score ? "score" : "distance") +
                                     " is not finite");
    }
    if (i == 0 || (is_score ? value > best : value < best)) best = value;
    if (chunks[i].in_context) ++risk.in_context;
  }
  risk.empty_context = risk.in_context == 0;
  risk.truncated_context = risk.in_context < risk.chunks;
  if (chunks.empty()) return risk;
  risk.top1 = best;
  const TopScoreReference::Judgement j = reference.Judge(leg, best);
  risk.ready = j.ready;
  risk.weak = j.weak;
  risk.threshold = j.threshold;
  risk.percentile_rank = j.percentile_rank;
  return risk;
}

Result<RetrievalRisk> AssessRetrieval(const TopScoreReference& reference, RetrievalLeg leg,
                                      const std::vector<RetrievedChunk>& chunks) {
  std::vector<ChunkSignal> signals;
  signals.reserve(chunks.size());
  for (const RetrievedChunk& c : chunks) signals.push_back({c.distance, c.score, c.in_context});
  return AssessRetrieval(reference, leg, std::span<const ChunkSignal>(signals));
}

}  // namespace verity
