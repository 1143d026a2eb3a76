#include "verity/status.h"

#include "verity/types.h"

namespace verity {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kCancelled: return "CANCELLED";
    case StatusCode::kUnknown: return "UNKNOWN";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case StatusCode::kPermissionDenied: return "PERMISSION_DENIED";
    case StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case StatusCode::kAborted: return "ABORTED";
    case StatusCode::kOutOfRange: return "OUT_OF_RANGE";
    case StatusCode::kUnimplemented: return "UNIMPLEMENTED";
    case StatusCode::kInternal: return "INTERNAL";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kDataLoss: return "DATA_LOSS";
    case StatusCode::kUnauthenticated: return "UNAUTHENTICATED";
  }
  return "UNKNOWN";
}

const char* StatusReasonName(StatusReason reason) {
  switch (reason) {
    case StatusReason::kNone:
      return "kNone";
    case StatusReason::kBatchHitsOverLimit:
      return "kBatchHitsOverLimit";
    case StatusReason::kResponseTooLarge:
      return "kResponseTooLarge";
    case StatusReason::kDimensionOverLimit:
      return "kDimensionOverLimit";
    case StatusReason::kSnapshotNotFound:
      return "kSnapshotNotFound";
    case StatusReason::kNoRecordedAnswer:
      return "kNoRecordedAnswer";
    case StatusReason::kMessageTooLarge:
      return "kMessageTooLarge";
  }
  return "unknown";
}

namespace {

const std::string& Empty() {
  static const std::string* const empty = new std::string();
  return *empty;
}

}  // namespace

Status::Status(StatusCode code, std::string message) {
  if (code == StatusCode::kOk) return;
  auto rep = std::make_shared<Rep>();
  rep->code = code;
  rep->message = std::move(message);
  rep_ = std::move(rep);
}

const std::string& Status::message() const { return rep_ ? rep_->message : Empty(); }

const std::string& Status::field() const { return rep_ ? rep_->field : Empty(); }

std::string_view Status::detail() const {
  if (!rep_) return {};
  return std::string_view(rep_->message).substr(rep_->detail_begin);
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(StatusCodeName(code())) + ": " + message();
}

Status Status::WithField(const std::string& field) const {
  if (ok()) return *this;
  auto rep = std::make_shared<Rep>(*rep_);
  rep->message = field + ": " + rep_->message;
  rep->detail_begin = rep_->detail_begin + static_cast<uint32_t>(field.size() + 2);
  if (rep_->field.empty()) {
    rep->field = field;
  } else if (rep_->field.front() == '[') {
    rep->field = field + rep_->field;
  } else {
    rep->field = field + "." + rep_->field;
  }
  Status out;
  out.rep_ = std::move(rep);
  return out;
}

Status Status::WithReason(StatusReason reason) const {
  if (ok()) return *this;
  auto rep = std::make_shared<Rep>(*rep_);
  rep->reason = reason;
  Status out;
  out.rep_ = std::move(rep);
  return out;
}

const char* MetricName(Metric metric) {
  switch (metric) {
    case Metric::kL2: return "l2";
    case Metric::kIp: return "ip";
    case Metric::kCosine: return "cosine";
  }
  return "l2";
}

bool ParseMetric(const std::string& name, Metric* metric) {
  if (name == "l2") *metric = Metric::kL2;
  else if (name == "ip") *metric = Metric::kIp;
  else if (name == "cosine") *metric = Metric::kCosine;
  else return false;
  return true;
}

}  // namespace verity
