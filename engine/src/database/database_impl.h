// Database::Impl: shared by database.cc (open, close, collections),
// database_write.cc (upsert, delete) and database_read.cc (get, scroll,
// count, search, versions).
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <cassert>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>

#include "cache/answer_cache_service.h"
#include "collection/collection.h"
#include "history/retention.h"
#include "util/kill_point.h"
#include "log/log_pins.h"
#include "log/retrieval_log.h"
#include "prompts/prompt_registry.h"
#include "storage/store.h"
#include "util/clock.h"
#include "util/scoped_count.h"
#include "verity/database.h"

namespace verity {

namespace history {
struct ImportItem;  // history/import.cc
}  // namespace history

// Asks a long loop's `keep_going` (the caller's deadline, typically; may be
// empty) on the first step and every `every` steps after, and returns its
// refusal.
class KeepGoingCheck {
 public:
  KeepGoingCheck(const std::function<Status()>& keep_going, uint32_t every) : keep_going_(keep_going), every_(every) {}
  Status Step() {
    if (!keep_going_ || steps_++ % every_ != 0) return Status::Ok();
    return keep_going_();
  }

 private:
  const std::function<Status()>& keep_going_;
  const uint32_t every_;
  uint64_t steps_ = 0;
};

struct Database::Impl : LogPins {
  std::string dir;
  DatabaseOptions options;
  Database* owner = nullptr;  // the Database this belongs to (for the GC thread)

  // The RocksDB database (storage/store.h): handle, column families,
  // synced writes, the read-only switch. Set at open, closed by Close.
  std::unique_ptr<Store> store;
  // Borrowed from `store` (valid until Close) for the façade's own code and
  // the concerns not yet in subsystems of their own (collection/, history/,
  // context/); subsystems are given what they need at open.
  rocksdb::DB* db = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* rows = nullptr;
  rocksdb::ColumnFamilyHandle* vectors = nullptr;
  rocksdb::ColumnFamilyHandle* changes = nullptr;
  rocksdb::WriteOptions write_options;  // the store's

  // Held shared by every API call and exclusively by Close, so that Close
  // never pulls RocksDB from under a running call.
  mutable std::shared_mutex lifecycle_mu;
  bool closed = false;  // GUARDED_BY(lifecycle_mu)

  // The store's read-only switch (see Database's header): SetReadOnly
  // turns the database read-only for `reason` (the first reason is kept);
  // CheckWritable is FailedPrecondition naming the reason once read-only.
  // opened_read_only: the disk refused writes at open, so nothing may be
  // written, graph files included.
  void SetReadOnly(const std::string& reason) { store->SetReadOnly(reason); }
  Status CheckWritable() const { return store->CheckWritable(); }
  bool opened_read_only() const { return store->opened_read_only(); }

  std::mutex ddl_mu;  // serialises CreateCollection and DropCollection
  // The prompt registry (prompts/prompt_registry.h), then the answer cache
  // (cache/answer_cache_service.h), which borrows it: both set at open once
  // RocksDB is, thread-safe themselves, kept until the Database goes.
  std::unique_ptr<PromptRegistry> prompts;
  std::unique_ptr<AnswerCacheService> answer_cache;
  // Builds answer_cache, wired to this database (database_cache.cc); after
  // `prompts` and `owner` are set.
  void OpenAnswerCache();
  // Database::Open's steps (database/database.cc), in order. OpenStore:
  // RocksDB (Store::Open's errors), the borrowed handles, the retrieval log.
  // OpenSubsystems, once `owner` is set: the prompt registry and the answer
  // cache. LoadCollections: the next collection id, orphan removal (unless
  // opened read-only), every collection (one whose load is DataLoss goes to
  // `unavailable`; any other error fails the open). LoadLogAndStartThreads:
  // the retrieval log's keys and entries, its syncer, the GC and graph
  // checkpoint threads (as the options ask, not when opened read-only).
  Status OpenStore();
  void OpenSubsystems();
  Status LoadCollections();
  Status LoadLogAndStartThreads();
  mutable std::shared_mutex collections_mu;
  std::map<std::string, std::shared_ptr<Collection>> collections;  // GUARDED_BY(collections_mu)
  // Collections whose load at open failed with DataLoss (a damaged table
  // block of their rows or vectors): they are not in `collections`, so GC,
  // graph saves and whole-database exports pass them by; Find refuses them
  // with DataLoss naming the damage; ListCollections shows them; Drop and
  // Import --replace remove them. docs/reliability.md ("Corruption").
  struct UnavailableCollection {
    storage::CollectionMeta meta;
    Status error;  // the load's DataLoss, naming the damaged file
  };
  std::map<std::string, UnavailableCollection> unavailable;  // GUARDED_BY(collections_mu)
  uint32_t next_collection_id = 1;                                // GUARDED_BY(ddl_mu)

