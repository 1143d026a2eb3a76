// Status and Result<T>: how every engine call reports success or failure.
//
// No exception crosses an engine API. A call either succeeds (Status::Ok(), or
// a Result<T> holding a value) or returns a Status whose code says what kind of
// failure it was and whose message names the field and the limit involved;
// the field may also be given as a path (Status::field()), and a reason
// (StatusReason) says why where another layer acts on it.
//
// Codes are numbered like gRPC's canonical codes so the server can map them
// one to one; the engine itself knows nothing of gRPC.
//
// Thread-safety: Status and Result are values; distinct objects may be used
// from distinct threads freely, copies of one Status included (they share an
// immutable representation).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace verity {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// Returns the canonical upper-case name of `code`, e.g. "INVALID_ARGUMENT".
const char* StatusCodeName(StatusCode code);

// Why a call failed, where another layer acts on the cause rather than only
// on the code: the server adds the flag behind a limit, the client asks for
// a smaller page. A caller reads `reason()`, never the message's text.
// kNone for every failure nobody acts on. New reasons go at the end.
enum class StatusReason : uint8_t {
  kNone = 0,
  // SearchBatch: the queries may return more hits (the sum of min(k, rows))
  // than BatchLimits::max_hits. RESOURCE_EXHAUSTED.
  kBatchHitsOverLimit,
  // A response would pass the byte bound its caller gave the engine:
  // SearchRequest::max_payload_bytes, BatchLimits::max_response_bytes,
  // AuditCollectionRequest::max_result_bytes. RESOURCE_EXHAUSTED.
  kResponseTooLarge,
  // Import: a collection of the export has a dimension above the
  // max_dimension its caller gave. INVALID_ARGUMENT.
  kDimensionOverLimit,
  // A snapshot name that names no snapshot of the collection. NOT_FOUND.
  kSnapshotNotFound,
  // Audit: the retrieval has no recorded answer (and none was given).
  // FAILED_PRECONDITION.
  kNoRecordedAnswer,
  // Client side: a message was over gRPC's size limit, the client's receive
  // limit or the server's send limit (verityd's own refusal naming
  // --max-message-bytes included). RESOURCE_EXHAUSTED.
  kMessageTooLarge,
};

// Returns the reason's name for logs and tests, e.g. "kSnapshotNotFound".
const char* StatusReasonName(StatusReason reason);

// The outcome of a call: OK, or a code, a message, and optionally the path
// of the request field it is about and a reason.
//
// The message is what the caller reads (and what the server sends as the
// gRPC status message, unchanged): by convention "<field>: <what is
// wrong>, <the limit>". The field path is the same field in structured form,
// e.g. "queries[3].vector", "filter.children[0].values", "at.snapshot": a
// layer that renames or strips a field reads field() and detail() rather
// than parsing the message.
//
// Building one:
//   Status::InvalidArgument("has 5 components; the dimension is 4")
//       .WithField("vector")                        // "vector: has 5 ..."
//       .WithReason(StatusReason::kNone);
//   status.WithField("queries[3]")                  // "queries[3]: vector: has 5 ...",
//                                                   // field "queries[3].vector"
// WithField and WithReason on an OK status return it unchanged.
//
// Cost: an OK status is one null pointer (no allocation); a failure holds
// one shared, immutable representation, so copying any status is a pointer
// copy and a reference count. WithField/WithReason build a new one.
class [[nodiscard]] Status {
 public:
  Status() = default;
  // `code` kOk gives an OK status; its message is dropped.
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
  static Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
  static Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
  static Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // The whole message, field names first ("" when OK).
  const std::string& message() const;
  // The field path ("" when the status names no field, and when OK).
  const std::string& field() const;
  // The message without the field names WithField put before it: for
  // "queries[3]: vector: has 5 components" built as above, "has 5 components".
  std::string_view detail() const;
  StatusReason reason() const { return rep_ ? rep_->reason : StatusReason::kNone; }

  // "INVALID_ARGUMENT: vector[3] is NaN" (or "OK").
  std::string ToString() const;

  // Returns a copy about `field` within the field it was about: the message
  // becomes "<field>: <message>" and the field path `field` joined with the
  // old one ("queries[3]" + "vector" = "queries[3].vector", "values" +
  // "[2]" = "values[2]"). Code, reason and detail() are kept. OK stays OK.
  Status WithField(const std::string& field) const;
  // The same as WithField (every prefix names a field, or for a config file
  // the place in it); kept for existing callers.
  Status WithPrefix(const std::string& prefix) const { return WithField(prefix); }
  // Returns a copy with `reason`. OK stays OK.
  Status WithReason(StatusReason reason) const;

 private:
  struct Rep {
    StatusCode code = StatusCode::kOk;
    StatusReason reason = StatusReason::kNone;
    uint32_t detail_begin = 0;  // where detail() starts in message
    std::string message;
    std::string field;
  };
  std::shared_ptr<const Rep> rep_;  // null: OK
};

// Either a value of type T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = Status::Internal("Result constructed from OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // Precondition: ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace verity

#define VERITY_CONCAT_INNER_(a, b) a##b
#define VERITY_CONCAT_(a, b) VERITY_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define VERITY_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::verity::Status verity_status_ = (expr);        \
    if (!verity_status_.ok()) return verity_status_; \
  } while (0)

// `lhs = value of expr` (a Result<T>), or returns its Status if not OK.
#define VERITY_ASSIGN_OR_RETURN(lhs, expr) \
  VERITY_ASSIGN_OR_RETURN_IMPL_(VERITY_CONCAT_(verity_result_, __LINE__), lhs, expr)
#define VERITY_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
