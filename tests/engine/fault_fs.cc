#include "engine/fault_fs.h"

#include <unistd.h>

namespace verity::test {
namespace {

using rocksdb::IOStatus;

class FaultFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultFile(FaultFs* fs, std::string name, std::unique_ptr<rocksdb::FSWritableFile> file, uint64_t size)
      : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs), name_(std::move(name)), size_(size) {}

  IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                  rocksdb::IODebugContext* dbg) override {
    IOStatus s = fs_->BeforeAppend();
    if (s.ok()) s = target()->Append(data, options, dbg);
    if (s.ok()) Grow(data.size());
    return s;
  }
  IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                  const rocksdb::DataVerificationInfo& info, rocksdb::IODebugContext* dbg) override {
    IOStatus s = fs_->BeforeAppend();
    if (s.ok()) s = target()->Append(data, options, info, dbg);
    if (s.ok()) Grow(data.size());
    return s;
  }
  IOStatus PositionedAppend(const rocksdb::Slice&, uint64_t, const rocksdb::IOOptions&,
                            rocksdb::IODebugContext*) override {
    return IOStatus::NotSupported("FaultFs: positioned appends");
  }
  IOStatus PositionedAppend(const rocksdb::Slice&, uint64_t, const rocksdb::IOOptions&,
                            const rocksdb::DataVerificationInfo&, rocksdb::IODebugContext*) override {
    return IOStatus::NotSupported("FaultFs: positioned appends");
  }
  IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    IOStatus s = fs_->BeforeSync();
    if (s.ok()) s = target()->Sync(options, dbg);
    if (s.ok()) fs_->Synced(name_, size_);
    return s;
  }
  IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    IOStatus s = fs_->BeforeSync();
    if (s.ok()) s = target()->Fsync(options, dbg);
    if (s.ok()) fs_->Synced(name_, size_);
    return s;
  }
  // sync_file_range: starts write-back, makes nothing durable.
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const rocksdb::IOOptions& options,
                     rocksdb::IODebugContext* dbg) override {
    if (!fs_->active()) return IOStatus::IOError("FaultFs: the disk is gone (power cut)");
    return target()->RangeSync(offset, nbytes, options, dbg);
  }
  IOStatus Close(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    return target()->Close(options, dbg);
  }

 private:
  void Grow(uint64_t n) {
    size_ += n;
    fs_->Written(name_, size_);
  }

  FaultFs* fs_;
  std::string name_;
  uint64_t size_;
};

}  // namespace

FaultFs::FaultFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}

std::pair<std::shared_ptr<FaultFs>, std::shared_ptr<rocksdb::Env>> FaultFs::Make() {
  auto fs = std::make_shared<FaultFs>();
  std::shared_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  return {fs, env};
}

IOStatus FaultFs::BeforeAppend() {
  if (!active_) return IOStatus::IOError("FaultFs: the disk is gone (power cut)");
  if (fail_writes) {
    ++faults_;
    return IOStatus::IOError("FaultFs: injected write error");
  }
  if (disk_full) {
    ++faults_;
    return IOStatus::NoSpace("FaultFs: injected: no space left on device");
  }
  return IOStatus::OK();
}

IOStatus FaultFs::BeforeSync() {
  if (!active_) return IOStatus::IOError("FaultFs: the disk is gone (power cut)");
  if (fail_syncs) {
    ++faults_;
    return IOStatus::IOError("FaultFs: injected sync error");
  }
  return IOStatus::OK();
}

void FaultFs::Written(const std::string& fname, uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  files_[fname].size = size;
}

void FaultFs::Synced(const std::string& fname, uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& f = files_[fname];
  f.size = std::max(f.size, size);
  f.synced = std::max(f.synced, size);
}

IOStatus FaultFs::NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                  std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  if (!active_) return IOStatus::IOError("FaultFs: the disk is gone (power cut)");
  std::unique_ptr<rocksdb::FSWritableFile> file;
  IOStatus s = target()->NewWritableFile(fname, options, &file, dbg);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    files_[fname] = FileState();  // a new (truncated) file: nothing of it is durable yet
  }
  result->reset(new FaultFile(this, fname, std::move(file), 0));
  return s;
}

IOStatus FaultFs::ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                     std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  if (!active_) return IOStatus::IOError("FaultFs: the disk is gone (power cut)");
  std::unique_ptr<rocksdb::FSWritableFile> file;
  IOStatus s = target()->ReopenWritableFile(fname, options, &file, dbg);
  if (!s.ok()) return s;
  uint64_t size = 0;
  (void)target()->GetFileSize(fname, rocksdb::IOOptions(), &size, dbg);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(fname);
    if (it == files_.end()) files_[fname] = FileState{size, size};  // written before: durable
  }
  result->reset(new FaultFile(this, fname, std::move(file), size));
  return s;
}

IOStatus FaultFs::RenameFile(const std::string& src, const std::string& target, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) {
  if (!active_) return IOStatus::IOError("FaultFs: the disk is gone (power cut)");
  IOStatus s = FileSystemWrapper::RenameFile(src, target, options, dbg);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(src);
    if (it != files_.end()) {
      files_[target] = it->second;
      files_.erase(it);
    } else {
      files_.erase(target);
    }
  }
  return s;
}

IOStatus FaultFs::DeleteFile(const std::string& fname, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) {
  if (!active_) return IOStatus::IOError("FaultFs: the disk is gone (power cut)");
  IOStatus s = FileSystemWrapper::DeleteFile(fname, options, dbg);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(fname);
  }
  return s;
}

uint64_t FaultFs::DropUnsyncedData() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t dropped = 0;
  for (auto& [name, f] : files_) {
    if (f.size > f.synced && ::truncate(name.c_str(), static_cast<off_t>(f.synced)) == 0) {
      dropped += f.size - f.synced;
      f.size = f.synced;
    }
  }
  return dropped;
}

}  // namespace verity::test
