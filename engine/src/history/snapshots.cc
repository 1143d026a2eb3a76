// Snapshots and pins of a collection's history: the pins loaded at open,
// snapshot create / get / list / delete, PinVersion / UnpinVersion
// (docs/snapshots.md explains the rules; docs/architecture.md the locking).
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <map>
#include <set>

#include "base/validate.h"
#include "history/history.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "util/clock.h"
#include "util/keep_going.h"
#include "util/kill_point.h"

namespace verity {
namespace {

constexpr char kSnapshotHolderPrefix[] = "snapshot/";

// A snapshot's pin is its own: it goes with DeleteSnapshot, never alone
// (a snapshot without its pin would lose its rows at the next GC).
Status CheckPinHolder(const std::string& holder) {
  if (holder.rfind(kSnapshotHolderPrefix, 0) == 0) {
    return Status::InvalidArgument("holder: \"" + holder.substr(0, 128) +
                                   "\" is a snapshot's pin; delete the snapshot instead");
  }
  return Status::Ok();
}

SnapshotInfo SnapshotFromMeta(const std::string& collection, const storage::SnapshotMeta& meta) {
  SnapshotInfo info;
  info.collection = collection;
  info.name = meta.name();
  info.description = meta.description();
  info.version = meta.version();
  info.created_at_us = meta.created_at_us();
  return info;
}

}  // namespace

// --- Pins and snapshots -------------------------------------------------------

Result<std::vector<SnapshotInfo>> History::SnapshotsOf(const Collection& c, bool with_counts) const {
  std::vector<SnapshotInfo> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  const std::string prefix = keys::SnapshotPrefix(c.id);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    storage::SnapshotMeta m;
    if (!m.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::DataLoss("meta: snapshot " + it->key().ToString(true) + " does not parse");
    }
    out.push_back(SnapshotFromMeta(c.config.name, m));
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "list snapshots"));
  if (!with_counts) return out;
  std::shared_lock lock(c.graph_mu);
  // One pass over the nodes for every snapshot's count (CountAt per
  // snapshot would be snapshots x nodes): each visible range [from, to) of a
  // node adds one to the counts of the snapshot versions it covers, as +1 at
  // the first covered and -1 after the last in a sorted difference array.
  std::vector<Version> versions;
  std::map<Version, uint64_t> count_at;
  for (const auto& s : out) {
    if (s.version > c.head) continue;
    if (c.GraphServes(s.version)) {
      versions.push_back(s.version);
    } else if (count_at.count(s.version) == 0) {  // a log-only version's nodes are gone: count its rows
      VERITY_ASSIGN_OR_RETURN(count_at[s.version], collections_.CountAt(c, s.version));
    }
  }
  std::sort(versions.begin(), versions.end());
  versions.erase(std::unique(versions.begin(), versions.end()), versions.end());
  std::vector<int64_t> delta(versions.size() + 1, 0);
  auto cover = [&](Version from, Version to) {
    if (from == kNoVersion || from >= to) return;
    const size_t first = std::lower_bound(versions.begin(), versions.end(), from) - versions.begin();
    const size_t end = std::lower_bound(versions.begin(), versions.end(), to) - versions.begin();
    if (first < end) {
      ++delta[first];
      --delta[end];
    }
  };
  if (!versions.empty()) {
    for (const RowNode& node : c.nodes) {
      cover(node.from, node.to);
      cover(node.from2, node.to2);
    }
  }
  int64_t running = 0;
  for (size_t i = 0; i < versions.size(); ++i) count_at[versions[i]] = static_cast<uint64_t>(running += delta[i]);
  for (auto& s : out) s.records = s.version <= c.head ? count_at[s.version] : 0;
  return out;
}

Result<SnapshotInfo> History::CreateSnapshot(const std::string& collection, const std::string& name,
                                             const std::string& description, const ReadPoint& at) {
  VERITY_RETURN_IF_ERROR(ValidateName(name, "name"));
  if (description.size() > Limits::kMaxDescriptionBytes) {
    return Status::InvalidArgument("description: " + std::to_string(description.size()) + " bytes; the limit is " +
                                   std::to_string(Limits::kMaxDescriptionBytes));
  }
  VERITY_ASSIGN_OR_RETURN(auto c, collections_.Find(collection));
  std::lock_guard pins(c->pins_mu);
  VERITY_RETURN_IF_ERROR(Collections::CheckNotDropped(*c));
  const std::string key = keys::SnapshotKey(c->id, name);
  std::string existing;
  rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), meta_, key, &existing);
  if (rs.ok()) {
    return Status::AlreadyExists("snapshot \"" + name + "\" of \"" + collection + "\" already exists");
  }
  if (!rs.IsNotFound()) return FromRocks(rs, "read snapshot");
  Version v;
  {
    std::shared_lock lock(c->graph_mu);
    VERITY_ASSIGN_OR_RETURN(v, collections_.ResolveReadPoint(*c, at));
  }
  storage::SnapshotMeta m;
  m.set_name(name);
  m.set_description(description);
  m.set_version(v);
  m.set_created_at_us(NowMicros());
  rocksdb::WriteBatch batch;
  batch.Put(meta_, key, m.SerializeAsString());
  batch.Put(meta_, keys::PinKey(c->id, v, kSnapshotHolderPrefix + name), "");
  VERITY_RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch), "create snapshot"));
  SnapshotInfo info = SnapshotFromMeta(collection, m);
  {
    std::unique_lock lock(c->graph_mu);
    ++c->pins[v];
    ++c->snapshot_count;
  }
  // Counted under a shared lock: searches go on meanwhile.
  std::shared_lock lock(c->graph_mu);
  VERITY_ASSIGN_OR_RETURN(info.records, collections_.CountAt(*c, v));
  return info;
}

