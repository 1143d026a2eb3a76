#include "server_options.h"

#include <charconv>
#include <fstream>
#include <map>

#include "address.h"

namespace verity::server {
namespace {

Status ParseUint(const std::string& name, const std::string& value, uint64_t max, uint32_t* out, uint64_t min = 1) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || ptr != value.data() + value.size() || v < min || v > max) {
    return Status::InvalidArgument("--" + name + ": \"" + value + "\" is not an integer in " + std::to_string(min) +
                                   ".." + std::to_string(max));
  }
  *out = static_cast<uint32_t>(v);
  return Status::Ok();
}

Status ParseBool(const std::string& name, const std::string& value, bool* out) {
  if (value == "true") *out = true;
  else if (value == "false") *out = false;
  else return Status::InvalidArgument("--" + name + ": expected true or false, got \"" + value + "\"");
  return Status::Ok();
}

// --toxicity-languages: "en,de" (empty items refused).
Status ParseList(const std::string& name, const std::string& value, std::vector<std::string>* out) {
  out->clear();
  size_t start = 0;
  while (start <= value.size()) {
    const size_t comma = std::min(value.find(',', start), value.size());
    if (comma == start) return Status::InvalidArgument("--" + name + ": an empty item in \"" + value + "\"");
    out->push_back(value.substr(start, comma - start));
    start = comma + 1;
  }
  return Status::Ok();
}

// --toxicity-allow-file: one term per line; blank lines and lines starting
// with '#' are skipped (the engine checks each term).
Status ReadAllowFile(const std::string& path, std::vector<std::string>* out) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("--toxicity-allow-file: cannot read " + path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    out->push_back(line);
  }
  return Status::Ok();
}

Status ParseFraction(const std::string& name, const std::string& value, double* out) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || ptr != value.data() + value.size() || !(v >= 0 && v <= 1)) {
    return Status::InvalidArgument("--" + name + ": \"" + value + "\" is not a number in [0, 1]");
  }
  *out = v;
  return Status::Ok();
}

// A size_t option through ParseUint (its range fits 32 bits).
Status ParseSize(const std::string& name, const std::string& value, uint64_t min, uint64_t max, size_t* out) {
  uint32_t v = 0;
  VERITY_RETURN_IF_ERROR(ParseUint(name, value, max, &v, min));
  *out = v;
  return Status::Ok();
}

// The sizes of the monitor's references and windows (MonitorOptions'
// ranges; the engine checks that centroid_sample is at least
// drift_centroids). Unknown names: InvalidArgument.
Status ApplyMonitorSize(const std::string& name, const std::string& value, MonitorOptions* m) {
  if (name == "monitor-weak-reference-size") return ParseSize(name, value, 20, 1u << 20, &m->weak_reference_size);
  if (name == "monitor-weak-percentile") return ParseUint(name, value, 50, &m->weak_percentile, 1);
  if (name == "monitor-drift-reference-size") return ParseSize(name, value, 100, 1u << 20, &m->drift_reference_size);
  if (name == "monitor-drift-current-size") return ParseSize(name, value, 100, 1u << 20, &m->drift_current_size);
  if (name == "monitor-drift-centroids") return ParseSize(name, value, 1, 4096, &m->drift_centroids);
  if (name == "monitor-centroid-sample") return ParseSize(name, value, 1, 100000, &m->centroid_sample);
  return Status::InvalidArgument("unknown option --" + name + " (see --help)");
}

