// LLMOps monitoring's value types (docs/monitoring.md): the annotation kept
// beside each answered log record (hallucination risk, retrieval weakness,
// toxicity flags, token cost), the per-collection monitor report (a time
// series of those signals with the knowledge-base and prompt version changes
// marked), and the live counters and drift state that verityd exports as
// Prometheus series. The operations are methods of verity::Database
// (database.h). Plain values: no locking, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "verity/types.h"

namespace verity {

// Version of the annotation record: what it holds and how each field is
// computed from the log, the rows and the component versions it names.
// Bumped whenever the same inputs would give another annotation.
inline constexpr uint32_t kAnnotationVersion = 1;

// Limits of the monitor's requests.
inline constexpr uint32_t kMaxMonitorBuckets = 1000;
inline constexpr uint32_t kMaxMonitorFlagged = 10000;
inline constexpr uint64_t kMaxMonitorRecords = 10'000'000;
inline constexpr uint32_t kMaxUnsupportedKept = 20;  // unsupported sentences kept in an annotation
inline constexpr int64_t kMaxMonitorTimeUs = int64_t{1} << 62;     // since_us / until_us (year ~148,000)
inline constexpr int64_t kMaxMonitorBucketSeconds = 10LL * 366 * 24 * 3600;  // ten years

// The monitor's settings (DatabaseOptions::monitor; verityd's --monitor-*
// flags). Checked by Database::Open: InvalidArgument naming the field and
// its limit.
struct MonitorOptions {
  // Annotate each answer and cache hit when it is recorded. Off: only
  // Annotate / AnnotateLog write annotations; the live drift still runs.
  bool annotate_answers = true;
  // Feed each Retrieve to the collection's weakness reference and drift
  // tracker. Off: no live drift, weakness judged "not ready".
  bool observe_retrievals = true;
  // The toxicity word lists used (monitor/toxicity.h): empty = every
  // language; set it to the languages the answers are written in.
  std::vector<std::string> toxicity_languages;
  std::vector<std::string> toxicity_allow;  // terms never flagged
  // Also flag the retrieval's query text (the annotation's
  // query_toxicity_matches); it raises no flag of the answer.
  bool flag_queries = false;
  double low_g = 0.6;                       // [0, 1]: G below it flags low_groundedness
  // The weakness reference: the first this many top-1 values of a
  // collection's leg (20..1<<20), weak below the p-th percentile (1..50).
  size_t weak_reference_size = 1000;
  uint32_t weak_percentile = 5;
  // Drift (monitor/drift.h): reference and current windows (100..1<<20),
  // centroids (1..4096) trained on the first centroid_sample rows
  // (>= drift_centroids, <= 100000) of a collection.
  size_t drift_reference_size = 1000;
  size_t drift_current_size = 500;
  size_t drift_centroids = 64;
  size_t centroid_sample = 5000;
};

// One toxicity match (monitor/toxicity.h): the list's term, the languages
// whose list has it, its byte span [begin, end) in the answer.
struct ToxicityMatchInfo {
  std::string term;
  std::vector<std::string> languages;
  uint32_t begin = 0;
  uint32_t end = 0;
};

// Why an answer is flagged. On the wire and in the CLI by its name.
enum class MonitorFlag { kLowGroundedness, kWeakRetrieval, kEmptyContext, kTruncatedContext, kToxicity };
const char* MonitorFlagName(MonitorFlag flag);  // "low_groundedness", "weak_retrieval", ...

// The signals of one answer (an answer record, or a cache hit serving an
// answer), computed when the answer is recorded (or later, on demand) and
// stored beside the log record, outside the hash chain: every field can be
// recomputed from the chained records, the rows they name and the versions
// below.
struct Annotation {
  uint32_t version = kAnnotationVersion;
  std::string retrieval_id;    // the retrieval (or cache hit) answered
  uint64_t record_seq = 0;     // the annotated record: the answer, or the cache hit
  int64_t record_time_us = 0;  // its time
  int64_t annotated_us = 0;    // when this annotation was computed
  bool on_demand = false;      // computed after the answer was recorded (Annotate, AnnotateLog)
  bool cache_hit = false;
  std::string collection;
  Version kb_version = 0;  // the version the context was read at
  std::string prompt;      // as logged ("name@N" for a registered prompt)

