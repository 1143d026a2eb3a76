// Calls any method of verityd by its path with raw request bytes (gRPC's
// generic stub), and lists every service of the wire API: for tests that
// walk every method without generated code per method.
#pragma once

#include <google/protobuf/descriptor.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

namespace verity::test {

struct RawResult {
  grpc::Status status;
  std::vector<std::string> responses;  // each response message's bytes, in order
};

// Calls `path` ("/pkg.Service/Method") with one request message of bytes
// `request` (empty: the empty message), with `key` as the bearer key when
// not empty. Works for unary, server-streaming and bidirectional methods
// alike: the request is written and the call half-closed, then every
// response is read. 20 s deadline.
RawResult RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& path, const std::string& key,
                  const std::string& request = "");

// Every service of the wire API: each verity/v1/*.proto file in the source
// tree, found in the descriptors linked into the test (a new file whose
// code is not linked fails here rather than escaping the walk).
std::vector<const google::protobuf::ServiceDescriptor*> WireServices();

}  // namespace verity::test