Status Apply(const std::string& name, const std::string& value, ServerOptions* o) {
  if (name == "listen") o->listen = value;
  else if (name == "data") o->data_dir = value;
  else if (name == "max-message-bytes") return ParseUint(name, value, 1u << 30, &o->max_message_bytes);
  else if (name == "max-batch") return ParseUint(name, value, 100000, &o->max_batch);
  else if (name == "max-k") return ParseUint(name, value, 10000, &o->max_k);
  else if (name == "max-batch-hits") return ParseUint(name, value, 100000000, &o->max_batch_hits);
  else if (name == "max-dimension") return ParseUint(name, value, 4096, &o->max_dimension);
  else if (name == "default-deadline-ms") return ParseUint(name, value, 86400000, &o->default_deadline_ms);
  else if (name == "max-concurrent-streams") return ParseUint(name, value, 100000, &o->max_concurrent_streams);
  else if (name == "max-concurrent-calls") return ParseUint(name, value, 100000, &o->max_concurrent_calls);
  else if (name == "memory-quota-mb") return ParseUint(name, value, 1u << 20, &o->memory_quota_mb, 16);
  else if (name == "max-connection-idle-ms") return ParseUint(name, value, 86400000, &o->max_connection_idle_ms, 0);
  else if (name == "shutdown-grace-ms") return ParseUint(name, value, 600000, &o->shutdown_grace_ms);
  else if (name == "slow-request-ms") return ParseUint(name, value, 86400000, &o->slow_request_ms);
  else if (name == "gc-interval-seconds") return ParseUint(name, value, 31536000, &o->gc_interval_seconds, 0);
  else if (name == "log-retention-seconds") return ParseUint(name, value, 3153600000u, &o->log_retention_seconds, 0);
  else if (name == "export-dir") o->export_dir = value;
  else if (name == "toxicity-languages") return ParseList(name, value, &o->monitor.toxicity_languages);
  else if (name == "toxicity-allow-file") return ReadAllowFile(value, &o->monitor.toxicity_allow);
  else if (name == "monitor-low-g") return ParseFraction(name, value, &o->monitor.low_g);
  else if (name == "annotate-answers") return ParseBool(name, value, &o->monitor.annotate_answers);
  else if (name == "observe-retrievals") return ParseBool(name, value, &o->monitor.observe_retrievals);
  else if (name == "toxicity-flag-queries") return ParseBool(name, value, &o->monitor.flag_queries);
  else if (name.rfind("monitor-", 0) == 0) return ApplyMonitorSize(name, value, &o->monitor);
  else if (name == "sync-writes") return ParseBool(name, value, &o->sync_writes);
  else if (name == "wal-recovery") {
    if (value == "point-in-time") o->wal_skip_corrupted = false;
    else if (value == "skip-corrupted") o->wal_skip_corrupted = true;
    else return Status::InvalidArgument("--wal-recovery: expected point-in-time or skip-corrupted, got \"" + value + "\"");
  }
  else if (name == "allow-unauthenticated") return ParseBool(name, value, &o->allow_unauthenticated);
  else if (name == "keys") o->keys_file = value;
  else if (name == "http-listen") o->http_listen = value;
  else if (name == "console-dir") o->console_dir = value;
  else if (name == "metrics-listen")
    o->metrics_listen = value;
  else if (name == "metrics-allow-remote")
    return ParseBool(name, value, &o->metrics_allow_remote);
  else if (name == "tls-cert") o->tls_cert_file = value;
  else if (name == "tls-key") o->tls_key_file = value;
  else if (name == "tls-client-ca") o->tls_client_ca_file = value;
  else {
    return Status::InvalidArgument("unknown option --" + name + " (see --help)");
  }
  if (value.empty()) return Status::InvalidArgument("--" + name + ": empty value");
  return Status::Ok();
}

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

}  // namespace

