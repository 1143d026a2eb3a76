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

#include <optional>
#include <string>

#include "verity/database.h"
#include "verity/v1/collections.pb.h"
#include "verity/v1/records.pb.h"
#include "verity/v1/search.pb.h"

namespace verity::wire {

// Engine status → gRPC status, code for code (both use the canonical codes).
grpc::Status ToGrpc(const Status& status);
// gRPC status → engine Status, code for code.
Status FromGrpc(const grpc::Status& status);

Result<CollectionConfig> FromProto(const v1::CollectionConfig& in);
void ToProto(const CollectionConfig& in, v1::CollectionConfig* out);
CollectionInfo FromProto(const v1::CollectionInfo& in);
void ToProto(const CollectionInfo& in, v1::CollectionInfo* out);
void ToProto(const VersionInfo& in, v1::VersionInfo* out);
VersionInfo FromProto(const v1::VersionInfo& in);

Result<Record> FromProto(const v1::Record& in, const std::string& field);
void ToProto(const Record& in, v1::Record* out);
void ToProto(const StoredRecord& in, v1::StoredRecord* out);
Result<StoredRecord> FromProto(const v1::StoredRecord& in, const std::string& field);

std::optional<Version> FromProto(const v1::ReadAt& at, bool present);
void ToProto(std::optional<Version> at, v1::ReadAt* out);

// "" → no filter; else the parsed expression, or InvalidArgument naming
// `field` and the column.
Result<std::optional<Filter>> ParseFilterField(const std::string& text, const std::string& field);

Result<SearchRequest> FromProto(const v1::SearchQuery& in, const std::string& field);
void ToProto(const SearchResult& in, v1::SearchResponse* out);
Result<SearchResult> FromProto(const v1::SearchResponse& in);

}  // namespace verity::wire
