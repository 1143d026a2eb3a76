// Database: open, close, and collections. Writes are in database_write.cc,
// reads in database_read.cc.
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "base/validate.h"
#include "database/database_impl.h"
#include "util/clock.h"
#include "index/distance.h"
#include "storage/codec.h"
#include "storage/keys.h"

namespace verity {

namespace fs = std::filesystem;

#ifndef NDEBUG
thread_local std::shared_mutex* LifecycleGuard::held_ = nullptr;
#endif

void Database::Impl::Log(LogLevel level, const std::string& message) const {
  if (options.log) {
    options.log(level, message);
    return;
  }
  const char* name = level == LogLevel::kInfo ? "info" : level == LogLevel::kWarning ? "warning" : "error";
  std::fprintf(stderr, "verity engine %s: %s\n", name, message.c_str());
}

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Database::~Database() {
  Status s = Close();
  if (!s.ok()) impl_->Log(LogLevel::kError, "close: " + s.ToString());
}

bool Database::IsReadOnly() const { return impl_ && impl_->store && impl_->store->IsReadOnly(); }

std::string Database::ReadOnlyReason() const { return impl_ && impl_->store ? impl_->store->ReadOnlyReason() : ""; }

namespace {

// Open's first step: the options it checks itself, then the data directory
// (created if allowed and missing) and its graphs/ folder.
Status PrepareDataDirectory(const std::string& dir, const DatabaseOptions& options) {
  // Bounded so that the cutoff (now - retention in µs) cannot overflow.
  constexpr int64_t kMaxLogRetentionSeconds = 1000LL * 366 * 24 * 3600;
  if (options.log_retention_seconds < 0 || options.log_retention_seconds > kMaxLogRetentionSeconds) {
    return Status::InvalidArgument("log_retention_seconds: " + std::to_string(options.log_retention_seconds) +
                                   " is outside 0.." + std::to_string(kMaxLogRetentionSeconds) + " (1,000 years)");
  }
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    if (!options.create_if_missing) return Status::NotFound("data directory " + dir + " does not exist");
    fs::create_directories(dir, ec);
    if (ec) return Status::Unavailable("cannot create data directory " + dir + ": " + ec.message());
  } else if (!fs::is_directory(dir, ec)) {
    return Status::FailedPrecondition("data directory " + dir + " is not a directory");
  }
  fs::create_directories(dir + "/graphs", ec);
  if (ec) return Status::Unavailable("cannot create " + dir + "/graphs: " + ec.message());
  return Status::Ok();
}

}  // namespace

Status Database::Impl::OpenStore() {
  StoreOptions store_options;
  store_options.sync_writes = options.sync_writes;
  store_options.wal_recovery = options.wal_recovery;
  store_options.memtable_budget_bytes = options.memtable_budget_bytes;
  store_options.env = options.env;
  Impl* self = this;  // owns the store, so outlives it
  store_options.log = [self](LogLevel level, const std::string& message) { self->Log(level, message); };
  VERITY_ASSIGN_OR_RETURN(store, Store::Open(dir, store_options));
  collections = std::make_unique<Collections>(*store, dir, options, store_options.log);
  history = std::make_unique<History>(*store, *collections, dir, options, store_options.log);
  RetrievalLog::Env log_env;
  log_env.store = store.get();
  log_env.retention_seconds = options.log_retention_seconds;
  log_env.calls_running = &calls_running;
  log_env.log_message = [self](LogLevel level, const std::string& message) { self->Log(level, message); };
  retrieval_log = std::make_unique<RetrievalLog>(std::move(log_env));
  return Status::Ok();
}

Status Database::Impl::OpenSubsystems() {
  prompts = std::make_unique<PromptRegistry>(
      store->db(), store->meta(),
      [this](rocksdb::WriteBatch* batch, const std::string& what) { return store->Write(batch, what); }, NowMicros);
  context = std::make_unique<ContextService>(*store, *collections, *history, *retrieval_log, *prompts);
  OpenAnswerCache();
  VERITY_ASSIGN_OR_RETURN(monitor, Monitor::Create(options.monitor, *collections, *context, *retrieval_log, *prompts,
                                                   [this](LogLevel level, const std::string& m) { Log(level, m); }));
  Log(LogLevel::kInfo, "opened " + dir + " (distance kernels: " + DistanceKernelName() + ")");
  return Status::Ok();
}

Status Database::Impl::LoadLogAndStartThreads() {
  if (!store->opened_read_only()) VERITY_RETURN_IF_ERROR(retrieval_log->MoveIndexKeys());
  VERITY_RETURN_IF_ERROR(retrieval_log->Load());
  retrieval_log->StartSyncer();
  if (!store->opened_read_only()) monitor->Start();
  if (options.gc_interval_seconds > 0 && !store->opened_read_only()) {
    gc_thread.Start(std::chrono::seconds(options.gc_interval_seconds), [this] { RunGcRound(); });
  }
  if ((options.graph_checkpoint_nodes > 0 || options.graph_checkpoint_seconds > 0) && !store->opened_read_only()) {
    checkpoint_thread.Start(std::chrono::seconds(1),
                            [this, state = CheckpointState()]() mutable { RunCheckpointRound(state); });
  }
  return Status::Ok();
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& dir, const DatabaseOptions& options) {
  VERITY_RETURN_IF_ERROR(PrepareDataDirectory(dir, options));
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->options = options;
  VERITY_RETURN_IF_ERROR(impl->OpenStore());

  std::unique_ptr<Database> database(new Database(std::move(impl)));
  Impl& d = *database->impl_;
  d.owner = database.get();
  VERITY_RETURN_IF_ERROR(d.OpenSubsystems());
  VERITY_RETURN_IF_ERROR(d.collections->LoadAll());
  VERITY_RETURN_IF_ERROR(d.LoadLogAndStartThreads());
  return database;
}

Status Database::Close() {
  if (!impl_) return Status::Ok();
  {
    std::shared_lock life(impl_->lifecycle_mu);
    if (impl_->closed) return Status::Ok();
  }
  impl_->checkpoint_thread.Stop();
  impl_->gc_thread.Stop();
  if (impl_->monitor) impl_->monitor->Stop();
  // A graph file is derived data: one that cannot be saved (a full disk) is
  // caught up or rebuilt from the rows at the next open, so it is logged,
  // and does not make the stop fail.
  if (Status s = impl_->collections ? impl_->collections->PersistGraphs() : Status::Ok(); !s.ok()) {
    impl_->Log(LogLevel::kWarning,
               "close: a graph was not saved (" + s.ToString() + "); the next open catches it up from the rows");
  }
  Status result;
  std::unique_lock life(impl_->lifecycle_mu);
  if (impl_->closed) return result;
  impl_->closed = true;
  if (impl_->retrieval_log) impl_->retrieval_log->StopSyncer();
  if (impl_->store) {
    // Flushes and syncs (unless a disk error made the database read-only),
    // then closes RocksDB.
    result = impl_->store->Close();
    impl_->retrieval_log.reset();  // it borrows the store's handles
  }
  if (impl_->collections) impl_->collections->Clear();
  return result;
}

}  // namespace verity
