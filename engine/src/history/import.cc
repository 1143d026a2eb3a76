// Import of an export directory (docs/snapshots.md, "Export format";
// history/export.cc writes it). Import opens PATH once and every file below
// it with openat and O_NOFOLLOW, one component at a time
// (history/export_files.h): no link in an export is followed. It verifies
// every hash and every record before anything becomes visible: rows go
// under fresh collection ids with no collection record, the graph is
// built, and one final batch registers the collections (and drops replaced
// ones). Rows of an import that died before that batch are removed at the
// next open (Collections::RemoveOrphans).
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <utility>

#include "base/validate.h"
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
namespace history {

// One collection of the manifest, and what the import makes of it.
struct ImportItem : ManifestCollection {
  uint32_t new_id = 0;
  std::shared_ptr<Collection> built;
};

}  // namespace history

namespace {

namespace fs = std::filesystem;
using history::Fd;
using history::ImportItem;

// The manifest and its hash, parsed; with `as_name`, the one collection
// renamed.
Result<std::vector<ImportItem>> ReadImportManifest(int root, const std::string& as_name) {
  VERITY_ASSIGN_OR_RETURN(std::string manifest_text, history::ReadSmallFile(root, history::kManifest));
  VERITY_ASSIGN_OR_RETURN(std::string manifest_hash, history::ReadSmallFile(root, history::kManifestHash));
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
    if (items.size() != 1)
      return Status::InvalidArgument("as_name: the export holds " + std::to_string(items.size()) +
                                     " collections, not one");
    CollectionConfig renamed = items[0].config;
    renamed.name = as_name;
    VERITY_RETURN_IF_ERROR(ValidateCollectionConfig(renamed).WithPrefix("as_name"));
    items[0].config.name = as_name;
  }
  return items;
}

// Every file's size and SHA-256 against the manifest.
Status VerifyExportFiles(int root, const std::vector<ImportItem>& items, const std::function<void(uint64_t)>& advance) {
  for (const auto& item : items) {
    VERITY_ASSIGN_OR_RETURN(auto hashed, history::HashFile(root, item.file_name, item.bytes, advance));
    if (hashed.second != item.bytes) {
      return Status::DataLoss("export: " + item.file_name + " has " + std::to_string(hashed.second) +
                              " bytes, the manifest says " + std::to_string(item.bytes) + " (truncated?)");
    }
    if (hashed.first != item.sha256)
      return Status::DataLoss("export: " + item.file_name + " SHA-256 mismatch (corrupted)");
  }
  return Status::Ok();
}

// Reads one collection's records.bin into rows, vectors and changes under
// the item's fresh id. The file is opened again as VerifyExportFiles opened
// it, and hashed again while it is read: a file changed after that check
// is refused, not imported. Borrows the database and its handles.
class RecordsImport {
 public:
  RecordsImport(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* rows, rocksdb::ColumnFamilyHandle* vectors,
                rocksdb::ColumnFamilyHandle* changes, const rocksdb::WriteOptions& write_options,
                const ImportItem& item)
      : db_(db), rows_(rows), vectors_(vectors), changes_(changes), write_options_(write_options), item_(item) {}

  // The number of records imported (the manifest's count, checked).
  Result<uint64_t> Run(int root, const std::function<void(uint64_t)>& advance);

 private:
  // DataLoss naming the file and the record.
  Status Bad(const std::string& what) const {
    return Status::DataLoss("export: " + item_.file_name + ": record " + std::to_string(label_) + ": " + what);
  }
  // Checks one record's bytes and adds its row to the batch.
  Status Add(const std::string& bytes);

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* rows_;
  rocksdb::ColumnFamilyHandle* vectors_;
  rocksdb::ColumnFamilyHandle* changes_;
  const rocksdb::WriteOptions& write_options_;
  const ImportItem& item_;
  rocksdb::WriteBatch batch_;
  uint64_t label_ = 0;
  std::set<std::string> seen_;
};

