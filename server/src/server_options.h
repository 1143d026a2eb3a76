// ServerOptions: everything verityd can be told, with defaults, parsed from
// flags and an optional config file. Each limit is enforced by the services
// with an error that names it (e.g. "--max-k=1000").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "verity/monitor.h"
#include "verity/status.h"

namespace verity::server {

struct ServerOptions {
  std::string listen = "127.0.0.1:7420";  // --listen HOST:PORT
  std::string data_dir = "./verity-data";  // --data DIR
  // Largest request or response message. Default: 64 MiB
  uint32_t max_message_bytes = 64u << 20;
  // Most records (or ids, or queries) in one call. Default: 10000
  uint32_t max_batch = 10000;
  // Largest k of a search. Default: 1000
  uint32_t max_k = 1000;
  // Most hits one BatchSearch may return, counted before it runs as the sum
  // of each query's min(k, rows): each hit held costs a few hundred bytes of
  // memory until the answer is sent. Default: 1000000
  uint32_t max_batch_hits = 1000000;
  // Largest collection dimension (at most the engine's 4096). Default: 4096
  uint32_t max_dimension = 4096;
  // Deadline for calls whose client set none, in milliseconds. Default: 30000
  uint32_t default_deadline_ms = 30000;
  // Concurrent streams (calls) per client connection. Default: 256
  uint32_t max_concurrent_streams = 256;
  // Calls running at once, over all connections; more are refused at once
  // with RESOURCE_EXHAUSTED (not queued). Health checks are not counted.
  // Default: 256
  uint32_t max_concurrent_calls = 256;
  // Memory gRPC may use for connections and messages in flight (its
  // resource quota), in MiB; beyond it, new calls are refused. Default: 1024
  uint32_t memory_quota_mb = 1024;
  // Connections without a call for this long are closed (clients reconnect
  // on their next call); 0 = never. Default: 600000 (10 minutes)
  uint32_t max_connection_idle_ms = 600000;
  // Requests slower than this are logged. Default: 250 ms
  uint32_t slow_request_ms = 250;
  // On SIGTERM / SIGINT, how long running calls may take to finish before
  // they are cancelled. (gRPC's sync server also holds idle connections'
  // pending calls until then, so this is also how long a stop takes while
  // clients stay connected.) Default: 2000 ms
  uint32_t shutdown_grace_ms = 2000;
  // fsync the WAL before acknowledging a write. Default: true
  bool sync_writes = true;
  // --wal-recovery point-in-time|skip-corrupted: how a write-ahead log
  // damaged in the middle is replayed (verity::WalRecovery).
  bool wal_skip_corrupted = false;
  // Where Export writes and Import reads export directories; clients name
  // a directory inside it, never a path. Created on demand. Default: "" =
  // <data dir>/exports
  std::string export_dir;
  // Background GC of every collection every this many seconds; 0 = only on
  // demand (the Gc call). Default: 600
  uint32_t gc_interval_seconds = 600;
  // Retrieval-log records older than this are removed by the background GC,
  // releasing the versions only they kept; 0 = keep forever.
  // Default: 31536000 (365 days)
  uint32_t log_retention_seconds = 365u * 24 * 3600;
  // LLMOps monitoring (docs/monitoring.md): --toxicity-languages (comma
  // list; default every list), --toxicity-allow-file (one term per line),
  // --toxicity-flag-queries, --monitor-low-g, --annotate-answers,
  // --observe-retrievals, and the --monitor-* sizes of its references.
  MonitorOptions monitor;

  // API keys file (docs/security.md): lines `NAME ROLE SHA256-OF-KEY`.
  // Default: "" = no keys, every caller may do everything, which verityd
  // allows only on a local address (127.0.0.0/8, ::1, localhost, unix:).
  std::string keys_file;
  // Serve a non-local address without keys. Default: false (refuse to start)
  bool allow_unauthenticated = false;
  // TLS: the server's certificate chain and private key (PEM). Both or
  // neither. Default: "" = plaintext
  std::string tls_cert_file;
  std::string tls_key_file;
  // mTLS: accept only clients whose certificate this CA (PEM) signed.
  // Needs --tls-cert. Default: "" = no client certificate asked
  std::string tls_client_ca_file;

  // The HTTP/JSON API, /openapi.json, /metrics and the web console at
  // http://ADDRESS/ (docs/http.md). Default: "" = off. Same keys, TLS and
  // limits as the gRPC listener.
  std::string http_listen;
  // The web console's built files (console/dist), served at /console/.
  // Default: the source tree's console/dist (compiled in).
  std::string console_dir;

  // Prometheus metrics over HTTP at http://ADDRESS/metrics (docs/metrics.md).
  // Default: "" = off. The endpoint has no authentication: an address
  // other than loopback also needs metrics_allow_remote.
  std::string metrics_listen;
  // Serve --metrics-listen on a non-loopback address. Default: false
  bool metrics_allow_remote = false;

  // --export-dir, or its default under the data directory.
  std::string ExportDir() const { return export_dir.empty() ? data_dir + "/exports" : export_dir; }
};

// The usage text (flags, defaults, exit codes).
std::string Usage();

// Parses argv (without argv[0]). `--config FILE` reads `name = value` lines
// (the flag names without "--"; '#' starts a comment); flags given on the
// command line win over the file. Errors: InvalidArgument naming the flag or
// file line. Sets *help when --help was given.
Status ParseServerOptions(const std::vector<std::string>& args, ServerOptions* options, bool* help);

}  // namespace verity::server
