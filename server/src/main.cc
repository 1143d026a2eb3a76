// verityd: the Verity gRPC server. See `verityd --help` and docs/server.md.
#include <absl/synchronization/mutex.h>
#include <google/protobuf/stubs/logging.h>
#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>
#include <netdb.h>
#include <sys/socket.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "address.h"
#include "auth.h"
#include "health_service.h"
#include "log.h"
#include "metrics.h"
#include "http_gateway.h"
#include "openapi_document.h"
#include "http_listener.h"
#include "server_options.h"
#include "monitor_service.h"
#include "services.h"
#include "verity/database.h"

namespace verity::server {
namespace {

constexpr int kExitBadFlags = 1;
constexpr int kExitDataDir = 2;
constexpr int kExitListen = 3;

// Why a TCP address cannot be bound (e.g. "Address already in use"), found
// by trying it; "" when it can, or for a Unix socket. gRPC says only that no
// address was added.
std::string WhyCannotListen(const std::string& address) {
  std::string host, port, why;
  if (!wire::SplitHostPort(address, &host, &port)) return "";
  const wire::AddressList found = wire::ListenAddresses(address, &why);
  for (const addrinfo* a = found.get(); a != nullptr && why.empty(); a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0) why = std::strerror(errno);
    close(fd);
  }
  return why;
}

// The wire API's services, as registered below.
const std::vector<std::string> kServices = {"verity.v1.CollectionService", "verity.v1.RecordService",
                                            "verity.v1.SearchService",     "verity.v1.SnapshotService",
                                            "verity.v1.ContextService",    "verity.v1.LogService",
                                            "verity.v1.PromptService",     "verity.v1.CacheService",
                                            "verity.v1.MonitorService"};

Result<std::string> ReadPem(const std::string& flag, const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  if (!in || !(text << in.rdbuf())) return Status::InvalidArgument(flag + ": cannot read " + path);
  if (text.str().find("-----BEGIN") == std::string::npos) {
    return Status::InvalidArgument(flag + ": " + path + " is not a PEM file");
  }
  return text.str();
}

// Checks PEM text with OpenSSL before gRPC sees it, so that a damaged file
// stops the start naming its flag (exit code 1), not as a failed listen:
// `cert` must hold at least one certificate, `key` (when given) a private
// key that belongs to the first certificate.
Status CheckPem(const std::string& cert_flag, const std::string& cert, const std::string& key) {
  using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
  Bio cert_bio(BIO_new_mem_buf(cert.data(), static_cast<int>(cert.size())), &BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> first(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr),
                                                    &X509_free);
  if (!first) return Status::InvalidArgument(cert_flag + ": no readable PEM certificate in it");
  if (key.empty()) return Status::Ok();
  Bio key_bio(BIO_new_mem_buf(key.data(), static_cast<int>(key.size())), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!pkey) return Status::InvalidArgument("--tls-key: no readable unencrypted PEM private key in it");
  if (X509_check_private_key(first.get(), pkey.get()) != 1) {
    return Status::InvalidArgument("--tls-key: the key does not belong to the certificate in --tls-cert");
  }
  return Status::Ok();
}

// Plaintext, TLS, or mTLS (client certificates required and verified).
Result<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const ServerOptions& options) {
  if (options.tls_cert_file.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions tls;
  VERITY_ASSIGN_OR_RETURN(std::string cert, ReadPem("--tls-cert", options.tls_cert_file));
  VERITY_ASSIGN_OR_RETURN(std::string key, ReadPem("--tls-key", options.tls_key_file));
  VERITY_RETURN_IF_ERROR(CheckPem("--tls-cert " + options.tls_cert_file, cert, key));
  tls.pem_key_cert_pairs.push_back({key, cert});
  if (!options.tls_client_ca_file.empty()) {
    VERITY_ASSIGN_OR_RETURN(tls.pem_root_certs, ReadPem("--tls-client-ca", options.tls_client_ca_file));
    VERITY_RETURN_IF_ERROR(CheckPem("--tls-client-ca " + options.tls_client_ca_file, tls.pem_root_certs, ""));
    tls.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(tls);
}

// Keys from --keys; without them, only a local address (or an explicit
// --allow-unauthenticated) may be served.
Result<Authorizer> MakeAuthorizer(const ServerOptions& options) {
  VERITY_ASSIGN_OR_RETURN(auto permissions, MethodPermissions(kServices));
  if (!options.keys_file.empty()) return Authorizer::FromKeysFile(options.keys_file, std::move(permissions));
  const bool remote_http = !options.http_listen.empty() && !IsLocalAddress(options.http_listen);
  if ((!IsLocalAddress(options.listen) || remote_http) && !options.allow_unauthenticated) {
    return Status::InvalidArgument("refusing to serve " + (remote_http ? options.http_listen : options.listen) +
                                   " without API keys: anyone who can connect could read, write and delete. "
                                   "Give --keys FILE (docs/security.md), or --allow-unauthenticated true");
  }
  return Authorizer::AllowAll();
}

// What --http-listen serves (docs/http.md): the JSON API, forwarded to
// `server` through its in-process channel; /openapi.json; /metrics (a
// known key needed when keys are on); the console's files. The listener is
// declared last so that it stops before the gateway goes.
struct HttpApi {
  std::unique_ptr<HttpGateway> gateway;
  std::unique_ptr<HttpListener> listener;
};

Result<HttpApi> StartHttpApi(const ServerOptions& options, grpc::Server* server, const ServerMetrics* metrics,
                             const Database* database, const Authorizer* auth) {
  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  channel_args.SetMaxSendMessageSize(static_cast<int>(options.max_message_bytes));
  HttpApi api;
  VERITY_ASSIGN_OR_RETURN(api.gateway, HttpGateway::Create(server->InProcessChannel(channel_args), kServices));
  HttpListenerOptions http_options;
  http_options.flag = "--http-listen";
  // A JSON body is larger than the message it carries; --max-message-bytes
  // bounds both, and the JSON is checked against it first.
  http_options.max_request_bytes = options.max_message_bytes;
  http_options.request_timeout = std::chrono::milliseconds(30000);  // to read a request; handlers extend it
  // TLS like the gRPC listener's: the same certificate, key and client CA.
  http_options.tls_cert_file = options.tls_cert_file;
  http_options.tls_key_file = options.tls_key_file;
  http_options.tls_client_ca_file = options.tls_client_ca_file;
  // The listener's own refusals (a cut request, no length, a form body,
  // an unknown path) in the API's JSON error form, with the code a client
  // acts on.
  http_options.error_body = [](int status, const std::string& text, httplib::Response& res) {
    const grpc::StatusCode code = status == 404   ? grpc::StatusCode::NOT_FOUND
                                  : status == 413 ? grpc::StatusCode::RESOURCE_EXHAUSTED
                                                  : grpc::StatusCode::INVALID_ARGUMENT;
    res.set_content(ErrorJson(code, text) + "\n", "application/json");
  };
  // Without keys, a browser page could reach a loopback listener by DNS
  // rebinding (a name of its own that resolves to 127.0.0.1): only the
  // listener's own names are accepted in Host then.
  if (!auth->enabled() && IsLocalAddress(options.http_listen)) {
    std::string host, port;
    if (wire::SplitHostPort(options.http_listen, &host, &port)) {
      for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      http_options.allowed_hosts = {"localhost", "127.0.0.1", "::1", host};
    }
  }
  api.listener = std::make_unique<HttpListener>(http_options);
  api.gateway->Register(api.listener.get());
  api.listener->Get("/metrics", [metrics, database, auth](const httplib::Request& req, httplib::Response& res) {
    std::string caller;
    const Status allowed = auth->Authenticate(req.get_header_value("Authorization"), &caller);
    if (!allowed.ok()) {
      res.status = 401;
      res.set_content(ErrorJson(grpc::StatusCode::UNAUTHENTICATED, allowed.message()) + "\n", "application/json");
      return;
    }
    res.set_content(metrics->Render(*database), "text/plain; version=0.0.4; charset=utf-8");
  });
  api.listener->Get("/openapi.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(OpenApiDocument()), "application/json");
  });
  const std::string console = options.console_dir;
  if (console.empty() || !api.listener->server().set_mount_point("/console", console)) {
    api.listener->server().Get("/console(/.*)?", [console](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content("the web console is not built in " + console +
                          ": run scripts/build.sh (npm run build in console/), or give --console-dir\n",
                      "text/plain");
    });
  } else {
    api.listener->server().Get("/console", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/console/");
    });
  }
  api.listener->server().Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("/console/");
  });
  VERITY_RETURN_IF_ERROR(api.listener->Start(options.http_listen));
  return api;
}

