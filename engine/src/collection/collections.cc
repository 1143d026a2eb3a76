// Collections (collection/collections.h): the registry, create, list and
// drop, and the removal of what a failed load or import left behind.
#include "collection/collections.h"

#include <rocksdb/convenience.h>

#include <algorithm>
#include <filesystem>

#include "base/validate.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "util/clock.h"

namespace verity {

Collections::Collections(Store& store, std::string dir, const DatabaseOptions& options, LogFunction log)
    : StoreUser(store, std::move(log)), dir_(std::move(dir)), options_(options) {}

std::vector<std::shared_ptr<Collection>> Collections::All() const {
  std::shared_lock lock(mu_);
  std::vector<std::shared_ptr<Collection>> all;
  all.reserve(by_name_.size());
  for (const auto& [name, c] : by_name_) all.push_back(c);
  return all;
}

std::vector<std::string> Collections::Names() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> names;
  names.reserve(by_name_.size());
  for (const auto& [name, c] : by_name_) names.push_back(name);
  return names;
}

void Collections::Clear() {
  std::unique_lock lock(mu_);
  by_name_.clear();
  unavailable_.clear();
}

Result<uint32_t> Collections::TakeIds(uint32_t count) {
  std::lock_guard ddl(ddl_mu_);
  if (next_collection_id_ > UINT32_MAX - count) return Status::ResourceExhausted("collection ids exhausted");
  const uint32_t first = next_collection_id_;
  next_collection_id_ += count;
  std::string next;
  keys::PutU32(&next, next_collection_id_);
  VERITY_RETURN_IF_ERROR(FromRocks(db_->Put(write_options_, meta_, keys::NextCollectionIdKey(), next), "import"));
  return first;
}

std::vector<uint32_t> Collections::Register(const std::vector<std::shared_ptr<Collection>>& built) {
  std::vector<uint32_t> unavailable_ids;
  std::unique_lock lock(mu_);
  for (const auto& c : built) {
    by_name_[c->config.name] = c;
    if (auto u = unavailable_.find(c->config.name); u != unavailable_.end()) {
      unavailable_ids.push_back(u->second.meta.id());
      unavailable_.erase(u);
    }
  }
  return unavailable_ids;
}

std::vector<std::pair<std::string, Status>> Collections::Unavailable() const {
  std::shared_lock lock(mu_);
  std::vector<std::pair<std::string, Status>> out;
  for (const auto& [name, u] : unavailable_) out.emplace_back(name, u.error);
  return out;
}

Result<std::shared_ptr<Collection>> Collections::Find(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) {
    if (auto u = unavailable_.find(name); u != unavailable_.end()) {
      return Status::DataLoss("collection \"" + name + "\" is unavailable: " + u->second.error.message() +
                              " (drop it, or import it again from an export with replace)");
    }
    // A name longer than any collection's is not echoed whole (it would go
    // back in the status and into the server's log line).
    if (name.size() > Limits::kMaxCollectionNameBytes) {
      return Status::NotFound("collection \"" + name.substr(0, 64) + "...\" (" + std::to_string(name.size()) +
                              " bytes; names are at most " + std::to_string(Limits::kMaxCollectionNameBytes) +
                              ") does not exist");
    }
    return Status::NotFound("collection \"" + name + "\" does not exist");
  }
  return it->second;
}

bool Collections::NameTaken(const std::string& name) const {
  std::shared_lock lock(mu_);
  return by_name_.count(name) > 0 || unavailable_.count(name) > 0;
}

CollectionInfo Collections::InfoOf(const Collection& c) {
  std::shared_lock lock(c.graph_mu);
  CollectionInfo info;
  info.config = c.config;
  info.id = c.id;
  info.head_version = c.head;
  info.created_at_us = c.created_at_us;
  info.live_records = c.live_count;
  info.graph_nodes = c.graph ? c.graph->node_count() : 0;
  info.dead_nodes = c.dead_nodes;
  info.collected_nodes = c.collected_nodes;
  info.unsaved_graph_nodes = c.graph && c.graph->size() > c.saved_nodes ? c.graph->size() - c.saved_nodes : 0;
  info.log_only_rows = c.log_only_rows;
  info.oldest_retained = c.oldest_retained;
  info.retained_versions = c.head >= c.oldest_retained ? c.head - c.oldest_retained + 1 : 0;
  for (const auto& [version, holders] : c.pins) {
    if (version < c.oldest_retained) ++info.retained_versions;
  }
  info.snapshots = c.snapshot_count;
  return info;
}

