// Status: code, message, field path and reason, and how they travel through
// WithField, WithReason, copies and Result<T>.
#include <catch2/catch.hpp>

#include "verity/status.h"

using namespace verity;

TEST_CASE("an OK status has no message, field or reason, and stays OK through WithField and WithReason",
          "[engine][status]") {
  const Status ok = Status::Ok();
  CHECK(ok.ok());
  CHECK(ok.code() == StatusCode::kOk);
  CHECK(ok.message().empty());
  CHECK(ok.field().empty());
  CHECK(ok.detail().empty());
  CHECK(ok.reason() == StatusReason::kNone);
  CHECK(ok.ToString() == "OK");
  CHECK(ok.WithField("k").ok());
  CHECK(ok.WithField("k").message().empty());
  CHECK(ok.WithReason(StatusReason::kSnapshotNotFound).reason() == StatusReason::kNone);
  // A code of kOk is OK whatever message comes with it.
  CHECK(Status(StatusCode::kOk, "ignored").ok());
  CHECK(Status(StatusCode::kOk, "ignored").message().empty());
  // An OK status holds no representation: it is as small as a pointer pair.
  CHECK(sizeof(Status) <= 2 * sizeof(void*));
}

TEST_CASE("WithField puts the field before the message and joins the field paths", "[engine][status]") {
  const Status s = Status::InvalidArgument("NaN (components must be finite)").WithField("vector[7]");
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message() == "vector[7]: NaN (components must be finite)");
  CHECK(s.field() == "vector[7]");
  CHECK(s.detail() == "NaN (components must be finite)");

  const Status batch = s.WithField("queries[3]");
  CHECK(batch.message() == "queries[3]: vector[7]: NaN (components must be finite)");
  CHECK(batch.field() == "queries[3].vector[7]");
  CHECK(batch.detail() == "NaN (components must be finite)");
  CHECK(batch.ToString() == "INVALID_ARGUMENT: queries[3]: vector[7]: NaN (components must be finite)");
  // The original is unchanged (statuses are values).
  CHECK(s.message() == "vector[7]: NaN (components must be finite)");
  CHECK(s.field() == "vector[7]");

  // An index joins without a dot.
  const Status indexed = Status::InvalidArgument("takes scalars").WithField("[2]").WithField("values");
  CHECK(indexed.field() == "values[2]");
  CHECK(indexed.message() == "values: [2]: takes scalars");
  CHECK(indexed.detail() == "takes scalars");

  // A status built with its field in the message text has no field path:
  // detail() is the whole message.
  const Status plain = Status::NotFound("snapshot \"s\" of \"c\" does not exist");
  CHECK(plain.field().empty());
  CHECK(plain.detail() == plain.message());
  const Status named = plain.WithField("at.snapshot");
  CHECK(named.field() == "at.snapshot");
  CHECK(named.detail() == "snapshot \"s\" of \"c\" does not exist");

  // WithPrefix, kept for existing callers, is WithField.
  const Status prefixed = s.WithPrefix("queries[3]");
  CHECK(prefixed.message() == batch.message());
  CHECK(prefixed.field() == batch.field());
}

TEST_CASE("a reason survives WithField, copies and Result<T>", "[engine][status]") {
  const Status s = Status::ResourceExhausted("the first 3 hits take 900 bytes, more than the 800 this response may hold")
                       .WithField("hits")
                       .WithReason(StatusReason::kResponseTooLarge);
  CHECK(s.reason() == StatusReason::kResponseTooLarge);
  const Status prefixed = s.WithField("queries[0]");
  CHECK(prefixed.reason() == StatusReason::kResponseTooLarge);
  CHECK(prefixed.code() == StatusCode::kResourceExhausted);
  CHECK(prefixed.field() == "queries[0].hits");
  // WithReason keeps code, message and field.
  const Status changed = prefixed.WithReason(StatusReason::kBatchHitsOverLimit);
  CHECK(changed.reason() == StatusReason::kBatchHitsOverLimit);
  CHECK(changed.message() == prefixed.message());
  CHECK(changed.field() == prefixed.field());
  CHECK(prefixed.reason() == StatusReason::kResponseTooLarge);

  Status copy = s;
  CHECK(copy.reason() == s.reason());
  CHECK(copy.message() == s.message());
  Status moved = std::move(copy);
  CHECK(moved.reason() == StatusReason::kResponseTooLarge);
  CHECK(moved.field() == "hits");

  Result<int> failed = s;
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.status().reason() == StatusReason::kResponseTooLarge);
  CHECK(failed.status().field() == "hits");
  auto relay = [&]() -> Result<int> {
    VERITY_ASSIGN_OR_RETURN(int v, failed);
    return v;
  };
  CHECK(relay().status().reason() == StatusReason::kResponseTooLarge);
  auto relay_status = [&]() -> Status {
    VERITY_RETURN_IF_ERROR(s.WithField("queries[1]"));
    return Status::Ok();
  };
  CHECK(relay_status().reason() == StatusReason::kResponseTooLarge);
  CHECK(relay_status().field() == "queries[1].hits");
}

TEST_CASE("every reason has a name", "[engine][status]") {
  for (StatusReason r : {StatusReason::kNone, StatusReason::kBatchHitsOverLimit, StatusReason::kResponseTooLarge,
                         StatusReason::kDimensionOverLimit, StatusReason::kSnapshotNotFound,
                         StatusReason::kNoRecordedAnswer, StatusReason::kMessageTooLarge}) {
    CHECK(std::string(StatusReasonName(r)) != "unknown");
  }
  CHECK(std::string(StatusReasonName(StatusReason::kSnapshotNotFound)) == "kSnapshotNotFound");
}
