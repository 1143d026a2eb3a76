#include "metrics.h"

#include <mutex>

#include "exposition.h"

namespace verity::server {
namespace {

constexpr int kCodes = 17;

using exposition::Bound;
using exposition::Family;
using exposition::Label;
using exposition::Number;
using exposition::Sample;

}  // namespace

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

// --- Histogram ------------------------------------------------------------------

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::Render(const std::string& name, const std::string& labels, std::string* out) const {
  const std::string prefix = labels.empty() ? "" : labels + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    const std::string le = i < bounds_.size() ? Bound(bounds_[i]) : "+Inf";
    Sample(out, name + "_bucket", prefix + "le=\"" + le + "\"", Number(cumulative));
  }
  Sample(out, name + "_sum", labels, Number(sum_.load(std::memory_order_relaxed)));
  // The count is the +Inf bucket, so that the two always agree in one scrape
  // even while observations land.
  Sample(out, name + "_count", labels, Number(cumulative));
}

// --- ServerMetrics ----------------------------------------------------------------

const std::vector<double>& ServerMetrics::LatencyBounds() {
  static const std::vector<double> bounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                             0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return bounds;
}

const std::vector<double>& ServerMetrics::ScoreBounds() {
  static const std::vector<double> bounds = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  return bounds;
}

ServerMetrics::ServerMetrics() = default;