int Run(const ServerOptions& options) {
  // SIGTERM and SIGINT are taken by sigwait below, in this thread only; every
  // thread started from here on inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto auth = MakeAuthorizer(options);
  auto credentials =
      auth.ok() ? ServerCredentials(options) : Result<std::shared_ptr<grpc::ServerCredentials>>(auth.status());
  if (!credentials.ok()) {
    Log("error", "bad_security_options", {{"error", credentials.status().message()}});
    std::fprintf(stderr, "verityd: %s\n", credentials.status().message().c_str());
    return kExitBadFlags;
  }

  DatabaseOptions db_options;
  db_options.sync_writes = options.sync_writes;
  db_options.wal_recovery = options.wal_skip_corrupted ? WalRecovery::kSkipCorrupted : WalRecovery::kPointInTime;
  db_options.gc_interval_seconds = options.gc_interval_seconds;
  db_options.log_retention_seconds = options.log_retention_seconds;
  db_options.monitor = options.monitor;
  db_options.log = [](LogLevel level, const std::string& message) {
    Log(level == LogLevel::kInfo ? "info" : level == LogLevel::kWarning ? "warn" : "error", "engine",
        {{"message", message}});
  };
  const auto open_start = std::chrono::steady_clock::now();
  auto db = Database::Open(options.data_dir, db_options);
  if (!db.ok()) {
    Log("error", "open_failed", {{"data", options.data_dir}, {"error", db.status().ToString()}});
    std::fprintf(stderr, "verityd: cannot open data directory %s: %s\n", options.data_dir.c_str(),
                 db.status().message().c_str());
    return kExitDataDir;
  }
  const auto open_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - open_start).count();

  // Exports that died (a crash, a kill) left their .partial-… directories:
  // the engine removes those that are certainly an export's own
  // (Database::RemoveUnfinishedExports); a failure here is logged, and the
  // server starts anyway.
  auto unfinished = Database::RemoveUnfinishedExports(options.ExportDir());
  if (!unfinished.ok()) {
    Log("warn", "unfinished_exports", {{"export_dir", options.ExportDir()}, {"error", unfinished.status().message()}});
  } else {
    for (const auto& path : unfinished->removed) Log("info", "removed_unfinished_export", {{"path", path}});
    for (const auto& error : unfinished->errors) Log("warn", "unfinished_export_kept", {{"error", error}});
  }

  CallLimiter limiter(options.max_concurrent_calls);
  LogThrottle denials;
  ServerMetrics metrics;
  const ServiceDeps deps{db->get(), &options, &*auth, &limiter, &denials, &metrics};
  CollectionServiceImpl collections(deps);
  RecordServiceImpl records(deps);
  SearchServiceImpl search(deps);
  SnapshotServiceImpl snapshots(deps);
  ContextServiceImpl context(deps);
  LogServiceImpl log_service(deps);
  PromptServiceImpl prompts(deps);
  CacheServiceImpl cache(deps);
  MonitorServiceImpl monitor(deps);

  // The health service answers everyone, with or without a key: it tells
  // only whether the server is serving.
  // Writes report NOT_SERVING while the database is read-only.
  const Database* database = db->get();
  HealthServiceImpl health({kServices.begin(), kServices.end()}, [database] { return database->IsReadOnly(); });
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, *credentials, &port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(options.max_message_bytes));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, static_cast<int>(options.max_concurrent_streams));
  // Bounded resources: gRPC's memory for connections and messages, and its
  // sync-server threads (the calls the limiter admits, plus room for health
  // checks, Watch streams and gRPC's own pollers); beyond them gRPC itself
  // answers RESOURCE_EXHAUSTED.
  grpc::ResourceQuota quota("verityd");
  quota.Resize(static_cast<size_t>(options.memory_quota_mb) << 20);
  quota.SetMaxThreads(static_cast<int>(std::min<uint32_t>(options.max_concurrent_calls, 100000) + 64));
  builder.SetResourceQuota(quota);
  if (options.max_connection_idle_ms > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, static_cast<int>(options.max_connection_idle_ms));
  }
  // A second server on the same port must fail, not share it silently.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(&collections);
  builder.RegisterService(&records);
  builder.RegisterService(&search);
  builder.RegisterService(&snapshots);
  builder.RegisterService(&context);
  builder.RegisterService(&log_service);
  builder.RegisterService(&prompts);
  builder.RegisterService(&cache);
  builder.RegisterService(&monitor);
  builder.RegisterService(&health);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    const std::string why = WhyCannotListen(options.listen);
    Log("error", "listen_failed", {{"listen", options.listen}, {"error", why}});
    std::fprintf(stderr, "verityd: cannot listen on %s%s\n", options.listen.c_str(), why.empty() ? "" : (": " + why).c_str());
    (void)(*db)->Close();
    return kExitListen;
  }
  // The HTTP listener (/metrics): its own threads, at most 64 connections
  // served at once, each request bounded in time and size (http_listener.h).
  std::unique_ptr<HttpListener> metrics_http;
  if (!options.metrics_listen.empty()) {
    HttpListenerOptions http_options;
    http_options.flag = "--metrics-listen";
    http_options.max_request_bytes = 16 << 10;  // a GET: request line and headers
    metrics_http = std::make_unique<HttpListener>(http_options);
    metrics_http->Get("/metrics", [&metrics, database](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics.Render(*database), "text/plain; version=0.0.4; charset=utf-8");
    });
    const Status started = metrics_http->Start(options.metrics_listen);
    if (!started.ok()) {
      Log("error", "listen_failed", {{"metrics_listen", options.metrics_listen}, {"error", started.message()}});
      std::fprintf(stderr, "verityd: %s\n", started.message().c_str());
      metrics_http.reset();
      server->Shutdown();
      server->Wait();
      (void)(*db)->Close();
      return kExitListen;
    }
  }
  HttpApi http_api;
  if (!options.http_listen.empty()) {
    auto started = StartHttpApi(options, server.get(), &metrics, database, &*auth);
    if (!started.ok()) {
      Log("error", "listen_failed", {{"http_listen", options.http_listen}, {"error", started.status().message()}});
      std::fprintf(stderr, "verityd: %s\n", started.status().message().c_str());
      metrics_http.reset();
      server->Shutdown();
      server->Wait();
      (void)(*db)->Close();
      return kExitListen;
    }
    http_api = std::move(*started);
  }
  const auto http_url = [&options](const std::string& address, int bound_port) {
    const bool tls = !options.tls_cert_file.empty() && address == options.http_listen;
    return (tls ? "https://" : "http://") + address.substr(0, address.rfind(':')) + ":" + std::to_string(bound_port);
  };
  Log("info", "start",
      {{"listen", options.listen},
       {"port", std::to_string(port)},
       {"data", options.data_dir},
       {"export_dir", options.ExportDir()},
       {"auth", auth->enabled() ? std::to_string(auth->key_count()) + " keys" : "off"},
       {"tls", options.tls_cert_file.empty()        ? "off"
               : options.tls_client_ca_file.empty() ? "tls"
                                                    : "mtls"},
       {"pid", std::to_string(getpid())},
       {"open_ms", std::to_string(open_ms)},
       {"http", http_api.listener ? http_url(options.http_listen, http_api.listener->port()) : "off"},
       {"metrics", metrics_http ? http_url(options.metrics_listen, metrics_http->port()) + "/metrics" : "off"}});

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  Log("info", "stopping", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  // Stop accepting, let running calls finish (up to --shutdown-grace-ms),
  // then close the database, which persists the graphs.
  health.SetNotServing();
  // No new HTTP calls from here on (they are answered 503): the in-process
  // channel must not create calls once the server is shutting down.
  if (http_api.gateway) http_api.gateway->Close();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(options.shutdown_grace_ms));
  server->Wait();
  // HTTP calls run through the gRPC server, so its shutdown has ended (or,
  // past the grace time, cancelled) the ones started before Close, streams
  // included; the listener then stops at once.
  http_api.listener.reset();
  metrics_http.reset();  // scrapes read the database: stop them before it closes
  Status closed = (*db)->Close();
  if (!closed.ok()) {
    Log("error", "close_failed", {{"error", closed.ToString()}});
    return kExitDataDir;
  }
  Log("info", "stop", {});
  return 0;
}

}  // namespace
}  // namespace verity::server

