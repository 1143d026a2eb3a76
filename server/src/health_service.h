// The standard grpc.health.v1.Health service for verityd, the project's own
// so that its behaviour is explicit and tested: Check answers from the
// server's state, and Watch streams end as soon as the server stops
// serving, so they never hold a shutdown open. (A graceful stop with
// connected clients still waits up to --shutdown-grace-ms: that is gRPC's
// sync server, measured with the built-in health service too.)
//
// What Check(service) answers (docs/server.md "Health"):
//  - "" and the verity.v1 services: SERVING until SetNotServing() (the
//    server is stopping), then NOT_SERVING;
//  - kWritesService ("verity.v1.Writes", a name of this health service
//    only): also NOT_SERVING while the database is read-only after a disk
//    error (`read_only` says so), when reads still work and every write is
//    refused;
//  - kContextService: likewise, since each of its methods writes the
//    retrieval log;
//  - any other name: NOT_FOUND, as the protocol says.
// Watch streams are open to everyone (no key), and each holds one of the
// sync server's threads, so at most kMaxWatchStreams run at once, and at
// most kMaxWatchStreamsPerPeer from one client address: one client cannot
// take them all. One more is RESOURCE_EXHAUSTED naming the limit. That
// keeps the room verityd's thread quota leaves beyond
// --max-concurrent-calls (64) for Check calls.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"

namespace verity::server {

// Admission of Watch streams: at most `total` at once, and at most
// `per_peer` from one client address. Thread-safe.
class WatchSlots {
 public:
  WatchSlots(int total, int per_peer) : total_(total), per_peer_(per_peer) {}

  // Takes a slot for `peer` (a gRPC peer: "ipv4:10.0.0.1:5432",
  // "ipv6:[::1]:5432", "unix:/path"); "" when taken, else why not, naming
  // the limit. Each slot taken is given back with Release(peer).
  std::string Acquire(const std::string& peer);
  void Release(const std::string& peer);

  // The client address of a gRPC peer: its address without the port
  // ("ipv4:10.0.0.1"); every Unix-socket client is the one address "unix".
  static std::string PeerAddress(const std::string& peer);

 private:
  const int total_;
  const int per_peer_;
  std::mutex mu_;
  int used_ = 0;                        // GUARDED_BY(mu_)
  std::map<std::string, int> by_peer_;  // GUARDED_BY(mu_); no zero entries
};

class HealthServiceImpl final : public grpc::health::v1::Health::Service {
 public:
  static constexpr int kMaxWatchStreams = 16;
  static constexpr int kMaxWatchStreamsPerPeer = 4;
  static constexpr const char* kWritesService = "verity.v1.Writes";
  static constexpr const char* kContextService = "verity.v1.ContextService";

  // `services`: the names Check and Watch know besides "" and
  // kWritesService. `read_only`: whether the database refuses writes
  // (called on every Check and every 100 ms of each Watch; must be cheap,
  // thread-safe and outlive the service).
  HealthServiceImpl(std::set<std::string> services, std::function<bool()> read_only);

  void SetNotServing() { serving_ = false; }

  grpc::Status Check(grpc::ServerContext* ctx, const grpc::health::v1::HealthCheckRequest* req,
                     grpc::health::v1::HealthCheckResponse* resp) override;
  grpc::Status Watch(grpc::ServerContext* ctx, const grpc::health::v1::HealthCheckRequest* req,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>* writer) override;

 private:
  grpc::health::v1::HealthCheckResponse::ServingStatus StatusOf(const std::string& service) const;

  const std::set<std::string> services_;
  const std::function<bool()> read_only_;
  std::atomic<bool> serving_{true};
  WatchSlots watch_slots_{kMaxWatchStreams, kMaxWatchStreamsPerPeer};
};

}  // namespace verity::server
