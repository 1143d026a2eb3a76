// The generated gRPC stubs of every verityd service on one channel, for the
// end-to-end tests, and CALL: one unary call with a fresh context.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "grpc/health/v1/health.grpc.pb.h"
#include "verity/v1/collections.grpc.pb.h"
#include "verity/v1/context.grpc.pb.h"
#include "verity/v1/records.grpc.pb.h"
#include "verity/v1/search.grpc.pb.h"
#include "verity/v1/snapshots.grpc.pb.h"

namespace verity::test {

struct Stubs {
  explicit Stubs(const std::shared_ptr<grpc::Channel>& channel)
      : collections(v1::CollectionService::NewStub(channel)),
        records(v1::RecordService::NewStub(channel)),
        search(v1::SearchService::NewStub(channel)),
        snapshots(v1::SnapshotService::NewStub(channel)),
        context(v1::ContextService::NewStub(channel)),
        log(v1::LogService::NewStub(channel)),
        health(grpc::health::v1::Health::NewStub(channel)) {}
  std::unique_ptr<v1::CollectionService::Stub> collections;
  std::unique_ptr<v1::RecordService::Stub> records;
  std::unique_ptr<v1::SearchService::Stub> search;
  std::unique_ptr<v1::SnapshotService::Stub> snapshots;
  std::unique_ptr<v1::ContextService::Stub> context;
  std::unique_ptr<v1::LogService::Stub> log;
  std::unique_ptr<grpc::health::v1::Health::Stub> health;

  // True if the health service answers SERVING.
  bool Serving() {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    return health->Check(&ctx, req, &resp).ok() && resp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  }
};

}  // namespace verity::test

// Calls `method` on `stub` with a fresh context; returns the status.
#define CALL(stub, method, req, resp)        \
  ([&] {                                     \
    grpc::ClientContext ctx_;                \
    return (stub)->method(&ctx_, req, resp); \
  }())
