// Database: the engine's entry point. One Database owns one data directory:
// a RocksDB database (the source of truth) and one HNSW graph file per
// collection (derived data, rebuilt from RocksDB whenever it is missing,
// stale or damaged).
//
// Data model (see docs/architecture.md): every committed write batch of a
// collection gets the next version number. Writes never overwrite: an upsert
// or delete creates a row version, and a read at version V sees exactly the
// rows valid at V. Reads default to the head version.
//
// Thread-safety: all methods are safe to call concurrently. Searches, gets,
// scrolls and counts run in parallel with each other and with writes; writes
// to one collection are serialised (one writer per collection at a time),
// writes to different collections run in parallel.
//
// Durability: when Upsert / Delete / CreateCollection / DropCollection
// return OK, the change is in RocksDB's WAL and synced to disk (unless
// DatabaseOptions::sync_writes is false). A failed write changes nothing.
//
// Disk errors: once a write to disk fails (a WAL write or sync, a flush or a
// compaction), the database turns read-only until it is reopened: reads go
// on, and every write is refused with FAILED_PRECONDITION naming the error
// that started it. (RocksDB itself stops accepting writes after such an
// error; the engine says so plainly.) Reopen once the disk is fixed.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "verity/cache.h"
#include "verity/context.h"
#include "verity/filter.h"
#include "verity/monitor.h"
#include "verity/prompts.h"
#include "verity/status.h"
#include "verity/types.h"

namespace rocksdb {
class Env;
}

