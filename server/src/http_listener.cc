#include "http_listener.h"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <vector>

#include "address.h"

namespace verity::server {
namespace {

using Clock = std::chrono::steady_clock;

// Set by ConnectionPool::enqueue on the accepting thread while it runs a
// connection's task itself, to refuse it: Server::process_and_close_socket
// then answers 503 instead of serving.
thread_local bool t_refuse_connection = false;
// Set while a response with an error status is written (the error handler
// runs for each): the request may have left bytes unread (a body, the rest
// of a bad head), so the connection is closed after the response.
thread_local bool t_close_connection = false;

// Waits until `fd` is ready for `events`, the listener stops (`stop_fd`
// readable) or `deadline` passes; true only when `fd` is ready (a closed or
// failed connection counts as ready: the read or write then says so).
bool WaitReady(int fd, short events, int stop_fd, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd fds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
    const int n = poll(fds, 2, static_cast<int>(std::min<int64_t>(left, 1 << 30)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || fds[1].revents != 0) return false;
    return (fds[0].revents & (events | POLLHUP | POLLERR)) != 0;
  }
}

void Endpoint(const sockaddr_storage& address, std::string& ip, int& port) {
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&address), sizeof(address), host, sizeof(host), service,
                  sizeof(service), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = std::atoi(service);
  }
}

// One accepted connection as httplib reads and writes it: buffered reads,
// and every wait bounded by the current request's deadline and the
// listener's stop. A request's bytes past its budget read as the end of
// the stream, so httplib answers a cut request (414/400) rather than
// reading on.
class ConnectionStream final : public httplib::Stream {
 public:
  // `ssl` (owned by the caller, nullptr for plaintext) reads and writes
  // through TLS; its socket is non-blocking.
  ConnectionStream(int fd, int stop_fd, SSL* ssl = nullptr) : fd_(fd), stop_fd_(stop_fd), ssl_(ssl) {}

  // Whether bytes of a next request are there, or arrive before `until`
  // (false also when the listener stops). A closed connection counts as
  // arrived: the read then finds the end.
  bool WaitForRequest(Clock::time_point until) const {
    return begin_ < end_ || TlsPending() || WaitReady(fd_, POLLIN, stop_fd_, until);
  }
  // A request starts: it may read `budget` bytes and must be answered by
  // `deadline`.
  void BeginRequest(Clock::time_point deadline, size_t budget) {
    deadline_ = deadline;
    budget_ = budget;
  }

  bool is_readable() const override {
    return begin_ < end_ || TlsPending() || WaitReady(fd_, POLLIN, stop_fd_, deadline_);
  }
  bool is_writable() const override { return WaitReady(fd_, POLLOUT, stop_fd_, deadline_); }

