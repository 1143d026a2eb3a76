// Export and import of collections (docs/snapshots.md, "Export format").
//
//   PATH/manifest.json          format, collections (config, version, record
//                               count) and every data file's size and SHA-256
//   PATH/manifest.json.sha256   SHA-256 of manifest.json
//   PATH/<collection>/records.bin  ExportRecord messages, each framed by a
//                               little-endian u32 length, in id order
//
// Export writes PATH.partial-<16 hex digits>, a directory of its own whose
// first file is a locked marker (removed just before the end), and renames
// it to PATH when complete; RemoveUnfinishedExports removes the directories
// of exports that died (marker present, lock free). Import opens PATH once
// and every file below it with openat and O_NOFOLLOW, one component at a
// time: no link in an export is followed. It verifies every hash and every
// record before anything becomes visible: rows go under fresh collection ids
// with no collection record, the graph is built, and one final batch
// registers the collections (and drops replaced ones). Rows of an import
// that died before that batch are removed at the next open.
// Over 700 lines until the engine is split into subsystems (#24): the
// no-link file access and the unfinished-export cleanup move out then.
#include <dirent.h>
#include <fcntl.h>
#include <rocksdb/write_batch.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <utility>

#include "codec.h"
#include "database_impl.h"
#include "history/export_manifest.h"
#include "keys.h"
#include "sha256.h"
#include "validate.h"