std::string Usage() {
  ServerOptions d;
  return "usage: verityd [--listen HOST:PORT] [--data DIR] [--config FILE] [options]\n"
         "\n"
         "  --listen HOST:PORT          address to serve gRPC on (default " +
         d.listen +
         ")\n"
         "  --data DIR                  data directory (default " +
         d.data_dir +
         ")\n"
         "  --config FILE               read 'name = value' lines (flag names without --)\n"
         "  --max-message-bytes N       largest message (default " +
         std::to_string(d.max_message_bytes) +
         ")\n"
         "  --max-batch N               most records, ids or queries per call (default " +
         std::to_string(d.max_batch) +
         ")\n"
         "  --max-k N                   largest k of a search (default " +
         std::to_string(d.max_k) +
         ")\n"
         "  --max-batch-hits N          most hits one BatchSearch may return (default " +
         std::to_string(d.max_batch_hits) +
         ")\n"
         "  --max-dimension N           largest collection dimension (default " +
         std::to_string(d.max_dimension) +
         ")\n"
         "  --default-deadline-ms N     deadline for calls that set none (default " +
         std::to_string(d.default_deadline_ms) +
         ")\n"
         "  --max-concurrent-streams N  concurrent calls per connection (default " +
         std::to_string(d.max_concurrent_streams) +
         ")\n"
         "  --max-concurrent-calls N    calls running at once; more get RESOURCE_EXHAUSTED (default " +
         std::to_string(d.max_concurrent_calls) +
         ")\n"
         "  --memory-quota-mb N         memory for connections and messages in flight (default " +
         std::to_string(d.memory_quota_mb) +
         ")\n"
         "  --max-connection-idle-ms N  close connections idle this long; 0 = never (default " +
         std::to_string(d.max_connection_idle_ms) +
         ")\n"
         "  --slow-request-ms N         log requests slower than this (default " +
         std::to_string(d.slow_request_ms) +
         ")\n"
         "  --shutdown-grace-ms N       on SIGTERM, time running calls get to finish (default " +
         std::to_string(d.shutdown_grace_ms) +
         ")\n"
         "  --sync-writes true|false    fsync before acknowledging writes (default true)\n"
         "  --wal-recovery point-in-time|skip-corrupted\n"
         "                              a write-ahead log damaged in the middle: refuse to start, or replay\n"
         "                              what is intact and lose the damaged writes (docs/reliability.md;\n"
         "                              default point-in-time)\n"
         "  --export-dir DIR            where Export writes and Import reads (default DATA/exports)\n"
         "  --gc-interval-seconds N     background GC of every collection; 0 = off (default " +
         std::to_string(d.gc_interval_seconds) +
         ")\n"
         "  --log-retention-seconds N   keep retrieval-log records this long; 0 = forever (default " +
         std::to_string(d.log_retention_seconds) +
         ")\n"
         "\n"
         "LLMOps monitoring (docs/monitoring.md):\n"
         "  --toxicity-languages LIST   the word lists that flag answers, e.g. en,de (default: every\n"
         "                              language; set the languages your answers are written in)\n"
         "  --toxicity-allow-file FILE  terms never flagged, one per line (# comments)\n"
         "  --toxicity-flag-queries true|false\n"
         "                              also match the retrievals' query texts; recorded in the\n"
         "                              annotation, no flag of the answer (default false)\n"
         "  --monitor-low-g G           answers with groundedness below G are flagged (default 0.6)\n"
         "  --annotate-answers true|false\n"
         "                              annotate each answer when recorded (default true)\n"
         "  --observe-retrievals true|false\n"
         "                              feed retrievals to the live drift and weakness state (default true)\n"
         "  --monitor-weak-reference-size N, --monitor-weak-percentile P\n"
         "                              top-1 values in a leg's weakness reference, 20..1048576 (default\n"
         "                              1000); weak below its P-th percentile, 1..50 (default 5)\n"
         "  --monitor-drift-reference-size N, --monitor-drift-current-size N\n"
         "                              drift windows, 100..1048576 (default 1000 and 500)\n"
         "  --monitor-drift-centroids N, --monitor-centroid-sample N\n"
         "                              centroids of the dense region signal, 1..4096 (default 64), trained\n"
         "                              on the first N rows, centroids..100000 (default 5000)\n"
         "\n"
         "HTTP/JSON API and web console (docs/http.md, docs/console.md):\n"
         "  --http-listen HOST:PORT     serve the JSON API (POST /v1/<Service>/<Method>), /openapi.json,\n"
         "                              /metrics and the console (/console/); same keys and TLS as\n"
         "                              --listen (default: off)\n"
         "  --console-dir DIR           the console's built files (default " VERITY_CONSOLE_DIR ")\n"
         "\n"
         "metrics (docs/metrics.md):\n"
         "  --metrics-listen HOST:PORT  serve Prometheus metrics at http://HOST:PORT/metrics (default: off)\n"
         "  --metrics-allow-remote true|false\n"
         "                              allow a non-loopback --metrics-listen; it has no auth (default false)\n"
         "\n"
         "security (docs/security.md):\n"
         "  --keys FILE                 API keys: lines 'NAME ROLE SHA256-OF-KEY' (default: none)\n"
         "  --allow-unauthenticated true|false\n"
         "                              serve a non-local address without --keys (default false)\n"
         "  --tls-cert FILE             TLS certificate chain (PEM); with --tls-key\n"
         "  --tls-key FILE              TLS private key (PEM)\n"
         "  --tls-client-ca FILE        mTLS: require client certificates signed by this CA\n"
         "\n"
         "exit codes: 0 clean shutdown; 1 bad flags; 2 data directory in use or unusable;\n"
         "            3 cannot listen on the address\n";
}