  // The retrieval log (log/retrieval_log.h): set at open, right after
  // RocksDB, and reset by Close after it; thread-safe itself.
  std::unique_ptr<RetrievalLog> retrieval_log;
  // Searches, retrievals, answers and cache lookups running now: the log's
  // waiters spin (yielding) only while fewer calls want a CPU than there
  // are cores (RetrievalLog::Env::calls_running).
  mutable std::atomic<int> calls_running{0};
  // LogPins, for the log's retention: the collections' log pins
  // (Collection::log_pinned). context/log_api.cc, with PinForLog.
  std::set<CollectionVersion> UnusedLogPins(int64_t cutoff_us) override;
  Status ReleaseLogPins(const std::set<CollectionVersion>& versions, int64_t cutoff_us) override;
  // (context/retrieve.cc) Appends the cache-hit record of a lookup that hit (LogKind::kCacheHit)
  // and sets result->retrieval_id / log_seq. Refreshes the log pin of the
  // version read (the rows of the source's context stay while the hit's
  // record is kept). NotFound when the source retrieval has expired from
  // the log (the caller serves nothing); FailedPrecondition on a read-only
  // database.
  // *source_expired is set when the source retrieval is no longer in the
  // log (the hit must not be served); the status is then NotFound.
  Status LogCacheHit(Collection& c, const CacheLookupRequest& request, CacheLookupResult* result, bool* source_expired);
  // Pins `version` of `c` for the log (once per version). Caller holds
  // c.pins_mu. NotFound once c is dropped; FailedPrecondition when GC has
  // collected the version (a pin cannot bring its rows back).
  Status PinForLog(Collection& c, Version version);

  // The context service (context/*.cc): the internal halves of the public
  // Retrieve, Replay and Audit, which public methods call instead of each
  // other (no public method calls another).
  // The version snapshot `name` of `c` pins, read from the meta column
  // family (history/snapshots.cc): NotFound (kSnapshotNotFound, no field)
  // or DataLoss. Database::SnapshotVersion answers it; ResolveReadPoint
  // calls it under c.graph_mu, which a DeleteSnapshot's unpin waits for.
  Result<Version> SnapshotVersionOf(const Collection& c, const std::string& name) const;
  // Searches `search` and pins the version it read for the log, retrying a
  // head read whose version GC collected in between (`fixed_version`: the
  // request named a version or snapshot, whose refusal is the answer).
  Result<SearchResult> SearchPinnedForLog(Collection& c, const SearchRequest& search, bool fixed_version);
  // Database::Replay's work (a cache hit replays its source).
  Result<ReplayResult> ReplayOne(const ReplayRequest& request) const;
  struct ReplayRun;  // one replay of a logged retrieval (context/replay.cc)
  // Database::Audit's work. When the retrieval has no recorded answer and
  // none was given, the status is FailedPrecondition and *unanswered is set
  // (AuditCollection counts those apart); otherwise *unanswered is false.
  Result<AuditResult> AuditOne(const AuditRequest& request, bool* unanswered) const;
  // The in-context chunks of logged retrieval `r`, read from its rows and
  // checked against the logged hashes. FailedPrecondition when they are no
  // longer stored; DataLoss when a text differs from its hash.
  Status ReadAuditedContext(const LogRecord& r, std::vector<SourceChunk>* chunks) const;

