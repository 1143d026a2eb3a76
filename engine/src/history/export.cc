// Export of collections (docs/snapshots.md, "Export format"), and the
// removal of unfinished exports.
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
// of exports that died (marker present, lock free). Import
// (history/import.cc) reads it back.
#include <fcntl.h>
#include <rocksdb/write_batch.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <utility>

#include "history/export_files.h"
#include "history/export_manifest.h"
#include "history/history.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "util/clock.h"
#include "util/keep_going.h"
#include "util/kill_point.h"
#include "util/sha256.h"

namespace verity {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using history::Fd;
using history::SyncPath;

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

struct ExportItem {
  std::shared_ptr<Collection> collection;
  Version version = 0;
  uint64_t records = 0;
  // Taken under the collection's lock right after resolving `version`, as
  // every read does: a GC that starts later cannot remove its rows.
  std::shared_ptr<ScopedSnapshot> snapshot;
};

// An export's own directory while it is written: PATH.partial-<hex>
// (created, never reused: two exports to one name must not write into each
// other's), holding a locked marker for as long as the export runs.
class PartialExport {
 public:
  // Creates the directory and its marker. Unavailable when either fails.
  Status Create(const std::string& path);
  const std::string& dir() const { return dir_; }
  // Removes the directory (an export that failed) and returns `s`.
  Status Fail(Status s) const {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
    return s;
  }
  // Writes the manifest and its hash, syncs, removes the marker and renames
  // the directory to `path` only if nothing is there by then. On failure
  // the directory is removed. The bytes of the two manifest files go to
  // *manifest_bytes.
  Status Publish(const std::string& path, const std::string& manifest_text,
                 const std::vector<std::string>& collection_dirs, uint64_t* manifest_bytes) const;

