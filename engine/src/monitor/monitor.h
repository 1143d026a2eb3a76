// Monitor: the LLMOps monitoring subsystem (docs/monitoring.md). It watches
// the retrievals and answers the context service logs, and
//   * keeps, per collection and retrieval leg, the live state: the top-1
//     weakness reference (retrieval_risk.h), the drift tracker (drift.h) with
//     its centroids (trained in the background on the collection's first
//     rows), and the counters verityd exports as Prometheus series;
//   * annotates each answer and cache hit (verity/monitor.h, Annotation):
//     groundedness (the context service's audit), retrieval weakness, the
//     toxicity flags (toxicity.h) and the token cost, stored beside the log
//     record (RetrievalLog::PutAnnotation);
//   * builds a collection's report over a time range from the log and the
//     annotations (monitor/report.cc).
//
// Files: monitor.cc (live state, observation, stats), annotate.cc
// (annotations), report.cc (the report).
//
// It may call: collections (a collection's id, metric and first rows), the
// context service (audits), the retrieval log (records, annotations), the
// prompt registry (rendering a logged prompt). The façade calls it after
// the context service's Retrieve, RecordAnswer and cache hits succeed.
//
// Thread-safety: every method is thread-safe. Locks: `mu_` guards the map
// of collection states and each state's tracker pointers: held shared while
// a tracker or reference is used (they lock themselves inside), exclusively
// to add a state or replace its trackers (Reset). A state is never removed
// (a dropped collection's state stays until close). Each state's `mu`
// guards its counters, centroids and token table; it is taken under `mu_`
// (shared) or alone, never the other way round. No lock is held while
// calling another subsystem.
// Ownership: it borrows every subsystem; the façade owns them and this.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "collection/collections.h"
#include "context/context_service.h"
#include "log/retrieval_log.h"
#include "monitor/drift.h"
#include "monitor/retrieval_risk.h"
#include "monitor/toxicity.h"
#include "prompts/prompt_registry.h"
#include "util/periodic_thread.h"
#include "verity/monitor.h"

