// Names and small pure functions of the value types (types.h, context.h),
// in verity_base so that the client library and the CLI can use them.
#include "verity/context.h"
#include "verity/types.h"

namespace verity {

const char* ChangeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kAdded: return "added";
    case ChangeKind::kRemoved: return "removed";
    case ChangeKind::kChanged: return "changed";
  }
  return "?";
}

uint32_t EstimateTokens(const std::string& text) { return static_cast<uint32_t>((text.size() + 3) / 4); }

const char* LogKindName(LogKind kind) {
  switch (kind) {
    case LogKind::kRetrieval:
      return "retrieval";
    case LogKind::kAnswer:
      return "answer";
    case LogKind::kCacheHit:
      return "cache_hit";
  }
  return "unknown";
}

const char* MonitorFlagName(MonitorFlag flag) {
  switch (flag) {
    case MonitorFlag::kLowGroundedness: return "low_groundedness";
    case MonitorFlag::kWeakRetrieval: return "weak_retrieval";
    case MonitorFlag::kEmptyContext: return "empty_context";
    case MonitorFlag::kTruncatedContext: return "truncated_context";
    case MonitorFlag::kToxicity: return "toxicity";
  }
  return "unknown";
}

const char* CacheMatchName(CacheMatch match) {
  switch (match) {
    case CacheMatch::kMiss: return "miss";
    case CacheMatch::kExact: return "exact";
    case CacheMatch::kSemantic: return "semantic";
  }
  return "unknown";
}

const char* ReplayModeName(ReplayMode mode) {
  switch (mode) {
    case ReplayMode::kContext: return "context";
    case ReplayMode::kRetrieval: return "retrieval";
    case ReplayMode::kCounterfactual: return "counterfactual";
  }
  return "?";
}

const char* ReplayOutcomeName(ReplayOutcome outcome) {
  switch (outcome) {
    case ReplayOutcome::kIdentical:
      return "identical";
    case ReplayOutcome::kDiffers:
      return "differs";
    case ReplayOutcome::kCollected:
      return "collected";
  }
  return "?";
}

bool ParseReplayOutcome(std::string_view name, ReplayOutcome* outcome) {
  for (ReplayOutcome o : {ReplayOutcome::kIdentical, ReplayOutcome::kDiffers, ReplayOutcome::kCollected}) {
    if (name == ReplayOutcomeName(o)) {
      *outcome = o;
      return true;
    }
  }
  return false;
}

const char* FusionMethodName(FusionMethod method) {
  switch (method) {
    case FusionMethod::kRrf:
      return "rrf";
    case FusionMethod::kConvex:
      return "convex";
  }
  return "?";
}

bool ParseFusionMethod(const std::string& name, FusionMethod* method) {
  for (FusionMethod m : {FusionMethod::kRrf, FusionMethod::kConvex}) {
    if (name == FusionMethodName(m)) {
      *method = m;
      return true;
    }
  }
  return false;
}

}  // namespace verity
