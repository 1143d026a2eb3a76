// The database's retrieval-log methods (get, list, verify, retention,
// stats), which open the call and hand it to the log
// (log/retrieval_log.h); and the façade's side of the log's pins: pinning a
// version a retrieval read (PinForLog) and LogPins for retention.
#include "storage/codec.h"
#include "database/database_impl.h"
#include "storage/keys.h"

namespace verity {

Result<std::pair<LogRecord, std::optional<LogRecord>>> Database::GetRetrieval(const std::string& retrieval_id) const {
  VERITY_CHECK_OPEN_();
  return impl_->retrieval_log->Get(retrieval_id);
}

Result<LogPage> Database::ListLog(const LogQuery& query) const {
  VERITY_CHECK_OPEN_();
  return impl_->retrieval_log->List(query);
}

Result<LogVerifyResult> Database::VerifyLog(const std::function<Status()>& keep_going) const {
  VERITY_CHECK_OPEN_();
  return impl_->retrieval_log->Verify(keep_going);
}

Result<uint64_t> Database::GcLog() {
  VERITY_CHECK_WRITABLE_();
  return impl_->retrieval_log->Gc(*impl_);
}

Result<LogStats> Database::GetLogStats() const {
  VERITY_CHECK_OPEN_();
  return impl_->retrieval_log->Stats();
}

Status Database::Impl::PinForLog(Collection& c, Version version) {
  VERITY_RETURN_IF_ERROR(collections->CheckNotDropped(c));
  if (auto pin = c.log_pinned.find(version); pin != c.log_pinned.end()) {
    pin->second = NowMicros();
    return Status::Ok();
  }
  {
    // A pin keeps a version's rows; it cannot bring back rows GC removed.
    std::shared_lock lock(c.graph_mu);
    if (!c.Readable(version)) {
      return Status::FailedPrecondition("version " + std::to_string(version) + " of \"" + c.config.name +
                                        "\" has been garbage-collected");
    }
  }
  VERITY_RETURN_IF_ERROR(FromRocks(db->Put(write_options, meta, keys::PinKey(c.id, version, kLogPinHolder), ""),
                                   "pin a version for the retrieval log"));
  c.log_pinned.emplace(version, NowMicros());
  std::unique_lock lock(c.graph_mu);
  ++c.pins[version];
  return Status::Ok();
}

std::set<LogPins::CollectionVersion> Database::Impl::UnusedLogPins(int64_t cutoff_us) {
  const std::vector<std::shared_ptr<Collection>> all = collections->All();
  std::set<CollectionVersion> unused;
  for (auto& c : all) {
    std::lock_guard pins(c->pins_mu);
    for (const auto& [version, used_us] : c->log_pinned) {
      if (used_us < cutoff_us) unused.emplace(c->id, version);
    }
  }
  return unused;
}

Status Database::Impl::ReleaseLogPins(const std::set<CollectionVersion>& versions, int64_t cutoff_us) {
  const std::vector<std::shared_ptr<Collection>> all = collections->All();
  for (auto& c : all) {
    std::lock_guard pins(c->pins_mu);
    for (auto [collection_id, version] : versions) {
      if (collection_id != c->id) continue;
      auto pin = c->log_pinned.find(version);
      if (pin == c->log_pinned.end() || pin->second >= cutoff_us) continue;  // used by a recent retrieval
      VERITY_RETURN_IF_ERROR(
          FromRocks(db->Delete(write_options, meta, keys::PinKey(c->id, version, kLogPinHolder)), "unpin"));
      c->log_pinned.erase(version);
      std::unique_lock lock(c->graph_mu);
      if (--c->pins[version] == 0) c->pins.erase(version);
    }
  }
  return Status::Ok();
}

}  // namespace verity