Result<CollectionInfo> Collections::CreateCollection(const CollectionConfig& given) {
  VERITY_RETURN_IF_ERROR(ValidateCollectionConfig(given));
  CollectionConfig config = given;
  if (config.text_index.enabled) {
    VERITY_RETURN_IF_ERROR(text::ResolvePreset(&config.text_index.analyzer, "text_index.analyzer"));
  }
  std::lock_guard ddl(ddl_mu_);
  if (NameTaken(config.name)) {
    return Status::AlreadyExists("collection \"" + config.name + "\" already exists");
  }
  const uint32_t id = next_collection_id_;
  if (id == UINT32_MAX) return Status::ResourceExhausted("collection ids exhausted");

  storage::CollectionMeta meta;
  meta.set_id(id);
  ConfigToMeta(config, &meta);
  meta.set_created_at_us(NowMicros());
  storage::VersionMeta version0;
  version0.set_committed_at_us(meta.created_at_us());

  rocksdb::WriteBatch batch;
  std::string id_bytes;
  keys::PutU32(&id_bytes, id);
  std::string next_bytes;
  keys::PutU32(&next_bytes, id + 1);
  batch.Put(meta_, keys::NextCollectionIdKey(), next_bytes);
  batch.Put(meta_, keys::NameKey(config.name), id_bytes);
  batch.Put(meta_, keys::CollectionKey(id), meta.SerializeAsString());
  batch.Put(meta_, keys::VersionKey(id, 0), version0.SerializeAsString());

  auto c = std::make_shared<Collection>();
  c->config = config;
  c->id = id;
  c->created_at_us = meta.created_at_us();
  c->meta = meta;
  if (config.dimension > 0) {
    const GraphParams params{config.dimension, config.metric, config.m, config.ef_construction};
    VERITY_ASSIGN_OR_RETURN(c->graph, HnswGraph::Create(params, 1024));
  }
  VERITY_ASSIGN_OR_RETURN(c->text, text::CollectionTextIndex::Create(config));

  VERITY_RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch), "create collection"));
  next_collection_id_ = id + 1;
  // A graph file left by an earlier collection with this id cannot exist
  // (ids are never reused), but remove any stray one to be sure.
  std::error_code ec;
  std::filesystem::remove(GraphPath(id), ec);
  CollectionInfo info = InfoOf(*c);
  {
    std::unique_lock lock(mu_);
    by_name_[config.name] = std::move(c);
  }
  return info;
}

Result<std::vector<CollectionInfo>> Collections::ListCollections() const {
  std::vector<std::shared_ptr<Collection>> all;
  {
    std::shared_lock lock(mu_);
    for (auto& [name, c] : by_name_) all.push_back(c);
  }
  std::vector<CollectionInfo> out;
  for (auto& c : all) out.push_back(InfoOf(*c));
  {
    std::shared_lock lock(mu_);
    for (const auto& [name, u] : unavailable_) {
      CollectionInfo info;
      info.config = ConfigFromMeta(u.meta);
      info.id = u.meta.id();
      info.head_version = u.meta.head_version();
      info.created_at_us = u.meta.created_at_us();
      info.oldest_retained = u.meta.oldest_retained();
      info.unavailable = u.error.message();
      out.push_back(std::move(info));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const CollectionInfo& a, const CollectionInfo& b) { return a.config.name < b.config.name; });
  return out;
}