namespace verity {

enum class LogLevel { kInfo, kWarning, kError };
using LogFunction = std::function<void(LogLevel, const std::string&)>;

// How Open replays a write-ahead log that is damaged in the middle
// (docs/reliability.md, "Corruption").
enum class WalRecovery {
  // Replay up to the damage and stop there; when a table file already holds
  // writes from after the damage (RocksDB: "SST file is ahead of WALs"),
  // that is not a consistent point, and Open fails with DataLoss.
  kPointInTime,
  // Replay every intact record and skip the damaged ones: Open succeeds, and
  // the writes in the damaged records are lost (a version's rows, a
  // retrieval-log record: `log verify` then reports the gap). For salvage,
  // once, after a backup of the directory.
  kSkipCorrupted,
};

struct DatabaseOptions {
  // Create the data directory if it does not exist. Default: true
  bool create_if_missing = true;
  // See WalRecovery. Default: kPointInTime
  WalRecovery wal_recovery = WalRecovery::kPointInTime;
  // fsync RocksDB's WAL before a write returns. Default: true
  bool sync_writes = true;
  // Total memory for RocksDB's memtables over all column families; a
  // family's memtable is flushed when the total passes it. Default: 16 MiB
  size_t memtable_budget_bytes = 16 << 20;
  // The planner searches exactly (brute force over the qualifying rows) when
  // it estimates fewer than this many rows qualify. Default: 2048
  uint64_t exact_search_max_rows = 2048;
  // ... or when less than this fraction of graph nodes qualify (selective
  // filters, or old versions). Default: 0.05
  double exact_search_max_fraction = 0.05;
  // Otherwise the planner compares the estimated work of both plans (rows
  // scanned and distances computed) and picks the cheaper. When false, only
  // the two thresholds above decide. Default: true
  bool cost_based_planner = true;
  // Retrieval-log records older than this are removed by the background GC
  // (0 = keep forever); versions they pinned are then released. At most
  // 1,000 years (Open: InvalidArgument). Default: 365 days
  int64_t log_retention_seconds = 365LL * 24 * 3600;
  // The answer cache's bounds (cache.h): entries, and bytes of entries
  // (questions, vectors, answers). Least recently used entries go first.
  // Defaults: 10,000 entries, 64 MiB
  size_t answer_cache_entries = 10000;
  size_t answer_cache_bytes = 64 << 20;
  // Threads for graph inserts of one batch (0 = OpenMP's default). Default: 0
  int insert_threads = 0;
  // Background GC of every collection every this many seconds (0 = only on
  // demand, by Gc()). Default: 600
  uint32_t gc_interval_seconds = 600;
  // GC rebuilds a collection's graph without the nodes it dropped once they
  // are more than this fraction of the graph's nodes. Default: 0.25
  double graph_rebuild_fraction = 0.25;
  // Background graph checkpoints. A graph file is derived data: Open loads
  // it and re-inserts every node it lacks, so after a crash the cost of a
  // start grows with the nodes written since the file was saved (60,000
  // Fashion-MNIST nodes: ~18 s, against ~2.5 s from a saved file). A
  // collection's graph is saved in the background (temp file, fsync,
  // rename; writes to that collection wait for the save) once its unsaved
  // nodes reach max(graph_checkpoint_nodes, graph_checkpoint_fraction x the
  // nodes in its file), or once some have been unsaved for
  // graph_checkpoint_seconds. 0 turns a rule off; both 0: only Close saves.
  // Defaults: 20,000 nodes, 0.25 (the proportional part bounds the bytes a
  // growing graph rewrites), 300 s
  uint64_t graph_checkpoint_nodes = 20000;
  double graph_checkpoint_fraction = 0.25;
  uint32_t graph_checkpoint_seconds = 300;
  // Where engine log lines go. Default: one line per message on stderr.
  LogFunction log;
  // LLMOps monitoring (verity/monitor.h, docs/monitoring.md).
  MonitorOptions monitor;
  // The environment RocksDB runs on; for tests (e.g. one that injects disk
  // faults). Must outlive the Database. Default: null = the operating system.
  std::shared_ptr<rocksdb::Env> env;
};

// A search has one to three legs: a dense vector, a text query (BM25 over
// the collection's text index) and a sparse vector (dot product over one
// sparse field). With two or more, the legs are fused (FusionConfig).
struct SearchRequest {
  std::vector<float> vector;        // the dense query (the collection's dimension); empty = no dense leg
  std::string text;                 // the text query; "" = no text leg. Needs a text index
  std::string sparse_field;         // the sparse leg's field; "" = no sparse leg
  SparseVector sparse;              // the sparse query (non-empty when sparse_field is set)
  FusionConfig fusion;              // for hybrid searches
  uint32_t k = 10;                  // 1..Limits::kMaxK
  uint32_t ef = 0;                  // 0 = the collection's default_ef; else k..kMaxEf (raised to k)
  ReadPoint at;                     // default: head (see ReadPoint)
  std::optional<Filter> filter;     // default: none
  bool with_payload = true;         // fill SearchHit::record (text, metadata, document id)
  bool with_vectors = false;        // also fill the record's vector
  SearchPlan plan = SearchPlan::kAuto;
  // 0 = no bound. Else ResourceExhausted ("hits: ...") as soon as the hits'
  // records (ids, text, metadata, vectors) pass this many bytes: a caller
  // with a response limit sets it, so that an answer it could not send is
  // refused before it is built (k = 1000 hits of 1 MiB texts would be 1 GB).
  uint64_t max_payload_bytes = 0;
  // How max_payload_bytes measures a hit's record; empty: its id, text,
  // document id, metadata and vector, as a search response carries them.
  std::function<uint64_t(const Record&)> payload_bytes;
};

// Bounds on one SearchBatch's answer (0 = no bound). A batch of many
// queries with a large k can ask for millions of hits from a request of a
// few hundred kilobytes; these bound the work and memory before it is done.
struct BatchLimits {
  // The answer's hits, as a response carries them: each hit costs
  // kHitWireBytes plus its id, plus its record (SearchRequest::payload_bytes,
  // or RecordBytes). Checked before any query runs against the fewest bytes
  // the requested hits can take (each query's min(k, row versions) hits of
  // a 1-byte id), then as the hits are produced.
  uint64_t max_response_bytes = 0;
  // The hits all queries may return together, counted before any query runs
  // as the sum of min(k, row versions): each hit held in memory costs a few
  // hundred bytes however small its id.
  uint64_t max_hits = 0;
  // A hit's fixed cost on the wire, beyond its id and record: the hit's own
  // tag and length, the row version and the distance, each with its tag.
  static constexpr uint64_t kHitWireBytes = 16;
};

struct ScrollRequest {
  ReadPoint at;  // default: head
  std::string start_after;  // cursor: "" = from the first id
  uint32_t limit = 100;     // 1..Limits::kMaxScrollLimit
  // Ids examined per page, 1..Limits::kMaxScrollScan (the default). A page
  // that reaches it ends, perhaps with no records (a selective filter), and
  // a cursor.
  uint32_t max_scanned = Limits::kMaxScrollScan;
  std::optional<Filter> filter;
  bool with_vectors = true;
};

class Collection;
class Storage;

class Database {
 public:
  // Opens (or creates) the data directory `dir`.
  // Errors: FailedPrecondition if another process (or another Database in
  // this one) holds the directory; NotFound if it does not exist and
  // create_if_missing is false; DataLoss if RocksDB reports corruption, naming
  // the file when RocksDB does (a write-ahead log damaged in the middle:
  // what happened and the remedies, see WalRecovery); Unavailable for other
  // I/O errors. Graph files that are missing, stale or damaged are rebuilt
  // (logged). A collection whose rows or vectors cannot be read (DataLoss)
  // does not fail the open: it is unavailable (logged; every call naming it
  // fails with DataLoss naming the damage; ListCollections shows it with
  // CollectionInfo::unavailable; DropCollection and Import with replace
  // remove it). Damage to the meta or log families fails the open.
  static Result<std::unique_ptr<Database>> Open(const std::string& dir,
                                                const DatabaseOptions& options = {});