Result<uint64_t> RecordsImport::Run(int root, const std::function<void(uint64_t)>& advance) {
  uint64_t opened_size = 0;
  VERITY_ASSIGN_OR_RETURN(Fd fd, history::OpenExportFile(root, item_.file_name, &opened_size));
  std::FILE* f = ::fdopen(fd.get(), "rb");
  if (f == nullptr) return Status::Unavailable("export: cannot read " + item_.file_name);
  fd.Release();  // f owns it now
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(f, std::fclose);
  Sha256 reread;
  uint64_t reread_bytes = 0;
  std::string bytes;
  rocksdb::WriteOptions unsynced = write_options_;
  unsynced.sync = false;
  for (;;) {
    uint32_t length;
    const size_t got = std::fread(&length, 1, 4, f);
    if (got == 0 && std::feof(f)) break;
    if (got != 4) return Bad("truncated length");
    if (length > history::kMaxRecordBytes) return Bad("length " + std::to_string(length) + " is too large");
    bytes.resize(length);
    if (std::fread(bytes.data(), 1, length, f) != length) return Bad("truncated");
    reread.Update(&length, 4);
    reread.Update(bytes);
    reread_bytes += 4 + uint64_t{length};
    if (reread_bytes > item_.bytes) return Bad("the file grew after it was checked");
    advance(4 + length);
    VERITY_RETURN_IF_ERROR(Add(bytes));
    if (batch_.Count() >= 3000) {
      VERITY_RETURN_IF_ERROR(FromRocks(db_->Write(unsynced, &batch_), "import rows"));
      batch_.Clear();
      KillPoint("import.mid_rows");
    }
  }
  if (std::ferror(f) != 0) return Status::DataLoss("export: reading " + item_.file_name + " failed");
  if (reread_bytes != item_.bytes || reread.FinishHex() != item_.sha256) {
    return Status::DataLoss("export: " + item_.file_name + " changed while it was imported");
  }
  if (label_ != item_.records) {
    return Status::DataLoss("export: " + item_.file_name + " holds " + std::to_string(label_) +
                            " records, the manifest says " + std::to_string(item_.records));
  }
  VERITY_RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch_), "import rows"));
  return label_;
}

Status RecordsImport::Add(const std::string& bytes) {
  storage::ExportRecord in;
  if (!in.ParseFromString(bytes)) return Bad("does not parse");
  Record r;
  r.id = in.id();
  r.text = in.text();
  r.document_id = in.document_id();
  r.metadata = MetadataFromProto(in.metadata());
  r.sparse = SparseFromProto(in.sparse());
  if (Status s = DecodeVector(in.vector(), item_.config.dimension, &r.vector); !s.ok()) return Bad(s.message());
  // Exported rows are stored data: finite, but not held to the component
  // bound, which rows stored before it may exceed.
  if (Status s = ValidateRecord(r, item_.config.dimension, "record", /*bounded=*/false); !s.ok()) {
    return Bad(s.message());
  }
  if (Status s = ValidateRecordSparse(r, item_.config.sparse_fields, "record"); !s.ok()) return Bad(s.message());
  if (in.row_version() > item_.version) return Bad("row version beyond the exported version");
  if (!seen_.insert(r.id).second) return Bad("duplicate id " + r.id);
  storage::RowMeta row;
  row.set_label(label_);
  row.set_text(r.text);
  row.set_document_id(r.document_id);
  *row.mutable_metadata() = in.metadata();
  *row.mutable_sparse() = in.sparse();
  const std::string key = keys::RowKey(item_.new_id, r.id, in.row_version());
  batch_.Put(rows_, key, row.SerializeAsString());
  // The text index's documents are made when the imported collection is
  // loaded (Collections::LoadTextIndex analyses every row without one).
  if (item_.config.dimension > 0) batch_.Put(vectors_, key, in.vector());
  batch_.Put(changes_, keys::ChangeKey(item_.new_id, in.row_version(), r.id), "U");
  ++label_;
  return Status::Ok();
}

// The collection record of an imported collection, at its exported version.
storage::CollectionMeta ImportedMeta(const ImportItem& item) {
  storage::CollectionMeta m;
  m.set_id(item.new_id);
  ConfigToMeta(item.config, &m);
  m.set_created_at_us(NowMicros());
  m.set_head_version(item.version);
  m.set_next_label(item.records);
  m.set_live_records(item.records);
  m.set_oldest_retained(item.version);  // older versions were not exported
  return m;
}

}  // namespace

Status History::AssignImportIds(std::vector<ImportItem>& items) {
  VERITY_ASSIGN_OR_RETURN(uint32_t id, collections_.TakeIds(static_cast<uint32_t>(items.size())));
  for (auto& item : items) item.new_id = id++;
  return Status::Ok();
}

void History::DiscardImport(const std::vector<ImportItem>& items) {
  rocksdb::WriteBatch batch;
  for (const auto& item : items) {
    for (auto* cf : {rows_, vectors_, changes_, text_}) {
      batch.DeleteRange(cf, keys::CollectionPrefix(item.new_id), keys::CollectionEnd(item.new_id));
    }
    std::error_code ignored;
    fs::remove(collections_.GraphPath(item.new_id), ignored);
  }
  (void)db_->Write(write_options_, &batch);
}

Status History::FindImportReplaced(const std::vector<ImportItem>& items, bool replace, rocksdb::WriteBatch* batch,
                                   std::vector<std::shared_ptr<Collection>>* olds) {
  olds->assign(items.size(), nullptr);
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string& name = items[i].config.name;
    Result<bool> damaged = replace ? collections_.RemoveUnavailable(name, batch) : false;
    VERITY_RETURN_IF_ERROR(damaged.status());
    if (*damaged) continue;  // Register forgets it once the batch is written
    auto old = collections_.Find(name);
    if (!old.ok() && old.status().code() == StatusCode::kDataLoss) {
      return Status::AlreadyExists("collection \"" + name + "\" already exists (" + old.status().message() + ")");
    }
    if (!old.ok()) continue;
    if (!replace) return Status::AlreadyExists("collection \"" + name + "\" already exists");
    (*olds)[i] = *old;
  }
  return Status::Ok();
}