namespace verity {

// The retrieval leg of a logged retrieval (or request): dense (a query
// vector alone), text (a text query alone), fused (two or more legs);
// nullopt for a retrieval by filter alone or by a sparse vector alone
// (neither is observed: their scores have no common scale).
std::optional<RetrievalLeg> LegOf(bool has_vector, bool has_text, bool has_sparse);

// What Monitor::Report keeps of an answer's annotation while it scans:
// only what the report shows (an Annotation with its sentences is ~10x it).
struct ReportAnswer {
  bool scored = false;  // groundedness scored, with a sentence
  bool toxic = false;
  bool cache_hit = false;
  double g = 0;
  uint32_t prompt_tokens = 0, answer_tokens = 0, tokens_saved = 0;
  Version kb_version = 0;
  std::string prompt;
  std::vector<MonitorFlag> flags;          // as stored (low_groundedness recomputed under the report's low_g)
  std::vector<std::string> toxicity_terms;
};

// What Monitor::Report keeps of one log record while it scans (report.cc):
// by its fields, about 150 bytes plus the ids' and prompts' characters (an
// estimate, not measured).
struct ReportEvent {
  int64_t time_us = 0;
  LogKind kind = LogKind::kRetrieval;
  std::string retrieval_id;
  // retrievals
  std::optional<RetrievalLeg> leg;
  float top1 = 0;
  bool has_top1 = false, weak = false, empty = false, truncated = false;
  uint32_t context_tokens = 0;
  Version version = 0;
  std::string prompt;
  // answers and cache hits: their annotation's summary
  std::optional<ReportAnswer> answer;
};

class Monitor {
 public:
  // InvalidArgument naming the MonitorOptions field and its limit.
  static Result<std::unique_ptr<Monitor>> Create(const MonitorOptions& options, Collections& collections,
                                                 ContextService& context, RetrievalLog& log, PromptRegistry& prompts,
                                                 std::function<void(LogLevel, const std::string&)> log_message);
  ~Monitor();  // stops the trainer
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Starts the background centroid trainer (not on a read-only database:
  // it is harmless there, but there is nothing to watch).
  void Start();
  void Stop();

  // One successful Retrieve: feeds the leg's weakness reference and drift
  // tracker. Never fails (bad values are skipped and counted).
  void ObserveRetrieval(const RetrieveRequest& request, const RetrieveResult& result);

  // Annotates answer `answer` (just recorded) and stores the annotation;
  // also for a cache hit's record. Errors are logged and counted, not
  // returned: the answer is recorded whatever happens here.
  void AnnotateRecorded(const LogRecord& record);

  // Database::Annotate / AnnotateLog / GetMonitorReport /
  // ResetMonitorReference / GetMonitorStats (verity/database.h).
  Result<Annotation> Annotate(const std::string& retrieval_id, bool recompute, bool writable);
  Result<AnnotateLogResult> AnnotateLog(const AnnotateLogRequest& request);
  Result<MonitorReport> Report(const MonitorReportRequest& request) const;
  Status Reset(const std::string& collection);
  std::vector<CollectionMonitorStats> Stats() const;

 private:
  struct LegState {
    std::unique_ptr<DriftTracker> drift;
    std::atomic<uint64_t> observed{0};
    std::atomic<uint64_t> weak{0};
  };
  struct State {
    std::string name;
    uint32_t collection_id = 0;  // a collection dropped and created again under the name gets a new state
    Metric metric = Metric::kL2;
    std::unique_ptr<TopScoreReference> reference;
    std::array<LegState, kNumRetrievalLegs> legs;
    std::mutex mu;
    std::shared_ptr<const Centroids> centroids;  // GUARDED_BY(mu); null until trained
    bool wants_centroids = false;                // GUARDED_BY(mu)
    bool centroids_failed = false;               // GUARDED_BY(mu)
    CollectionMonitorStats stats;                // GUARDED_BY(mu): legs unset (filled by Stats)
    std::map<std::string, size_t> token_rows;    // GUARDED_BY(mu): prompt -> index in stats.tokens
  };

  Monitor(const MonitorOptions& options, Collections& collections, ContextService& context, RetrievalLog& log,
          PromptRegistry& prompts, std::function<void(LogLevel, const std::string&)> log_message);

  // The state of a collection, created on first use, and created afresh
  // when the collection under that name is not the one the state was made
  // for (dropped and created again); nullptr if the collection is gone.
  State* StateFor(const std::string& collection);
  State* FindState(const std::string& collection) const;
  Status MakeTrackers(State& state) const;
  void TrainPending();
  Status SampleRows(const std::string& collection, std::vector<float>* sample, size_t* dim, size_t* n) const;
  // The weakness of `chunks` against the collection's reference for `leg`;
  // nullopt when the collection has no state yet or the values are bad.
  std::optional<RetrievalRisk> Assess(const std::string& collection, RetrievalLeg leg,
                                      std::span<const ChunkSignal> chunks) const;
  void CountAnnotation(const Annotation& a, bool ok);

  // report.cc
  Result<std::vector<ReportEvent>> ScanEvents(const MonitorReportRequest& req, MonitorReport* report) const;
  ReportEvent ToEvent(const std::string& collection, LogRecord& r, size_t* on_demand_left) const;

  // annotate.cc
  Result<Annotation> Compute(const LogRecord& retrieval, const LogRecord& answered, bool on_demand) const;
  // Returns the context the audit read back (nullopt when it could not).
  std::optional<std::string> AddGroundedness(const std::string& retrieval_id, Annotation& a) const;
  void AddRetrievalRisk(const LogRecord& retrieval, Annotation& a) const;
  void AddTokens(const LogRecord& retrieval, const LogRecord& answered, const std::optional<std::string>& context,
                 Annotation& a) const;
  Result<std::pair<LogRecord, LogRecord>> AnsweredPair(const std::string& retrieval_id) const;
  Result<Annotation> ComputeOnDemand(const std::string& retrieval_id) const;

  const MonitorOptions options_;
  Collections& collections_;
  ContextService& context_;
  RetrievalLog& log_;
  PromptRegistry& prompts_;
  std::function<void(LogLevel, const std::string&)> log_message_;
  std::unique_ptr<monitor::ToxicityFlagger> toxicity_;
  PeriodicThread trainer_;

  mutable std::shared_mutex mu_;
  std::map<std::string, std::unique_ptr<State>> states_;  // GUARDED_BY(mu_): by collection name
  // GUARDED_BY(mu_): states replaced when their collection was dropped and
  // created again, kept until close (a caller may still hold a pointer).
  std::vector<std::unique_ptr<State>> retired_;
};

}  // namespace verity
