// The standard grpc.health.v1.Health service for verityd. gRPC's built-in
// health service holds a call open across shutdown and made every graceful
// stop with a connected client wait out the drain deadline; this one ends
// its Watch streams as soon as the server stops serving.
//
// Check("") and Check(<a verity.v1 service name>) answer SERVING until
// SetNotServing(); any other name is NOT_FOUND, as the protocol says.
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <atomic>
#include <set>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"

namespace verity::server {

class HealthServiceImpl final : public grpc::health::v1::Health::Service {
 public:
  explicit HealthServiceImpl(std::set<std::string> services) : services_(std::move(services)) {}

  void SetNotServing() { serving_ = false; }

  grpc::Status Check(grpc::ServerContext* ctx, const grpc::health::v1::HealthCheckRequest* req,
                     grpc::health::v1::HealthCheckResponse* resp) override;
  grpc::Status Watch(grpc::ServerContext* ctx, const grpc::health::v1::HealthCheckRequest* req,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>* writer) override;

 private:
  grpc::health::v1::HealthCheckResponse::ServingStatus StatusOf(const std::string& service) const;

  const std::set<std::string> services_;
  std::atomic<bool> serving_{true};
};

}  // namespace verity::server
