// The public collection calls (verity/database.h): each holds the façade's
// lifecycle lock and hands the work to the collections subsystem
// (collection/collections.h); ListVersionsPage also reads the snapshots
// that name each version (history).
#include <map>

#include "database/database_impl.h"

namespace verity {

Result<CollectionInfo> Database::CreateCollection(const CollectionConfig& config) {
  VERITY_CHECK_WRITABLE_();
  return impl_->collections->CreateCollection(config);
}

Result<CollectionInfo> Database::SetTextIndex(const std::string& collection, const TextIndexConfig& text_index) {
  VERITY_CHECK_WRITABLE_();
  Result<CollectionInfo> info = impl_->collections->SetTextIndex(collection, text_index);
  // A cached answer's context was retrieved under the old analyzer, at a
  // version the change does not move: no cached answer outlives the change.
  if (info.ok() && impl_->answer_cache) impl_->answer_cache->Clear();
  return info;
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

Result<StoredRecord> Database::Get(const std::string& collection, const std::string& id, const ReadPoint& at) const {
  VERITY_CHECK_OPEN_();
  return impl_->collections->Get(collection, id, at);
}

Result<ScrollPage> Database::Scroll(const std::string& collection, const ScrollRequest& request) const {
  VERITY_CHECK_OPEN_();
  return impl_->collections->Scroll(collection, request);
}

Result<uint64_t> Database::Count(const std::string& collection, const ReadPoint& at, const Filter* filter) const {
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
  std::map<Version, std::vector<std::string>> snapshots_of;
  VERITY_ASSIGN_OR_RETURN(auto snapshots, impl_->history->SnapshotsOf(*c, false));
  for (const auto& s : snapshots) snapshots_of[s.version].push_back(s.name);
  return impl_->collections->VersionsPage(*c, start_at, limit, snapshots_of);
}

}  // namespace verity
