// Test support: a RocksDB FileSystem that injects disk faults.
//
//   fail_writes  every Append fails with an injected IOError
//   fail_syncs   every Sync / Fsync fails with an injected IOError
//   disk_full    every Append fails as on a full disk (IOStatus::NoSpace,
//                what RocksDB reports for ENOSPC)
//   SetActive(false)  the machine "loses power": from then on nothing more
//                reaches the disk (every write and sync fails)
//   DropUnsyncedData()  what a power loss leaves: every file written through
//                this FileSystem is cut back to the size it had at its last
//                successful sync (0 if never synced)
//
// Thread-safety: the flags are atomics and the bookkeeping is under a mutex;
// RocksDB's threads may write while a test flips a flag.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace verity::test {

class FaultFs : public rocksdb::FileSystemWrapper {
 public:
  FaultFs();

  const char* Name() const override { return "VerityFaultFs"; }

  std::atomic<bool> fail_writes{false};
  std::atomic<bool> fail_syncs{false};
  std::atomic<bool> disk_full{false};
  void SetActive(bool active) { active_ = active; }
  bool active() const { return active_; }
  // Faults injected so far (failed appends and syncs).
  uint64_t faults() const { return faults_; }

  // Cuts every file back to its last synced size. Call while no process
  // has the database open (after Close, or in a child about to _exit).
  // Returns the number of bytes dropped.
  uint64_t DropUnsyncedData();

  // An Env over this FileSystem, for DatabaseOptions::env.
  static std::pair<std::shared_ptr<FaultFs>, std::shared_ptr<rocksdb::Env>> Make();

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& target, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& fname, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;

  // Called by the files.
  rocksdb::IOStatus BeforeAppend();
  rocksdb::IOStatus BeforeSync();
  void Written(const std::string& fname, uint64_t size);
  void Synced(const std::string& fname, uint64_t size);

 private:
  std::atomic<bool> active_{true};
  std::atomic<uint64_t> faults_{0};
  std::mutex mu_;
  struct FileState {
    uint64_t size = 0;    // bytes written
    uint64_t synced = 0;  // bytes durable
  };
  std::map<std::string, FileState> files_;  // GUARDED_BY(mu_)
};

}  // namespace verity::test