  // Background GC (DatabaseOptions::gc_interval_seconds).
  std::thread gc_thread;
  std::mutex gc_thread_mu;
  std::condition_variable gc_thread_cv;
  bool gc_thread_stop = false;  // GUARDED_BY(gc_thread_mu)
  void RunBackgroundGc();

  // Background graph checkpoints (graph_checkpoint.cc): a thread that looks
  // at every collection once a second and saves the graphs that are due
  // (DatabaseOptions::graph_checkpoint_*). Started by Open, stopped first
  // by Close.
  std::thread checkpoint_thread;
  std::mutex checkpoint_mu;
  std::condition_variable checkpoint_cv;
  bool checkpoint_stop = false;  // GUARDED_BY(checkpoint_mu)
  void RunGraphCheckpoints();

  void Log(LogLevel level, const std::string& message) const;
  std::string GraphPath(uint32_t collection_id) const;

  // NotFound naming the collection; DataLoss naming the damage for one
  // that is unavailable (see `unavailable`).
  Result<std::shared_ptr<Collection>> Find(const std::string& name) const;
  // What GetCollection, ListCollections and an import's result say of `c`;
  // takes c.graph_mu shared.
  static CollectionInfo InfoOf(const Collection& c);
  // Whether a collection of this name exists, serving or unavailable.
  bool NameTaken(const std::string& name) const;
  // Adds to `batch` the deletion of collection `id`'s record, versions,
  // snapshots, pins, rows, vectors and changes (not its name key).
  void DeleteCollectionData(rocksdb::WriteBatch& batch, uint32_t id);
  // For an unavailable collection `name`: adds the deletion of its data to
  // `batch` (the caller writes it and then erases it from `unavailable`),
  // or with no batch writes that plus the deletion of its name. false when
  // `name` is not unavailable. Caller holds ddl_mu.
  Result<bool> RemoveUnavailable(const std::string& name, rocksdb::WriteBatch* batch);
  // Drops the unavailable collection `name`: true when it was one and is
  // gone. Caller holds ddl_mu.
  bool DropUnavailable(const std::string& name);
  // Removes table files (below level 0) holding only collection `id`'s keys.
  void ForgetDamagedFiles(uint32_t id);

  // Loads one collection's rows and graph at open.
  Status LoadCollection(const storage::CollectionMeta& meta);
  // Inserts the graph labels in [from, to) that have rows, from their
  // stored vectors, into `graph`.
  Status InsertStoredLabels(const Collection& c, HnswGraph& graph, const std::vector<std::string>& row_key_of_label,
                            size_t from, size_t to);
  Status PersistGraph(Collection& c);
  // Reachability repair (HnswGraph::Repair: every node gets an in-link the
  // entry point reaches, so a search can return it). RepairNewGraph repairs
  // a graph no reader sees yet (at open, in a rebuild) and logs what it
  // linked; true when it changed links. RepairGraphIfDue repairs c.graph
  // once the nodes inserted since the last check reach `min_fraction` of
  // the graph (0: any): the check (one pass over the links) holds graph_mu
  // shared, and only a graph with unreachable nodes takes it exclusively.
  // Caller holds c.write_mu, not graph_mu.
  bool RepairNewGraph(const Collection& c, HnswGraph& graph, const char* when) const;
  void RepairGraphIfDue(Collection& c, double min_fraction, const char* when);

  // The one resolver of every read's ReadPoint (collection/read.cc): the
  // head, the version, or the snapshot's version, checked against the
  // published head. Errors (`field` names the request's field, "at" for
  // most reads): NotFound (kSnapshotNotFound) "<field>.snapshot";
  // InvalidArgument "<field>.snapshot" for an empty name, "<field>" for a
  // version newer than the head; FailedPrecondition "<field>" if GC may have
  // collected it. Caller holds c.graph_mu (shared or unique) for as long
  // as it reads the version resolved.
  Result<Version> ResolveReadPoint(const Collection& c, const ReadPoint& at, const std::string& field = "at") const;