  ssize_t read(char* ptr, size_t size) override {
    if (budget_ == 0) return 0;
    while (begin_ == end_) {
      if (ssl_ != nullptr) {
        const ssize_t n = TlsRead();
        if (n <= 0) return n;
        begin_ = 0;
        end_ = static_cast<size_t>(n);
        break;
      }
      if (!WaitReady(fd_, POLLIN, stop_fd_, deadline_)) return -1;
      const ssize_t n = recv(fd_, buffer_, sizeof(buffer_), MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      if (n <= 0) return n;
      begin_ = 0;
      end_ = static_cast<size_t>(n);
    }
    const size_t n = std::min({size, end_ - begin_, budget_});
    std::memcpy(ptr, buffer_ + begin_, n);
    begin_ += n;
    budget_ -= n;
    return static_cast<ssize_t>(n);
  }

  // Writes all of it, or fails (-1) at the deadline, on an error, or when
  // the listener stops.
  ssize_t write(const char* ptr, size_t size) override {
    if (ssl_ != nullptr) return TlsWrite(ptr, size);
    size_t sent = 0;
    while (sent < size) {
      if (!WaitReady(fd_, POLLOUT, stop_fd_, deadline_)) return -1;
      const ssize_t n = send(fd_, ptr + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      if (n <= 0) return -1;
      sent += static_cast<size_t>(n);
    }
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    if (getpeername(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) Endpoint(address, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) Endpoint(address, ip, port);
  }
  socket_t socket() const override { return fd_; }

  // A handler moves the current request's deadline (SetResponseDeadline).
  void SetDeadline(Clock::time_point deadline) { deadline_ = deadline; }

  // Whether the current request reached its byte budget.
  bool cut() const { return budget_ == 0; }

  // Whether a TLS call failed fatally (SSL_ERROR_SSL or _SYSCALL).
  bool tls_failed() const { return tls_failed_; }

  // The TLS handshake, within `deadline`; false when it fails (a client
  // without a certificate mTLS asks for, one that speaks plaintext) or
  // takes too long.
  bool TlsAccept(Clock::time_point deadline) {
    deadline_ = deadline;
    for (;;) {
      ERR_clear_error();
      const int r = SSL_accept(ssl_);
      if (r == 1) return true;
      if (!WaitTls(SSL_get_error(ssl_, r))) return false;
    }
  }

 private:
  bool TlsPending() const { return ssl_ != nullptr && SSL_pending(ssl_) > 0; }

  // After an SSL call returned `error`: waits for what it needs (false when
  // it needs nothing a wait gives: a failure, the end, the deadline).
  bool WaitTls(int error) {
    if (error == SSL_ERROR_WANT_READ) return WaitReady(fd_, POLLIN, stop_fd_, deadline_);
    if (error == SSL_ERROR_WANT_WRITE) return WaitReady(fd_, POLLOUT, stop_fd_, deadline_);
    if (error == SSL_ERROR_SSL || error == SSL_ERROR_SYSCALL) tls_failed_ = true;
    return false;
  }

  // Decrypted bytes into buffer_: how many, 0 at the end, -1 on a failure.
  ssize_t TlsRead() {
    for (;;) {
      ERR_clear_error();
      const int n = SSL_read(ssl_, buffer_, sizeof(buffer_));
      if (n > 0) return n;
      const int error = SSL_get_error(ssl_, n);
      if (error == SSL_ERROR_ZERO_RETURN) return 0;
      if (!WaitTls(error)) return -1;
    }
  }

  ssize_t TlsWrite(const char* ptr, size_t size) {
    size_t sent = 0;
    while (sent < size) {
      ERR_clear_error();
      const int n = SSL_write(ssl_, ptr + sent, static_cast<int>(std::min<size_t>(size - sent, 1 << 30)));
      if (n > 0) {
        sent += static_cast<size_t>(n);
        continue;
      }
      if (!WaitTls(SSL_get_error(ssl_, n))) return -1;
    }
    return static_cast<ssize_t>(size);
  }

  const int fd_;
  const int stop_fd_;
  SSL* const ssl_;
  bool tls_failed_ = false;
  Clock::time_point deadline_ = Clock::now();
  size_t budget_ = 0;
  char buffer_[4096];
  size_t begin_ = 0;
  size_t end_ = 0;
};

// The host of a Host header's value, lowercased: "LocalHost:7422" ->
// "localhost", "[::1]:7422" -> "::1".
std::string HostName(const std::string& value) {
  std::string host = value;
  if (!host.empty() && host[0] == '[') {
    const size_t close = host.find(']');
    host = close == std::string::npos ? host : host.substr(1, close - 1);
  } else if (const size_t colon = host.rfind(':'); colon != std::string::npos) {
    host.resize(colon);
  }
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return host;
}

// The stream the current thread serves, while it serves a request.
thread_local ConnectionStream* t_stream = nullptr;

// Why nothing could bind `address` (e.g. "Address already in use"), found
// by trying each resolved address: httplib says only that it failed.
std::string WhyCannotBind(const std::string& address) {
  std::string why;
  const wire::AddressList found = wire::ListenAddresses(address, &why);
  if (!found) return why;
  for (const addrinfo* a = found.get(); a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0) why = std::strerror(errno);
    close(fd);
  }
  return why.empty() ? "cannot bind" : why;
}

}  // namespace

// httplib's task queue, bounded: each admitted connection gets a thread
// (started when none is idle, kept afterwards), at most `max` at once; a
// connection beyond them is refused on the accepting thread.
class HttpListener::ConnectionPool final : public httplib::TaskQueue {
 public:
  ConnectionPool(size_t max, std::atomic<uint64_t>* refused) : max_(max), refused_(refused) {}
  ~ConnectionPool() override { shutdown(); }

