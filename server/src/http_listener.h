// An HTTP/1.1 listener on cpp-httplib (Debian's libcpp-httplib-dev), for
// verityd's HTTP endpoints: /metrics (--metrics-listen), and the JSON API,
// /openapi.json, /metrics and the web console (--http-listen, with
// HttpGateway, http_gateway.h).
//
// httplib parses requests and routes them; this class owns how connections
// are served, which httplib's defaults leave open:
//  - concurrency: each connection is served on a thread of its own from a
//    pool that grows on demand to `max_connections` threads and no further;
//    a connection accepted while that many are being served is answered
//    503 at once and closed by the accepting thread, so idle or slow
//    clients cannot pile up threads, and a few of them cannot hold the
//    endpoint (the old listener served one connection at a time);
//  - time: a connection waits at most `idle_timeout` for each request to
//    start, and a request gets `request_timeout` from its first byte until
//    its response is sent, however slowly its bytes trickle in (httplib's
//    own timeouts apply to each read, not to the request); a handler that
//    works for longer (an API call under its own deadline) sets a new
//    deadline for the rest with SetResponseDeadline;
//  - size: a request (head and body) of more than `max_request_bytes` is
//    cut there (httplib answers 414 or 400 for a cut head, 413 for a body
//    that declares more);
//  - keep-alive: at most `max_requests_per_connection` requests on one
//    connection; a response with an error status closes it (the request
//    may have left bytes unread);
//  - the listening socket uses SO_REUSEADDR (httplib's default sets
//    SO_REUSEPORT instead, which would let a second process share the port);
//  - Stop ends connections being served at once, not after their timeouts;
//  - TLS and mTLS with OpenSSL, on the same bounded waits.
// Sockets are waited on with poll, so descriptors above FD_SETSIZE are fine.
//
// Thread-safety: add routes (server()) before Start; after it, only port(),
// Stop() and the destructor. Handlers run on the pool's threads, several at
// once. Ownership: the listener owns its socket, threads and the
// httplib::Server; handlers must stay valid until Stop() returns.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "verity/status.h"

namespace verity::server {

struct HttpListenerOptions {
  // The flag the address came from, named in errors. Default: "--http-listen"
  std::string flag = "--http-listen";
  // Connections served at once (one thread each); one more is answered 503
  // and closed. Default: 64
  int max_connections = 64;
  // How long a connection may stay open without starting a request (the
  // first, or the next on a kept-alive connection). Default: 5 s
  std::chrono::milliseconds idle_timeout{5000};
  // From a request's first byte until its response is sent. Default: 5 s
  std::chrono::milliseconds request_timeout{5000};
  // Bytes of one request, head and body. Default: 64 KiB
  size_t max_request_bytes = 64 << 10;
  // Requests served on one kept-alive connection before it is closed.
  // Default: 100
  int max_requests_per_connection = 100;
  // TLS (OpenSSL): the certificate chain and private key (PEM), both or
  // neither; with `tls_client_ca_file`, only clients whose certificate that
  // CA signed are served (mTLS). The handshake counts in the first
  // request's time. Default: "" = plaintext
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // The flags the TLS files came from, named in errors.
  std::string tls_flags = "--tls-cert/--tls-key";
  // Hostnames (lowercased, no port, IPv6 without brackets) a request's Host
  // header may name; another is answered 403 (a browser page cannot then
  // reach the listener by DNS rebinding). A request without Host passes.
  // Default: empty = any
  std::set<std::string> allowed_hosts;
  // The body of the listener's own error answers (a request cut or without
  // a length, a method not allowed, an unknown path, a handler's exception,
  // a Host not allowed; not the 503 for too many connections, written
  // before the request is read): given the HTTP status
  // and a line of text, sets the response's content. Default: the text as
  // text/plain. The JSON API answers them in its JSON error form.
  std::function<void(int status, const std::string& text, httplib::Response& res)> error_body;
};

class HttpListener {
 public:
  explicit HttpListener(HttpListenerOptions options);
  ~HttpListener();  // Stop()
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // The routes: add handlers here before Start (e.g. server().Get(...)).
  httplib::Server& server();

  // Adds GET (and HEAD) `path` (an exact path), answered by `handler`;
  // another method on `path` is answered 405 with "Allow: GET, HEAD".
  void Get(const std::string& path, httplib::Server::Handler handler);

  // Binds `address` (HOST:PORT or [IPv6]:PORT; port 0 = any free port) and
  // serves on a thread of its own until Stop; once only. Errors: InvalidArgument (the
  // address does not parse or resolve, or the TLS files cannot be used), Unavailable (cannot bind, naming
  // why, e.g. "Address already in use"), FailedPrecondition (started twice).
  // Both name the flag.
  Status Start(const std::string& address);

  // The bound port (after Start).
  int port() const { return port_; }

  // Stops accepting, ends the connections being served (a response being
  // written is cut) and joins every thread. Idempotent.
  void Stop();

  // Called by a handler (on the thread serving the request): the rest of
  // the request — writing its response, or each chunk of a streamed one —
  // must be done by `deadline`, replacing `request_timeout` from the first
  // byte. No effect outside a handler.
  static void SetResponseDeadline(std::chrono::steady_clock::time_point deadline);

  // Connections answered 503 because `max_connections` were being served.
  uint64_t refused_connections() const { return refused_.load(std::memory_order_relaxed); }

 private:
  class Server;
  class ConnectionPool;

  // The listener's own error answer: options_.error_body, or text.
  void SetErrorBody(int status, const std::string& text, httplib::Response& res) const;
  class Tls;

  // Connections the kernel holds for the accepting thread (httplib's own
  // backlog is 5).
  static constexpr int kListenBacklog = 128;

  const HttpListenerOptions options_;
  std::unique_ptr<Tls> tls_;  // set by Start when TLS is on; outlives server_'s connections
  std::unique_ptr<Server> server_;
  std::set<std::string> get_only_paths_;  // written before Start, read by handlers
  std::thread thread_;
  bool started_ = false;
  std::atomic<bool> listen_returned_{false};
  std::atomic<uint64_t> refused_{0};
  int port_ = 0;
};

}  // namespace verity::server