  // One new version from upserts (validated, ids unique) and deletes (ids
  // not live are ignored). `revive` is empty or has one entry per upsert: a
  // revivable node (RowNode::revivable) holding exactly that record, which
  // then becomes visible again instead of getting a new node (Restore).
  // Caller holds c.write_mu.
  struct Committed {
    Version version = 0;
    uint32_t upserted = 0;
    uint32_t deleted = 0;
  };
  Result<Committed> Commit(Collection& c, std::vector<Record> upserts, const std::vector<std::string>& deletes,
                           storage::VersionMeta vmeta, const std::vector<std::optional<uint32_t>>& revive = {});
  // Commit's steps (collection/write.cc), in its order; caller holds
  // c.write_mu. The labels of the upserts: label_of[i] for upserts[i];
  // revived ones keep theirs, the others are first_label.. next_label - 1.
  struct CommitLabels {
    std::vector<uint32_t> label_of;
    uint64_t first_label = 0;
    uint64_t next_label = 0;
    size_t new_nodes() const { return next_label - first_label; }
  };
  using CommitDeleted = std::pair<std::string, uint32_t>;  // id, label
  // ResourceExhausted once the graph's labels run out.
  static Result<CommitLabels> AssignCommitLabels(const Collection& c, size_t upserts,
                                                 const std::vector<std::optional<uint32_t>>& revive);
  // Builds the version's WriteBatch (tombstones for the ids of `deletes`
  // live at head, which go to *deleted; rows and vectors of the upserts; the
  // change list; the version and collection records) and writes it synced;
  // then c.meta is the returned collection record. Errors are RocksDB's.
  Result<storage::CollectionMeta> WriteCommitBatch(Collection& c, Version version, const std::vector<Record>& upserts,
                                                   const std::vector<std::string>& deletes, const CommitLabels& labels,
                                                   storage::VersionMeta vmeta, std::vector<CommitDeleted>* deleted);
  // After the write: the live map and the node table (under c.graph_mu),
  // invisible to readers until the head moves. Moves the upserts' ids.
  static void ApplyCommitToNodes(Collection& c, Version version, std::vector<Record>& upserts,
                                 const CommitLabels& labels, const std::vector<CommitDeleted>& deleted);
  // The new nodes' prepared vectors into the graph, in chunks (c.graph_mu
  // held per chunk); the first failure stops it and is returned.
  Status InsertCommitIntoGraph(Collection& c, const std::vector<float>& prepared, const CommitLabels& labels);

  // NotFound, as for a name that does not exist, once c is dropped (a
  // writer that found it before the drop); Aborted (retry) when an import
  // replaced it. Caller holds c.write_mu or c.pins_mu.
  static Status CheckNotDropped(const Collection& c);

