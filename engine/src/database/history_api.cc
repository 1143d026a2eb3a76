// The public history calls (verity/database.h): each holds the façade's
// lifecycle lock (writes also check that the database is writable) and
// hands the work to the history subsystem (history/history.h).
#include "database/database_impl.h"

namespace verity {

Result<SnapshotInfo> Database::CreateSnapshot(const std::string& collection, const std::string& name,
                                              const std::string& description, const ReadPoint& at) {
  VERITY_CHECK_WRITABLE_();
  return impl_->history->CreateSnapshot(collection, name, description, at);
}

Result<SnapshotInfo> Database::GetSnapshot(const std::string& collection, const std::string& name) const {
  VERITY_CHECK_OPEN_();
  return impl_->history->GetSnapshot(collection, name);
}

Result<Version> Database::SnapshotVersion(const std::string& collection, const std::string& name) const {
  VERITY_CHECK_OPEN_();
  return impl_->history->SnapshotVersionOf(collection, name);
}

Result<std::vector<SnapshotInfo>> Database::ListSnapshots(const std::string& collection) const {
  VERITY_CHECK_OPEN_();
  return impl_->history->ListSnapshots(collection);
}

Status Database::DeleteSnapshot(const std::string& collection, const std::string& name) {
  VERITY_CHECK_WRITABLE_();
  return impl_->history->DeleteSnapshot(collection, name);
}

Status Database::PinVersion(const std::string& collection, Version version, const std::string& holder) {
  VERITY_CHECK_WRITABLE_();
  return impl_->history->PinVersion(collection, version, holder);
}

Status Database::UnpinVersion(const std::string& collection, Version version, const std::string& holder) {
  VERITY_CHECK_WRITABLE_();
  return impl_->history->UnpinVersion(collection, version, holder);
}

Result<DiffPage> Database::Diff(const std::string& collection, const ReadPoint& from, const ReadPoint& to,
                                const std::string& start_after, uint32_t limit,
                                const std::function<Status()>& keep_going) const {
  VERITY_CHECK_OPEN_();
  return impl_->history->Diff(collection, from, to, start_after, limit, keep_going);
}

Result<RestoreResult> Database::Restore(const std::string& collection, const ReadPoint& at, const std::string& into) {
  VERITY_CHECK_WRITABLE_();
  return impl_->history->Restore(collection, at, into);
}

Status Database::SetRetention(const std::string& collection, const RetentionPolicy& retention) {
  VERITY_CHECK_WRITABLE_();
  return impl_->history->SetRetention(collection, retention);
}

Result<GcResult> Database::Gc(const std::string& collection) {
  VERITY_CHECK_WRITABLE_();
  return impl_->history->Gc(collection);
}

Result<ExportResult> Database::Export(const std::string& collection, const ReadPoint& at, const std::string& path,
                                      const ProgressFunction& progress) {
  VERITY_CHECK_OPEN_();
  return impl_->history->Export(collection, at, path, progress);
}

Result<ImportResult> Database::Import(const std::string& path, const std::string& as_name, bool replace,
                                      const ProgressFunction& progress, uint32_t max_dimension) {
  VERITY_CHECK_WRITABLE_();
  return impl_->history->Import(path, as_name, replace, progress, max_dimension);
}

}  // namespace verity