  // Calls Close().
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Persists every graph that changed since it was last saved, flushes
  // RocksDB and releases the directory. Idempotent. After Close every other
  // method returns FailedPrecondition.
  Status Close();

  // True once a write to disk failed (see "Disk errors" above: every write
  // then returns FailedPrecondition naming the error, reads go on, until the
  // database is reopened), or when Open found the disk full and opened the
  // database read-only. Thread-safe and cheap (one atomic load), for health
  // checks and metrics.
  bool IsReadOnly() const;
  // Why the database is read-only ("" while it is writable), e.g. "a write
  // to disk failed (IO error: No space left on device: ...)". Thread-safe.
  std::string ReadOnlyReason() const;

  // --- Collections ---------------------------------------------------------
  // Errors: InvalidArgument (a config field out of range, naming it),
  // AlreadyExists.
  Result<CollectionInfo> CreateCollection(const CollectionConfig& config);
  // Changes the collection's full-text index, or gives it one: the analyzer
  // (its preset fills what `text_index.analyzer` leaves empty, as at
  // creation), k1 and b. Any change is a new analyzer version (the old one
  // + 1; TextIndexConfig::analyzer_version is ignored here) and every row
  // is analysed again, all versions alike: searches at any version use the
  // new settings from then on, and a replay of a retrieval logged with an
  // older analyzer version says so (docs/text-search.md). Settings equal to
  // the current ones change nothing. Writes to the collection wait for the
  // rebuild, and so do its searches. A change empties the answer cache. Durable: a crash during the rebuild
  // is finished at the next open. Errors: InvalidArgument naming the field
  // (text_index.analyzer.*, k1, b; `enabled` false: an index cannot be
  // removed), NotFound.
  Result<CollectionInfo> SetTextIndex(const std::string& collection, const TextIndexConfig& text_index);
  // Errors: NotFound; DataLoss for an unavailable collection (see Open).
  Result<CollectionInfo> GetCollection(const std::string& name) const;
  // Sorted by name; unavailable collections included (their `unavailable`
  // says why).
  Result<std::vector<CollectionInfo>> ListCollections() const;
  // Removes the collection, all its rows and versions, and its graph file.
  // In-flight reads of it finish normally. An unavailable collection (see
  // Open) is dropped without reading its data. Errors: NotFound.
  Status DropCollection(const std::string& name);

  // --- Writes --------------------------------------------------------------
  // Upserts a batch atomically as one new version. Errors: NotFound (no such
  // collection); InvalidArgument naming the record index and field: wrong
  // dimension, NaN or infinite component, empty / over-long / NUL id,
  // duplicate ids in the batch, oversized text or metadata, empty batch or
  // more than Limits::kMaxBatchRecords.
  Result<WriteResult> Upsert(const std::string& collection, std::vector<Record> records);
  // Deletes a batch of ids atomically as one new version; ids that are not
  // live are ignored (applied counts the others). When none is live nothing
  // is written and no version made: the result is the head, applied 0.
  // Errors as for Upsert.
  Result<WriteResult> Delete(const std::string& collection, const std::vector<std::string>& ids);

