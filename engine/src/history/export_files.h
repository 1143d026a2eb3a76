// The files of an export directory (docs/snapshots.md, "Export format"):
// their names, and how they are read without following any link. Import
// opens the export's directory once and every file below it with openat
// and O_NOFOLLOW, one component at a time; RemoveUnfinishedExports lists
// and inspects directories the same way. Used by history/export.cc and
// history/import.cc.
//
// Thread-safety: free functions with no shared state; an Fd is owned by
// one thread at a time.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "verity/status.h"

namespace verity {
namespace history {

constexpr char kManifest[] = "manifest.json";
constexpr char kManifestHash[] = "manifest.json.sha256";
constexpr size_t kMaxRecordBytes = 64 << 20;
// An unfinished export is the directory <path>.partial-<16 hex digits>,
// holding kUnfinishedMarker from its start until just before its rename to
// <path>. '#' is not allowed in a collection name, so the marker never
// collides with a collection's directory.
constexpr char kPartialInfix[] = ".partial-";
constexpr size_t kPartialSuffixDigits = 16;
constexpr char kUnfinishedMarker[] = "#unfinished-export";

// fsyncs the file or directory `path`. Unavailable naming the path.
Status SyncPath(const std::string& path, bool directory);

// An owned file descriptor, closed when it goes.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset();

 private:
  int fd_;
};

// Opens the export directory `path` itself: a directory, not a symbolic link
// (its parent, the server's --export-dir, is the operator's and may be
// reached through links). NotFound if there is none; FailedPrecondition for
// a link.
Result<Fd> OpenExportRoot(const std::string& path);

// Opens `relative` ("manifest.json", "<collection>/records.bin") below the
// export's directory `root` for reading, one component at a time with
// openat relative to its parent and O_NOFOLLOW (O_DIRECTORY for the
// directories): no link anywhere below the root is followed (an export is
// what verityd wrote; a link to /dev/zero would be read forever, a link to
// another directory would import what is not in this export). The file must
// be a regular file; its size in *size. FailedPrecondition naming the
// component that is a link; DataLoss naming a missing or wrong-typed one.
Result<Fd> OpenExportFile(int root, const std::string& relative, uint64_t* size);

// The whole of a small file below `root` (at most 16 MiB; DataLoss beyond).
Result<std::string> ReadSmallFile(int root, const std::string& name);

// SHA-256 (hex) and size of a file below `root`, reading it in blocks and
// calling on_bytes (may be empty) with each block's size; a file whose size
// is not `expected_bytes` is not read: its hash comes back empty, with its
// size, for the caller to name the mismatch.
Result<std::pair<std::string, uint64_t>> HashFile(int root, const std::string& name, uint64_t expected_bytes,
                                                   const std::function<void(uint64_t)>& on_bytes);

// The names in the directory `fd` (without "." and ".."). Does not move or
// close `fd`. Unavailable naming `shown`.
Result<std::vector<std::string>> ListDirectory(int fd, const std::string& shown);

// The file type (S_IFMT bits) of `name` in the directory `parent`, not
// following a link; 0 if it cannot be read.
mode_t TypeAt(int parent, const std::string& name);

}  // namespace history
}  // namespace verity
