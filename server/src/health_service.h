// The standard grpc.health.v1.Health service for verityd, the project's own
// so that its behaviour is explicit and tested: Check answers from one flag,
// and Watch streams end as soon as the server stops serving, so they never
// hold a shutdown open. (A graceful stop with connected clients still waits
// up to --shutdown-grace-ms: that is gRPC's sync server, measured with the
// built-in health service too.)
//
// Check("") and Check(<a verity.v1 service name>) answer SERVING until
// SetNotServing(); any other name is NOT_FOUND, as the protocol says.
// Watch streams are open to everyone (no key), and each holds one of the
// sync server's threads, so at most kMaxWatchStreams run at once; one more
// is RESOURCE_EXHAUSTED naming the limit. That keeps the room verityd's
// thread quota leaves beyond --max-concurrent-calls (64) for Check calls.
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <atomic>
#include <set>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"

namespace verity::server {

class HealthServiceImpl final : public grpc::health::v1::Health::Service {
 public:
  static constexpr int kMaxWatchStreams = 16;

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
  std::atomic<int> watch_streams_{0};
};

}  // namespace verity::server
