#include "health_service.h"

#include <chrono>
#include <thread>

namespace verity::server {

using grpc::health::v1::HealthCheckResponse;

HealthCheckResponse::ServingStatus HealthServiceImpl::StatusOf(const std::string& service) const {
  if (!service.empty() && services_.count(service) == 0) return HealthCheckResponse::SERVICE_UNKNOWN;
  return serving_ ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
}

grpc::Status HealthServiceImpl::Check(grpc::ServerContext*, const grpc::health::v1::HealthCheckRequest* req,
                                      HealthCheckResponse* resp) {
  const auto status = StatusOf(req->service());
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service \"" + req->service() + "\"");
  }
  resp->set_status(status);
  return grpc::Status::OK;
}

grpc::Status HealthServiceImpl::Watch(grpc::ServerContext* ctx, const grpc::health::v1::HealthCheckRequest* req,
                                      grpc::ServerWriter<HealthCheckResponse>* writer) {
  if (watch_streams_.fetch_add(1) >= kMaxWatchStreams) {
    watch_streams_.fetch_sub(1);
    return grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        "health Watch: at most " + std::to_string(kMaxWatchStreams) + " streams at once; use Check, or close a stream");
  }
  struct Release {
    std::atomic<int>& n;
    ~Release() { n.fetch_sub(1); }
  } release{watch_streams_};
  HealthCheckResponse::ServingStatus last = HealthCheckResponse::UNKNOWN;
  while (!ctx->IsCancelled()) {
    const auto now = StatusOf(req->service());
    if (now != last) {
      HealthCheckResponse resp;
      resp.set_status(now);
      if (!writer->Write(resp)) break;
      last = now;
    }
    if (now == HealthCheckResponse::NOT_SERVING) break;  // shutting down: end the stream
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return grpc::Status::OK;
}

}  // namespace verity::server