namespace verity::server {
namespace {

// Protobuf's own log lines as verityd's: a request with a string field that
// is not UTF-8 makes protobuf's parser say so on stderr, and the caller gets
// INVALID_ARGUMENT naming the field (wire/request_parsing.h).
// gRPC's own log lines (e.g. the port it could not bind) as JSON lines, not
// its multi-line text on stderr.
void LogGrpc(gpr_log_func_args* args) {
  Log(args->severity == GPR_LOG_SEVERITY_ERROR ? "error" : "info", "grpc",
      {{"message", args->message}, {"source", std::string(args->file) + ":" + std::to_string(args->line)}});
}

void LogProtobuf(google::protobuf::LogLevel level, const char* filename, int line, const std::string& message) {
  const char* severity = level == google::protobuf::LOGLEVEL_INFO    ? "info"
                         : level == google::protobuf::LOGLEVEL_FATAL ? "error"
                                                                     : "warn";
  Log(severity, "protobuf", {{"message", message}, {"source", std::string(filename) + ":" + std::to_string(line)}});
}

}  // namespace
}  // namespace verity::server

int main(int argc, char** argv) {
  using namespace verity::server;
  google::protobuf::SetLogHandler(&LogProtobuf);
  gpr_set_log_function(&LogGrpc);
  // Debian builds Abseil without NDEBUG, which leaves its mutex deadlock
  // detector on: every lock of gRPC's absl::Mutex then updates a global
  // lock graph (1-2% of verityd's CPU under search load, by perf). Release
  // builds of Abseil turn it off; so do we.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  ServerOptions options;
  bool help = false;
  verity::Status parsed = ParseServerOptions(std::vector<std::string>(argv + 1, argv + argc), &options, &help);
  if (help) {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }
  if (!parsed.ok()) {
    std::fprintf(stderr, "verityd: %s\n", parsed.message().c_str());
    return kExitBadFlags;
  }
  return Run(options);
}
