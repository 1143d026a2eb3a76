// History's pin registry for the retrieval log (history/history.h): the
// pins a retrieval takes on the version it read, and LogPins, through which
// the log's retention releases those no record needs.
#include "history/history.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "util/clock.h"
#include "util/keep_going.h"
#include "util/kill_point.h"

namespace verity {

History::History(Store& store, Collections& collections, std::string dir, const DatabaseOptions& options,
                 LogFunction log)
    : StoreUser(store, std::move(log)), collections_(collections), dir_(std::move(dir)), options_(options) {}

Status History::PinForLog(Collection& c, Version version) {
  VERITY_RETURN_IF_ERROR(collections_.CheckNotDropped(c));
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
  VERITY_RETURN_IF_ERROR(FromRocks(db_->Put(write_options_, meta_, keys::PinKey(c.id, version, kLogPinHolder), ""),
                                   "pin a version for the retrieval log"));
  c.log_pinned.emplace(version, NowMicros());
  std::unique_lock lock(c.graph_mu);
  ++c.pins[version];
  return Status::Ok();
}

std::set<LogPins::CollectionVersion> History::UnusedLogPins(int64_t cutoff_us) {
  const std::vector<std::shared_ptr<Collection>> all = collections_.All();
  std::set<CollectionVersion> unused;
  for (auto& c : all) {
    std::lock_guard pins(c->pins_mu);
    for (const auto& [version, used_us] : c->log_pinned) {
      if (used_us < cutoff_us) unused.emplace(c->id, version);
    }
  }
  return unused;
}

Status History::ReleaseLogPins(const std::set<CollectionVersion>& versions, int64_t cutoff_us) {
  const std::vector<std::shared_ptr<Collection>> all = collections_.All();
  for (auto& c : all) {
    std::lock_guard pins(c->pins_mu);
    for (auto [collection_id, version] : versions) {
      if (collection_id != c->id) continue;
      auto pin = c->log_pinned.find(version);
      if (pin == c->log_pinned.end() || pin->second >= cutoff_us) continue;  // used by a recent retrieval
      VERITY_RETURN_IF_ERROR(
          FromRocks(db_->Delete(write_options_, meta_, keys::PinKey(c->id, version, kLogPinHolder)), "unpin"));
      c->log_pinned.erase(version);
      std::unique_lock lock(c->graph_mu);
      if (--c->pins[version] == 0) c->pins.erase(version);
    }
  }
  return Status::Ok();
}

}  // namespace verity