Status ParseServerOptions(const std::vector<std::string>& args, ServerOptions* options, bool* help) {
  *help = false;
  std::vector<std::pair<std::string, std::string>> flags;
  std::string config;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "--help" || arg == "-h") {
      *help = true;
      return Status::Ok();
    }
    if (arg.rfind("--", 0) != 0) return Status::InvalidArgument("unexpected argument \"" + arg + "\" (see --help)");
    std::string name = arg.substr(2);
    std::string value;
    const auto eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else {
      if (i + 1 >= args.size()) return Status::InvalidArgument("--" + name + " needs a value");
      value = args[++i];
    }
    if (name == "config") config = value;
    else flags.emplace_back(name, value);
  }
  if (!config.empty()) {
    std::ifstream in(config);
    if (!in) return Status::InvalidArgument("--config: cannot read " + config);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      line = Trim(line.substr(0, line.find('#')));
      if (line.empty()) continue;
      const auto eq = line.find('=');
      if (eq == std::string::npos) {
        return Status::InvalidArgument(config + ":" + std::to_string(number) + ": expected 'name = value'");
      }
      Status s = Apply(Trim(line.substr(0, eq)), Trim(line.substr(eq + 1)), options);
      if (!s.ok()) return s.WithPrefix(config + ":" + std::to_string(number));
    }
  }
  for (const auto& [name, value] : flags) VERITY_RETURN_IF_ERROR(Apply(name, value, options));
  if (std::string error = wire::AddressError(options->listen, "--listen", /*port_zero=*/true); !error.empty()) {
    return Status::InvalidArgument(error);
  }
  if (!options->http_listen.empty()) {
    if (std::string error = wire::AddressError(options->http_listen, "--http-listen", true); !error.empty()) {
      return Status::InvalidArgument(error);
    }
  }
  if (options->console_dir.empty()) options->console_dir = VERITY_CONSOLE_DIR;
  if (!options->metrics_listen.empty()) {
    if (std::string error = wire::AddressError(options->metrics_listen, "--metrics-listen", true); !error.empty()) {
      return Status::InvalidArgument(error);
    }
  }
  if (options->tls_cert_file.empty() != options->tls_key_file.empty()) {
    return Status::InvalidArgument("--tls-cert and --tls-key go together: give both or neither");
  }
  if (!options->metrics_listen.empty() && !wire::IsLocalAddress(options->metrics_listen) &&
      !options->metrics_allow_remote) {
    return Status::InvalidArgument("--metrics-listen " + options->metrics_listen +
                                   ": the metrics endpoint has no authentication and names your collections; "
                                   "serve it on loopback, or give --metrics-allow-remote true");
  }
  if (!options->tls_client_ca_file.empty() && options->tls_cert_file.empty()) {
    return Status::InvalidArgument("--tls-client-ca needs --tls-cert and --tls-key (mTLS is TLS with client certificates)");
  }
  return Status::Ok();
}

}  // namespace verity::server