  // Hallucination risk: the groundedness audit of the answer against its
  // context. `groundedness_error` says why it was not scored (the context's
  // rows were collected, ...); G, sentences and unsupported are 0 then.
  bool groundedness_scored = false;
  std::string groundedness_error;
  double g = 0;
  std::string groundedness_version;  // the scorer's version (GroundednessResult::scorer_version)
  uint32_t sentences = 0;            // scored sentences
  uint32_t unsupported = 0;          // of which unsupported
  std::vector<std::string> unsupported_sentences;  // the first kMaxUnsupportedKept

  // Retrieval weakness (monitor/retrieval_risk.h), judged against the
  // collection's reference of top-1 values for the retrieval's leg.
  std::string leg;                 // "dense", "text" or "fused"
  bool reference_ready = false;    // the leg's reference was full
  bool weak_retrieval = false;
  double top1 = 0;                 // the best distance (dense) or score (text, fused)
  double weak_threshold = 0;
  double percentile_rank = 0;      // 0..100; low is weak
  bool empty_context = false;
  bool truncated_context = false;
  uint32_t chunks = 0;
  uint32_t chunks_in_context = 0;
  uint32_t retrieval_risk_version = 0;

  // Toxicity / bias flags on the answer (a lexical flag, not a classifier).
  bool toxic = false;
  std::vector<ToxicityMatchInfo> toxicity_matches;
  std::string toxicity_scorer_version;
  std::string word_list_version;
  // With MonitorOptions::flag_queries: the matches in the retrieval's
  // query text (the question, not the answer).
  std::vector<ToxicityMatchInfo> query_toxicity_matches;

  // Token cost (EstimateTokens unless said otherwise).
  uint32_t context_tokens = 0;
  uint32_t prompt_tokens = 0;        // the rendered prompt (registry template + context + question),
                                     // else the client's report, else the context's
  std::string prompt_tokens_source;  // "rendered", "reported" or "context"
  uint32_t answer_tokens = 0;        // the client's completion_tokens, else counted
  std::string answer_tokens_source;  // "reported" or "counted"
  uint32_t tokens_saved = 0;         // a cache hit: the prompt and answer tokens it did not spend

