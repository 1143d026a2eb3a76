// The public collection calls (verity/database.h): each holds the façade's
// lifecycle lock and hands the work to the collections subsystem
// (collection/collections.h); ListVersionsPage also reads the snapshots
// that name each version (history).
#include <map>

#include "database/database_impl.h"
#include "storage/codec.h"
#include "storage/keys.h"

namespace verity {

Result<CollectionInfo> Database::CreateCollection(const CollectionConfig& config) {
  VERITY_CHECK_WRITABLE_();
  return impl_->collections->CreateCollection(config);
}

Result<CollectionInfo> Database::GetCollection(const std::string& name) const {
  VERITY_CHECK_OPEN_();
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->collections->Find(name));
  return Collections::InfoOf(*c);
}

Result<std::vector<CollectionInfo>> Database::ListCollections() const {
  VERITY_CHECK_OPEN_();
  return impl_->collections->ListCollections();
}

Status Database::DropCollection(const std::string& name) {
  VERITY_CHECK_WRITABLE_();
  return impl_->collections->DropCollection(name);
}

Status Database::PersistGraphs() {
  VERITY_CHECK_OPEN_();
  return impl_->collections->PersistGraphs();
}

Result<WriteResult> Database::Upsert(const std::string& collection, std::vector<Record> records) {
  VERITY_CHECK_WRITABLE_();
  return impl_->collections->Upsert(collection, std::move(records));
}

Result<WriteResult> Database::Delete(const std::string& collection, const std::vector<std::string>& ids) {
  VERITY_CHECK_WRITABLE_();
  return impl_->collections->Delete(collection, ids);
}

Result<StoredRecord> Database::Get(const std::string& collection, const std::string& id,
                                   std::optional<Version> at) const {
  VERITY_CHECK_OPEN_();
  return impl_->collections->Get(collection, id, at);
}

Result<ScrollPage> Database::Scroll(const std::string& collection, const ScrollRequest& request) const {
  VERITY_CHECK_OPEN_();
  return impl_->collections->Scroll(collection, request);
}

Result<uint64_t> Database::Count(const std::string& collection, std::optional<Version> at, const Filter* filter) const {
  VERITY_CHECK_OPEN_();
  return impl_->collections->Count(collection, at, filter);
}

Result<std::vector<SearchResult>> Database::SearchBatch(const std::string& collection,
                                                        const std::vector<SearchRequest>& queries,
                                                        const std::function<Status()>& keep_going,
                                                        const BatchLimits& limits) const {
  VERITY_CHECK_OPEN_();
  return impl_->collections->SearchBatch(collection, queries, keep_going, limits);
}

Result<SearchResult> Database::Search(const std::string& collection, const SearchRequest& request) const {
  VERITY_CHECK_OPEN_();
  ScopedCount running(impl_->calls_running);
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->collections->Find(collection));
  return impl_->collections->SearchOne(*c, request);
}

Result<std::vector<VersionInfo>> Database::ListVersions(const std::string& collection) const {
  VERITY_ASSIGN_OR_RETURN(VersionPage all, ListVersionsPage(collection, 0, 0));
  return std::move(all.versions);
}

Result<VersionPage> Database::ListVersionsPage(const std::string& collection, Version start_at, uint32_t limit) const {
  VERITY_CHECK_OPEN_();
  if (limit > Limits::kMaxVersionsPage) {
    return Status::InvalidArgument("limit: " + std::to_string(limit) + " is over " +
                                   std::to_string(Limits::kMaxVersionsPage) + " (0 = every version)");
  }
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->collections->Find(collection));
  Version head;
  Version oldest_retained;
  std::map<Version, uint32_t> pins;
  {
    std::shared_lock lock(c->graph_mu);
    head = c->head;
    oldest_retained = c->oldest_retained;
    pins = c->pins;
  }
  std::map<Version, std::vector<std::string>> snapshots_of;
  VERITY_ASSIGN_OR_RETURN(auto snapshots, impl_->history->SnapshotsOf(*c, false));
  for (const auto& s : snapshots) snapshots_of[s.version].push_back(s.name);
  VersionPage out;
  const std::string prefix = keys::VersionPrefix(c->id);
  std::string first = prefix;
  keys::PutU64(&first, start_at);
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->meta));
  for (it->Seek(first); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != prefix.size() + 8) return Status::DataLoss("meta: malformed version key");
    VersionInfo info;
    info.version = keys::GetU64(it->key().data() + prefix.size());
    if (info.version > head) break;  // committed but not yet published
    if (limit > 0 && out.versions.size() == limit) {
      out.next_start_at = info.version;
      break;
    }
    storage::VersionMeta meta;
    if (!meta.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::DataLoss("meta: version " + std::to_string(info.version) + " does not parse");
    }
    info.committed_at_us = meta.committed_at_us();
    info.upserted = meta.upserted();
    info.deleted = meta.deleted();
    info.is_restore = meta.is_restore();
    info.restored_from = meta.restored_from();
    info.readable = info.version >= oldest_retained || pins.count(info.version) > 0;
    auto named = snapshots_of.find(info.version);
    if (named != snapshots_of.end()) info.snapshots = named->second;
    out.versions.push_back(info);
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "list versions"));
  return out;
}

}  // namespace verity