 private:
  std::string dir_;
  std::string marker_path_;
  Fd marker_;  // locked until this object goes (the end of Export)
};

Status PartialExport::Create(const std::string& path) {
  std::error_code ec;
  dir_ = path + history::kPartialInfix + RandomHex(history::kPartialSuffixDigits / 2);
  if (!fs::create_directory(dir_, ec) || ec) {
    const std::string shown = dir_;
    dir_.clear();  // not ours: never removed
    return Status::Unavailable("create " + shown + ": " + (ec ? ec.message() : "it exists"));
  }
  // First the marker that tells RemoveUnfinishedExports this directory is an
  // export's own, locked for as long as this export runs (a server starting
  // meanwhile on the same export directory leaves it alone). Should such a
  // server take the lock between the create and the flock, this export
  // fails here rather than write into a directory being removed.
  marker_path_ = dir_ + "/" + history::kUnfinishedMarker;
  marker_ = Fd(::open(marker_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (marker_.get() < 0 || ::flock(marker_.get(), LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    return Fail(Status::Unavailable("create " + marker_path_ + ": " + std::strerror(error)));
  }
  return Status::Ok();
}

Status PartialExport::Publish(const std::string& path, const std::string& manifest_text,
                              const std::vector<std::string>& collection_dirs, uint64_t* manifest_bytes) const {
  const std::string manifest_hash = Sha256::Hex(manifest_text) + "\n";
  if (Status s = WriteSmallFile(dir_ + "/" + history::kManifest, manifest_text); !s.ok()) return Fail(s);
  if (Status s = WriteSmallFile(dir_ + "/" + history::kManifestHash, manifest_hash); !s.ok()) return Fail(s);
  for (const auto& name : collection_dirs) {
    if (Status s = SyncPath(dir_ + "/" + name, true); !s.ok()) return Fail(s);
  }
  KillPoint("export.before_rename");
  // The marker goes before the rename, so that a complete export holds none
  // (one named like a partial directory is never taken for a leftover); its
  // lock is held until Export returns. A crash between the two leaves a
  // partial directory without the marker: it stays.
  if (::unlink(marker_path_.c_str()) != 0) {
    const int error = errno;
    return Fail(Status::Unavailable("remove " + marker_path_ + ": " + std::strerror(error)));
  }
  if (Status s = SyncPath(dir_, true); !s.ok()) return Fail(s);
  *manifest_bytes = manifest_text.size() + manifest_hash.size();
  if (::renameat2(AT_FDCWD, dir_.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
    const int error = errno;
    if (error == EEXIST || error == ENOTEMPTY) return Fail(Status::AlreadyExists("export " + path + " already exists"));
    return Fail(Status::Unavailable("rename " + dir_ + ": " + std::strerror(error)));
  }
  return Status::Ok();
}

// How far an export is: bytes written, and the estimate of the total.
struct ExportProgress {
  const ProgressFunction& report;
  uint64_t done = 0;
  uint64_t total_estimate = 0;
};

// The framed ExportRecord of `id`'s row visible at the item's version into
// *frame (empty when the id has no row there, or a tombstone). `rows` is an
// iterator on the rows CF of `read`.
Status ExportFrame(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* vectors, const rocksdb::ReadOptions& read,
                   rocksdb::Iterator* rows, const ExportItem& item, const std::string& id, std::string* frame) {
  frame->clear();
  bool found = false;
  Version row_version = 0;
  VERITY_RETURN_IF_ERROR(SeekRow(rows, item.collection->id, id, item.version, &found, &row_version));
  if (!found) return Status::Ok();
  storage::RowMeta row;
  if (!row.ParseFromArray(rows->value().data(), static_cast<int>(rows->value().size()))) {
    return Status::DataLoss("row " + id + " does not parse");
  }
  if (row.tombstone()) return Status::Ok();
  storage::ExportRecord out;
  out.set_id(id);
  out.set_row_version(row_version);
  out.set_text(row.text());
  out.set_document_id(row.document_id());
  *out.mutable_metadata() = row.metadata();
  *out.mutable_sparse() = row.sparse();
  if (item.collection->config.dimension > 0) {  // a text-only collection stores no vectors
    std::string vector;
    VERITY_RETURN_IF_ERROR(FromRocks(db->Get(read, vectors, rows->key(), &vector), "read vector of " + id));
    out.set_vector(std::move(vector));
  }
  const std::string bytes = out.SerializeAsString();
  const uint32_t length = static_cast<uint32_t>(bytes.size());
  frame->assign(reinterpret_cast<const char*>(&length), 4);  // little-endian (x86-64)
  *frame += bytes;
  return Status::Ok();
}

// Writes the records of `item` visible at its version, in id order, to
// `writer`; returns how many.
Result<uint64_t> WriteRecords(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* rows_cf,
                              rocksdb::ColumnFamilyHandle* vectors, const ExportItem& item, HashedWriter& writer,
                              ExportProgress& progress) {
  const Collection& c = *item.collection;
  uint64_t records = 0;
  const rocksdb::ReadOptions read = item.snapshot->options();
  std::unique_ptr<rocksdb::Iterator> ids(db->NewIterator(read, rows_cf));
  std::unique_ptr<rocksdb::Iterator> rows(db->NewIterator(read, rows_cf));
  const std::string prefix = keys::CollectionPrefix(c.id);
  std::string frame;
  for (ids->Seek(prefix); ids->Valid() && ids->key().starts_with(prefix);) {
    VERITY_ASSIGN_OR_RETURN(const RowKeyParts parts, RowKeyAt(*ids));
    const std::string id(parts.id);
    ids->Seek(keys::RowKeyAfterId(c.id, id));
    VERITY_RETURN_IF_ERROR(ExportFrame(db, vectors, read, rows.get(), item, id, &frame));
    if (frame.empty()) continue;
    VERITY_RETURN_IF_ERROR(writer.Write(frame));
    progress.done += frame.size();
    if (++records % 1000 == 0) {
      KillPoint("export.mid_records");
      if (progress.report) progress.report(progress.done, std::max(progress.done, progress.total_estimate));
    }
  }
  VERITY_RETURN_IF_ERROR(FromRocks(ids->status(), "export scan"));
  return records;
}

// The manifest's entry for one exported collection.
Json ManifestEntry(const ExportItem& item, uint64_t records, const std::string& relative, uint64_t bytes,
                   const std::string& sha256) {
  const CollectionConfig& config = item.collection->config;
  Json files = Json::array();
  files.push_back({{"path", relative}, {"bytes", bytes}, {"sha256", sha256}});
  Json entry = {{"name", config.name},
          {"dimension", config.dimension},
          {"metric", MetricName(config.metric)},
          {"m", config.m},
          {"ef_construction", config.ef_construction},
          {"default_ef", config.default_ef},
          {"keep_versions", config.retention.keep_versions},
          {"keep_seconds", config.retention.keep_seconds},
          {"version", item.version},
          {"records", records},
          {"files", files}};
  // Optional (absent for collections without them; readers before #26 ignore them).
  if (config.text_index.enabled) {
    const AnalyzerConfig& a = config.text_index.analyzer;
    entry["text_index"] = {{"analyzer",
                            {{"preset", a.preset},
                             {"case_fold", a.case_fold},
                             {"ascii_fold", a.ascii_fold},
                             {"stopwords", a.stopwords},
                             {"stemmer", a.stemmer},
                             {"max_term_bytes", a.max_term_bytes}}},
                           {"k1", config.text_index.k1},
                           {"b", config.text_index.b},
                           {"analyzer_version", config.text_index.analyzer_version}};
  }
  if (!config.sparse_fields.empty()) {
    Json fields = Json::array();
    for (const auto& f : config.sparse_fields) fields.push_back({{"name", f.name}, {"dimension", f.dimension}});
    entry["sparse_fields"] = fields;
  }
  return entry;
}

}  // namespace

Result<ExportResult> History::Export(const std::string& collection, const ReadPoint& at, const std::string& path,
                                     const ProgressFunction& progress) {
  if (path.empty()) return Status::InvalidArgument("path: must not be empty");
  std::error_code ec;
  if (fs::exists(path, ec)) return Status::AlreadyExists("export " + path + " already exists");
  if (collection.empty() && !at.is_head()) return Status::InvalidArgument("at: only for the export of one collection");

  std::vector<ExportItem> items;
  if (collection.empty()) {
    for (auto& c : collections_.All()) items.push_back({c, 0, 0, nullptr});
    // An unavailable collection cannot be read: the export holds the others
    // (its result lists them) and says so in the log.
    for (const auto& [name, error] : collections_.Unavailable()) {
      Log(LogLevel::kWarning,
          "export " + path + ": collection \"" + name + "\" is unavailable and not exported (" + error.message() + ")");
    }
  } else {
    VERITY_ASSIGN_OR_RETURN(auto c, collections_.Find(collection));
    items.push_back({c, 0, 0, nullptr});
  }
  // Each collection's version is resolved, and its RocksDB snapshot taken,
  // under its lock: a GC that starts later cannot remove what the export
  // reads. (One snapshot taken after the locks were released let a GC in
  // between collect rows of the version being exported.)
  ExportProgress done{progress};
  for (auto& item : items) {
    // Not dropped (its rows would read as none): a drop holds pins_mu.
    std::lock_guard pins(item.collection->pins_mu);
    VERITY_RETURN_IF_ERROR(Collections::CheckNotDropped(*item.collection));
    std::shared_lock lock(item.collection->graph_mu);
    VERITY_ASSIGN_OR_RETURN(
        item.version, collections_.ResolveReadPoint(*item.collection, collection.empty() ? ReadPoint::Head() : at));
    item.snapshot = std::make_shared<ScopedSnapshot>(db_);
    VERITY_ASSIGN_OR_RETURN(item.records, collections_.CountAt(*item.collection, item.version));
    done.total_estimate += item.records * (item.collection->config.dimension * 4 + 64);
  }

  PartialExport partial;
  VERITY_RETURN_IF_ERROR(partial.Create(path));
  ExportResult result;
  result.path = path;
  Json manifest = {{"format", kExportFormat}, {"format_version", kExportFormatVersion}, {"created_at_us", NowMicros()}};
  Json collections = Json::array();
  std::vector<std::string> collection_dirs;
  for (const auto& item : items) {
    const std::string& name = item.collection->config.name;
    const std::string relative = name + "/" + kExportRecordsFile;
    fs::create_directories(partial.dir() + "/" + name, ec);
    if (ec) return partial.Fail(Status::Unavailable("create " + partial.dir() + "/" + name + ": " + ec.message()));
    collection_dirs.push_back(name);
    HashedWriter writer;
    if (Status s = writer.Open(partial.dir() + "/" + relative); !s.ok()) return partial.Fail(s);
    auto records = WriteRecords(db_, rows_, vectors_, item, writer, done);
    if (!records.ok()) return partial.Fail(records.status());
    auto sha = writer.Finish();
    if (!sha.ok()) return partial.Fail(sha.status());
    collections.push_back(ManifestEntry(item, *records, relative, writer.bytes(), *sha));
    result.collections.push_back({name, item.version, *records});
    result.bytes += writer.bytes();
  }
  manifest["collections"] = collections;
  uint64_t manifest_bytes = 0;
  VERITY_RETURN_IF_ERROR(partial.Publish(path, manifest.dump(2) + "\n", collection_dirs, &manifest_bytes));
  result.bytes += manifest_bytes;
  const fs::path parent = fs::absolute(path).parent_path();
  VERITY_RETURN_IF_ERROR(SyncPath(parent.string(), true));
  if (progress) progress(done.done, done.done);
  return result;
}

namespace {

using history::kPartialInfix;
using history::kPartialSuffixDigits;
using history::kUnfinishedMarker;
using history::ListDirectory;
using history::TypeAt;

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
                                      (type == S_IFLNK   ? "a symbolic link"
                                       : type == S_IFDIR ? "a nested directory"
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