#include "health_service.h"

#include <chrono>
#include <thread>

namespace verity::server {

using grpc::health::v1::HealthCheckResponse;

std::string WatchSlots::PeerAddress(const std::string& peer) {
  if (peer.rfind("ipv4:", 0) == 0 || peer.rfind("ipv6:", 0) == 0) {
    const size_t colon = peer.rfind(':');
    return colon > 4 ? peer.substr(0, colon) : peer;
  }
  if (peer.rfind("unix:", 0) == 0) return "unix";
  return peer;
}

std::string WatchSlots::Acquire(const std::string& peer) {
  const std::string address = PeerAddress(peer);
  std::lock_guard<std::mutex> lock(mu_);
  if (used_ >= total_) {
    return "health Watch: at most " + std::to_string(total_) +
           " streams at once (all taken); use Check, or retry later";
  }
  int& mine = by_peer_[address];
  if (mine >= per_peer_) {
    return "health Watch: at most " + std::to_string(per_peer_) + " streams per client address (" + address +
           " has " + std::to_string(mine) + "); use Check, or close a stream";
  }
  ++mine;
  ++used_;
  return "";
}

void WatchSlots::Release(const std::string& peer) {
  const std::string address = PeerAddress(peer);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_peer_.find(address);
  if (it == by_peer_.end()) return;
  if (--it->second == 0) by_peer_.erase(it);
  --used_;
}

HealthServiceImpl::HealthServiceImpl(std::set<std::string> services, std::function<bool()> read_only)
    : services_(std::move(services)), read_only_(std::move(read_only)) {}

HealthCheckResponse::ServingStatus HealthServiceImpl::StatusOf(const std::string& service) const {
  const bool writes = service == kWritesService || service == kContextService;
  if (!service.empty() && !writes && services_.count(service) == 0) return HealthCheckResponse::SERVICE_UNKNOWN;
  if (!serving_) return HealthCheckResponse::NOT_SERVING;
  if (writes && read_only_ && read_only_()) return HealthCheckResponse::NOT_SERVING;
  return HealthCheckResponse::SERVING;
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
  const std::string peer = ctx->peer();
  if (std::string refused = watch_slots_.Acquire(peer); !refused.empty()) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, refused);
  }
  struct Release {
    WatchSlots& slots;
    const std::string& peer;
    ~Release() { slots.Release(peer); }
  } release{watch_slots_, peer};
  HealthCheckResponse::ServingStatus last = HealthCheckResponse::UNKNOWN;
  while (!ctx->IsCancelled()) {
    const auto now = StatusOf(req->service());
    if (now != last) {
      HealthCheckResponse resp;
      resp.set_status(now);
      if (!writer->Write(resp)) break;
      last = now;
    }
    if (!serving_) break;  // shutting down: end the stream
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return grpc::Status::OK;
}

}  // namespace verity::server
