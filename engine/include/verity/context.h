// The RAG context service's value types: Retrieve (search + a durable,
// hash-chained retrieval-log record), answers, the log, and replay. The
// operations are methods of verity::Database (database.h); see
// docs/retrieval-log.md for the record format, the hash chain and replay.
// Plain values: no locking, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "verity/cache.h"
#include "verity/filter.h"
#include "verity/groundedness.h"
#include "verity/monitor.h"
#include "verity/types.h"

namespace verity {

// Deterministic token estimate used for budgets and counts: one token per
// four bytes of UTF-8, rounded up (0 for empty text). Not a model's
// tokenizer; stable forever so that logged budgets replay identically.
uint32_t EstimateTokens(const std::string& text);

struct RetrieveRequest {
  std::string collection;
  std::vector<float> vector;          // the query vector (the collection's dimension); empty with a
                                      // filter (and no text or sparse leg): a retrieval by filter alone
  std::string query_text;             // optional; logged for audits (defaults to `text` when that is set)
  // The text and sparse legs and their fusion, as SearchRequest's
  // (docs/text-search.md): a retrieval may be dense, text, sparse or hybrid.
  std::string text;
  std::string sparse_field;
  SparseVector sparse;
  FusionConfig fusion;
  uint32_t k = 10;                    // 1..Limits::kMaxK; by filter alone: the most chunks it takes
  uint32_t ef = 0;                    // 0 = the collection's default
  std::string filter;                 // filter expression (docs/filters.md); "" = none
  ReadPoint at;                       // default: head; a snapshot's name is logged (LogRecord::snapshot)
  uint32_t token_budget = 0;          // 0 = no budget; else the context holds the best chunks that fit
  std::string prompt;                 // optional prompt used: "name", "name@N" or "name@label" of a
                                      // registered prompt (logged as the exact "name@N"), or free text
  std::string client_trace_id;        // optional; e.g. an OpenTelemetry trace id
  std::string client_id;              // optional; who asked
  uint64_t max_payload_bytes = 0;     // as SearchRequest::max_payload_bytes, for the chunks' records
};

// One search hit of a retrieval, as returned and as logged.
struct RetrievedChunk {
  std::string id;
  Version row_version = 0;
  float distance = 0;
  float score = 0;           // as SearchHit::score (text, sparse or fused); 0 for a dense retrieval
  LegScore dense;            // per leg, for a hybrid retrieval (SearchHit)
  LegScore text_leg;
  LegScore sparse;
  std::string text;          // empty in log records (the log keeps its hash)
  std::string text_sha256;   // hex
  std::string document_id;
  uint32_t tokens = 0;       // EstimateTokens(text)
  bool in_context = true;    // false when the token budget left it out
};

struct RetrieveResult {
  std::string retrieval_id;  // "rtv-" + 32 hex digits
  uint64_t log_seq = 0;      // the log record's sequence number
  Version version = 0;       // the version read
  bool exact = false;        // searched by brute force
  std::vector<RetrievedChunk> chunks;  // nearest first; in_context marks the context
  std::string context;        // the assembled context: in-context texts joined by "\n\n"
  std::string context_sha256; // hex SHA-256 of `context`
  uint32_t context_tokens = 0;
  std::string prompt;  // as logged: "name@N" for a registered prompt (prompts.h), else as given
};

struct AnswerRequest {
  std::string retrieval_id;
  std::string answer;        // 1 byte .. 1 MiB of UTF-8
  std::string model;         // optional
  uint32_t prompt_tokens = 0;
  uint32_t completion_tokens = 0;
};

// A cache hit (Database::CacheLookup) is logged as a record of its own with
// a retrieval id of its own, pointing at the retrieval whose answer it served.
enum class LogKind { kRetrieval, kAnswer, kCacheHit };
const char* LogKindName(LogKind kind);  // "retrieval", "answer", "cache_hit"

// One record of the retrieval log, as stored (hashes as hex).
struct LogRecord {
  uint64_t seq = 0;
  int64_t time_us = 0;
  LogKind kind = LogKind::kRetrieval;
  std::string retrieval_id;
  // Retrieval records.
  std::string collection;
  uint32_t collection_id = 0;  // CollectionInfo::id (engine only; 0 over the wire)
  Version version = 0;
  std::string snapshot;
  std::string query_text;
  std::vector<float> query_vector;
  std::string query_vector_sha256;
  uint32_t k = 0;
  uint32_t ef = 0;
  std::string filter;
  uint32_t token_budget = 0;
  std::string prompt;
  std::string client_trace_id;
  std::string client_id;
  bool exact = false;
  // Text, sparse and hybrid retrievals (RetrieveRequest): the text leg's
  // query and the analyzer version that made its terms
  // (TextIndexConfig::analyzer_version, and the engine's analyzer code
  // version), the sparse leg, and the fusion (set for two or more legs).
  std::string text;
  uint32_t analyzer_version = 0;
  uint32_t analyzer_code_version = 0;
  std::string sparse_field;
  SparseVector sparse;
  std::optional<FusionConfig> fusion;
  std::vector<RetrievedChunk> chunks;  // without text
  std::string context_sha256;
  uint32_t context_tokens = 0;
  // Answer records.
  std::string answer;
  std::string model;
  uint32_t prompt_tokens = 0;
  uint32_t completion_tokens = 0;
  // Cache-hit records: also collection, version, query, prompt, client ids,
  // answer (as served), model and context_sha256 (the source's context).
  std::string source_retrieval_id;  // the retrieval whose answer was served
  CacheMatch cache_match = CacheMatch::kMiss;
  double similarity = 0;  // cosine similarity of the two questions
  // Answer and cache-hit records: the monitor's annotation, when stored
  // (outside the chain; filled by reads of the log, not part of the hash).
  std::optional<Annotation> annotation;
  // Chain.
  std::string prev_hash;
  std::string hash;
};

// Which log records to list: all filters optional.
struct LogQuery {
  std::string collection;     // "" = all
  int64_t since_us = 0;       // inclusive; 0 = from the start
  int64_t until_us = 0;       // exclusive; 0 = to the end
  std::optional<LogKind> kind;
  uint64_t start_after = 0;   // cursor: the last seq of the previous page
  uint32_t limit = 100;       // 1..10000
  // Records examined per page, 1..Limits::kMaxLogScanRecords (the default).
  // A page that reaches it ends, perhaps with no records, and a cursor.
  uint32_t max_scanned = Limits::kMaxLogScanRecords;
};
struct LogPage {
  std::vector<LogRecord> records;
  // 0 when there is nothing more. A page may end early — at
  // Limits::kMaxPageBytes, or after `max_scanned` records, even empty —:
  // continue from the cursor.
  uint64_t next_cursor = 0;
};

struct LogVerifyResult {
  bool ok = true;
  uint64_t records = 0;         // records checked
  uint64_t first_seq = 0;       // the first record in the log (earlier ones expired)
  uint64_t last_seq = 0;
  std::string head_hash;        // hash of the last record: record it elsewhere to anchor the chain
  uint64_t first_bad_seq = 0;   // when !ok: the first record that fails
  std::string problem;          // when !ok: what fails there
};

// The retrieval log's size (Database::GetLogStats), for monitoring.
struct LogStats {
  uint64_t records = 0;    // records kept (first_seq..last_seq)
  uint64_t first_seq = 0;  // 0 when the log is empty
  uint64_t last_seq = 0;   // the last durable record
  uint64_t bytes = 0;      // stored size: the log's two column families' live files and memtables
};

enum class ReplayMode { kContext, kRetrieval, kCounterfactual };
const char* ReplayModeName(ReplayMode mode);  // "context", "retrieval", "counterfactual"

struct ReplayRequest {
  std::string retrieval_id;
  ReplayMode mode = ReplayMode::kContext;
  ReadPoint at;  // counterfactual only: default head (other modes read at the logged version)
};

// Per chunk of a context replay.
struct ChunkCheck {
  std::string id;
  Version row_version = 0;
  std::string status;  // "identical", "text differs", "missing" (row collected or gone)
};

// Per id of a retrieval or counterfactual replay.
struct RankChange {
  std::string id;
  int32_t logged_rank = -1;  // 0-based; -1 = not in the logged results
  int32_t replay_rank = -1;  // -1 = not in the replayed results
};

// What a replay found. On the wire (and in the CLI's output) by its name.
enum class ReplayOutcome {
  kIdentical,  // the replay gives what the log holds
  kDiffers,    // it does not (the result says what differs)
  kCollected,  // the logged version, or rows the context needs, are no
               // longer retained: nothing to compare against
};
const char* ReplayOutcomeName(ReplayOutcome outcome);  // "identical", "differs", "collected"
// The outcome named `name`; false (and *outcome untouched) for any other text.
bool ParseReplayOutcome(std::string_view name, ReplayOutcome* outcome);

struct ReplayResult {
  ReplayMode mode = ReplayMode::kContext;
  std::string retrieval_id;
  ReplayOutcome outcome = ReplayOutcome::kIdentical;
  std::string detail;            // a sentence saying what differs, or why collected
  Version version = 0;           // the version replayed at
  // context
  std::vector<ChunkCheck> chunks;
  std::string context_sha256;    // recomputed
  bool context_hash_matches = false;
  // retrieval: the logged (approximate) results against exact search
  double recall = 0;             // |logged ∩ exact| / |exact|
  std::vector<std::string> missed;  // exact results the original missed
  // retrieval and counterfactual
  std::vector<std::string> added;    // in the replay, not logged
  std::vector<std::string> removed;  // logged, not in the replay
  std::vector<RankChange> rank_changes;  // ids in both with different ranks
  // counterfactual: ids in both whose row version differs from the logged
  // one (the row was written again: its text, vector or metadata may differ)
  std::vector<std::string> changed;
  // retrieval and counterfactual, with a text leg: the replay analysed the
  // text with another analyzer than the logged retrieval (its
  // analyzer_version or analyzer_code_version differs from the collection's
  // and the engine's now); `detail` says which. Ids may still compare
  // identical, but the search is not the logged one bit for bit.
  bool analyzer_changed = false;
};

// Groundedness audit of one retrieval's answer (docs/groundedness.md).
struct AuditRequest {
  std::string retrieval_id;
  std::optional<std::string> answer;  // default: the recorded answer
  // Unset = the scorer's default (GroundednessOptions::threshold, 0.6); a
  // set 0 is a threshold of 0 (every sentence with a cited chunk passes).
  std::optional<double> threshold;
};

struct AuditResult {
  std::string retrieval_id;
  std::string source_retrieval_id;  // for a cache hit: the retrieval whose context and answer it served
  std::string collection;
  Version version = 0;
  std::string answer;
  bool answer_recorded = true;          // false when the answer was given with the request
  std::string prompt;                   // the retrieval's prompt as logged ("name@N" when registered)
  std::vector<SourceChunk> chunks;      // the logged context, rebuilt from the rows
  GroundednessResult result;
};

// Audits every answered retrieval and every cache hit (the answer it
// served) of a collection in a time range.
struct BatchAuditRequest {
  std::string collection;
  int64_t since_us = 0;         // 0 = from the start
  int64_t until_us = 0;         // 0 = to the end
  std::optional<double> threshold;  // as in AuditRequest: unset = the scorer's default
  double low_g = 0.5;           // share_below counts answers with G below this
  uint32_t worst = 5;           // how many lowest-G retrievals to return
  uint32_t max_retrievals = 10000;
  // 0 = no bound. Else ResourceExhausted ("audits: ...") as soon as the
  // audits kept (answers, sentences, context chunks) pass about this many
  // bytes: a caller with a response limit sets it.
  uint64_t max_result_bytes = 0;
};

struct BatchAuditResult {
  uint64_t retrievals = 0;   // retrievals and cache hits in the range
  uint64_t audited = 0;      // ... with an answer whose context could be rebuilt
  uint64_t unanswered = 0;
  uint64_t unavailable = 0;  // context rows no longer stored
  // Over the answers with a scored sentence (an answer with none, e.g.
  // "OK.", has G 0 by definition but says nothing about grounding), as the
  // HTML report's summary: the mean of each exact supported / scored.
  uint64_t scored = 0;
  double mean_g = 0;
  double share_below = 0;            // fraction of the scored answers with G < low_g
  std::vector<AuditResult> worst;    // lowest G first
  std::vector<AuditResult> audits;   // every audit, in log order
};

}  // namespace verity