Status Collections::CheckNotDropped(const Collection& c) {
  if (c.replaced) {
    return Status::Aborted("collection \"" + c.config.name +
                           "\" was replaced by an import while this call waited; retry it on the new collection");
  }
  if (c.dropped) return Status::NotFound("collection \"" + c.config.name + "\" does not exist");
  return Status::Ok();
}

void Collections::DeleteCollectionData(rocksdb::WriteBatch& batch, uint32_t id) {
  batch.Delete(meta_, keys::CollectionKey(id));
  batch.DeleteRange(meta_, keys::VersionPrefix(id), keys::VersionPrefix(id + 1));
  batch.DeleteRange(meta_, keys::SnapshotPrefix(id), keys::SnapshotPrefix(id + 1));
  batch.DeleteRange(meta_, keys::PinPrefix(id), keys::PinPrefix(id + 1));
  for (auto* cf : {rows_, vectors_, changes_, text_}) {
    batch.DeleteRange(cf, keys::CollectionPrefix(id), keys::CollectionEnd(id));
  }
}

Result<bool> Collections::RemoveUnavailable(const std::string& name, rocksdb::WriteBatch* batch) {
  uint32_t id = 0;
  {
    std::shared_lock lock(mu_);
    auto it = unavailable_.find(name);
    if (it == unavailable_.end()) return false;
    id = it->second.meta.id();
  }
  rocksdb::WriteBatch own;
  rocksdb::WriteBatch& b = batch ? *batch : own;
  if (!batch) b.Delete(meta_, keys::NameKey(name));
  DeleteCollectionData(b, id);
  if (!batch) VERITY_RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &b), "drop collection"));
  return true;
}

bool Collections::DropUnavailable(const std::string& name) {
  auto removed = RemoveUnavailable(name, nullptr);
  if (!removed.ok() || !*removed) return false;  // a failed write: Find reports the collection as before
  uint32_t id = 0;
  {
    std::unique_lock lock(mu_);
    id = unavailable_[name].meta.id();
    unavailable_.erase(name);
  }
  ForgetDamagedFiles(id);
  std::error_code ec;
  std::filesystem::remove(GraphPath(id), ec);
  Log(LogLevel::kInfo, "dropped unavailable collection \"" + name + "\"");
  return true;
}

void Collections::ForgetDamagedFiles(uint32_t id) {
  // Table files below level 0 that hold nothing but this collection's keys
  // go at once, unread: a compaction that read a damaged block would fail, and RocksDB
  // would stop every write. Files shared with other keys keep the damage
  // until compactions rewrite them (docs/reliability.md, "Corruption").
  const std::string begin = keys::CollectionPrefix(id);
  const std::string end = keys::CollectionEnd(id);
  const rocksdb::Slice b(begin), e(end);
  for (auto* cf : {rows_, vectors_, changes_, text_}) {
    rocksdb::Status rs = rocksdb::DeleteFilesInRange(db_, cf, &b, &e);
    if (!rs.ok())
      Log(LogLevel::kWarning,
          "drop: table files of collection " + std::to_string(id) + " were not removed (" + rs.ToString() + ")");
  }
}

Status Collections::DropCollection(const std::string& name) {
  std::lock_guard ddl(ddl_mu_);
  if (DropUnavailable(name)) return Status::Ok();
  VERITY_ASSIGN_OR_RETURN(auto c, Find(name));
  std::lock_guard gc(c->gc_mu);        // wait for a GC (and graph rebuild) to finish
  std::lock_guard write(c->write_mu);  // wait for an in-flight write to finish
  std::lock_guard pins(c->pins_mu);    // and for a snapshot or log pin being written
  const uint32_t id = c->id;
  rocksdb::WriteBatch batch;
  batch.Delete(meta_, keys::NameKey(name));
  batch.Delete(meta_, keys::CollectionKey(id));
  std::string version_end = keys::VersionPrefix(id + 1);
  batch.DeleteRange(meta_, keys::VersionPrefix(id), version_end);
  batch.DeleteRange(meta_, keys::SnapshotPrefix(id), keys::SnapshotPrefix(id + 1));
  batch.DeleteRange(meta_, keys::PinPrefix(id), keys::PinPrefix(id + 1));
  for (auto* cf : {rows_, vectors_, changes_, text_}) {
    batch.DeleteRange(cf, keys::CollectionPrefix(id), keys::CollectionEnd(id));
  }
  VERITY_RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch), "drop collection"));
  c->dropped = true;  // writers that found it before and waited for its locks refuse
  {
    std::unique_lock lock(mu_);
    by_name_.erase(name);
  }
  std::error_code ec;
  std::filesystem::remove(GraphPath(id), ec);
  Log(LogLevel::kInfo, "dropped collection \"" + name + "\"");
  return Status::Ok();
}