  // --- Reads (at head unless `at` is given) ---------------------------------
  // Errors for every read: NotFound (collection); those of resolving `at`
  // (ReadPoint: InvalidArgument if it is newer than the head ("does not
  // exist yet"), FailedPrecondition if collected, NotFound "at.snapshot"
  // with kSnapshotNotFound for an unknown snapshot).
  // Get: NotFound if the id has no live row at that version.
  Result<StoredRecord> Get(const std::string& collection, const std::string& id,
                           const ReadPoint& at = ReadPoint::Head()) const;
  Result<ScrollPage> Scroll(const std::string& collection, const ScrollRequest& request) const;
  Result<uint64_t> Count(const std::string& collection, const ReadPoint& at = ReadPoint::Head(),
                         const Filter* filter = nullptr) const;
  // Errors also: InvalidArgument for k, ef, the vector or the filter.
  Result<SearchResult> Search(const std::string& collection, const SearchRequest& request) const;
  // Searches each query (same collection) in parallel with OpenMP. The first
  // failing query's error is returned, prefixed "queries[i]".
  // `keep_going` (optional; called from several threads at once) is asked
  // before each query starts: the first non-OK status it returns (e.g. the
  // caller's deadline passed) stops the batch — queries not yet started are
  // skipped — and is returned as the call's status. Every query is
  // validated before any runs. `limits` bound the whole batch's answer
  // (BatchLimits): what cannot fit is refused with ResourceExhausted before
  // any query runs when the requested hits alone are too many, and as soon
  // as the hits produced pass a bound otherwise.
  Result<std::vector<SearchResult>> SearchBatch(const std::string& collection,
                                                const std::vector<SearchRequest>& queries,
                                                const std::function<Status()>& keep_going = nullptr,
                                                const BatchLimits& limits = {}) const;
  // Every committed version, oldest first (version 0 = creation), with
  // whether it is still readable and which snapshots pin it.
  Result<std::vector<VersionInfo>> ListVersions(const std::string& collection) const;
  // One page of the same: at most `limit` versions (0 = no limit; above
  // Limits::kMaxVersionsPage is InvalidArgument) from `start_at` on.
  // next_start_at is the version after the page's last, or 0 when the page
  // reached the head.
  Result<VersionPage> ListVersionsPage(const std::string& collection, Version start_at, uint32_t limit) const;