ServerMetrics::MethodStats& ServerMetrics::Stats(const std::string& method) {
  {
    std::shared_lock lock(mu_);
    if (auto it = methods_.find(method); it != methods_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  auto& slot = methods_[method];
  if (!slot) slot = std::make_unique<MethodStats>();
  return *slot;
}

void ServerMetrics::RecordCall(const std::string& method, StatusCode code, std::chrono::nanoseconds elapsed) {
  MethodStats& stats = Stats(method);
  const int index = static_cast<int>(code);
  stats.by_code[index >= 0 && index < kCodes ? index : static_cast<int>(StatusCode::kUnknown)].fetch_add(
      1, std::memory_order_relaxed);
  stats.latency.Observe(std::chrono::duration<double>(elapsed).count());
}

void ServerMetrics::RecordGroundedness(double g, bool batch) { (batch ? batch_audits_ : single_audits_).Observe(g); }

std::string ServerMetrics::Render(const Database& db) const {
  std::string out;
  out.reserve(16384);

  Family(&out, "verity_start_time_seconds", "gauge", "Unix time verityd started.");
  Sample(&out, "verity_start_time_seconds", "",
         Number(static_cast<uint64_t>(
             std::chrono::duration_cast<std::chrono::seconds>(started_.time_since_epoch()).count())));

  Family(&out, "verity_read_only", "gauge",
         "1 while the database refuses writes after a disk error (until verityd restarts), else 0.");
  Sample(&out, "verity_read_only", "", db.IsReadOnly() ? "1" : "0");

  // Calls: counts by method and code, errors by code, latency by method.
  {
    std::shared_lock lock(mu_);
    Family(&out, "verity_rpc_requests_total", "counter",
           "gRPC calls finished, by method and status code (refused calls included).");
    uint64_t errors[kCodes] = {};
    for (const auto& [method, stats] : methods_) {
      for (int code = 0; code < kCodes; ++code) {
        const uint64_t n = stats->by_code[code].load(std::memory_order_relaxed);
        if (n == 0) continue;
        if (code != 0) errors[code] += n;
        Sample(&out, "verity_rpc_requests_total",
               Label("method", method) + "," + Label("code", StatusCodeName(static_cast<StatusCode>(code))), Number(n));
      }
    }
    Family(&out, "verity_rpc_errors_total", "counter", "gRPC calls that did not return OK, by status code.");
    for (int code = 1; code < kCodes; ++code) {
      Sample(&out, "verity_rpc_errors_total", Label("code", StatusCodeName(static_cast<StatusCode>(code))),
             Number(errors[code]));
    }
    Family(&out, "verity_rpc_duration_seconds", "histogram",
           "gRPC call latency in the server, from arrival to the status, by method.");
    for (const auto& [method, stats] : methods_) {
      stats->latency.Render("verity_rpc_duration_seconds", Label("method", method), &out);
    }
  }

  Family(&out, "verity_groundedness_score", "histogram",
         "Groundedness G of audited answers (docs/groundedness.md); audit=\"single\" for Audit calls, "
         "\"batch\" for each answer of an AuditCollection call.");
  single_audits_.Render("verity_groundedness_score", "audit=\"single\"", &out);
  batch_audits_.Render("verity_groundedness_score", "audit=\"batch\"", &out);

  // The engine, read now.
  auto collections = db.ListCollections();
  if (collections.ok()) {
    struct Gauge {
      const char* name;
      const char* help;
      uint64_t (*value)(const CollectionInfo&);
    };
    const Gauge gauges[] = {
        {"verity_collection_records", "Records visible at the head version.",
         [](const CollectionInfo& c) { return c.live_records; }},
        {"verity_collection_head_version", "Newest committed version.",
         [](const CollectionInfo& c) { return c.head_version; }},
        {"verity_collection_versions", "Versions still readable (retained, or pinned by snapshots and the log).",
         [](const CollectionInfo& c) { return c.retained_versions; }},
        {"verity_collection_snapshots", "Snapshots of the collection.",
         [](const CollectionInfo& c) { return c.snapshots; }},
        {"verity_graph_nodes", "Nodes in the HNSW graph (live and dead row versions).",
         [](const CollectionInfo& c) { return c.graph_nodes; }},
        {"verity_graph_dead_nodes", "Graph nodes not visible at the head (replaced or deleted rows).",
         [](const CollectionInfo& c) { return c.dead_nodes; }},
        {"verity_graph_collected_nodes", "Dead graph nodes whose rows GC removed (they only route searches).",
         [](const CollectionInfo& c) { return c.collected_nodes; }},
        {"verity_graph_unsaved_nodes",
         "Graph nodes not yet in the graph file (re-inserted by a start after a crash; see graph checkpoints).",
         [](const CollectionInfo& c) { return c.unsaved_graph_nodes; }},
        {"verity_collection_log_only_rows",
         "Superseded rows kept on disk only for retrieval-log pins (no graph node), as of the last GC.",
         [](const CollectionInfo& c) { return c.log_only_rows; }},
    };
    uint64_t unavailable = 0;
    for (const auto& c : *collections) unavailable += c.unavailable.empty() ? 0 : 1;
    Family(&out, "verity_collections_unavailable", "gauge",
           "Collections found damaged at start (DATA_LOSS on every call; `verity collection list` says why).");
    Sample(&out, "verity_collections_unavailable", "", Number(unavailable));
    for (const Gauge& g : gauges) {
      Family(&out, g.name, "gauge", g.help);
      for (const auto& c : *collections) {
        if (!c.unavailable.empty()) continue;  // nothing of it is read
        Sample(&out, g.name, Label("collection", c.config.name), Number(g.value(c)));
      }
    }
  } else {
    render_errors_.fetch_add(1, std::memory_order_relaxed);
  }

  const CacheStats cache = db.GetCacheStats();
  Family(&out, "verity_cache_hits_total", "counter", "Answer-cache lookups answered from the cache, by match.");
  Sample(&out, "verity_cache_hits_total", "match=\"exact\"", Number(cache.exact_hits));
  Sample(&out, "verity_cache_hits_total", "match=\"semantic\"", Number(cache.semantic_hits));
  Family(&out, "verity_cache_misses_total", "counter", "Answer-cache lookups that found no answer.");
  Sample(&out, "verity_cache_misses_total", "", Number(cache.misses));
  Family(&out, "verity_cache_refused_false_hits_total", "counter",
         "Misses that refused a similar question whose numbers, negations or names differ.");
  Sample(&out, "verity_cache_refused_false_hits_total", "", Number(cache.refused_false_hits));
  Family(&out, "verity_cache_stores_total", "counter", "Answers stored in the cache.");
  Sample(&out, "verity_cache_stores_total", "", Number(cache.stores));
  Family(&out, "verity_cache_evictions_total", "counter", "Entries evicted by the LRU bounds.");
  Sample(&out, "verity_cache_evictions_total", "", Number(cache.evictions));
  Family(&out, "verity_cache_entries", "gauge", "Entries in the answer cache.");
  Sample(&out, "verity_cache_entries", "", Number(cache.entries));
  Family(&out, "verity_cache_bytes", "gauge", "Bytes the answer cache holds (its bound: verity_cache_max_bytes).");
  Sample(&out, "verity_cache_bytes", "", Number(cache.bytes));
  Family(&out, "verity_cache_max_bytes", "gauge", "The answer cache's byte bound.");
  Sample(&out, "verity_cache_max_bytes", "", Number(cache.max_bytes));

  auto log = db.GetLogStats();
  if (log.ok()) {
    Family(&out, "verity_retrieval_log_records", "gauge", "Records the retrieval log keeps.");
    Sample(&out, "verity_retrieval_log_records", "", Number(log->records));
    Family(&out, "verity_retrieval_log_last_seq", "gauge", "Sequence number of the last durable log record.");
    Sample(&out, "verity_retrieval_log_last_seq", "", Number(log->last_seq));
    Family(&out, "verity_retrieval_log_bytes", "gauge", "Stored size of the retrieval log (its files and memtables).");
    Sample(&out, "verity_retrieval_log_bytes", "", Number(log->bytes));
  } else {
    render_errors_.fetch_add(1, std::memory_order_relaxed);
  }

  RenderMonitorMetrics(db.GetMonitorStats(), &out);

  Family(&out, "verity_metrics_errors_total", "counter", "Scrapes that could not read part of the engine's state.");
  Sample(&out, "verity_metrics_errors_total", "", Number(render_errors_.load(std::memory_order_relaxed)));
  return out;
}

}  // namespace verity::server