  // The flags this annotation raises (low_groundedness below the monitor's
  // low_g, the others as above), in MonitorFlag order.
  std::vector<MonitorFlag> flags;
};

struct AnnotateLogRequest {
  std::string collection;  // "" = every collection
  int64_t since_us = 0;    // inclusive; 0 = from the start
  int64_t until_us = 0;    // exclusive; 0 = to the end
  bool recompute = false;  // also replace annotations that exist
  uint64_t max_records = 1'000'000;  // records examined, 1..kMaxMonitorRecords
};
struct AnnotateLogResult {
  uint64_t examined = 0;   // log records read
  uint64_t annotated = 0;  // annotations written
  uint64_t existing = 0;   // answers that had one (and recompute was off)
  uint64_t failed = 0;     // answers whose annotation could not be computed (the error is logged)
  bool truncated = false;  // stopped at max_records: continue from next_since_us
  int64_t next_since_us = 0;
};

struct MonitorReportRequest {
  std::string collection;        // required
  int64_t since_us = 0;          // inclusive; 0 = from the start
  int64_t until_us = 0;          // exclusive; 0 = now
  int64_t bucket_seconds = 0;    // 0 = the range cut in 60 buckets; at most kMaxMonitorBuckets buckets
  double low_g = 0.6;            // an answer with G below it is flagged low_groundedness; [0, 1]
  uint32_t max_flagged = 100;    // flagged answers listed, 0..kMaxMonitorFlagged
  uint32_t ids_per_bucket = 10;  // retrieval ids kept per bucket (flagged first), 0..100
  uint64_t max_records = 1'000'000;  // log records examined, 1..kMaxMonitorRecords
};

// The signals of one time bucket [start_us, start_us + bucket length).
struct MonitorBucket {
  int64_t start_us = 0;
  uint64_t retrievals = 0;   // retrieval records of the collection
  uint64_t answers = 0;      // answer records
  uint64_t cache_hits = 0;
  uint64_t annotated = 0;    // answers and cache hits with an annotation
  uint64_t scored = 0;       // ... whose groundedness was scored (with a sentence)
  double mean_g = 0;
  double g_p10 = 0;          // nearest-rank 10th percentile of the scored G
  uint64_t low_g = 0;        // scored answers with G < low_g
  uint64_t weak = 0;         // retrievals whose top-1 is weak against the reference
  uint64_t empty_context = 0;
  uint64_t truncated_context = 0;
  uint64_t toxic = 0;        // annotated answers with a toxicity match
  uint64_t context_tokens = 0;  // of the retrievals
  uint64_t prompt_tokens = 0;   // of the annotated answers
  uint64_t answer_tokens = 0;
  uint64_t tokens_saved = 0;    // by cache hits
  // Drift of this bucket's retrievals against the reference (the
  // collection's top-1 reference and the report's first retrievals): PSI
  // of the top-1 values binned at the reference's deciles. Set when the
  // bucket has at least kMinDriftBucket retrievals of the reference's leg.
  bool drift_computed = false;
  double score_psi = 0;
  double score_threshold = 0;
  std::vector<std::string> retrieval_ids;  // flagged first, then the latest
};
inline constexpr uint64_t kMinDriftBucket = 20;

// A change on the time axis: the knowledge-base version read moved, or the
// prompt version used changed, or a snapshot was restored.
struct MonitorMarker {
  int64_t time_us = 0;
  std::string kind;          // "kb_version" or "prompt"
  std::string value;         // the version ("42") or the prompt ("name@3")
  std::string previous;      // the one before, "" for the first in the range
  std::string retrieval_id;  // the first retrieval that used it
};

struct FlaggedAnswer {
  std::string retrieval_id;
  int64_t time_us = 0;
  std::vector<MonitorFlag> flags;
  double g = 0;
  bool groundedness_scored = false;
  std::string prompt;
  Version kb_version = 0;
  std::vector<std::string> toxicity_terms;
};

// Per prompt version: what its answers cost and how grounded they were.
struct PromptMonitorStats {
  std::string prompt;  // "" for retrievals without one
  uint64_t answers = 0;
  uint64_t scored = 0;
  double mean_g = 0;
  uint64_t context_tokens = 0;
  uint64_t prompt_tokens = 0;
  uint64_t answer_tokens = 0;
  uint64_t tokens_saved = 0;
};

// The live drift state of one collection and leg (monitor/drift.h's
// DriftReport and the weakness reference's state), since the server
// started or the reference was reset.
struct LiveDriftState {
  std::string leg;  // "dense", "text", "fused"
  uint64_t observations = 0;
  bool reference_frozen = false;
  size_t reference_count = 0;
  size_t current_count = 0;
  bool ready = false;
  double score_psi = 0, score_threshold = 0;
  double region_psi = 0, region_threshold = 0;  // nearest centroid (dense) or answering region (text)
  bool alarm = false;
  bool weak_reference_frozen = false;
  double weak_threshold = 0;
  uint64_t weak = 0;        // retrievals judged weak
  uint64_t observed = 0;    // retrievals judged (top-1 present)
};

struct MonitorReport {
  std::string collection;
  int64_t since_us = 0, until_us = 0, bucket_us = 0;
  MonitorBucket totals;  // the whole range (retrieval_ids empty)
  std::vector<MonitorBucket> buckets;
  std::vector<MonitorMarker> markers;
  std::vector<FlaggedAnswer> flagged;  // oldest first, at most max_flagged
  uint64_t flagged_total = 0;          // flagged answers in the range
  std::vector<PromptMonitorStats> prompts;
  std::vector<LiveDriftState> live;  // per leg seen since start
  uint64_t records_examined = 0;
  bool truncated = false;  // stopped at max_records: the range's end was not reached
};

// The live counters of one collection, for the Prometheus exporter: since
// the database opened (counters) or now (gauges).
struct CollectionMonitorStats {
  std::string collection;
  std::vector<LiveDriftState> legs;
  uint64_t answers_annotated = 0;
  uint64_t annotation_failures = 0;
  std::vector<uint64_t> g_buckets;  // scored answers per G bucket: upper bounds 0.1, 0.2, .. 1.0 (10)
  double g_sum = 0;
  uint64_t g_count = 0;
  uint64_t flags[5] = {};  // by MonitorFlag
  uint64_t cache_hits_annotated = 0;
  uint64_t tokens_saved = 0;
  struct PromptTokens {
    std::string prompt;
    uint64_t context = 0, prompt_tokens = 0, answer = 0, answers = 0;
  };
  std::vector<PromptTokens> tokens;  // by prompt version (at most 100 distinct; the rest under "other")
};

}  // namespace verity
