// Database::Impl: the façade's state. It owns the store and one object per
// subsystem, the lifecycle lock every public call holds, and the background
// threads; the public methods (database/*_api.cc) open the call and hand
// the work to a subsystem. See docs/architecture.md, "Engine subsystems".
#pragma once

#include <atomic>
#include <cassert>
#include <chrono>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>

#include "cache/answer_cache_service.h"
#include "collection/collections.h"
#include "context/context_service.h"
#include "history/history.h"
#include "log/retrieval_log.h"
#include "monitor/monitor.h"
#include "prompts/prompt_registry.h"
#include "storage/store.h"
#include "util/periodic_thread.h"
#include "util/scoped_count.h"
#include "verity/database.h"

namespace verity {

struct Database::Impl {
  std::string dir;
  DatabaseOptions options;
  Database* owner = nullptr;  // the Database this belongs to (the GC thread calls its public Gc)

  // Held shared by every API call and exclusively by Close, so that Close
  // never pulls RocksDB from under a running call.
  mutable std::shared_mutex lifecycle_mu;
  bool closed = false;  // GUARDED_BY(lifecycle_mu)

  // The store and the subsystems, in the order Open creates them; each is
  // thread-safe itself and borrows those before it. Close stops the
  // threads, saves the graphs, then closes the store.
  // - store (storage/store.h): RocksDB, its families, synced writes, the
  //   read-only switch.
  // - collections (collection/collections.h): the registry, commits,
  //   reads, graphs; loaded by Open after every subsystem exists.
  // - history (history/history.h): snapshots, pins (the log's LogPins),
  //   diff, restore, retention and GC, export and import.
  // - retrieval_log (log/retrieval_log.h): the hash-chained log; reset by
  //   Close after the store closes.
  // - prompts (prompts/prompt_registry.h), context
  //   (context/context_service.h): retrieve, answers, replay, audit; then
  //   answer_cache (cache/answer_cache_service.h), wired by OpenAnswerCache
  //   (database/cache_api.cc) with hooks into collections and context.
  std::unique_ptr<Store> store;
  std::unique_ptr<Collections> collections;
  std::unique_ptr<History> history;
  std::unique_ptr<RetrievalLog> retrieval_log;
  std::unique_ptr<PromptRegistry> prompts;
  std::unique_ptr<ContextService> context;
  std::unique_ptr<AnswerCacheService> answer_cache;
  // - monitor (monitor/monitor.h): annotations, live drift and weakness,
  //   reports; fed by the context calls after they succeed.
  std::unique_ptr<Monitor> monitor;

  // Searches, retrievals, answers and cache lookups running now: the log's
  // waiters spin (yielding) only while fewer calls want a CPU than there
  // are cores (RetrievalLog::Env::calls_running).
  mutable std::atomic<int> calls_running{0};

  // Database::Open's steps (database/database.cc), in order. OpenStore:
  // RocksDB (Store::Open's errors), collections, history, the retrieval
  // log. OpenSubsystems, once `owner` is set: prompts, context, the answer
  // cache. Then Open loads the collections (Collections::LoadAll).
  // LoadLogAndStartThreads: the retrieval log's keys and entries, its
  // syncer, the GC and graph checkpoint threads (as the options ask, not
  // when opened read-only).
  Status OpenStore();
  // InvalidArgument for DatabaseOptions::monitor.
  Status OpenSubsystems();
  void OpenAnswerCache();
  Status LoadLogAndStartThreads();

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

  // The engine's messages: DatabaseOptions::log, else stderr.
  void Log(LogLevel level, const std::string& message) const;
};

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
  VERITY_RETURN_IF_ERROR(impl_->store->CheckWritable())

}  // namespace verity
