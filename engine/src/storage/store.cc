#include "storage/store.h"

#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/table.h>

#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <functional>

#include "storage/codec.h"
#include "storage/keys.h"

namespace verity {
namespace fs = std::filesystem;

namespace {

// The column families, in the order of Store's handles (0 is RocksDB's
// default family, which the engine does not use).
constexpr const char* kFamilies[] = {"meta", "rows", "vectors", "changes", "log", "log_index", "text"};

// RocksDB reports a background error when a write to disk failed (a WAL
// write or sync, a flush, a compaction); it then refuses writes itself.
class ReadOnlyOnError : public rocksdb::EventListener {
 public:
  explicit ReadOnlyOnError(std::function<void(const std::string&)> set_read_only)
      : set_read_only_(std::move(set_read_only)) {}
  void OnBackgroundError(rocksdb::BackgroundErrorReason, rocksdb::Status* error) override {
    if (error != nullptr && !error->ok()) set_read_only_(error->ToString());
  }

 private:
  std::function<void(const std::string&)> set_read_only_;
};

// RocksDB's own log lines (warnings and errors: info_log_level), sent to the
// engine's log instead of a LOG file in the data directory. A file there
// fails with the disk it is on, and RocksDB's file logger then aborts the
// process on its next line (an assertion in its WritableFileWriter, reached
// from a background flush when the disk is full); an operator also finds
// them in one place this way.
class RocksLogToEngine : public rocksdb::Logger {
 public:
  explicit RocksLogToEngine(LogFunction log)
      : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), log_(std::move(log)) {}

  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel() || level == rocksdb::InfoLogLevel::HEADER_LEVEL || !log_) return;
    char line[1024];
    const int n = std::vsnprintf(line, sizeof line, format, ap);
    if (n < 0) return;
    // RocksDB logs some harmless events as errors (a data directory created
    // fresh: "Error when reading ... dir NotFound"); the failures that
    // matter reach the engine's log as errors through ReadOnlyOnError and
    // the calls that failed. So only a fatal line is an error here.
    log_(level >= rocksdb::InfoLogLevel::FATAL_LEVEL ? LogLevel::kError : LogLevel::kWarning,
         std::string("rocksdb: ") + line);
  }

 private:
  const LogFunction log_;
};

// RocksDB's open failed on the write-ahead log ("SST file is ahead of WALs",
// "Corruption: ... log ...": a damaged record that is not the last). RocksDB
// gives no structured reason, so its text is the only signal.
bool MentionsWal(const std::string& text) {
  return text.find("WAL") != std::string::npos || text.find(".log") != std::string::npos ||
         text.find("log record") != std::string::npos;
}

// The disk is full (ENOSPC), or the file system is mounted read-only (which
// RocksDB reports as a plain IOError carrying strerror's text).
bool DiskRefusesWrites(const rocksdb::Status& rs) {
  return rs.IsNoSpace() || rs.ToString().find("Read-only file system") != std::string::npos;
}

rocksdb::Options DbOptions(const StoreOptions& options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.paranoid_checks = true;
  db_options.wal_recovery_mode = options.wal_recovery == WalRecovery::kSkipCorrupted
                                     ? rocksdb::WALRecoveryMode::kSkipAnyCorruptedRecords
                                     : rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db_options.max_background_jobs = 2;
  // Write files out in 1 MB steps as they grow, so that a sync (every
  // acknowledged write, the retrieval log) has less left to write: a synced
  // 2.5 KB Put after 64 MB of writes took 565 µs without, 351 µs with.
  db_options.bytes_per_sync = 1 << 20;
  db_options.wal_bytes_per_sync = 1 << 20;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.info_log = std::make_shared<RocksLogToEngine>(options.log);
  // All column families' memtables share one budget (RocksDB's default is
  // 64 MB per family, up to two each: 896 MB for our seven). Measured on
  // Fashion-MNIST (60k x 784, batches of 5,000): resident bytes per vector
  // 5,379 with a 32 MB budget, 4,860 with 8 MB; ingest rate within noise.
  db_options.db_write_buffer_size = options.memtable_budget_bytes;
  if (options.env) db_options.env = options.env.get();
  return db_options;
}

std::vector<rocksdb::ColumnFamilyDescriptor> Families() {
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {{rocksdb::kDefaultColumnFamilyName, cf_options}};
  for (const char* name : kFamilies) families.emplace_back(name, cf_options);
  return families;
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& data_dir, const StoreOptions& options) {
  std::unique_ptr<Store> store(new Store());
  store->write_options_.sync = options.sync_writes;
  store->log_fn_ = options.log;
  store->env_ = options.env;
  VERITY_RETURN_IF_ERROR(store->OpenFamilies(data_dir, options));
  return store;
}