  // --- Context service and retrieval log (docs/retrieval-log.md) -----------
  // Searches and appends a hash-chained log record, durable before it
  // returns (a failed log write fails the call). Pins the version read for
  // as long as the log keeps the record. An empty vector with a filter is a
  // retrieval by filter alone: every matching record in document order
  // (document_id, then id), at most k of them (see ContextService). Errors:
  // as Search; NotFound (snapshot); InvalidArgument (filter text, with its
  // column; a token budget that fits no chunk); FailedPrecondition when no
  // chunk is found (nothing is pinned or logged) or more than k match a
  // retrieval by filter alone.
  Result<RetrieveResult> Retrieve(const RetrieveRequest& request);
  // Appends an answer record for a retrieval. Answers are immutable: a
  // second answer is refused with AlreadyExists naming the first.
  // Errors: NotFound (retrieval id), InvalidArgument (empty or too long),
  // FailedPrecondition (the id is a cache hit's: it served a cached answer).
  Result<LogRecord> RecordAnswer(const AnswerRequest& request);
  // The retrieval record and, if any, its answer record; for a cache hit's
  // id, the cache-hit record (which holds the answer it served) and none.
  // Errors: NotFound.
  Result<std::pair<LogRecord, std::optional<LogRecord>>> GetRetrieval(const std::string& retrieval_id) const;
  Result<LogPage> ListLog(const LogQuery& query) const;
  // Walks the chain from the first retained record to the head: every hash,
  // every link, sequence continuity, and the stored head. `keep_going`
  // (optional) is asked every 4,096 records; an error from it stops the
  // walk and is returned.
  Result<LogVerifyResult> VerifyLog(const std::function<Status()>& keep_going = nullptr) const;
  // How many records the log keeps and their approximate size. Cheap (no
  // scan): for monitoring. Errors: DataLoss (the start mark does not parse).
  Result<LogStats> GetLogStats() const;
  // Replays a retrieval (docs/retrieval-log.md, "Replay"); a cache hit's id
  // replays the retrieval it served the answer of.
  // Errors: NotFound (retrieval id, snapshot).
  Result<ReplayResult> Replay(const ReplayRequest& request) const;
  // Scores a retrieval's answer (recorded, or given) against the logged
  // context, rebuilt from the rows; for a cache hit, the answer it served
  // against its source retrieval's context. Errors: NotFound (retrieval id);
  // FailedPrecondition (no answer recorded and none given; context rows
  // collected); InvalidArgument (threshold).
  Result<AuditResult> Audit(const AuditRequest& request) const;
  // Audits every answered retrieval and every cache hit of a collection in
  // a time range. `keep_going` (optional) is asked before each page of the
  // log it reads and before each retrieval;
  // an error from it stops the batch and is returned. ResourceExhausted
  // ("audits: ...") once the audits kept pass request.max_result_bytes.
  Result<BatchAuditResult> AuditCollection(const BatchAuditRequest& request,
                                           const std::function<Status()>& keep_going = nullptr) const;
  // Removes log records older than DatabaseOptions::log_retention_seconds
  // and releases the versions only they pinned. Returns records removed.
  Result<uint64_t> GcLog();

  // --- Monitoring (verity/monitor.h, docs/monitoring.md) --------------------
  // The annotation of retrieval (or cache hit) `retrieval_id`'s answer: the
  // stored one, else computed and stored (on a read-only database, computed
  // only). With `recompute`, computed now and returned without replacing
  // the stored one (AnnotateLog with recompute replaces). Errors: NotFound
  // (retrieval id); FailedPrecondition (no answer recorded).
  Result<Annotation> Annotate(const std::string& retrieval_id, bool recompute = false);
  // Annotates every answered record in a range that has no annotation (or
  // every one, with recompute). Errors: InvalidArgument (range, limits);
  // NotFound (collection); FailedPrecondition (read-only).
  Result<AnnotateLogResult> AnnotateLog(const AnnotateLogRequest& request);
  // The signals of one collection over a time range, bucketed, with the
  // version changes marked. Reads the log and the annotations (answers
  // without one are computed, not stored). Errors: InvalidArgument (range,
  // bucket, low_g, limits, naming the field); NotFound (collection).
  Result<MonitorReport> GetMonitorReport(const MonitorReportRequest& request) const;
  // Forgets the collection's weakness references and drift windows (after
  // an acknowledged change, e.g. a new knowledge base): the next retrievals
  // rebuild them. Errors: NotFound (collection).
  Status ResetMonitorReference(const std::string& collection);
  // The live counters and drift state of every collection seen since open.
  std::vector<CollectionMonitorStats> GetMonitorStats() const;

  // --- Prompt registry (verity/prompts.h, docs/prompts.md) -------------------
  // Adds the next version of a prompt (1 for a new name); versions are
  // immutable. Durable when it returns. Errors: InvalidArgument (name;
  // template, naming the byte offset; config not a JSON object; sizes).
  Result<PromptVersion> CreatePromptVersion(const PromptDraft& draft);
  // One version, by number or label (default production). Errors: NotFound
  // (prompt, version, or label, naming it); InvalidArgument (name, label).
  Result<PromptVersion> GetPrompt(const PromptRef& ref) const;
  // Every prompt, sorted by name, with its latest version and labels.
  Result<std::vector<PromptInfo>> ListPrompts() const;
  // Every version of a prompt, oldest first. Errors: NotFound.
  Result<std::vector<PromptVersion>> ListPromptVersions(const std::string& name) const;
  // One page of the same: at most `limit` versions (0 = no limit; above
  // Limits::kMaxPromptVersionsPage is InvalidArgument) from version
  // `start_at` on (0 = from version 1). next_start_at is the version after
  // the page's last, or 0 when the page reached the latest.
  Result<PromptVersionPage> ListPromptVersionsPage(const std::string& name, uint32_t start_at, uint32_t limit) const;
  // Points `label` at `version` (a rollback is moving production back) and
  // records the move. Errors: NotFound (prompt or version); InvalidArgument
  // (label; actor over 1024 bytes).
  Result<PromptLabelEvent> SetPromptLabel(const std::string& name, const std::string& label, uint32_t version,
                                          const std::string& actor);
  // The moves of one label, or of all labels with label "", oldest first.
  // Errors: NotFound (prompt).
  Result<std::vector<PromptLabelEvent>> PromptLabelHistory(const std::string& name, const std::string& label = "") const;
  // The differences between two versions. Errors: NotFound.
  Result<PromptDiff> DiffPrompt(const std::string& name, uint32_t from, uint32_t to) const;
  // Renders a version's template. Errors: as GetPrompt; InvalidArgument
  // naming a variable the template uses that has no value.
  Result<std::string> RenderPrompt(const PromptRef& ref, const std::map<std::string, std::string>& variables) const;

