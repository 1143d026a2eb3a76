// Database::Impl: the façade's state. It owns the store and the subsystems
// (collections, the retrieval log, prompts, the answer cache), the
// lifecycle lock every public call holds, and the background threads; the
// public methods (database/*_api.cc, history/, context/) hand the work to
// the subsystems. See docs/architecture.md, "Engine subsystems".
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
#include "collection/collections.h"
#include "history/history.h"
#include "history/retention.h"
#include "log/log_pins.h"
#include "log/retrieval_log.h"
#include "prompts/prompt_registry.h"
#include "storage/store.h"
#include "util/clock.h"
#include "util/kill_point.h"
#include "util/periodic_thread.h"
#include "util/scoped_count.h"
#include "verity/database.h"

namespace verity {

struct Database::Impl {
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
  // cache. Then Open has the collections load (Collections::LoadAll).
  // LoadLogAndStartThreads:
  // the retrieval log's keys and entries, its syncer, the GC and graph
  // checkpoint threads (as the options ask, not when opened read-only).
  Status OpenStore();
  void OpenSubsystems();
  Status LoadLogAndStartThreads();
  // The collections (collection/collections.h): created right after the
  // store, loaded by Open, cleared by Close; thread-safe itself.
  std::unique_ptr<Collections> collections;

  // The retrieval log (log/retrieval_log.h): set at open, right after
  // RocksDB, and reset by Close after it; thread-safe itself.
  std::unique_ptr<RetrievalLog> retrieval_log;
  // Searches, retrievals, answers and cache lookups running now: the log's
  // waiters spin (yielding) only while fewer calls want a CPU than there
  // are cores (RetrievalLog::Env::calls_running).
  mutable std::atomic<int> calls_running{0};
  // (context/retrieve.cc) Appends the cache-hit record of a lookup that hit (LogKind::kCacheHit)
  // and sets result->retrieval_id / log_seq. Refreshes the log pin of the
  // version read (the rows of the source's context stay while the hit's
  // record is kept). NotFound when the source retrieval has expired from
  // the log (the caller serves nothing); FailedPrecondition on a read-only
  // database.
  // *source_expired is set when the source retrieval is no longer in the
  // log (the hit must not be served); the status is then NotFound.
  Status LogCacheHit(Collection& c, const CacheLookupRequest& request, CacheLookupResult* result, bool* source_expired);

  // The context service (context/*.cc): the internal halves of the public
  // Retrieve, Replay and Audit, which public methods call instead of each
  // other (no public method calls another).
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

  // The background threads (database/background.cc): GC (a round every
  // DatabaseOptions::gc_interval_seconds: each collection's GC, then the
  // log's retention) and graph checkpoints (a round every second: saves
  // the graphs that are due, DatabaseOptions::graph_checkpoint_*). Started
  // by Open, stopped first by Close.
  PeriodicThread gc_thread;
  PeriodicThread checkpoint_thread;
  void RunGcRound();
  struct CheckpointState {
    using Clock = std::chrono::steady_clock;
    std::map<uint32_t, Clock::time_point> unsaved_since;  // collection id → first seen with unsaved nodes
    std::map<uint32_t, Clock::time_point> retry_after;    // collection id → not before (after a failed save)
  };
  void RunCheckpointRound(CheckpointState& state);

  void Log(LogLevel level, const std::string& message) const;

  // History (history/history.h): snapshots, pins (the log's included: it
  // is the log's LogPins), diff, restore, retention and GC, export and
  // import. Created after `collections`, which it borrows.
  std::unique_ptr<History> history;
};

// The longest query text the retrieval log keeps (Retrieve, cache hits).
inline constexpr size_t kMaxLogFieldBytes = 64 * 1024;

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