Status Store::OpenFamilies(const std::string& data_dir, const StoreOptions& options) {
  const std::string db_dir = data_dir + "/db";
  rocksdb::Options db_options = DbOptions(options);
  db_options.listeners.push_back(
      std::make_shared<ReadOnlyOnError>([this](const std::string& reason) { SetReadOnly(reason); }));
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = Families();
  rocksdb::DB* raw = nullptr;
  std::error_code ec;
  rocksdb::Status rs = rocksdb::DB::Open(db_options, db_dir, families, &handles_, &raw);
  if (!rs.ok() && DiskRefusesWrites(rs) && fs::exists(db_dir + "/CURRENT", ec)) {
    // Opening writes (a new WAL, the MANIFEST); a full disk refuses them.
    // What is stored can still be read: open read-only and say so, rather
    // than leave every reader without service until space is freed.
    const std::string why = rs.ToString();
    handles_.clear();
    rs = rocksdb::DB::OpenForReadOnly(db_options, db_dir, families, &handles_, &raw);
    if (rs.ok()) {
      opened_read_only_ = true;
      read_only_reason_ = "the disk refused writes when it was opened (" + why + ")";
      read_only_.store(true);
      if (log_fn_) {
        log_fn_(LogLevel::kError, "cannot open " + db_dir + " for writing (" + why +
                                      "): opened read-only; reads are served, writes refused until space is "
                                      "freed and the server restarted");
      }
    } else {
      rs = rocksdb::Status::IOError(why + "; opening it read-only failed too: " + rs.ToString());
    }
  }
  if (!rs.ok() && rs.IsCorruption() && MentionsWal(rs.ToString())) {
    // RocksDB's words ("SST file is ahead of WALs in CF meta") say neither
    // what happened nor what to do.
    return Status::DataLoss(
        "open " + db_dir + ": the write-ahead log (" + db_dir +
        "/*.log) is damaged in the middle: the writes recorded after the damage cannot be replayed, and "
        "some were already stored in table files, so there is no consistent point to stop at (" + rs.ToString() +
        "). Keep a copy of the directory; then restore it from a backup, or import the collections from "
        "exports; or, accepting the loss of the writes in the damaged records, open it once with WAL recovery "
        "skip-corrupted (verityd --wal-recovery skip-corrupted; DatabaseOptions::wal_recovery) and run "
        "`verity log verify` (docs/reliability.md, \"Corruption\")");
  }
  if (!rs.ok()) {
    Status s = FromRocks(rs, "open " + db_dir);
    if (s.code() == StatusCode::kFailedPrecondition) {
      return Status::FailedPrecondition("data directory " + data_dir + " is in use by another process (" +
                                        rs.ToString() + ")");
    }
    return s;
  }
  db_.reset(raw);
  meta_ = handles_[1];
  rows_ = handles_[2];
  vectors_ = handles_[3];
  changes_ = handles_[4];
  log_ = handles_[5];
  log_index_ = handles_[6];
  text_ = handles_[7];
  return Status::Ok();
}

Store::~Store() {
  if (!db_) return;
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
  db_->Close().PermitUncheckedError();
  db_.reset();
}

Status Store::Close() {
  if (!db_) return Status::Ok();
  Status result;
  // After a disk error there is nothing to flush or sync (RocksDB refuses,
  // and a WAL writer in error must not be synced again).
  if (!IsReadOnly()) {
    rocksdb::Status rs = db_->Flush(rocksdb::FlushOptions(), handles_);
    if (!rs.ok() && (IsReadOnly() || DiskRefusesWrites(rs))) {
      // The disk filled (or failed) under the stop's flush: every
      // acknowledged write is in the write-ahead log, which the next open
      // replays. Nothing more can be written; stop without syncing.
      if (log_fn_) {
        log_fn_(LogLevel::kError, "close: the memtables could not be flushed (" + rs.ToString() +
                                      "); the write-ahead log holds every acknowledged write and the next open "
                                      "replays it");
      }
      SetReadOnly(rs.ToString());
    } else if (!rs.ok()) {
      result = FromRocks(rs, "flush");
    }
    if (!IsReadOnly()) {
      if (Status s = SyncWal(0, "sync the write-ahead log"); result.ok() && !s.ok()) result = s;
    }
  }
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
  rocksdb::Status rs = db_->Close();
  if (result.ok() && !rs.ok()) result = FromRocks(rs, "close");
  db_.reset();
  return result;
}

Status Store::Write(rocksdb::WriteBatch* batch, const std::string& what) {
  return FromRocks(db_->Write(write_options_, batch), what);
}

Status Store::SyncWal(uint64_t mark, const char* what) {
  rocksdb::WriteBatch batch;
  return WriteSynced(mark, &batch, what);
}

Status Store::WriteSynced(uint64_t mark, rocksdb::WriteBatch* batch, const char* what) {
  std::string value;
  keys::PutU64(&value, mark);
  if (Status s = FromRocks(batch->Put(log_index_, keys::log::kSyncMarkKey, value), what); !s.ok()) return s;
  rocksdb::WriteOptions synced = write_options_;
  synced.sync = true;
  return FromRocks(db_->Write(synced, batch), what);
}

void Store::SetReadOnly(const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(read_only_mu_);
    if (read_only_.load()) return;
    read_only_reason_ = "a write to disk failed (" + reason + ")";
    read_only_.store(true);
  }
  if (log_fn_) {
    log_fn_(LogLevel::kError,
            "a write to disk failed (" + reason + "): the database is read-only until it is reopened; reads go on");
  }
}

std::string Store::ReadOnlyReason() const {
  if (!IsReadOnly()) return "";
  std::lock_guard<std::mutex> lock(read_only_mu_);
  return read_only_reason_;
}

Status Store::CheckWritable() const {
  if (!IsReadOnly()) return Status::Ok();
  std::lock_guard<std::mutex> lock(read_only_mu_);
  return Status::FailedPrecondition("the database is read-only: " + read_only_reason_ +
                                    "; reads still work; free space or fix the disk, then restart the server");
}

}  // namespace verity
