#include "metrics_http.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "address.h"

namespace verity::server {
namespace {

constexpr size_t kMaxRequestBytes = 8192;
// A connection gets this long in all to send its request and take the
// response; a slow or silent client cannot hold the listener (or a
// shutdown) longer.
constexpr int kConnectionTimeoutMs = 5000;
using Clock = std::chrono::steady_clock;

// Waits until `fd` is ready for `events`, the server is stopping (`stop_fd`
// readable) or `deadline` passes. True only when `fd` is ready.
bool WaitReady(int fd, short events, int stop_fd, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd fds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
    const int n = poll(fds, 2, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || fds[1].revents != 0) return false;
    return (fds[0].revents & (events | POLLHUP | POLLERR)) != 0;
  }
}

// Sends all of `data` before `deadline` (false when it cannot).
bool SendAll(int fd, const std::string& data, int stop_fd, Clock::time_point deadline) {
  size_t sent = 0;
  while (sent < data.size()) {
    if (!WaitReady(fd, POLLOUT, stop_fd, deadline)) return false;
    const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

std::string Response(const char* status, const char* content_type, const std::string& body, bool head) {
  std::string r = std::string("HTTP/1.1 ") + status + "\r\nContent-Type: " + content_type +
                  "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  if (!head) r += body;
  return r;
}

}  // namespace

Result<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(const std::string& address,
                                                                    std::function<std::string()> render) {
  std::string error;
  const wire::AddressList found = wire::ListenAddresses(address, &error);
  if (!found) return Status::InvalidArgument("--metrics-listen: " + error);
  error = "no address";
  for (const addrinfo* a = found.get(); a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      error = std::strerror(errno);
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 16) != 0) {
      error = std::strerror(errno);
      close(fd);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t length = sizeof(bound);
    getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
    const int bound_port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                             : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    const int stop_fd = eventfd(0, EFD_CLOEXEC);
    if (stop_fd < 0) {
      close(fd);
      return Status::Unavailable(std::string("--metrics-listen: eventfd: ") + std::strerror(errno));
    }
    std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer(fd, stop_fd, bound_port, std::move(render)));
    server->thread_ = std::thread([s = server.get()] { s->Run(); });
    return server;
  }
  return Status::Unavailable("--metrics-listen: cannot listen on " + address + ": " + error);
}

MetricsHttpServer::MetricsHttpServer(int listen_fd, int stop_fd, int port, std::function<std::string()> render)
    : listen_fd_(listen_fd), stop_fd_(stop_fd), port_(port), render_(std::move(render)) {}

MetricsHttpServer::~MetricsHttpServer() {
  const uint64_t one = 1;
  if (write(stop_fd_, &one, sizeof(one)) < 0) {
    // An eventfd write fails only on overflow; the thread still wakes.
  }
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
  close(stop_fd_);
}

void MetricsHttpServer::Run() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors or buffers: the connection stays pending and
      // the socket readable, so back off instead of spinning.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        pollfd stop{stop_fd_, POLLIN, 0};
        if (poll(&stop, 1, 100) > 0) return;
      }
      continue;
    }
    Serve(fd);
    close(fd);
  }
}

void MetricsHttpServer::Serve(int fd) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(kConnectionTimeoutMs);
  auto reply = [&](const std::string& response) { SendAll(fd, response, stop_fd_, deadline); };
  // Read the request head (up to the blank line), bounded in size and time.
  std::string request;
  char buffer[2048];
  while (request.find("\r\n\r\n") == std::string::npos && request.find("\n\n") == std::string::npos) {
    if (request.size() >= kMaxRequestBytes) {
      reply(Response("431 Request Header Fields Too Large", "text/plain", "request too large\n", false));
      return;
    }
    if (!WaitReady(fd, POLLIN, stop_fd_, deadline)) return;
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    request.append(buffer, static_cast<size_t>(n));
  }
  const std::string line = request.substr(0, request.find_first_of("\r\n"));
  const size_t space1 = line.find(' ');
  const size_t space2 = space1 == std::string::npos ? std::string::npos : line.find(' ', space1 + 1);
  if (space2 == std::string::npos) {
    reply(Response("400 Bad Request", "text/plain", "bad request line\n", false));
    return;
  }
  const std::string method = line.substr(0, space1);
  std::string path = line.substr(space1 + 1, space2 - space1 - 1);
  path = path.substr(0, path.find('?'));
  const bool head = method == "HEAD";
  if (method != "GET" && !head) {
    reply(Response("405 Method Not Allowed\r\nAllow: GET, HEAD", "text/plain", "only GET and HEAD\n", false));
    return;
  }
  if (path != "/metrics") {
    reply(Response("404 Not Found", "text/plain", "verityd serves metrics at /metrics\n", head));
    return;
  }
  reply(Response("200 OK", "text/plain; version=0.0.4; charset=utf-8", render_(), head));
}

}  // namespace verity::server
