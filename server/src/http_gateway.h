// The HTTP/JSON API of verityd (docs/http.md): every RPC of the verity.v1
// services as `POST /v1/<Service>/<Method>` (e.g. /v1/SearchService/Search),
// its request and response in protobuf's canonical JSON mapping. The routes
// and the JSON both follow from the compiled-in descriptors of the .proto
// files: nothing here is written per method, and a new RPC is served as
// soon as it is in a .proto.
//
// A call is forwarded to verityd's own gRPC server through its in-process
// channel, so it runs exactly the code a gRPC call runs: the same
// Authorizer (the `Authorization: Bearer <key>` header becomes the call's
// metadata), call limit, deadline (`X-Verity-Timeout-Ms`, else the server
// default), metrics and log lines. The price is one more protobuf
// serialization each way (docs/benchmarks.md measures it).
//
// Answers:
//  - 200 with the response message as JSON (every field printed, defaults
//    included; lowerCamelCase names; 64-bit integers as strings);
//  - an error: the gRPC code mapped to an HTTP status (HttpStatusOf), body
//    {"code": 3, "status": "INVALID_ARGUMENT", "message": "..."} with the
//    message gRPC gives; a body that is not the method's JSON is 400 naming
//    what the parser found; an unknown route 404; another method than POST
//    405 (these three in the same JSON form);
//  - streaming RPCs (Export and Import stream their progress; SearchStream
//    is bidirectional) answer `application/x-ndjson`, one message per
//    line, written as it arrives; SearchStream reads its requests as
//    NDJSON too (one SearchRequest per line). An error before the first
//    message is an ordinary error answer; one after it is a last line
//    {"error": {...}}.
//
// Thread-safety: immutable once registered but for Close(); its handlers
// run on the listener's threads, any number at once. Ownership: shares the channel;
// must outlive the listener's Stop().
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/generic/generic_stub.h>

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "http_listener.h"
#include "verity/status.h"

namespace google::protobuf {
class Descriptor;
}

namespace verity::server {

// The HTTP status a gRPC status code is answered with (docs/http.md).
int HttpStatusOf(grpc::StatusCode code);
// "INVALID_ARGUMENT" for 3, ...
const char* GrpcCodeName(grpc::StatusCode code);
// {"code": N, "status": "NAME", "message": "..."}
std::string ErrorJson(grpc::StatusCode code, const std::string& message);

class HttpGateway {
 public:
  // Serves the methods of `services` (full names, e.g.
  // "verity.v1.SearchService") through `channel` (the server's in-process
  // channel). Internal if a service has no compiled-in descriptor.
  static Result<std::unique_ptr<HttpGateway>> Create(std::shared_ptr<grpc::Channel> channel,
                                                     const std::vector<std::string>& services);

  // Adds the API's routes to `listener`; before it starts.
  void Register(HttpListener* listener);

  // From now on, requests are answered 503 UNAVAILABLE without a call;
  // calls already started go on. Call before the gRPC server shuts down:
  // gRPC 1.51 crashes when a call is created on the in-process channel of
  // a server that has shut down. Returns once no call is being created.
  void Close();

  // One RPC as the API serves it.
  struct Route {
    std::string grpc_method;  // "/verity.v1.SearchService/Search"
    const google::protobuf::Descriptor* input = nullptr;
    const google::protobuf::Descriptor* output = nullptr;
    bool client_streaming = false;
    bool server_streaming = false;
  };
  // By HTTP path ("/v1/SearchService/Search").
  const std::map<std::string, Route>& routes() const { return routes_; }

 private:
  explicit HttpGateway(std::shared_ptr<grpc::Channel> channel) : stub_(std::move(channel)) {}
  void Handle(const httplib::Request& req, httplib::Response& res);
  void Unary(const Route& route, const std::string& body, grpc::ClientContext* ctx, httplib::Response& res);
  void Streaming(const Route& route, const std::string& body, std::unique_ptr<grpc::ClientContext> ctx,
                 httplib::Response& res);

  // Held shared while a call is created on the channel, exclusively by
  // Close().
  std::shared_mutex open_mu_;
  bool closed_ = false;  // GUARDED_BY(open_mu_)
  grpc::GenericStub stub_;
  std::map<std::string, Route> routes_;
};

}  // namespace verity::server