uint64_t Collections::ApproximateBytes(uint32_t collection_id) const {
  const std::string begin = keys::CollectionPrefix(collection_id), end = keys::CollectionEnd(collection_id);
  rocksdb::Range range(begin, end);
  rocksdb::SizeApproximationOptions size_options;
  size_options.include_memtables = true;
  size_options.include_files = true;
  uint64_t total = 0;
  for (auto* cf : {rows_, vectors_, changes_, text_}) {
    uint64_t size = 0;
    if (db_->GetApproximateSizes(size_options, cf, &range, 1, &size).ok()) total += size;
  }
  return total;
}

// Collections whose rows exist without a collection record: an import that
// died before it committed. Their rows are invisible; remove them.
Status Collections::RemoveOrphans() {
  std::set<uint32_t> known;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
    for (it->Seek("C"); it->Valid() && it->key().starts_with("C"); it->Next()) {
      if (it->key().size() == 5) known.insert(keys::GetU32(it->key().data() + 1));
    }
    VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "scan collections"));
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), rows_));
  rocksdb::WriteBatch batch;
  for (it->SeekToFirst(); it->Valid();) {
    if (it->key().size() < 4) return Status::DataLoss("rows: malformed key " + it->key().ToString(true));
    const uint32_t id = keys::GetU32(it->key().data());
    if (known.count(id) == 0) {
      Log(LogLevel::kWarning, "removing the rows of unfinished import (collection id " + std::to_string(id) + ")");
      for (auto* cf : {rows_, vectors_, changes_, text_})
        batch.DeleteRange(cf, keys::CollectionPrefix(id), keys::CollectionEnd(id));
    }
    it->Seek(keys::CollectionEnd(id));
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "scan rows"));
  if (batch.Count() == 0) return Status::Ok();
  return FromRocks(db_->Write(write_options_, &batch), "remove unfinished import");
}
Status SnapshotNotFound(const std::string& name, const std::string& collection) {
  if (name.size() > Limits::kMaxSnapshotNameBytes) {
    return Status::NotFound("snapshot \"" + name.substr(0, 64) + "...\" (" + std::to_string(name.size()) +
                            " bytes; names are at most " + std::to_string(Limits::kMaxSnapshotNameBytes) + ") of \"" +
                            collection + "\" does not exist")
        .WithReason(StatusReason::kSnapshotNotFound);
  }
  return Status::NotFound("snapshot \"" + name + "\" of \"" + collection + "\" does not exist")
      .WithReason(StatusReason::kSnapshotNotFound);
}

Result<storage::SnapshotMeta> Collections::ReadSnapshot(const Collection& c, const std::string& name) const {
  std::string value;
  rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), meta_, keys::SnapshotKey(c.id, name), &value);
  if (rs.IsNotFound()) return SnapshotNotFound(name, c.config.name);
  VERITY_RETURN_IF_ERROR(FromRocks(rs, "read snapshot"));
  storage::SnapshotMeta m;
  if (!m.ParseFromString(value)) return Status::DataLoss("meta: snapshot " + name + " does not parse");
  return m;
}

Result<Version> Collections::SnapshotVersionOf(const Collection& c, const std::string& name) const {
  VERITY_ASSIGN_OR_RETURN(storage::SnapshotMeta m, ReadSnapshot(c, name));
  return Version{m.version()};
}

}  // namespace verity
