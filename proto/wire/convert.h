// Conversions between the wire API (verity.v1 protos) and Verity's value
// types (verity/types.h), and between engine Status and gRPC status, in both
// directions. Shared by verityd and the client library; the only file pair
// that knows both sides.
//
// Every FromProto returns InvalidArgument naming the request field (with
// indices) when the message cannot be converted. Server limits (--max-k,
// --max-dimension, ...) are checked by the server, not here.
#pragma once

#include <grpcpp/support/status.h>

#include <functional>
#include <optional>
#include <string>

#include "verity/database.h"
#include "verity/v1/collections.pb.h"
#include "verity/v1/records.pb.h"
#include "verity/v1/search.pb.h"
#include "verity/v1/snapshots.pb.h"

namespace verity::wire {

// Engine status → gRPC status, code for code (both use the canonical codes).
grpc::Status ToGrpc(const Status& status);
// gRPC status → engine Status, code for code.
Status FromGrpc(const grpc::Status& status);

// Unset retention fields take RetentionPolicy's defaults. InvalidArgument
// for an unknown metric or a negative keep_seconds.
Result<CollectionConfig> FromProto(const v1::CollectionConfig& in);
// Sets every field, retention included.
void ToProto(const CollectionConfig& in, v1::CollectionConfig* out);
CollectionInfo FromProto(const v1::CollectionInfo& in);
void ToProto(const CollectionInfo& in, v1::CollectionInfo* out);
void ToProto(const VersionInfo& in, v1::VersionInfo* out);
VersionInfo FromProto(const v1::VersionInfo& in);

Result<Record> FromProto(const v1::Record& in, const std::string& field);
void ToProto(const Record& in, v1::Record* out);
void ToProto(const StoredRecord& in, v1::StoredRecord* out);
Result<StoredRecord> FromProto(const v1::StoredRecord& in, const std::string& field);

// Resolves a snapshot name (of the collection a request reads) to the
// version it pins. Only the server can: it passes one that calls
// Database::GetSnapshot (server/src/services.cc, ResolveReadAt).
using SnapshotResolver = std::function<Result<Version>(const std::string& name)>;

// A ReadAt: unset (present == false, or no point set) → head (nullopt); a
// version → that version; a snapshot → resolve(name). Errors:
// InvalidArgument naming `field` for an empty snapshot name; what `resolve`
// returns, prefixed with `field` (NotFound naming the snapshot).
Result<std::optional<Version>> FromProto(const v1::ReadAt& at, bool present, const std::string& field,
                                         const SnapshotResolver& resolve);
// Head (nullopt) leaves `out` untouched.
void ToProto(std::optional<Version> at, v1::ReadAt* out);
// A ReadAt naming a snapshot.
void SnapshotToProto(const std::string& snapshot, v1::ReadAt* out);

// "" → no filter; else the parsed expression, or InvalidArgument naming
// `field` and the column.
Result<std::optional<Filter>> ParseFilterField(const std::string& text, const std::string& field);

// `resolve` resolves the query's ReadAt when it names a snapshot.
Result<SearchRequest> FromProto(const v1::SearchQuery& in, const std::string& field, const SnapshotResolver& resolve);
void ToProto(const SearchResult& in, v1::SearchResponse* out);
Result<SearchResult> FromProto(const v1::SearchResponse& in);

// RetentionPolicy ⇄ the two optional fields of CollectionConfig (and of
// SetRetentionRequest): unset fields keep `base`'s value. InvalidArgument
// naming `field`.keep_seconds when it is negative.
template <typename Message>
Result<RetentionPolicy> RetentionFromProto(const Message& in, const RetentionPolicy& base, const std::string& field) {
  RetentionPolicy out = base;
  if (in.has_keep_versions()) out.keep_versions = in.keep_versions();
  if (in.has_keep_seconds()) {
    if (in.keep_seconds() < 0) {
      return Status::InvalidArgument(field + "keep_seconds: " + std::to_string(in.keep_seconds()) +
                                     " is negative (0 turns the rule off)");
    }
    out.keep_seconds = in.keep_seconds();
  }
  return out;
}

// --- Snapshots, diffs, restore, GC, export / import --------------------------
void ToProto(const SnapshotInfo& in, v1::SnapshotInfo* out);
SnapshotInfo FromProto(const v1::SnapshotInfo& in);

v1::ChangeKind ToProto(ChangeKind kind);
// InvalidArgument naming `field` for CHANGE_KIND_UNSPECIFIED or an unknown value.
Result<ChangeKind> FromProto(v1::ChangeKind kind, const std::string& field);
void ToProto(const DiffPage& in, v1::DiffResponse* out);
Result<DiffPage> FromProto(const v1::DiffResponse& in);

void ToProto(const RestoreResult& in, v1::RestoreResponse* out);
RestoreResult FromProto(const v1::RestoreResponse& in);

void ToProto(const GcResult& in, v1::GcResponse* out);
GcResult FromProto(const v1::GcResponse& in);

// The wire result names the export directory (`name`), not the server's path;
// ExportResult::path becomes the name on the way back.
void ToProto(const ExportResult& in, const std::string& name, v1::ExportResult* out);
ExportResult FromProto(const v1::ExportResult& in);
void ToProto(const ImportResult& in, v1::ImportResult* out);
ImportResult FromProto(const v1::ImportResult& in);

}  // namespace verity::wire
