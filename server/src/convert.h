// Conversions between the wire API (verity.v1 protos) and the engine's types,
// and the one mapping from engine Status to gRPC status. The only file pair
// in the server that knows both sides.
//
// Every FromProto returns InvalidArgument naming the request field (with
// indices) when the message cannot be converted.
#pragma once

#include <grpcpp/support/status.h>

#include <optional>
#include <string>

#include "server_options.h"
#include "verity/database.h"
#include "verity/v1/collections.pb.h"
#include "verity/v1/records.pb.h"
#include "verity/v1/search.pb.h"

namespace verity::server {

// Engine status → gRPC status, code for code (both use the canonical codes).
grpc::Status ToGrpc(const Status& status);

Result<CollectionConfig> FromProto(const v1::CollectionConfig& in, const ServerOptions& limits);
void ToProto(const CollectionInfo& in, v1::CollectionInfo* out);
void ToProto(const VersionInfo& in, v1::VersionInfo* out);

Result<Record> FromProto(const v1::Record& in, const std::string& field);
void ToProto(const Record& in, v1::Record* out);
void ToProto(const StoredRecord& in, v1::StoredRecord* out);

std::optional<Version> FromProto(const v1::ReadAt& at, bool present);

// "" → no filter; else the parsed expression, or InvalidArgument naming
// `field` and the column.
Result<std::optional<Filter>> ParseFilterField(const std::string& text, const std::string& field);

Result<SearchRequest> FromProto(const v1::SearchQuery& in, const std::string& field, const ServerOptions& limits);
void ToProto(const SearchResult& in, v1::SearchResponse* out);

}  // namespace verity::server
