// Store: the engine's one RocksDB database — the handle, its column
// families, plain and synced writes, the read-only switch, and read
// snapshots. Every other subsystem reads and writes through the handles it
// lends; none opens, flushes or closes RocksDB itself. The key layout of
// every family is in storage/keys.h.
//
// Thread-safety: every method is thread-safe. The handles it lends stay
// valid until Close; the façade (Database) guarantees that no call runs
// then (its lifecycle lock).
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "verity/database.h"
#include "verity/status.h"

namespace verity {

struct StoreOptions {
  bool sync_writes = true;                          // DatabaseOptions::sync_writes
  WalRecovery wal_recovery = WalRecovery::kPointInTime;
  size_t memtable_budget_bytes = 16 << 20;          // all families' memtables together
  std::shared_ptr<rocksdb::Env> env;                // null: RocksDB's default
  LogFunction log;                                  // RocksDB's warnings and the read-only switch; may be empty
};

class Store {
 public:
  // Opens (creating if missing) the RocksDB database `data_dir`/db with the
  // engine's column families. A disk that refuses writes (full, or mounted
  // read-only) opens an existing database read-only instead: opened_read_only()
  // and IsReadOnly() are then true. Errors: DataLoss for a write-ahead log
  // damaged in the middle (the message says what to do); FailedPrecondition
  // when another process holds the directory; other RocksDB errors mapped by
  // FromRocks.
  static Result<std::unique_ptr<Store>> Open(const std::string& data_dir, const StoreOptions& options);
  ~Store();  // closes without flushing if Close was not called
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Flushes the memtables and syncs the WAL (unless read-only), then closes.
  // A flush the disk refuses is logged and turns the store read-only: the
  // WAL already holds every acknowledged write. Idempotent.
  Status Close();

  // Borrowed; valid until Close.
  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* meta() const { return meta_; }
  rocksdb::ColumnFamilyHandle* rows() const { return rows_; }
  rocksdb::ColumnFamilyHandle* vectors() const { return vectors_; }
  rocksdb::ColumnFamilyHandle* changes() const { return changes_; }
  rocksdb::ColumnFamilyHandle* log() const { return log_; }              // the retrieval log's records
  rocksdb::ColumnFamilyHandle* log_index() const { return log_index_; }  // its indexes and marks
  rocksdb::ColumnFamilyHandle* text() const { return text_; }            // the full-text index's documents
  const std::vector<rocksdb::ColumnFamilyHandle*>& handles() const { return handles_; }
  // The options of an acknowledged write (sync unless sync_writes is off).
  const rocksdb::WriteOptions& write_options() const { return write_options_; }

  // Writes `batch` with write_options(). The error names `what`.
  Status Write(rocksdb::WriteBatch* batch, const std::string& what);
  // Writes `batch` plus the retrieval log's sync mark (`mark`: the last
  // record made durable) with a synced write; SyncWal writes the mark alone,
  // which makes every write before it durable. DB::SyncWAL is not used: on
  // a WAL writer in error it trips an assertion in Debian's RocksDB, and
  // checking CheckWritable() first cannot close that window against a write
  // failing on another thread. The mark's key is keys::log::kSyncMarkKey.
  Status WriteSynced(uint64_t mark, rocksdb::WriteBatch* batch, const char* what);
  Status SyncWal(uint64_t mark, const char* what);

  // The read-only switch. Set (once, for good) when a write to disk failed;
  // the first reason is kept. CheckWritable: FailedPrecondition naming the
  // reason once read-only, else Ok.
  void SetReadOnly(const std::string& reason);
  bool IsReadOnly() const { return read_only_.load(std::memory_order_acquire); }
  std::string ReadOnlyReason() const;
  Status CheckWritable() const;
  // The disk refused writes at Open (set before any other thread runs):
  // nothing may be written, graph files included.
  bool opened_read_only() const { return opened_read_only_; }

 private:
  Store() = default;
  Status OpenFamilies(const std::string& data_dir, const StoreOptions& options);

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; destroyed in Close
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* rows_ = nullptr;
  rocksdb::ColumnFamilyHandle* vectors_ = nullptr;
  rocksdb::ColumnFamilyHandle* changes_ = nullptr;
  rocksdb::ColumnFamilyHandle* log_ = nullptr;
  rocksdb::ColumnFamilyHandle* log_index_ = nullptr;
  rocksdb::ColumnFamilyHandle* text_ = nullptr;
  rocksdb::WriteOptions write_options_;
  LogFunction log_fn_;
  std::shared_ptr<rocksdb::Env> env_;  // kept alive while RocksDB uses it

  std::atomic<bool> read_only_{false};
  mutable std::mutex read_only_mu_;
  std::string read_only_reason_;  // GUARDED_BY(read_only_mu_)
  bool opened_read_only_ = false;
};

// The store's handles as a subsystem holds them: a subsystem that reads and
// writes the collections' families (Collections, History) derives from it,
// privately, and is built with the open Store. The handles stay valid until
// Store::Close, which the façade calls after the subsystems are done.
// Log: the subsystem's messages (a rebuilt graph, a GC's summary) go to the
// LogFunction it was given, if any.
class StoreUser {
 protected:
  StoreUser(Store& store, LogFunction log)
      : store_(store),
        db_(store.db()),
        meta_(store.meta()),
        rows_(store.rows()),
        vectors_(store.vectors()),
        changes_(store.changes()),
        text_(store.text()),
        write_options_(store.write_options()),
        log_(std::move(log)) {}
  void Log(LogLevel level, const std::string& message) const {
    if (log_) log_(level, message);
  }

  Store& store_;
  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const meta_;
  rocksdb::ColumnFamilyHandle* const rows_;
  rocksdb::ColumnFamilyHandle* const vectors_;
  rocksdb::ColumnFamilyHandle* const changes_;
  rocksdb::ColumnFamilyHandle* const text_;
  const rocksdb::WriteOptions write_options_;

 private:
  const LogFunction log_;
};

// A RocksDB snapshot for the life of one read. Reads take it while holding
// the collection's graph_mu shared, right after resolving their version, so
// that a GC that starts later cannot remove rows under them.
class ScopedSnapshot {
 public:
  explicit ScopedSnapshot(rocksdb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {}
  ~ScopedSnapshot() { db_->ReleaseSnapshot(snapshot_); }
  ScopedSnapshot(const ScopedSnapshot&) = delete;
  ScopedSnapshot& operator=(const ScopedSnapshot&) = delete;
  rocksdb::ReadOptions options() const {
    rocksdb::ReadOptions o;
    o.snapshot = snapshot_;
    return o;
  }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

}  // namespace verity
