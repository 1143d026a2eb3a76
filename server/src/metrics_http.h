// The metrics endpoint (verityd --metrics-listen): a minimal HTTP/1.1
// server that answers GET /metrics with the Prometheus text format. One
// connection at a time, closed after each response; scrapes are rare and
// small. Anything else gets 404 (another path) or 405 (another method). A
// connection gets 5 s in all; stopping interrupts the one being served.
//
// Thread-safety: Start returns a server whose thread serves until the
// destructor stops it. `render` is called from that thread.
// Ownership: the server owns its socket and thread; `render` must stay
// valid until the server is destroyed.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "verity/status.h"

namespace verity::server {

class MetricsHttpServer {
 public:
  // Listens on `address` (HOST:PORT or [IPv6]:PORT; port 0 = any free
  // port). Errors: InvalidArgument (the address does not parse or resolve),
  // Unavailable (cannot bind or listen, naming why).
  static Result<std::unique_ptr<MetricsHttpServer>> Start(const std::string& address,
                                                          std::function<std::string()> render);
  ~MetricsHttpServer();  // stops accepting, finishes the response in progress, joins
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  int port() const { return port_; }

 private:
  MetricsHttpServer(int listen_fd, int stop_fd, int port, std::function<std::string()> render);
  void Run();
  void Serve(int fd);

  const int listen_fd_;
  const int stop_fd_;  // an eventfd: written by the destructor to wake Run
  const int port_;
  const std::function<std::string()> render_;
  std::thread thread_;
};

}  // namespace verity::server
