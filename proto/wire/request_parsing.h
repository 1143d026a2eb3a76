// How a request's bytes become its message on the server, in place of gRPC's
// default for protobuf messages. gRPC's default answers a request that
// protobuf cannot parse with INTERNAL and an empty message; the commonest
// cause is a `string` field that is not UTF-8 (a C++ client may put any bytes
// there), and the caller could not tell which. Here such a request gets
// INVALID_ARGUMENT naming the field, e.g.
//   records[2].text: is not valid UTF-8 (byte 0xE9 at offset 3); string
//   fields must be UTF-8
// and bytes that are no protobuf message at all are named as such.
//
// A verity.v1 request that does not parse reaches its handler empty, carrying
// that error (ParseKeepingError), and the handler answers it like any bad
// argument: verityd's Serve checks RequestParseError first, after the
// caller's key, so the refusal is counted in the metrics under its method
// and logged with its peer like every other. (gRPC 1.51 would otherwise
// refuse it before any handler runs: unseen by metrics and logs, and for the
// callback API as UNIMPLEMENTED with no message.) A service that handles
// verity.v1 requests without Serve must check RequestParseError itself.
// The health check's requests are refused by gRPC with the same message.
//
// The generated *.grpc.pb.h include this header (protoc's
// additional_header_includes, proto/CMakeLists.txt), so every request type's
// SerializationTraits below is declared before gRPC's code uses it. In gRPC
// 1.51 the synchronous handlers parse through MessageLite's traits, the
// callback and streaming handlers through each request type's own; a new
// RPC's request type belongs in the list at the end either way (the test
// "every method names a string field that is not UTF-8" walks every method
// and fails for one whose refusal is not named).
//
// Thread-safe: the functions keep no state.
#pragma once

#include <grpcpp/impl/codegen/proto_utils.h>

#include <string>

#include "grpc/health/v1/health.pb.h"
#include "verity/v1/cache.pb.h"
#include "verity/v1/collections.pb.h"
#include "verity/v1/context.pb.h"
#include "verity/v1/prompts.pb.h"
#include "verity/v1/records.pb.h"
#include "verity/v1/search.pb.h"
#include "verity/v1/snapshots.pb.h"

namespace verity::wire {

// Parses `buffer` into `message`. OK, or INVALID_ARGUMENT naming the first
// string field that is not UTF-8 (as a path with indices) or saying that
// the bytes are not a well-formed `message` type. Clears `buffer`.
grpc::Status ParseRequest(grpc::ByteBuffer* buffer, google::protobuf::MessageLite* message);

// The parse for MessageLite's traits: ParseKeepingError for a verity.*
// message whose type names a request (its name ends in "Request");
// ParseRequest for grpc.health.* requests; for any other verity.* or
// grpc.health.* message, ParseRequest's description with INTERNAL (a
// response the client cannot parse is not the caller's bad argument). A
// message of another API is parsed exactly as gRPC's default does: a program
// that links this library and has gRPC services of its own gets the same
// behaviour for those whichever of the two definitions of
// SerializationTraits<MessageLite> its linker keeps.
grpc::Status ParseMessage(grpc::ByteBuffer* buffer, google::protobuf::MessageLite* message);

// For verity.v1 requests: a request that does not parse is kept as an
// empty `message` (a full Message) carrying ParseRequest's error, and this
// returns OK; the handler must check RequestParseError first and answer the
// error as it would any bad argument. (So the refusal passes through the
// handler's metrics and log lines; and gRPC 1.51 answers a callback unary
// call whose request failed to parse with UNIMPLEMENTED and no message, and
// a failed read ends a stream without a status the caller can see.)
grpc::Status ParseKeepingError(grpc::ByteBuffer* buffer, google::protobuf::MessageLite* message);

// The error ParseKeepingError kept in `message`; empty when it parsed.
std::string RequestParseError(const google::protobuf::Message& message);

}  // namespace verity::wire