  // --- Answer cache (verity/cache.h, docs/answer-cache.md) ------------------
  // Caches the answer of a logged retrieval (the recorded one unless
  // request.answer is given). In memory only: empty after a restart.
  // Errors: NotFound (retrieval id; its collection was dropped);
  // FailedPrecondition (no answer recorded and none given; the id is a cache
  // hit's: store its source instead); InvalidArgument
  // (params_json not a JSON object, model over 1024 bytes, answer over 1 MiB).
  Status CacheStore(const CacheStoreRequest& request);
  // Looks up an answer for a question at the collection's head (or `at`)
  // under the resolved prompt, model and parameters. A miss is not an error.
  // A hit appends a cache-hit record to the retrieval log (durable before
  // it returns, like Retrieve's; a failed write fails the call) and returns
  // its id. Errors: NotFound (collection; prompt version or label);
  // InvalidArgument (vector, params_json, min_similarity outside [0, 1],
  // query_text or client ids too long); FailedPrecondition (a hit on a
  // read-only database: it cannot be logged).
  Result<CacheLookupResult> CacheLookup(const CacheLookupRequest& request);
  CacheStats GetCacheStats() const;
  void ClearCache();

  // --- Snapshots, history, restore (docs/snapshots.md) ----------------------
  // Reads at a version below CollectionInfo::oldest_retained that no pin
  // holds fail with FailedPrecondition naming the oldest retained version.

  // Pins the version `at` reads (default: head; a snapshot's version makes
  // a snapshot of a snapshot) under a new name. Metadata only.
  // Errors: InvalidArgument (name, description, version newer than head),
  // AlreadyExists (name), FailedPrecondition (version already collected),
  // NotFound (`at`'s snapshot).
  Result<SnapshotInfo> CreateSnapshot(const std::string& collection, const std::string& name,
                                      const std::string& description, const ReadPoint& at = ReadPoint::Head());
  // Errors: NotFound (collection or snapshot). Counts the records at the
  // snapshot's version (a walk over the collection's rows in memory).
  Result<SnapshotInfo> GetSnapshot(const std::string& collection, const std::string& name) const;
  // The version a snapshot pins, without counting its records. A read at a
  // snapshot needs no call to it (give ReadPoint::AtSnapshot: the read
  // resolves it under its own lock). Errors: NotFound (collection or
  // snapshot).
  Result<Version> SnapshotVersion(const std::string& collection, const std::string& name) const;
  // Sorted by name.
  Result<std::vector<SnapshotInfo>> ListSnapshots(const std::string& collection) const;
  // Unpins; GC may then collect the version. Errors: NotFound.
  Status DeleteSnapshot(const std::string& collection, const std::string& name);

  // Generic pins for other subsystems (the retrieval log): a version stays
  // retained while at least one holder pins it. Idempotent per holder.
  // The holder "log" is the retrieval log's own pin (releasing it lets GC
  // collect the version even though log records name it). Errors:
  // InvalidArgument for an empty holder or one starting "snapshot/" (a
  // snapshot's pin goes with DeleteSnapshot).
  Status PinVersion(const std::string& collection, Version version, const std::string& holder);
  Status UnpinVersion(const std::string& collection, Version version, const std::string& holder);

