// verityd's Prometheus metrics (docs/metrics.md): what the server counts
// itself (calls by method and code, their latency, groundedness scores of
// audits) and what it reads from the engine at scrape time (collections,
// graphs, the answer cache, the retrieval log), rendered in the Prometheus
// text exposition format 0.0.4.
//
// Thread-safety: every method is safe to call concurrently. Recording a
// call takes a shared lock and a few relaxed atomic increments; the first
// call of a method takes the lock exclusively once to add it.
// Ownership: ServerMetrics owns its counters; Render only reads the Database.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "verity/database.h"
#include "verity/status.h"

namespace verity::server {

// A Prometheus histogram with fixed bucket bounds: lock-free observations.
class Histogram {
 public:
  // `upper_bounds` ascending; a +Inf bucket is added.
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);
  // Appends NAME_bucket{LABELS,le="…"} (cumulative), NAME_sum and NAME_count.
  // `labels` is "" or `key="value",…` without braces.
  void Render(const std::string& name, const std::string& labels, std::string* out) const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // per bound, not cumulative; last = +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

class ServerMetrics {
 public:
  // Latency buckets, seconds: 100 µs .. 10 s.
  static const std::vector<double>& LatencyBounds();
  // Groundedness buckets: 0.1, 0.2, .. 1.0 (G is in [0, 1]).
  static const std::vector<double>& ScoreBounds();

  ServerMetrics();

  // One finished call of `method` (e.g. "Search"), refused or served.
  void RecordCall(const std::string& method, StatusCode code, std::chrono::nanoseconds elapsed);
  // The G of one audit; `batch`: it came from AuditCollection.
  void RecordGroundedness(double g, bool batch);

  // The exposition text, with the engine's gauges read now. Engine reads
  // that fail are left out and counted in verity_metrics_errors_total.
  std::string Render(const Database& db) const;

 private:
  struct MethodStats {
    std::atomic<uint64_t> by_code[17] = {};  // indexed by StatusCode
    Histogram latency{LatencyBounds()};
  };
  MethodStats& Stats(const std::string& method);

  mutable std::shared_mutex mu_;
  std::map<std::string, std::unique_ptr<MethodStats>> methods_;  // GUARDED_BY(mu_) for insertion
  Histogram single_audits_{ScoreBounds()};
  Histogram batch_audits_{ScoreBounds()};
  mutable std::atomic<uint64_t> render_errors_{0};
  const std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
};

// A label value escaped for the exposition format (\\, \" and \n).
std::string EscapeLabelValue(const std::string& value);

// Appends the monitoring series (docs/metrics.md, "Monitoring") of
// `stats` (Database::GetMonitorStats, read at scrape time) to `out`: G
// histograms, annotation and flag counters, retrieval weakness, live drift,
// tokens by prompt version. Every family's HELP and TYPE lines are written
// even with no collection. monitor_metrics.cc.
void RenderMonitorMetrics(const std::vector<CollectionMonitorStats>& stats, std::string* out);

}  // namespace verity::server