Status History::RegisterImport(const std::vector<ImportItem>& items, bool replace) {
  auto ddl = collections_.LockDdl();
  rocksdb::WriteBatch batch;
  std::vector<std::shared_ptr<Collection>> olds;
  // An unavailable collection (damaged at open) of the name is replaced
  // too: importing it again from an export is how it is repaired.
  VERITY_RETURN_IF_ERROR(FindImportReplaced(items, replace, &batch, &olds));
  // Every gc_mu (no GC or rebuild in flight), then every write_mu, then
  // every pins_mu: one class after another, as every other path nests
  // them (a cross-collection Restore holds its target's write_mu and waits
  // for its source's pins_mu; taking all three of one collection before the
  // next could deadlock with it).
  std::vector<std::unique_lock<std::mutex>> writers;
  for (auto member : {&Collection::gc_mu, &Collection::write_mu, &Collection::pins_mu}) {
    for (const auto& o : olds) {
      if (o) writers.emplace_back((*o).*member);
    }
  }
  std::vector<std::shared_ptr<Collection>> replaced;
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    if (olds[i]) {
      collections_.DeleteCollectionData(batch, olds[i]->id);
      replaced.push_back(olds[i]);
    }
    std::string id_bytes;
    keys::PutU32(&id_bytes, item.new_id);
    batch.Put(meta_, keys::NameKey(item.config.name), id_bytes);
    batch.Put(meta_, keys::CollectionKey(item.new_id), item.built->meta.SerializeAsString());
    storage::VersionMeta vm;
    vm.set_committed_at_us(NowMicros());
    vm.set_upserted(static_cast<uint32_t>(std::min<uint64_t>(item.records, UINT32_MAX)));
    batch.Put(meta_, keys::VersionKey(item.new_id, item.version), vm.SerializeAsString());
  }
  VERITY_RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch), "register import"));
  for (const auto& o : replaced) {  // as DropCollection: writers that waited refuse
    o->dropped = true;
    o->replaced = true;
  }
  std::vector<std::shared_ptr<Collection>> built;
  for (const auto& item : items) built.push_back(item.built);
  const std::vector<uint32_t> unavailable_ids = collections_.Register(built);
  std::error_code ec;
  for (const uint32_t id : unavailable_ids) {
    collections_.ForgetDamagedFiles(id);
    fs::remove(collections_.GraphPath(id), ec);
  }
  for (const auto& o : replaced) fs::remove(collections_.GraphPath(o->id), ec);
  return Status::Ok();
}

Result<ImportResult> History::Import(const std::string& path, const std::string& as_name, bool replace,
                                     const ProgressFunction& progress, uint32_t max_dimension) {
  // The export's directory is opened once; every file is opened below it.
  VERITY_ASSIGN_OR_RETURN(const Fd root, history::OpenExportRoot(path));

  // 1. The manifest and its hash.
  VERITY_ASSIGN_OR_RETURN(std::vector<ImportItem> items, ReadImportManifest(root.get(), as_name));
  for (const auto& item : items) {
    if (max_dimension > 0 && item.config.dimension > max_dimension) {
      return Status::InvalidArgument("collection \"" + item.config.name + "\" has dimension " +
                                     std::to_string(item.config.dimension) + ", above the limit " +
                                     std::to_string(max_dimension))
          .WithField("export")
          .WithReason(StatusReason::kDimensionOverLimit);
    }
    if (collections_.NameTaken(item.config.name) && !replace) {
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
  VERITY_RETURN_IF_ERROR(VerifyExportFiles(root.get(), items, advance));

  // 3. Rows under fresh, unregistered collection ids.
  VERITY_RETURN_IF_ERROR(AssignImportIds(items));
  auto discard = [&](Status s) {
    DiscardImport(items);
    return s;
  };
  ImportResult result;
  for (const auto& item : items) {
    RecordsImport records(db_, rows_, vectors_, changes_, write_options_, item);
    auto imported = records.Run(root.get(), advance);
    if (!imported.ok()) return discard(imported.status());
    result.records += *imported;
    result.bytes += item.bytes;
  }

  // 4. Build each collection (graph included) before it is visible.
  for (auto& item : items) {
    auto built = collections_.BuildCollection(ImportedMeta(item), false);
    if (!built.ok()) return discard(built.status());
    item.built = std::move(built).value();
  }
  KillPoint("import.before_register");

  // 5. One batch makes them visible (and drops the collections they replace).
  if (Status s = RegisterImport(items, replace); !s.ok()) return discard(s);
  for (const auto& item : items) result.collections.push_back(Collections::InfoOf(*item.built));
  Log(LogLevel::kInfo, "imported " + std::to_string(result.records) + " records from " + path);
  return result;
}

}  // namespace verity