  void enqueue(std::function<void()> task) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (admitted_ < max_ && !shutdown_) {
        ++admitted_;
        tasks_.push_back(std::move(task));
        if (threads_.size() < admitted_) threads_.emplace_back([this] { Work(); });
        ready_.notify_one();
        return;
      }
    }
    refused_->fetch_add(1, std::memory_order_relaxed);
    t_refuse_connection = true;  // the task answers 503 and closes its socket
    task();
    t_refuse_connection = false;
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (shutdown_ && threads_.empty()) return;
      shutdown_ = true;
    }
    ready_.notify_all();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void Work() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      ready_.wait(lock, [this] { return !tasks_.empty() || shutdown_; });
      if (tasks_.empty()) return;  // shutting down, nothing left to serve
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
      --admitted_;
    }
  }

  const size_t max_;
  std::atomic<uint64_t>* const refused_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;  // GUARDED_BY(mu_)
  size_t admitted_ = 0;                      // GUARDED_BY(mu_): queued or being served
  bool shutdown_ = false;                    // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;         // joined by shutdown() on the accepting thread
};

// The listener's TLS context: the certificate, its key, and the CA whose
// client certificates mTLS accepts. Immutable once made; SSL_new from it
// on any thread.
class HttpListener::Tls {
 public:
  static Result<std::unique_ptr<Tls>> Make(const HttpListenerOptions& o) {
    std::unique_ptr<Tls> tls(new Tls(SSL_CTX_new(TLS_server_method())));
    if (tls->ctx_ == nullptr) return Status::Internal("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(tls->ctx_, TLS1_2_VERSION);
    const std::string& flags = o.tls_flags;
    if (SSL_CTX_use_certificate_chain_file(tls->ctx_, o.tls_cert_file.c_str()) != 1) {
      return Status::InvalidArgument(flags + ": cannot use the certificate chain in " + o.tls_cert_file);
    }
    if (SSL_CTX_use_PrivateKey_file(tls->ctx_, o.tls_key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(tls->ctx_) != 1) {
      return Status::InvalidArgument(flags + ": cannot use the private key in " + o.tls_key_file +
                                     " with its certificate");
    }
    if (!o.tls_client_ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(tls->ctx_, o.tls_client_ca_file.c_str(), nullptr) != 1) {
        return Status::InvalidArgument(flags + ": cannot read the client CA " + o.tls_client_ca_file);
      }
      SSL_CTX_set_verify(tls->ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      // The CAs a client may choose its certificate by; and a session id
      // context, without which a resumed TLS 1.2 session fails verification.
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.tls_client_ca_file.c_str());
      if (names != nullptr) SSL_CTX_set_client_CA_list(tls->ctx_, names);
      static const unsigned char kContext[] = "verityd-http";
      SSL_CTX_set_session_id_context(tls->ctx_, kContext, sizeof(kContext) - 1);
    }
    return tls;
  }
  ~Tls() { SSL_CTX_free(ctx_); }
  SSL_CTX* ctx() const { return ctx_; }

 private:
  explicit Tls(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* const ctx_;
};

// httplib::Server with verityd's connection handling: process_and_close_socket
// is httplib's hook for how a connection is read (its TLS server overrides
// it too); process_request parses one request, routes it and writes the
// response through the stream it is given.
class HttpListener::Server final : public httplib::Server {
 public:
  explicit Server(const HttpListenerOptions& options) : options_(options), stop_fd_(eventfd(0, EFD_CLOEXEC)) {}
  ~Server() override {
    if (stop_fd_ >= 0) ::close(stop_fd_);
  }
  bool ok() const { return stop_fd_ >= 0; }
  // Connections are TLS from now on (before the listener starts).
  void SetTls(const Tls* tls) { tls_ = tls; }

  // httplib listens with a backlog of 5, too few for a burst of
  // connections (the rest wait for SYN retries, a second or more); Linux
  // lets a listening socket be given a new backlog.
  void SetBacklog(int backlog) {
    if (::listen(svr_sock_, backlog) != 0) {
      // Keeps httplib's backlog: slower under bursts, still correct.
    }
  }

  // Wakes every connection's waits; they end as if their deadline passed.
  void WakeConnections() {
    const uint64_t one = 1;
    if (::write(stop_fd_, &one, sizeof(one)) < 0) {
      // Fails only on overflow of the counter, which still reads non-zero.
    }
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    if (t_refuse_connection) {
      Refuse(sock, /*tls=*/tls_ != nullptr);
      return true;
    }
    // A response goes out in several writes (head, body, chunks): without
    // TCP_NODELAY, Nagle's algorithm holds the last one back until the
    // client's delayed ACK, some 40 ms, on every request of a kept-alive
    // connection.
    const int one = 1;
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(nullptr, &SSL_free);
    if (tls_ != nullptr) {
      ssl.reset(SSL_new(tls_->ctx()));
      const int flags = fcntl(sock, F_GETFL);
      if (!ssl || flags < 0 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) != 0 || SSL_set_fd(ssl.get(), sock) != 1) {
        ::close(sock);
        return false;
      }
    }
    ConnectionStream stream(sock, stop_fd_, ssl.get());
    if (ssl && !stream.TlsAccept(Clock::now() + options_.request_timeout)) {
      ::close(sock);
      return false;
    }
    bool ok = true;
    for (int served = 0; served < options_.max_requests_per_connection; ++served) {
      if (!stream.WaitForRequest(Clock::now() + options_.idle_timeout)) break;
      stream.BeginRequest(Clock::now() + options_.request_timeout, options_.max_request_bytes);
      bool closed = false;
      const bool last = served + 1 == options_.max_requests_per_connection;
      t_close_connection = false;
      t_stream = &stream;
      ok = process_request(stream, last, closed, nullptr);
      t_stream = nullptr;
      // A cut request, or one answered with an error, may have left bytes
      // unread: close rather than read them as the next request.
      if (!ok || closed || stream.cut() || t_close_connection) break;
    }
    // close_notify, not waited for; not after a fatal TLS error (OpenSSL
    // forbids it then).
    if (ssl && !stream.tls_failed()) SSL_shutdown(ssl.get());
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
  }

  // On the accepting thread, so nothing here may wait: a 503 written only
  // if the socket takes it at once, and what the client already sent read
  // and dropped (closing with unread bytes would reset the connection and
  // could lose the 503).
  // A TLS client expects a handshake, not a plaintext answer: it gets the
  // close only.
  void Refuse(int sock, bool tls) {
    static const std::string response =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\nRetry-After: 1\r\n"
        "Content-Length: 56\r\n\r\nverityd: too many HTTP connections at once; retry later\n";
    if (!tls && send(sock, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
      // The client is gone or its buffer is full: it gets the close only.
    }
    ::shutdown(sock, SHUT_WR);
    // Drop what the client already sent (so the close is not a reset that
    // loses the 503), but at most 16 reads: this runs on the accepting
    // thread, which a client streaming into a refused connection must not
    // hold.
    char drop[4096];
    for (int reads = 0; reads < 16 && recv(sock, drop, sizeof(drop), MSG_DONTWAIT) > 0; ++reads) {
    }
    ::close(sock);
  }

  const HttpListenerOptions& options_;
  const int stop_fd_;
  const Tls* tls_ = nullptr;  // owned by the HttpListener
};

HttpListener::HttpListener(HttpListenerOptions options)
    : options_(std::move(options)), server_(std::make_unique<Server>(options_)) {
  server_->new_task_queue = [this] {
    return new ConnectionPool(static_cast<size_t>(std::max(1, options_.max_connections)), &refused_);
  };
  server_->set_payload_max_length(options_.max_request_bytes);
  // httplib's own timeouts and keep-alive numbers: its socket timeouts (our
  // stream waits with poll, within the request's deadline) and the
  // Keep-Alive header it sends.
  const auto seconds = [](std::chrono::milliseconds ms) {
    return static_cast<time_t>(std::max<int64_t>(1, std::chrono::ceil<std::chrono::seconds>(ms).count()));
  };
  server_->set_read_timeout(seconds(options_.request_timeout));
  server_->set_write_timeout(seconds(options_.request_timeout));
  server_->set_keep_alive_timeout(seconds(options_.idle_timeout));
  server_->set_keep_alive_max_count(static_cast<size_t>(std::max(1, options_.max_requests_per_connection)));
  // Another method on a GET-only path is 405, answered before httplib reads
  // a body (it would wait for the end of the connection for a POST without
  // Content-Length); the error handler then closes the connection.
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!options_.allowed_hosts.empty() && req.has_header("Host") &&
        options_.allowed_hosts.count(HostName(req.get_header_value("Host"))) == 0) {
      res.status = 403;
      SetErrorBody(403,
                   "Host " + req.get_header_value("Host").substr(0, 128) +
                       " is not an address of this server (a guard against DNS rebinding while no API keys are "
                       "configured; docs/http.md)",
                   res);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.method == "GET" || req.method == "HEAD" || get_only_paths_.count(req.path) == 0) {
      // A body without a length (nor chunks) would be read until the client
      // closes, which a client waiting for its answer never does: 411.
      if ((req.method == "POST" || req.method == "PUT" || req.method == "PATCH") &&
          !req.has_header("Content-Length") && req.get_header_value("Transfer-Encoding") != "chunked") {
        res.status = 411;
        SetErrorBody(411, "a request body needs a Content-Length (an empty body: Content-Length: 0)", res);
        return httplib::Server::HandlerResponse::Handled;
      }
      // No endpoint takes a form, and httplib would cut a form body at 8 KiB
      // before any handler sees it (curl -d sends this type by default).
      const std::string type = req.get_header_value("Content-Type");
      if (type.rfind("application/x-www-form-urlencoded", 0) == 0 || type.rfind("multipart/form-data", 0) == 0) {
        res.status = 415;
        SetErrorBody(415, "Content-Type " + type.substr(0, 64) + ": send the body as application/json", res);
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    }
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    SetErrorBody(405, req.path + " takes only GET and HEAD", res);
    return httplib::Server::HandlerResponse::Handled;
  });
  // SO_REUSEADDR (restart while old connections linger in TIME_WAIT), but
  // not httplib's default SO_REUSEPORT: a second verityd must fail to bind.
  server_->set_socket_options([](socket_t sock) {
    const int one = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  });
  // A handler's exception is a 500 without its text (httplib would put the
  // text in a header).
  server_->set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    SetErrorBody(500, "internal error", res);
  });
  // Error statuses get a line of text saying what went wrong.
  server_->set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req,
                                                                     httplib::Response& res) {
    t_close_connection = true;
    if (req.get_header_value("Connection") != "close") res.set_header("Connection", "close");  // else httplib does
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string text;
    switch (res.status) {
      case 400: text = "bad request"; break;
      case 404: text = "no such path: " + req.path; break;
      case 413: text = "request body too large (at most " + std::to_string(options_.max_request_bytes) + " bytes)"; break;
      case 414: text = "request line too long"; break;
      default: return httplib::Server::HandlerResponse::Unhandled;
    }
    SetErrorBody(res.status, text, res);
    return httplib::Server::HandlerResponse::Handled;
  }));
}