Result<Version> History::SnapshotVersionOf(const std::string& collection, const std::string& name) const {
  VERITY_ASSIGN_OR_RETURN(auto c, collections_.Find(collection));
  return collections_.SnapshotVersionOf(*c, name);
}

Result<SnapshotInfo> History::GetSnapshot(const std::string& collection, const std::string& name) const {
  VERITY_ASSIGN_OR_RETURN(auto c, collections_.Find(collection));
  VERITY_ASSIGN_OR_RETURN(storage::SnapshotMeta m, collections_.ReadSnapshot(*c, name));
  SnapshotInfo info = SnapshotFromMeta(collection, m);
  std::shared_lock lock(c->graph_mu);
  VERITY_ASSIGN_OR_RETURN(info.records, collections_.CountAt(*c, info.version));
  return info;
}

Result<std::vector<SnapshotInfo>> History::ListSnapshots(const std::string& collection) const {
  VERITY_ASSIGN_OR_RETURN(auto c, collections_.Find(collection));
  return SnapshotsOf(*c, true);
}

Status History::DeleteSnapshot(const std::string& collection, const std::string& name) {
  VERITY_ASSIGN_OR_RETURN(auto c, collections_.Find(collection));
  std::lock_guard pins(c->pins_mu);
  const std::string key = keys::SnapshotKey(c->id, name);
  std::string value;
  rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), meta_, key, &value);
  if (rs.IsNotFound()) return SnapshotNotFound(name, collection);
  VERITY_RETURN_IF_ERROR(FromRocks(rs, "read snapshot"));
  storage::SnapshotMeta m;
  if (!m.ParseFromString(value)) return Status::DataLoss("meta: snapshot " + name + " does not parse");
  rocksdb::WriteBatch batch;
  batch.Delete(meta_, key);
  batch.Delete(meta_, keys::PinKey(c->id, m.version(), kSnapshotHolderPrefix + name));
  VERITY_RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch), "delete snapshot"));
  std::unique_lock lock(c->graph_mu);
  if (--c->pins[m.version()] == 0) c->pins.erase(m.version());
  --c->snapshot_count;
  return Status::Ok();
}

Status History::PinVersion(const std::string& collection, Version version, const std::string& holder) {
  if (holder.empty()) return Status::InvalidArgument("holder: must not be empty");
  VERITY_RETURN_IF_ERROR(CheckPinHolder(holder));
  VERITY_ASSIGN_OR_RETURN(auto c, collections_.Find(collection));
  std::lock_guard pins(c->pins_mu);
  VERITY_RETURN_IF_ERROR(Collections::CheckNotDropped(*c));
  const std::string key = keys::PinKey(c->id, version, holder);
  std::string value;
  rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), meta_, key, &value);
  if (rs.ok()) return Status::Ok();
  if (!rs.IsNotFound()) return FromRocks(rs, "read pin");
  {
    std::shared_lock lock(c->graph_mu);
    VERITY_RETURN_IF_ERROR(collections_.ResolveReadPoint(*c, version).status());
  }
  VERITY_RETURN_IF_ERROR(FromRocks(db_->Put(write_options_, meta_, key, ""), "pin"));
  if (holder == kLogPinHolder) c->log_pinned.emplace(version, NowMicros());  // as the log's own pin
  std::unique_lock lock(c->graph_mu);
  ++c->pins[version];
  return Status::Ok();
}

Status History::UnpinVersion(const std::string& collection, Version version, const std::string& holder) {
  if (holder.empty()) return Status::InvalidArgument("holder: must not be empty");
  VERITY_RETURN_IF_ERROR(CheckPinHolder(holder));
  VERITY_ASSIGN_OR_RETURN(auto c, collections_.Find(collection));
  std::lock_guard pins(c->pins_mu);
  const std::string key = keys::PinKey(c->id, version, holder);
  std::string value;
  rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), meta_, key, &value);
  if (rs.IsNotFound()) return Status::Ok();
  VERITY_RETURN_IF_ERROR(FromRocks(rs, "read pin"));
  VERITY_RETURN_IF_ERROR(FromRocks(db_->Delete(write_options_, meta_, key), "unpin"));
  // The log's pin released: a later retrieval at `version` pins it again.
  if (holder == kLogPinHolder) c->log_pinned.erase(version);
  std::unique_lock lock(c->graph_mu);
  if (--c->pins[version] == 0) c->pins.erase(version);
  return Status::Ok();
}

}  // namespace verity