  // GC of one collection (history/gc.cc); caller holds c.write_mu.
  Result<GcResult> GcLocked(Collection& c);
  // GC's inputs (the retention settings, the commit times the keep_seconds
  // rule looks at, the horizon so far, the pins) read and handed to
  // history::PlanRetention. Caller holds c.write_mu and c.pins_mu.
  Result<history::RetentionPlan> PlanGc(Collection& c) const;
  // Records `horizon` as c's oldest retained version (on disk, then in
  // memory) if it moves it forward. Caller holds c.write_mu and c.pins_mu.
  Status RecordGcHorizon(Collection& c, Version horizon);
  // Builds a new graph of the nodes GC left and swaps it in; caller holds
  // c.write_mu (reads go on meanwhile).
  Status RebuildGraph(Collection& c);
  // Loads the collection's pins and snapshot count at open.
  Status LoadPins(Collection& c);
  // Removes rows of collection ids that have no collection record (left by
  // an import that crashed before it committed).
  Status RemoveOrphans();
  // Import (history/import.cc), in its steps. AssignImportIds gives each
  // item a fresh collection id (recorded; ResourceExhausted when ids run
  // out). DiscardImport removes what an import that failed wrote under
  // them. RegisterImport makes the built items visible with one batch,
  // dropping the collections they replace (`replace`; else AlreadyExists),
  // unavailable ones of the same name included; FindImportReplaced is its
  // first step: the collections each item replaces (null if none), the
  // deletion of unavailable ones added to `batch`. Caller of
  // FindImportReplaced holds ddl_mu.
  Status AssignImportIds(std::vector<history::ImportItem>& items);
  void DiscardImport(const std::vector<history::ImportItem>& items);
  Status RegisterImport(const std::vector<history::ImportItem>& items, bool replace);
  Status FindImportReplaced(const std::vector<history::ImportItem>& items, bool replace, rocksdb::WriteBatch* batch,
                            std::vector<std::shared_ptr<Collection>>* olds,
                            std::vector<std::string>* unavailable_replaced);
  // Builds a Collection from rows already in RocksDB (open and import;
  // database/load_collection.cc, as LoadCollection and the steps below).
  Result<std::shared_ptr<Collection>> BuildCollection(const storage::CollectionMeta& meta, bool use_graph_file);
  // BuildCollection's steps. LoadNodeTable fills c's node table, live ids,
  // metadata columns, rows-only versions and log-only row count from its
  // rows (c.nodes sized to the label count, pins loaded), and the row key
  // of each label that gets a node; DataLoss for rows that do not parse or
  // whose labels do not fit. AddRowToNode adds one row to its label's node
  // (DataLoss past two rows). LoadGraphFile returns the graph file's graph
  // if it verifies and matches the node table, else null and why in
  // *reason (empty when there is no file and no rows). FinishGraph catches
  // c.graph up with the rows it lacks, or builds one from the rows when
  // there is none (logging `reason`), repairs and saves it as needed.
  Status LoadNodeTable(Collection& c, std::vector<std::string>* row_key_of_label);
  static Status AddRowToNode(RowNode& node, uint64_t label, std::string_view id, Version version, Version to);
  std::unique_ptr<HnswGraph> LoadGraphFile(const Collection& c, std::string* reason);
  Status FinishGraph(Collection& c, const std::vector<std::string>& row_key_of_label, const std::string& reason);
  uint64_t ApproximateBytes(uint32_t collection_id) const;
  // Snapshots of a collection, sorted by name; with their record counts
  // (a pass over the node table each) when `with_counts`.
  Result<std::vector<SnapshotInfo>> SnapshotsOf(const Collection& c, bool with_counts) const;
  // Records visible at `version`; caller holds c.graph_mu. At a version the
  // graph does not serve (Collection::GraphServes) it counts the rows in
  // RocksDB; errors are RocksDB's or DataLoss.
  Result<uint64_t> CountAt(const Collection& c, Version version) const;
  // Records visible at `version` (matching `filter`, if any), counted from
  // the rows CF read with `read`; needs no lock.
  Result<uint64_t> CountRows(const Collection& c, Version version, const Filter* filter,
                             const rocksdb::ReadOptions& read) const;
  // A search hit before its record is read.
  struct RowHit {
    std::string id;
    Version row_version;
    float distance;
  };
  // The exact k nearest rows visible at `version` (matching the request's
  // filter), nearest first, from the rows and vectors CFs read with `read`:
  // the search at versions whose nodes GC dropped (log-pinned only). `query`
  // is prepared (PrepareVector). Needs no lock; the caller resolved
  // `version` and took `read`'s snapshot while it was readable.
  Status SearchRows(const Collection& c, const SearchRequest& request, Version version, const float* query,
                    const rocksdb::ReadOptions& read, std::vector<RowHit>* hits) const;
  // Reads a row (text, metadata, optionally vector) by exact row key. A row
  // (or its vector) that is not stored is DataLoss, for a read the graph or
  // the version says must find it; with `absent_is_not_found`, a missing
  // row is NotFound instead (replay and audit: GC may have collected it),
  // and any other error still says what failed.
  Result<StoredRecord> ReadRow(const Collection& c, const std::string& row_key, std::string_view id,
                               Version version, bool with_vector,
                               const rocksdb::ReadOptions& read = rocksdb::ReadOptions(),
                               bool absent_is_not_found = false) const;
  Result<SearchResult> SearchOne(const Collection& c, const SearchRequest& request) const;
  // SearchOne's two halves, for callers that must refuse bad input before
  // they act (Retrieve pins its version in between): the input checks (k,
  // ef, the vector, the filter), and the search of a checked request.
  // `bounded`: as ValidateVector's (false for a logged query being replayed).
  Status ValidateSearch(const Collection& c, const SearchRequest& request, bool bounded = true) const;
  Result<SearchResult> SearchValidated(const Collection& c, const SearchRequest& request) const;
  // SearchValidated's steps (collection/read.cc). PlanExactSearch: whether
  // the search scans every node instead of walking the graph (the request's
  // plan, else the planner's estimate from a sample of `accept`); caller
  // holds c.graph_mu shared. FillSearchHits: result->hits from hit_rows
  // (their ids moved out), each with its record read under `snapshot` when
  // the request wants payloads or vectors (then `snapshot` is set);
  // ResourceExhausted past request.max_payload_bytes; needs no lock.
  bool PlanExactSearch(const Collection& c, const SearchRequest& request, const LabelFilter& accept, bool all_visible,
                       uint32_t ef) const;
  Status FillSearchHits(const Collection& c, const SearchRequest& request, std::vector<RowHit>& hit_rows,
                        const std::optional<ScopedSnapshot>& snapshot, SearchResult* result) const;
};


// About how many bytes a record takes in a response (ids, text, metadata,
// vector): for the bounds on responses (SearchRequest::max_payload_bytes).
uint64_t RecordBytes(const Record& r);

// The pin holder of the retrieval log (docs/retrieval-log.md).
inline constexpr char kLogPinHolder[] = "log";
// The longest query text the retrieval log keeps (Retrieve, cache hits).
inline constexpr size_t kMaxLogFieldBytes = 64 * 1024;

// Positions `it` (on the rows CF) at the newest row of `id` at or below
// `version`. Sets *found=false if the id has no row then; tombstones count
// as found (the caller checks).
Status SeekRow(rocksdb::Iterator* it, uint32_t collection, std::string_view id, Version version, bool* found,
               Version* row_version);

// Holds a database's lifecycle lock shared for one public call. A public
// method never calls another public method of the same database (internal
// callers use the subsystems' and Impl's internal functions): taking a
// shared_mutex twice in one thread is undefined, and would deadlock behind a
// waiting Close. Debug builds check it.
class LifecycleGuard {
 public:
  explicit LifecycleGuard(std::shared_mutex& mu) : lock_(mu) {
#ifndef NDEBUG
    assert(held_ != &mu && "a public Database method called another public method");
    outer_ = held_;
    held_ = &mu;
#endif
  }
#ifndef NDEBUG
  ~LifecycleGuard() { held_ = outer_; }
#endif
  LifecycleGuard(const LifecycleGuard&) = delete;
  LifecycleGuard& operator=(const LifecycleGuard&) = delete;

 private:
  std::shared_lock<std::shared_mutex> lock_;
#ifndef NDEBUG
  static thread_local std::shared_mutex* held_;  // the lock this thread's innermost guard holds
  std::shared_mutex* outer_ = nullptr;
#endif
};

// Opens every public method: holds the lifecycle lock shared for the call and
// refuses once the database is closed.
#define VERITY_CHECK_OPEN_()                 \
  LifecycleGuard life_(impl_->lifecycle_mu); \
  if (impl_->closed) return Status::FailedPrecondition("database is closed")

// Opens every public method that writes: as VERITY_CHECK_OPEN_, and refuses
// once a disk error made the database read-only.
#define VERITY_CHECK_WRITABLE_() \
  VERITY_CHECK_OPEN_();          \
  VERITY_RETURN_IF_ERROR(impl_->CheckWritable())

}  // namespace verity