HttpListener::~HttpListener() { Stop(); }

void HttpListener::SetErrorBody(int status, const std::string& text, httplib::Response& res) const {
  if (options_.error_body) return options_.error_body(status, text, res);
  res.set_content(text + "\n", "text/plain");
}

httplib::Server& HttpListener::server() { return *server_; }

void HttpListener::Get(const std::string& path, httplib::Server::Handler handler) {
  server_->Get(path, std::move(handler));
  get_only_paths_.insert(path);
}

Status HttpListener::Start(const std::string& address) {
  const std::string& flag = options_.flag;
  if (started_) return Status::FailedPrecondition(flag + ": the listener was already started");
  started_ = true;
  if (!server_->ok()) return Status::Unavailable(flag + ": eventfd: " + std::strerror(errno));
  if (!options_.tls_cert_file.empty()) {
    VERITY_ASSIGN_OR_RETURN(tls_, Tls::Make(options_));
    server_->SetTls(tls_.get());
  }
  std::string host, port_text, error;
  if (!wire::SplitHostPort(address, &host, &port_text) || !wire::ListenAddresses(address, &error)) {
    return Status::InvalidArgument(flag + ": " + (error.empty() ? "expected HOST:PORT or [IPv6]:PORT" : error));
  }
  const int port = std::stoi(port_text);
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
    if (port_ < 0) port_ = 0;
  } else if (server_->bind_to_port(host, port)) {
    port_ = port;
  }
  if (port_ == 0) {
    return Status::Unavailable(flag + ": cannot listen on " + address + ": " + WhyCannotBind(address));
  }
  server_->SetBacklog(kListenBacklog);
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listen_returned_ = true;
  });
  return Status::Ok();
}

void HttpListener::SetResponseDeadline(std::chrono::steady_clock::time_point deadline) {
  if (t_stream != nullptr) t_stream->SetDeadline(deadline);
}

void HttpListener::Stop() {
  if (!thread_.joinable()) return;
  // httplib's stop() acts only once its accept loop runs; wait for that
  // (or for the loop to have ended on an error).
  while (!server_->is_running() && !listen_returned_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server_->WakeConnections();
  server_->stop();
  thread_.join();
}

}  // namespace verity::server