namespace verity {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

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

Status SyncPath(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Status::Unavailable("open " + path + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::Unavailable("fsync " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

// A file written through a buffer, hashed on the way.
class HashedWriter {
 public:
  Status Open(const std::string& path) {
    path_ = path;
    file_ = std::fopen(path.c_str(), "wb");
    if (file_ == nullptr) return Status::Unavailable("create " + path + ": " + std::strerror(errno));
    return Status::Ok();
  }
  ~HashedWriter() {
    if (file_ != nullptr) std::fclose(file_);
  }
  Status Write(std::string_view data) {
    if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
      return Status::Unavailable("write " + path_ + ": " + std::strerror(errno));
    }
    hash_.Update(data);
    bytes_ += data.size();
    return Status::Ok();
  }
  // Flushes, fsyncs and closes; returns the SHA-256.
  Result<std::string> Finish() {
    if (std::fflush(file_) != 0 || ::fsync(fileno(file_)) != 0) {
      return Status::Unavailable("sync " + path_ + ": " + std::strerror(errno));
    }
    std::fclose(file_);
    file_ = nullptr;
    return hash_.FinishHex();
  }
  uint64_t bytes() const { return bytes_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  Sha256 hash_;
  uint64_t bytes_ = 0;
};

Status WriteSmallFile(const std::string& path, const std::string& contents) {
  HashedWriter w;
  VERITY_RETURN_IF_ERROR(w.Open(path));
  VERITY_RETURN_IF_ERROR(w.Write(contents));
  return w.Finish().status();
}

// `bytes` random bytes as hex (a temporary directory's unique suffix).
std::string RandomHex(size_t bytes) {
  std::random_device device;
  std::string out;
  char digits[3];
  for (size_t i = 0; i < bytes; ++i) {
    std::snprintf(digits, sizeof(digits), "%02x", device() & 0xFF);
    out += digits;
  }
  return out;
}

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
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// Why openat(parent, component) failed, as the import reports it. A link is
// found by looking at the entry itself (fstatat without following), not by
// errno: O_NOFOLLOW | O_DIRECTORY on a link says ELOOP or ENOTDIR.
Status ExportOpenError(int parent, const std::string& component, const std::string& shown, bool directory,
                       int error) {
  struct stat st {};
  if (::fstatat(parent, component.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
    return Status::FailedPrecondition("export: " + shown +
                                      " is a symbolic link (links inside an export are refused, never followed)");
  }
  if (error == ENOENT) return Status::DataLoss("export: " + shown + " is missing");
  if (error == ENOTDIR && directory) return Status::DataLoss("export: " + shown + " is not a directory");
  return Status::Unavailable("export: open " + shown + ": " + std::strerror(error));
}

// Opens the export directory `path` itself: a directory, not a symbolic link
// (its parent, the server's --export-dir, is the operator's and may be
// reached through links). NotFound if there is none.
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

struct ExportItem {
  std::shared_ptr<Collection> collection;
  Version version = 0;
  uint64_t records = 0;
  // Taken under the collection's lock right after resolving `version`, as
  // every read does: a GC that starts later cannot remove its rows.
  std::shared_ptr<ScopedSnapshot> snapshot;
};

}  // namespace

Result<ExportResult> Database::Export(const std::string& collection, std::optional<Version> version,
                                      const std::string& path, const ProgressFunction& progress) {
  VERITY_CHECK_OPEN_();
  if (path.empty()) return Status::InvalidArgument("path: must not be empty");
  std::error_code ec;
  if (fs::exists(path, ec)) return Status::AlreadyExists("export " + path + " already exists");
  if (collection.empty() && version) return Status::InvalidArgument("at: only for the export of one collection");

  std::vector<ExportItem> items;
  if (collection.empty()) {
    std::shared_lock lock(impl_->collections_mu);
    for (const auto& [name, c] : impl_->collections) items.push_back({c, 0, 0, nullptr});
    // An unavailable collection cannot be read: the export holds the others
    // (its result lists them) and says so in the log.
    for (const auto& [name, u] : impl_->unavailable) {
      impl_->Log(LogLevel::kWarning, "export " + path + ": collection \"" + name +
                                         "\" is unavailable and not exported (" + u.error.message() + ")");
    }
  } else {
    VERITY_ASSIGN_OR_RETURN(auto c, impl_->Find(collection));
    items.push_back({c, 0, 0, nullptr});
  }
  // Each collection's version is resolved, and its RocksDB snapshot taken,
  // under its lock: a GC that starts later cannot remove what the export
  // reads. (One snapshot taken after the locks were released let a GC in
  // between collect rows of the version being exported.)
  uint64_t total_estimate = 0;
  for (auto& item : items) {
    // Not dropped (its rows would read as none): a drop holds pins_mu.
    std::lock_guard pins(item.collection->pins_mu);
    VERITY_RETURN_IF_ERROR(Impl::CheckNotDropped(*item.collection));
    std::shared_lock lock(item.collection->graph_mu);
    VERITY_ASSIGN_OR_RETURN(item.version,
                            impl_->ResolveVersion(*item.collection, collection.empty() ? std::nullopt : version));
    item.snapshot = std::make_shared<ScopedSnapshot>(impl_->db.get());
    VERITY_ASSIGN_OR_RETURN(item.records, impl_->CountAt(*item.collection, item.version));
    total_estimate += item.records * (item.collection->config.dimension * 4 + 64);
  }

  // A directory of this export's own (created, never reused: two exports to
  // one name must not write into each other's), renamed to `path` at the
  // end only if nothing is there by then.
  const std::string partial = path + kPartialInfix + RandomHex(kPartialSuffixDigits / 2);
  if (!fs::create_directory(partial, ec) || ec) {
    return Status::Unavailable("create " + partial + ": " + (ec ? ec.message() : "it exists"));
  }
  auto fail = [&](Status s) {
    std::error_code ignored;
    fs::remove_all(partial, ignored);
    return s;
  };
  // First the marker that tells RemoveUnfinishedExports this directory is an
  // export's own, locked for as long as this export runs (a server starting
  // meanwhile on the same export directory leaves it alone). Should such a
  // server take the lock between the create and the flock, this export
  // fails here rather than write into a directory being removed.
  const std::string marker_path = partial + "/" + kUnfinishedMarker;
  const Fd marker(::open(marker_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (marker.get() < 0 || ::flock(marker.get(), LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    return fail(Status::Unavailable("create " + marker_path + ": " + std::strerror(error)));
  }

  ExportResult result;
  result.path = path;
  Json manifest = {{"format", kExportFormat}, {"format_version", kExportFormatVersion}, {"created_at_us", NowMicros()}};
  Json collections = Json::array();
  uint64_t done = 0;
  for (const auto& item : items) {
    const Collection& c = *item.collection;
    const std::string relative = c.config.name + "/" + kExportRecordsFile;
    fs::create_directories(partial + "/" + c.config.name, ec);
    if (ec) return fail(Status::Unavailable("create " + partial + "/" + c.config.name + ": " + ec.message()));
    HashedWriter writer;
    if (Status s = writer.Open(partial + "/" + relative); !s.ok()) return fail(s);
    uint64_t records = 0;
    const rocksdb::ReadOptions read = item.snapshot->options();
    std::unique_ptr<rocksdb::Iterator> ids(impl_->db->NewIterator(read, impl_->rows));
    std::unique_ptr<rocksdb::Iterator> rows(impl_->db->NewIterator(read, impl_->rows));
    const std::string prefix = keys::CollectionPrefix(c.id);
    std::string frame;
    Status scan;
    for (ids->Seek(prefix); ids->Valid() && ids->key().starts_with(prefix);) {
      uint32_t coll;
      std::string_view id_view;
      Version v;
      if (!keys::ParseRowKey(std::string_view(ids->key().data(), ids->key().size()), &coll, &id_view, &v)) {
        return fail(Status::DataLoss("rows: malformed key " + ids->key().ToString(true)));
      }
      const std::string id(id_view);
      ids->Seek(keys::RowKeyAfterId(c.id, id));
      bool found = false;
      Version row_version = 0;
      if (Status s = SeekRow(rows.get(), c.id, id, item.version, &found, &row_version); !s.ok()) return fail(s);
      if (!found) continue;
      storage::RowMeta row;
      if (!row.ParseFromArray(rows->value().data(), static_cast<int>(rows->value().size()))) {
        return fail(Status::DataLoss("row " + id + " does not parse"));
      }
      if (row.tombstone()) continue;
      storage::ExportRecord out;
      out.set_id(id);
      out.set_row_version(row_version);
      out.set_text(row.text());
      out.set_document_id(row.document_id());
      *out.mutable_metadata() = row.metadata();
      std::string vector;
      if (Status s = FromRocks(impl_->db->Get(read, impl_->vectors, rows->key(), &vector), "read vector of " + id);
          !s.ok()) {
        return fail(s);
      }
      out.set_vector(std::move(vector));
      const std::string bytes = out.SerializeAsString();
      const uint32_t length = static_cast<uint32_t>(bytes.size());
      frame.assign(reinterpret_cast<const char*>(&length), 4);  // little-endian (x86-64)
      frame += bytes;
      if (Status s = writer.Write(frame); !s.ok()) return fail(s);
      done += frame.size();
      if (++records % 1000 == 0) {
        KillPoint("export.mid_records");
        if (progress) progress(done, std::max(done, total_estimate));
      }
    }
    if (Status s = FromRocks(ids->status(), "export scan"); !s.ok()) return fail(s);
    auto sha = writer.Finish();
    if (!sha.ok()) return fail(sha.status());
    Json files = Json::array();
    files.push_back({{"path", relative}, {"bytes", writer.bytes()}, {"sha256", *sha}});
    collections.push_back({{"name", c.config.name},
                           {"dimension", c.config.dimension},
                           {"metric", MetricName(c.config.metric)},
                           {"m", c.config.m},
                           {"ef_construction", c.config.ef_construction},
                           {"default_ef", c.config.default_ef},
                           {"keep_versions", c.config.retention.keep_versions},
                           {"keep_seconds", c.config.retention.keep_seconds},
                           {"version", item.version},
                           {"records", records},
                           {"files", files}});
    result.collections.push_back({c.config.name, item.version, records});
    result.bytes += writer.bytes();
  }
  manifest["collections"] = collections;
  const std::string manifest_text = manifest.dump(2) + "\n";
  const std::string manifest_hash = Sha256::Hex(manifest_text) + "\n";
  if (Status s = WriteSmallFile(partial + "/" + kManifest, manifest_text); !s.ok()) return fail(s);
  if (Status s = WriteSmallFile(partial + "/" + kManifestHash, manifest_hash); !s.ok()) return fail(s);
  for (const auto& item : items) {
    if (Status s = SyncPath(partial + "/" + item.collection->config.name, true); !s.ok()) return fail(s);
  }
  KillPoint("export.before_rename");
  // The marker goes before the rename, so that a complete export holds none
  // (one named like a partial directory is never taken for a leftover); its
  // lock is held until this function returns. A crash between the two
  // leaves a partial directory without the marker: it stays.
  if (::unlink(marker_path.c_str()) != 0) {
    const int error = errno;
    return fail(Status::Unavailable("remove " + marker_path + ": " + std::strerror(error)));
  }
  if (Status s = SyncPath(partial, true); !s.ok()) return fail(s);
  result.bytes += manifest_text.size() + manifest_hash.size();
  if (::renameat2(AT_FDCWD, partial.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
    const int error = errno;
    if (error == EEXIST || error == ENOTEMPTY) return fail(Status::AlreadyExists("export " + path + " already exists"));
    return fail(Status::Unavailable("rename " + partial + ": " + std::strerror(error)));
  }
  const fs::path parent = fs::absolute(path).parent_path();
  VERITY_RETURN_IF_ERROR(SyncPath(parent.string(), true));
  if (progress) progress(done, done);
  return result;
}

namespace {

// One collection of the manifest, and what the import makes of it.
struct ImportItem : ManifestCollection {
  uint32_t new_id = 0;
  std::shared_ptr<Collection> built;
};

}  // namespace

Result<ImportResult> Database::Import(const std::string& path, const std::string& as_name, bool replace,
                                      const ProgressFunction& progress, uint32_t max_dimension) {
  VERITY_CHECK_WRITABLE_();
  std::error_code ec;
  // The export's directory is opened once; every file is opened below it.
  VERITY_ASSIGN_OR_RETURN(const Fd root, OpenExportRoot(path));

  // 1. The manifest and its hash.
  VERITY_ASSIGN_OR_RETURN(std::string manifest_text, ReadSmallFile(root.get(), kManifest));
  VERITY_ASSIGN_OR_RETURN(std::string manifest_hash, ReadSmallFile(root.get(), kManifestHash));
  if (manifest_hash.substr(0, 64) != Sha256::Hex(manifest_text)) {
    return Status::DataLoss("export: manifest.json does not match manifest.json.sha256 (corrupted)");
  }
  VERITY_ASSIGN_OR_RETURN(auto entries, ParseManifest(manifest_text));
  std::vector<ImportItem> items;
  for (auto& entry : entries) {
    ImportItem item;
    static_cast<ManifestCollection&>(item) = std::move(entry);
    items.push_back(std::move(item));
  }
  if (!as_name.empty()) {
    if (items.size() != 1) return Status::InvalidArgument("as_name: the export holds " +
                                                          std::to_string(items.size()) + " collections, not one");
    CollectionConfig renamed = items[0].config;
    renamed.name = as_name;
    VERITY_RETURN_IF_ERROR(ValidateCollectionConfig(renamed).WithPrefix("as_name"));
    items[0].config.name = as_name;
  }
  for (const auto& item : items) {
    if (max_dimension > 0 && item.config.dimension > max_dimension) {
      return Status::InvalidArgument("export: collection \"" + item.config.name + "\" has dimension " +
                                     std::to_string(item.config.dimension) + ", above the limit " +
                                     std::to_string(max_dimension));
    }
    if (impl_->NameTaken(item.config.name) && !replace) {
      return Status::AlreadyExists("collection \"" + item.config.name +
                                   "\" already exists; import it under another name or ask to replace it");
    }
  }

  // 2. Every file's size and SHA-256.
  uint64_t total = 0;
  for (const auto& item : items) total += 2 * item.bytes;
  uint64_t done = 0;
  auto advance = [&](uint64_t n) {
    done += n;
    if (progress) progress(done, total);
  };
  for (const auto& item : items) {
    VERITY_ASSIGN_OR_RETURN(auto hashed, HashFile(root.get(), item.file_name, item.bytes, advance));
    if (hashed.second != item.bytes) {
      return Status::DataLoss("export: " + item.file_name + " has " + std::to_string(hashed.second) +
                              " bytes, the manifest says " + std::to_string(item.bytes) + " (truncated?)");
    }
    if (hashed.first != item.sha256) return Status::DataLoss("export: " + item.file_name + " SHA-256 mismatch (corrupted)");
  }

  // 3. Rows under fresh, unregistered collection ids.
  {
    std::lock_guard ddl(impl_->ddl_mu);
    for (auto& item : items) {
      if (impl_->next_collection_id == UINT32_MAX) return Status::ResourceExhausted("collection ids exhausted");
      item.new_id = impl_->next_collection_id++;
    }
    std::string next;
    keys::PutU32(&next, impl_->next_collection_id);
    VERITY_RETURN_IF_ERROR(
        FromRocks(impl_->db->Put(impl_->write_options, impl_->meta, keys::NextCollectionIdKey(), next), "import"));
  }
  auto discard = [&](Status s) {
    rocksdb::WriteBatch batch;
    for (const auto& item : items) {
      for (auto* cf : {impl_->rows, impl_->vectors, impl_->changes}) {
        batch.DeleteRange(cf, keys::CollectionPrefix(item.new_id), keys::CollectionEnd(item.new_id));
      }
      std::error_code ignored;
      fs::remove(impl_->GraphPath(item.new_id), ignored);
    }
    (void)impl_->db->Write(impl_->write_options, &batch);
    return s;
  };
  ImportResult result;
  for (auto& item : items) {
    // Opened again as step 2 opened it, and hashed again while it is read:
    // a file changed after step 2 checked it is refused, not imported.
    uint64_t opened_size = 0;
    auto fd = OpenExportFile(root.get(), item.file_name, &opened_size);
    if (!fd.ok()) return discard(fd.status());
    std::FILE* f = ::fdopen(fd->get(), "rb");
    if (f == nullptr) return discard(Status::Unavailable("export: cannot read " + item.file_name));
    fd->Release();  // f owns it now
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(f, std::fclose);
    Sha256 reread;
    uint64_t reread_bytes = 0;
    rocksdb::WriteBatch batch;
    uint64_t label = 0;
    std::string bytes;
    std::set<std::string> seen;
    rocksdb::WriteOptions unsynced = impl_->write_options;
    unsynced.sync = false;
    auto bad = [&](const std::string& what) {
      return discard(Status::DataLoss("export: " + item.file_name + ": record " + std::to_string(label) + ": " + what));
    };
    for (;;) {
      uint32_t length;
      const size_t got = std::fread(&length, 1, 4, f);
      if (got == 0 && std::feof(f)) break;
      if (got != 4) return bad("truncated length");
      if (length > kMaxRecordBytes) return bad("length " + std::to_string(length) + " is too large");
      bytes.resize(length);
      if (std::fread(bytes.data(), 1, length, f) != length) return bad("truncated");
      reread.Update(&length, 4);
      reread.Update(bytes);
      reread_bytes += 4 + uint64_t{length};
      if (reread_bytes > item.bytes) return bad("the file grew after it was checked");
      advance(4 + length);
      storage::ExportRecord in;
      if (!in.ParseFromString(bytes)) return bad("does not parse");
      Record r;
      r.id = in.id();
      r.text = in.text();
      r.document_id = in.document_id();
      r.metadata = MetadataFromProto(in.metadata());
      if (Status s = DecodeVector(in.vector(), item.config.dimension, &r.vector); !s.ok()) return bad(s.message());
      // Exported rows are stored data: finite, but not held to the component
      // bound, which rows stored before it may exceed.
      if (Status s = ValidateRecord(r, item.config.dimension, "record", /*bounded=*/false); !s.ok()) {
        return bad(s.message());
      }
      if (in.row_version() > item.version) return bad("row version beyond the exported version");
      if (!seen.insert(r.id).second) return bad("duplicate id " + r.id);
      storage::RowMeta row;
      row.set_label(label);
      row.set_text(r.text);
      row.set_document_id(r.document_id);
      *row.mutable_metadata() = in.metadata();
      const std::string key = keys::RowKey(item.new_id, r.id, in.row_version());
      batch.Put(impl_->rows, key, row.SerializeAsString());
      batch.Put(impl_->vectors, key, in.vector());
      batch.Put(impl_->changes, keys::ChangeKey(item.new_id, in.row_version(), r.id), "U");
      ++label;
      if (batch.Count() >= 3000) {
        if (Status s = FromRocks(impl_->db->Write(unsynced, &batch), "import rows"); !s.ok()) return discard(s);
        batch.Clear();
        KillPoint("import.mid_rows");
      }
    }
    if (std::ferror(f) != 0) return discard(Status::DataLoss("export: reading " + item.file_name + " failed"));
    if (reread_bytes != item.bytes || reread.FinishHex() != item.sha256) {
      return discard(Status::DataLoss("export: " + item.file_name + " changed while it was imported"));
    }
    if (label != item.records) {
      return discard(Status::DataLoss("export: " + item.file_name + " holds " + std::to_string(label) +
                                      " records, the manifest says " + std::to_string(item.records)));
    }
    if (Status s = FromRocks(impl_->db->Write(impl_->write_options, &batch), "import rows"); !s.ok()) return discard(s);
    result.records += label;
    result.bytes += item.bytes;
  }

  // 4. Build each collection (graph included) before it is visible.
  for (auto& item : items) {
    storage::CollectionMeta m;
    m.set_id(item.new_id);
    m.set_name(item.config.name);
    m.set_dimension(item.config.dimension);
    m.set_metric(static_cast<uint32_t>(item.config.metric));
    m.set_m(item.config.m);
    m.set_ef_construction(item.config.ef_construction);
    m.set_default_ef(item.config.default_ef);
    m.set_has_retention(true);
    m.set_keep_versions(item.config.retention.keep_versions);
    m.set_keep_seconds(item.config.retention.keep_seconds);
    m.set_created_at_us(NowMicros());
    m.set_head_version(item.version);
    m.set_next_label(item.records);
    m.set_live_records(item.records);
    m.set_oldest_retained(item.version);  // older versions were not exported
    auto built = impl_->BuildCollection(m, false);
    if (!built.ok()) return discard(built.status());
    item.built = std::move(built).value();
  }
  KillPoint("import.before_register");

  // 5. One batch makes them visible (and drops the collections they replace).
  std::lock_guard ddl(impl_->ddl_mu);
  std::vector<std::shared_ptr<Collection>> replaced;
  std::vector<std::unique_lock<std::mutex>> writers;
  rocksdb::WriteBatch batch;
  std::vector<std::shared_ptr<Collection>> olds(items.size());
  // An unavailable collection (damaged at open) of the name is replaced
  // too: importing it again from an export is how it is repaired.
  std::vector<std::string> unavailable_replaced;
  std::vector<uint32_t> unavailable_ids;
  for (size_t i = 0; i < items.size(); ++i) {
    Result<bool> damaged = replace ? impl_->RemoveUnavailable(items[i].config.name, &batch) : false;
    if (!damaged.ok()) return discard(damaged.status());
    if (*damaged) {
      unavailable_replaced.push_back(items[i].config.name);
      continue;
    }
    auto old = impl_->Find(items[i].config.name);
    if (!old.ok() && old.status().code() == StatusCode::kDataLoss) {
      return discard(Status::AlreadyExists("collection \"" + items[i].config.name + "\" already exists (" +
                                           old.status().message() + ")"));
    }
    if (!old.ok()) continue;
    if (!replace) return discard(Status::AlreadyExists("collection \"" + items[i].config.name + "\" already exists"));
    olds[i] = *old;
  }
  // Every gc_mu (no GC or rebuild in flight), then every write_mu, then
  // every pins_mu: one class after another, as every other path nests
  // them (a cross-collection Restore holds its target's write_mu and waits
  // for its source's pins_mu; taking all three of one collection before the
  // next could deadlock with it).
  for (auto member : {&Collection::gc_mu, &Collection::write_mu, &Collection::pins_mu}) {
    for (const auto& o : olds) {
      if (o) writers.emplace_back((*o).*member);
    }
  }
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    if (olds[i]) {
      const auto& o = olds[i];
      batch.Delete(impl_->meta, keys::CollectionKey(o->id));
      batch.DeleteRange(impl_->meta, keys::VersionPrefix(o->id), keys::VersionPrefix(o->id + 1));
      batch.DeleteRange(impl_->meta, keys::SnapshotPrefix(o->id), keys::SnapshotPrefix(o->id + 1));
      batch.DeleteRange(impl_->meta, keys::PinPrefix(o->id), keys::PinPrefix(o->id + 1));
      for (auto* cf : {impl_->rows, impl_->vectors, impl_->changes}) {
        batch.DeleteRange(cf, keys::CollectionPrefix(o->id), keys::CollectionEnd(o->id));
      }
      replaced.push_back(o);
    }
    std::string id_bytes;
    keys::PutU32(&id_bytes, item.new_id);
    batch.Put(impl_->meta, keys::NameKey(item.config.name), id_bytes);
    batch.Put(impl_->meta, keys::CollectionKey(item.new_id), item.built->meta.SerializeAsString());
    storage::VersionMeta vm;
    vm.set_committed_at_us(NowMicros());
    vm.set_upserted(static_cast<uint32_t>(std::min<uint64_t>(item.records, UINT32_MAX)));
    batch.Put(impl_->meta, keys::VersionKey(item.new_id, item.version), vm.SerializeAsString());
  }
  if (Status s = FromRocks(impl_->db->Write(impl_->write_options, &batch), "register import"); !s.ok()) {
    return discard(s);
  }
  for (const auto& o : replaced) {  // as DropCollection: writers that waited refuse
    o->dropped = true;
    o->replaced = true;
  }
  {
    std::unique_lock lock(impl_->collections_mu);
    for (auto& item : items) impl_->collections[item.config.name] = item.built;
    for (const auto& name : unavailable_replaced) {
      unavailable_ids.push_back(impl_->unavailable[name].meta.id());
      impl_->unavailable.erase(name);
    }
  }
  for (const uint32_t id : unavailable_ids) {
    impl_->ForgetDamagedFiles(id);
    fs::remove(impl_->GraphPath(id), ec);
  }
  for (const auto& o : replaced) fs::remove(impl_->GraphPath(o->id), ec);
  for (const auto& item : items) {
    std::shared_lock lock(item.built->graph_mu);
    CollectionInfo info;
    info.config = item.built->config;
    info.id = item.built->id;
    info.head_version = item.built->head;
    info.created_at_us = item.built->created_at_us;
    info.live_records = item.built->live_count;
    info.graph_nodes = item.built->graph->node_count();
    info.oldest_retained = item.built->oldest_retained;
    result.collections.push_back(std::move(info));
  }
  impl_->Log(LogLevel::kInfo, "imported " + std::to_string(result.records) + " records from " + path);
  return result;
}

namespace {

// The names in the directory `fd` (without "." and ".."). Does not move or
// close `fd`.
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

// Whether `name` is <something>.partial-<16 lowercase hex digits>, the name
// Export gives its unfinished directory.
bool IsPartialName(const std::string& name) {
  const size_t infix = std::strlen(kPartialInfix);
  if (name.size() <= infix + kPartialSuffixDigits) return false;
  const size_t at = name.size() - kPartialSuffixDigits - infix;
  if (name.compare(at, infix, kPartialInfix) != 0) return false;
  for (size_t i = name.size() - kPartialSuffixDigits; i < name.size(); ++i) {
    const char c = name[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// An unfinished export's layout, as Export writes it: regular files, and
// directories holding only regular files. Anything else (a link, a deeper
// directory, a device) means the directory is not only the export's own.
Status CheckPartialLayout(int fd, const std::string& shown, bool top) {
  VERITY_ASSIGN_OR_RETURN(auto names, ListDirectory(fd, shown));
  for (const auto& name : names) {
    const mode_t type = TypeAt(fd, name);
    if (type == S_IFREG) continue;
    if (type == S_IFDIR && top) {
      const Fd sub(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub.get() < 0) return Status::Unavailable("open " + shown + "/" + name + ": " + std::strerror(errno));
      VERITY_RETURN_IF_ERROR(CheckPartialLayout(sub.get(), shown + "/" + name, false));
      continue;
    }
    return Status::FailedPrecondition(shown + "/" + name + " is not what an export writes (" +
                                      (type == S_IFLNK ? "a symbolic link" : type == S_IFDIR ? "a nested directory"
                                                                                              : "not a regular file") +
                                      "); left in place");
  }
  return Status::Ok();
}

// Removes everything in the directory `fd` (laid out as CheckPartialLayout
// accepted), without following any link: unlinkat removes a link itself.
Status RemoveContents(int fd, const std::string& shown) {
  VERITY_ASSIGN_OR_RETURN(auto names, ListDirectory(fd, shown));
  for (const auto& name : names) {
    if (::unlinkat(fd, name.c_str(), 0) == 0) continue;
    if (errno != EISDIR && errno != EPERM) {
      return Status::Unavailable("remove " + shown + "/" + name + ": " + std::strerror(errno));
    }
    const Fd sub(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (sub.get() < 0) return Status::Unavailable("open " + shown + "/" + name + ": " + std::strerror(errno));
    VERITY_RETURN_IF_ERROR(RemoveContents(sub.get(), shown + "/" + name));
    if (::unlinkat(fd, name.c_str(), AT_REMOVEDIR) != 0) {
      return Status::Unavailable("remove " + shown + "/" + name + ": " + std::strerror(errno));
    }
  }
  return Status::Ok();
}

// Removes the directory `name` in `root` if it is an unfinished export that
// died. Ok(false) if it is not one (or its export is still running).
Result<bool> RemoveIfUnfinishedExport(int root, const std::string& name, const std::string& shown) {
  if (TypeAt(root, name) != S_IFDIR) return false;  // a link, a file: not an export's
  const Fd dir(::openat(root, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dir.get() < 0) return false;  // replaced meanwhile
  const Fd marker(::openat(dir.get(), kUnfinishedMarker, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat st {};
  if (marker.get() < 0 || ::fstat(marker.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (::flock(marker.get(), LOCK_EX | LOCK_NB) != 0) return false;  // its export is running
  VERITY_RETURN_IF_ERROR(CheckPartialLayout(dir.get(), shown, true));
  VERITY_RETURN_IF_ERROR(RemoveContents(dir.get(), shown));
  if (::unlinkat(root, name.c_str(), AT_REMOVEDIR) != 0) {
    return Status::Unavailable("remove " + shown + ": " + std::strerror(errno));
  }
  return true;
}

}  // namespace

Result<UnfinishedExports> Database::RemoveUnfinishedExports(const std::string& dir) {
  UnfinishedExports result;
  const Fd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) {
    if (errno == ENOENT) return result;
    return Status::Unavailable("open " + dir + ": " + std::strerror(errno));
  }
  VERITY_ASSIGN_OR_RETURN(auto names, ListDirectory(root.get(), dir));
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    if (!IsPartialName(name)) continue;
    const std::string shown = dir + "/" + name;
    auto removed = RemoveIfUnfinishedExport(root.get(), name, shown);
    if (!removed.ok()) {
      result.errors.push_back(removed.status().message());
    } else if (*removed) {
      result.removed.push_back(shown);
    }
  }
  if (!result.removed.empty()) {
    if (Status s = SyncPath(dir, true); !s.ok()) result.errors.push_back(s.message());
  }
  return result;
}

}  // namespace verity