// Serialize is gRPC's own; Deserialize is `Parse`.
#define VERITY_REQUEST_PARSED_BY(Type, Parse)                                                                      \
  template <>                                                                                                      \
  class SerializationTraits<Type, void> {                                                                          \
   public:                                                                                                         \
    static Status Serialize(const grpc::protobuf::MessageLite& msg, ByteBuffer* bb, bool* own_buffer) {            \
      return GenericSerialize<ProtoBufferWriter, Type>(msg, bb, own_buffer);                                       \
    }                                                                                                              \
    static Status Deserialize(ByteBuffer* buffer, grpc::protobuf::MessageLite* msg) { return Parse(buffer, msg); } \
  };
#define VERITY_REQUEST(Type) VERITY_REQUEST_PARSED_BY(Type, ::verity::wire::ParseKeepingError)

namespace grpc {

// gRPC's synchronous handlers and its client stubs parse every message
// through the traits of the base type: requests are kept with their error
// there too (ParseMessage), and a response a client cannot parse gets
// INTERNAL with the same description.
VERITY_REQUEST_PARSED_BY(::grpc::protobuf::MessageLite, ::verity::wire::ParseMessage)
// The callback handlers and streams parse through each request type's own.
VERITY_REQUEST_PARSED_BY(::grpc::health::v1::HealthCheckRequest, ::verity::wire::ParseRequest)
VERITY_REQUEST(::verity::v1::AuditCollectionRequest)
VERITY_REQUEST(::verity::v1::AuditRequest)
VERITY_REQUEST(::verity::v1::BatchSearchRequest)
VERITY_REQUEST(::verity::v1::CacheLookupRequest)
VERITY_REQUEST(::verity::v1::CacheStoreRequest)
VERITY_REQUEST(::verity::v1::ClearCacheRequest)
VERITY_REQUEST(::verity::v1::CountRequest)
VERITY_REQUEST(::verity::v1::CreateCollectionRequest)
VERITY_REQUEST(::verity::v1::CreatePromptVersionRequest)
VERITY_REQUEST(::verity::v1::CreateSnapshotRequest)
VERITY_REQUEST(::verity::v1::DeleteRequest)
VERITY_REQUEST(::verity::v1::DeleteSnapshotRequest)
VERITY_REQUEST(::verity::v1::DiffPromptRequest)
VERITY_REQUEST(::verity::v1::DiffRequest)
VERITY_REQUEST(::verity::v1::DropCollectionRequest)
VERITY_REQUEST(::verity::v1::ExportRequest)
VERITY_REQUEST(::verity::v1::GcRequest)
VERITY_REQUEST(::verity::v1::GetCacheStatsRequest)
VERITY_REQUEST(::verity::v1::GetCollectionRequest)
VERITY_REQUEST(::verity::v1::GetLabelHistoryRequest)
VERITY_REQUEST(::verity::v1::GetPromptRequest)
VERITY_REQUEST(::verity::v1::GetRequest)
VERITY_REQUEST(::verity::v1::GetRetrievalRequest)
VERITY_REQUEST(::verity::v1::GetSnapshotRequest)
VERITY_REQUEST(::verity::v1::ImportRequest)
VERITY_REQUEST(::verity::v1::ListCollectionsRequest)
VERITY_REQUEST(::verity::v1::ListLogRequest)
VERITY_REQUEST(::verity::v1::ListPromptVersionsRequest)
VERITY_REQUEST(::verity::v1::ListPromptsRequest)
VERITY_REQUEST(::verity::v1::ListSnapshotsRequest)
VERITY_REQUEST(::verity::v1::ListVersionsRequest)
VERITY_REQUEST(::verity::v1::RecordAnswerRequest)
VERITY_REQUEST(::verity::v1::RenderPromptRequest)
VERITY_REQUEST(::verity::v1::ReplayRequest)
VERITY_REQUEST(::verity::v1::RestoreRequest)
VERITY_REQUEST(::verity::v1::RetrieveRequest)
VERITY_REQUEST(::verity::v1::ScrollRequest)
VERITY_REQUEST(::verity::v1::SearchRequest)
VERITY_REQUEST(::verity::v1::SetPromptLabelRequest)
VERITY_REQUEST(::verity::v1::SetRetentionRequest)
VERITY_REQUEST(::verity::v1::UpsertRequest)
VERITY_REQUEST(::verity::v1::VerifyLogRequest)

}  // namespace grpc

#undef VERITY_REQUEST
#undef VERITY_REQUEST_PARSED_BY
