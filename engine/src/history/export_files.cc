#include "history/export_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/sha256.h"

namespace verity {
namespace history {
namespace {

// Why openat(parent, component) failed, as the import reports it. A link is
// found by looking at the entry itself (fstatat without following), not by
// errno: O_NOFOLLOW | O_DIRECTORY on a link says ELOOP or ENOTDIR.
Status ExportOpenError(int parent, const std::string& component, const std::string& shown, bool directory, int error) {
  struct stat st {};
  if (::fstatat(parent, component.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
    return Status::FailedPrecondition("export: " + shown +
                                      " is a symbolic link (links inside an export are refused, never followed)");
  }
  if (error == ENOENT) return Status::DataLoss("export: " + shown + " is missing");
  if (error == ENOTDIR && directory) return Status::DataLoss("export: " + shown + " is not a directory");
  return Status::Unavailable("export: open " + shown + ": " + std::strerror(error));
}

}  // namespace

Status SyncPath(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Status::Unavailable("open " + path + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::Unavailable("fsync " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

void Fd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<Fd> OpenExportRoot(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() >= 0) return fd;
  const int error = errno;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    return Status::FailedPrecondition("export " + path +
                                      " is a symbolic link (an export is read only from a directory of its own in "
                                      "the export directory; links are refused, never followed)");
  }
  if (error == ENOENT || error == ENOTDIR) return Status::NotFound("export " + path + " does not exist");
  return Status::Unavailable("open export " + path + ": " + std::strerror(error));
}

// Opens `relative` ("manifest.json", "<collection>/records.bin") below the
// export's directory `root` for reading, one component at a time with
// openat relative to its parent and O_NOFOLLOW (O_DIRECTORY for the
// directories): no link anywhere below the root is followed (an export is
// what verityd wrote; a link to /dev/zero would be read forever, a link to
// another directory would import what is not in this export). The file must
// be a regular file; its size in *size. FailedPrecondition naming the
// component that is a link; DataLoss naming a missing or wrong-typed one.
Result<Fd> OpenExportFile(int root, const std::string& relative, uint64_t* size) {
  Fd parent;
  int at = root;
  size_t start = 0;
  for (;;) {
    const size_t slash = relative.find('/', start);
    const bool last = slash == std::string::npos;
    const std::string component = relative.substr(start, last ? std::string::npos : slash - start);
    const std::string shown = relative.substr(0, last ? std::string::npos : slash);
    if (component.empty() || component == "." || component == "..") {
      return Status::DataLoss("export: " + shown + " is not a plain name");
    }
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
    // writer; it changes nothing for the regular files that are read.
    const int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? O_NONBLOCK : O_DIRECTORY);
    Fd fd(::openat(at, component.c_str(), flags));
    if (fd.get() < 0) return ExportOpenError(at, component, shown, !last, errno);
    if (last) {
      struct stat st {};
      if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return Status::DataLoss("export: " + shown + " is not a regular file");
      }
      *size = static_cast<uint64_t>(st.st_size);
      return fd;
    }
    parent = std::move(fd);
    at = parent.get();
    start = slash + 1;
  }
}

Result<std::string> ReadSmallFile(int root, const std::string& name) {
  constexpr uint64_t kMaxSmallFile = 16 << 20;  // a manifest of thousands of collections is well below
  uint64_t size = 0;
  VERITY_ASSIGN_OR_RETURN(Fd fd, OpenExportFile(root, name, &size));
  if (size > kMaxSmallFile) {
    return Status::DataLoss("export: " + name + " has " + std::to_string(size) + " bytes; at most " +
                            std::to_string(kMaxSmallFile) + " are expected");
  }
  std::string data(size, '\0');
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::read(fd.get(), data.data() + done, data.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  if (done != data.size()) return Status::DataLoss("export: reading " + name + " failed");
  return data;
}

// SHA-256 and size of a file below `root`, reading it in blocks; a file
// whose size is not `expected_bytes` is refused before it is read.
Result<std::pair<std::string, uint64_t>> HashFile(int root, const std::string& name, uint64_t expected_bytes,
                                                  const std::function<void(uint64_t)>& on_bytes) {
  uint64_t size = 0;
  VERITY_ASSIGN_OR_RETURN(Fd fd, OpenExportFile(root, name, &size));
  if (size != expected_bytes) return std::make_pair(std::string(), size);  // the caller names the mismatch
  std::FILE* f = ::fdopen(fd.get(), "rb");
  if (f == nullptr) return Status::Unavailable("export: cannot read " + name);
  fd.Release();  // f owns it now
  Sha256 hash;
  std::vector<char> buffer(1 << 20);
  uint64_t total = 0;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), f)) > 0) {
    hash.Update(buffer.data(), n);
    total += n;
    if (on_bytes) on_bytes(n);
  }
  const bool error = std::ferror(f) != 0;
  std::fclose(f);
  if (error) return Status::DataLoss("export: reading " + name + " failed");
  return std::make_pair(hash.FinishHex(), total);
}

Result<std::vector<std::string>> ListDirectory(int fd, const std::string& shown) {
  const int copy = ::dup(fd);
  DIR* dir = copy < 0 ? nullptr : ::fdopendir(copy);
  if (dir == nullptr) {
    const int error = errno;
    if (copy >= 0) ::close(copy);
    return Status::Unavailable("read " + shown + ": " + std::strerror(error));
  }
  ::rewinddir(dir);  // the copy shares its offset with `fd`
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  const int error = errno;
  ::closedir(dir);
  if (error != 0) return Status::Unavailable("read " + shown + ": " + std::strerror(error));
  return names;
}

// The file type of `name` in the directory `parent`, not following a link;
// 0 if it cannot be read.
mode_t TypeAt(int parent, const std::string& name) {
  struct stat st {};
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return 0;
  return st.st_mode & S_IFMT;
}

}  // namespace history
}  // namespace verity