  // Ids added, removed and changed from `from` to `to` (either order; each
  // a ReadPoint, resolved together under one lock), paged by id:
  // `start_after` is the previous page's next_cursor, `limit`
  // 1..Limits::kMaxDiffLimit. Errors: InvalidArgument (versions, limit),
  // FailedPrecondition (a version already collected), NotFound
  // ("from.snapshot" / "to.snapshot"). `keep_going` (optional) is asked
  // every 1,024 changes read; an error from it stops the diff and is
  // returned.
  Result<DiffPage> Diff(const std::string& collection, const ReadPoint& from, const ReadPoint& to,
                        const std::string& start_after = "", uint32_t limit = 1000,
                        const std::function<Status()>& keep_going = nullptr) const;

  // Makes a new head version of `into` (default: `collection` itself) whose
  // records equal those of `collection` at `at`: one atomic write;
  // concurrent readers see the old or the new contents, never a mix. History
  // is kept, so a restore can itself be undone by restoring again.
  // Errors: NotFound (collections, `at`'s snapshot), FailedPrecondition
  // (version collected; `into` has another dimension or metric).
  Result<RestoreResult> Restore(const std::string& collection, const ReadPoint& at, const std::string& into = "");

  // Changes a collection's retention window. Errors: NotFound.
  Status SetRetention(const std::string& collection, const RetentionPolicy& retention);
  // Garbage-collects one collection now (see RetentionPolicy). Errors: NotFound.
  Result<GcResult> Gc(const std::string& collection);

  // Writes `collection` at `at` (or, with collection "", every collection
  // at its head; `at` must then be the head) to the new directory `path`,
  // with a manifest holding every file's SHA-256. The directory appears only
  // when complete. Errors: AlreadyExists (path), FailedPrecondition
  // (version collected), NotFound (`at`'s snapshot), Unavailable (I/O).
  Result<ExportResult> Export(const std::string& collection, const ReadPoint& at, const std::string& path,
                              const ProgressFunction& progress = nullptr);
  // Removes what exports that died (a crash, a kill, a full disk) left in
  // the directory `dir`: directories named <name>.partial-<16 hex digits>
  // (not links) that hold the marker file an export creates first and
  // removes just before its final rename, and whose export is not running
  // (the marker's lock, which the export holds until it ends, is free: a
  // server sharing `dir` keeps its running exports). Nothing else is
  // touched, and no link is followed: a directory whose contents are not an
  // export's layout (files, and directories of files) is left in place, and
  // so is anything without the marker. `dir` itself may be reached through
  // links. Thread-safe (needs no open database). Errors: Unavailable if
  // `dir` cannot be read (a missing `dir` is nothing to do); a directory
  // that cannot be removed is reported in `errors`, not as the status.
  static Result<UnfinishedExports> RemoveUnfinishedExports(const std::string& dir);
  // Imports an export directory. `as_name` renames (an export of one
  // collection only); `replace` allows replacing an existing collection of
  // that name (atomically). Everything is verified before anything becomes
  // visible. `max_dimension` (0: Limits::kMaxDimension) is the caller's
  // own limit on a collection's dimension, as it applies to CreateCollection.
  // `path` is opened once as a directory and everything below it relative to
  // its parent, never following a symbolic link (the components of `path`
  // above its last are the caller's and may be links).
  // Errors: DataLoss naming the file that does not verify, AlreadyExists
  // (without replace), FailedPrecondition naming a component of the export
  // that is a symbolic link (`path` itself included), InvalidArgument
  // (as_name; a dimension above max_dimension; a collection's version above
  // Limits::kMaxVersion - 1, which would leave it no room for a write),
  // NotFound (path).
  Result<ImportResult> Import(const std::string& path, const std::string& as_name = "", bool replace = false,
                              const ProgressFunction& progress = nullptr, uint32_t max_dimension = 0);

  // Saves every graph that changed since it was last saved (temp file, fsync,
  // rename). Close() does this too.
  Status PersistGraphs();

 private:
  struct Impl;
  explicit Database(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace verity
