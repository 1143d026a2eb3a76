// Database history: snapshots and pins, diff, restore, retention and GC
// (docs/snapshots.md explains the rules; docs/architecture.md the locking).
// Over 700 lines until the engine is split into subsystems (#24): pins,
// snapshots and GC become the history subsystem, its retention rule a pure
// function of its own.
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <map>
#include <set>

#include "codec.h"
#include "database_impl.h"
#include "keys.h"
#include "validate.h"

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

// A row that a version sees: its key, version and metadata (never a tombstone).
struct VisibleRow {
  std::string key;
  Version version = 0;
  storage::RowMeta meta;
};

// The row of `id` visible at `version`, if any.
Result<std::optional<VisibleRow>> RowVisibleAt(rocksdb::Iterator* it, uint32_t collection, std::string_view id,
                                               Version version) {
  bool found = false;
  Version row_version = 0;
  VERITY_RETURN_IF_ERROR(SeekRow(it, collection, id, version, &found, &row_version));
  if (!found) return std::optional<VisibleRow>();
  VisibleRow row;
  if (!row.meta.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
    return Status::DataLoss("row " + std::string(id) + " does not parse");
  }
  if (row.meta.tombstone()) return std::optional<VisibleRow>();
  row.key = it->key().ToString();
  row.version = row_version;
  return std::optional<VisibleRow>(std::move(row));
}

// True if two rows hold the same record contents (vector, text, document
// id, metadata). Rows of one id written by the same version are the same row.
Result<bool> SameContents(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* vectors, const rocksdb::ReadOptions& read,
                          const VisibleRow& a, const VisibleRow& b) {
  if (a.key == b.key) return true;
  if (a.meta.text() != b.meta.text() || a.meta.document_id() != b.meta.document_id()) return false;
  if (MetadataFromProto(a.meta.metadata()) != MetadataFromProto(b.meta.metadata())) return false;
  std::string va, vb;
  VERITY_RETURN_IF_ERROR(FromRocks(db->Get(read, vectors, a.key, &va), "read vector"));
  VERITY_RETURN_IF_ERROR(FromRocks(db->Get(read, vectors, b.key, &vb), "read vector"));
  return va == vb;
}

// Every id of a collection that has any row, in id order, from a rows-CF
// iterator; calls fn(id) once per id. fn may move the iterator.
template <typename Fn>
Status ForEachId(rocksdb::Iterator* it, uint32_t collection, Fn fn) {
  const std::string prefix = keys::CollectionPrefix(collection);
  it->Seek(prefix);
  while (it->Valid() && it->key().starts_with(prefix)) {
    uint32_t coll;
    std::string_view id_view;
    Version version;
    if (!keys::ParseRowKey(std::string_view(it->key().data(), it->key().size()), &coll, &id_view, &version)) {
      return Status::DataLoss("rows: malformed key " + it->key().ToString(true));
    }
    const std::string id(id_view);
    VERITY_RETURN_IF_ERROR(fn(id));
    it->Seek(keys::RowKeyAfterId(collection, id));
  }
  return FromRocks(it->status(), "scan rows");
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

Status Database::Impl::LoadPins(Collection& c) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), meta));
  const std::string prefix = keys::PinPrefix(c.id);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() < prefix.size() + 8) return Status::DataLoss("meta: malformed pin key");
    const Version v = keys::GetU64(it->key().data() + prefix.size());
    ++c.pins[v];
    if (it->key().ToStringView().substr(prefix.size() + 8) == kLogPinHolder) c.log_pinned.emplace(v, 0);
  }
  const std::string snapshots = keys::SnapshotPrefix(c.id);
  for (it->Seek(snapshots); it->Valid() && it->key().starts_with(snapshots); it->Next()) ++c.snapshot_count;
  return FromRocks(it->status(), "load pins");
}

Result<std::vector<SnapshotInfo>> Database::Impl::SnapshotsOf(const Collection& c, bool with_counts) const {
  std::vector<SnapshotInfo> out;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), meta));
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
      VERITY_ASSIGN_OR_RETURN(count_at[s.version], CountAt(c, s.version));
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

Result<SnapshotInfo> Database::CreateSnapshot(const std::string& collection, const std::string& name,
                                              const std::string& description, std::optional<Version> version) {
  VERITY_CHECK_WRITABLE_();
  VERITY_RETURN_IF_ERROR(ValidateName(name, "name"));
  if (description.size() > Limits::kMaxDescriptionBytes) {
    return Status::InvalidArgument("description: " + std::to_string(description.size()) +
                                   " bytes; the limit is " + std::to_string(Limits::kMaxDescriptionBytes));
  }
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->Find(collection));
  std::lock_guard pins(c->pins_mu);
  VERITY_RETURN_IF_ERROR(Impl::CheckNotDropped(*c));
  const std::string key = keys::SnapshotKey(c->id, name);
  std::string existing;
  rocksdb::Status rs = impl_->db->Get(rocksdb::ReadOptions(), impl_->meta, key, &existing);
  if (rs.ok()) {
    return Status::AlreadyExists("snapshot \"" + name + "\" of \"" + collection + "\" already exists");
  }
  if (!rs.IsNotFound()) return FromRocks(rs, "read snapshot");
  Version v;
  {
    std::shared_lock lock(c->graph_mu);
    VERITY_ASSIGN_OR_RETURN(v, impl_->ResolveVersion(*c, version));
  }
  storage::SnapshotMeta m;
  m.set_name(name);
  m.set_description(description);
  m.set_version(v);
  m.set_created_at_us(NowMicros());
  rocksdb::WriteBatch batch;
  batch.Put(impl_->meta, key, m.SerializeAsString());
  batch.Put(impl_->meta, keys::PinKey(c->id, v, kSnapshotHolderPrefix + name), "");
  VERITY_RETURN_IF_ERROR(FromRocks(impl_->db->Write(impl_->write_options, &batch), "create snapshot"));
  SnapshotInfo info = SnapshotFromMeta(collection, m);
  {
    std::unique_lock lock(c->graph_mu);
    ++c->pins[v];
    ++c->snapshot_count;
  }
  // Counted under a shared lock: searches go on meanwhile.
  std::shared_lock lock(c->graph_mu);
  VERITY_ASSIGN_OR_RETURN(info.records, impl_->CountAt(*c, v));
  return info;
}

namespace {

// NotFound for a snapshot name; a name longer than any snapshot's is not
// echoed whole (it would go back in the status and into the server's log).
Status SnapshotNotFound(const std::string& name, const std::string& collection) {
  if (name.size() > Limits::kMaxSnapshotNameBytes) {
    return Status::NotFound("snapshot \"" + name.substr(0, 64) + "...\" (" + std::to_string(name.size()) +
                            " bytes; names are at most " + std::to_string(Limits::kMaxSnapshotNameBytes) +
                            ") of \"" + collection + "\" does not exist")
        .WithReason(StatusReason::kSnapshotNotFound);
  }
  return Status::NotFound("snapshot \"" + name + "\" of \"" + collection + "\" does not exist")
      .WithReason(StatusReason::kSnapshotNotFound);
}

// The stored record of snapshot `name` of collection `c` (named
// `collection`): NotFound or DataLoss.
Result<storage::SnapshotMeta> ReadSnapshotMeta(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta, const Collection& c,
                                               const std::string& collection, const std::string& name) {
  std::string value;
  rocksdb::Status rs = db->Get(rocksdb::ReadOptions(), meta, keys::SnapshotKey(c.id, name), &value);
  if (rs.IsNotFound()) return SnapshotNotFound(name, collection);
  VERITY_RETURN_IF_ERROR(FromRocks(rs, "read snapshot"));
  storage::SnapshotMeta m;
  if (!m.ParseFromString(value)) return Status::DataLoss("meta: snapshot " + name + " does not parse");
  return m;
}

}  // namespace

Result<Version> Database::SnapshotVersion(const std::string& collection, const std::string& name) const {
  VERITY_CHECK_OPEN_();
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->Find(collection));
  VERITY_ASSIGN_OR_RETURN(storage::SnapshotMeta m,
                          ReadSnapshotMeta(impl_->db.get(), impl_->meta, *c, collection, name));
  return Version{m.version()};
}

Result<SnapshotInfo> Database::GetSnapshot(const std::string& collection, const std::string& name) const {
  VERITY_CHECK_OPEN_();
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->Find(collection));
  VERITY_ASSIGN_OR_RETURN(storage::SnapshotMeta m,
                          ReadSnapshotMeta(impl_->db.get(), impl_->meta, *c, collection, name));
  SnapshotInfo info = SnapshotFromMeta(collection, m);
  std::shared_lock lock(c->graph_mu);
  VERITY_ASSIGN_OR_RETURN(info.records, impl_->CountAt(*c, info.version));
  return info;
}

Result<std::vector<SnapshotInfo>> Database::ListSnapshots(const std::string& collection) const {
  VERITY_CHECK_OPEN_();
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->Find(collection));
  return impl_->SnapshotsOf(*c, true);
}

Status Database::DeleteSnapshot(const std::string& collection, const std::string& name) {
  VERITY_CHECK_WRITABLE_();
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->Find(collection));
  std::lock_guard pins(c->pins_mu);
  const std::string key = keys::SnapshotKey(c->id, name);
  std::string value;
  rocksdb::Status rs = impl_->db->Get(rocksdb::ReadOptions(), impl_->meta, key, &value);
  if (rs.IsNotFound()) {
    return SnapshotNotFound(name, collection);
  }
  VERITY_RETURN_IF_ERROR(FromRocks(rs, "read snapshot"));
  storage::SnapshotMeta m;
  if (!m.ParseFromString(value)) return Status::DataLoss("meta: snapshot " + name + " does not parse");
  rocksdb::WriteBatch batch;
  batch.Delete(impl_->meta, key);
  batch.Delete(impl_->meta, keys::PinKey(c->id, m.version(), kSnapshotHolderPrefix + name));
  VERITY_RETURN_IF_ERROR(FromRocks(impl_->db->Write(impl_->write_options, &batch), "delete snapshot"));
  std::unique_lock lock(c->graph_mu);
  if (--c->pins[m.version()] == 0) c->pins.erase(m.version());
  --c->snapshot_count;
  return Status::Ok();
}

Status Database::PinVersion(const std::string& collection, Version version, const std::string& holder) {
  VERITY_CHECK_WRITABLE_();
  if (holder.empty()) return Status::InvalidArgument("holder: must not be empty");
  VERITY_RETURN_IF_ERROR(CheckPinHolder(holder));
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->Find(collection));
  std::lock_guard pins(c->pins_mu);
  VERITY_RETURN_IF_ERROR(Impl::CheckNotDropped(*c));
  const std::string key = keys::PinKey(c->id, version, holder);
  std::string value;
  rocksdb::Status rs = impl_->db->Get(rocksdb::ReadOptions(), impl_->meta, key, &value);
  if (rs.ok()) return Status::Ok();
  if (!rs.IsNotFound()) return FromRocks(rs, "read pin");
  {
    std::shared_lock lock(c->graph_mu);
    VERITY_RETURN_IF_ERROR(impl_->ResolveVersion(*c, version).status());
  }
  VERITY_RETURN_IF_ERROR(FromRocks(impl_->db->Put(impl_->write_options, impl_->meta, key, ""), "pin"));
  if (holder == kLogPinHolder) c->log_pinned.emplace(version, NowMicros());  // as the log's own pin
  std::unique_lock lock(c->graph_mu);
  ++c->pins[version];
  return Status::Ok();
}

Status Database::UnpinVersion(const std::string& collection, Version version, const std::string& holder) {
  VERITY_CHECK_WRITABLE_();
  if (holder.empty()) return Status::InvalidArgument("holder: must not be empty");
  VERITY_RETURN_IF_ERROR(CheckPinHolder(holder));
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->Find(collection));
  std::lock_guard pins(c->pins_mu);
  const std::string key = keys::PinKey(c->id, version, holder);
  std::string value;
  rocksdb::Status rs = impl_->db->Get(rocksdb::ReadOptions(), impl_->meta, key, &value);
  if (rs.IsNotFound()) return Status::Ok();
  VERITY_RETURN_IF_ERROR(FromRocks(rs, "read pin"));
  VERITY_RETURN_IF_ERROR(FromRocks(impl_->db->Delete(impl_->write_options, impl_->meta, key), "unpin"));
  // The log's pin released: a later retrieval at `version` pins it again.
  if (holder == kLogPinHolder) c->log_pinned.erase(version);
  std::unique_lock lock(c->graph_mu);
  if (--c->pins[version] == 0) c->pins.erase(version);
  return Status::Ok();
}

// --- Diff ---------------------------------------------------------------------

Result<DiffPage> Database::Diff(const std::string& collection, Version from, Version to, const std::string& start_after,
                                uint32_t limit, const std::function<Status()>& keep_going) const {
  VERITY_CHECK_OPEN_();
  KeepGoingCheck check(keep_going, 1024);
  if (limit < 1 || limit > Limits::kMaxDiffLimit) {
    return Status::InvalidArgument("limit: " + std::to_string(limit) + " is outside 1.." +
                                   std::to_string(Limits::kMaxDiffLimit));
  }
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->Find(collection));
  std::optional<ScopedSnapshot> snapshot;
  {
    std::shared_lock lock(c->graph_mu);
    VERITY_RETURN_IF_ERROR(impl_->ResolveVersion(*c, from).status().WithPrefix("from"));
    VERITY_RETURN_IF_ERROR(impl_->ResolveVersion(*c, to).status().WithPrefix("to"));
    snapshot.emplace(impl_->db.get());
  }
  const rocksdb::ReadOptions read = snapshot->options();
  DiffPage page;
  page.from = from;
  page.to = to;
  // The ids written between the two versions, from the change list (kept
  // for the whole history, so this works between any retained versions).
  const Version lo = std::min(from, to), hi = std::max(from, to);
  std::set<std::string> ids;
  {
    std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read, impl_->changes));
    const std::string end = keys::ChangeKey(c->id, hi + 1, "");
    const size_t id_offset = 4 + 8;
    for (it->Seek(keys::ChangeKey(c->id, lo + 1, "")); it->Valid() && it->key().compare(end) < 0; it->Next()) {
      VERITY_RETURN_IF_ERROR(check.Step());
      if (it->key().size() <= id_offset) return Status::DataLoss("changes: malformed key");
      ids.emplace(it->key().data() + id_offset, it->key().size() - id_offset);
    }
    VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "scan changes"));
  }
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read, impl_->rows));
  for (const std::string& id : ids) {
    VERITY_RETURN_IF_ERROR(check.Step());
    VERITY_ASSIGN_OR_RETURN(auto before, RowVisibleAt(it.get(), c->id, id, from));
    VERITY_ASSIGN_OR_RETURN(auto after, RowVisibleAt(it.get(), c->id, id, to));
    DiffEntry entry;
    entry.id = id;
    if (!before && !after) continue;
    if (!before) {
      entry.kind = ChangeKind::kAdded;
      ++page.added;
    } else if (!after) {
      entry.kind = ChangeKind::kRemoved;
      ++page.removed;
    } else {
      VERITY_ASSIGN_OR_RETURN(bool same, SameContents(impl_->db.get(), impl_->vectors, read, *before, *after));
      if (same) continue;
      entry.kind = ChangeKind::kChanged;
      ++page.changed;
    }
    entry.from_row_version = before ? before->version : 0;
    entry.to_row_version = after ? after->version : 0;
    if (id <= start_after) continue;
    if (page.entries.size() < limit) {
      page.entries.push_back(std::move(entry));
    } else if (page.next_cursor.empty()) {
      page.next_cursor = page.entries.back().id;
    }
  }
  return page;
}

// --- Restore ------------------------------------------------------------------

Result<RestoreResult> Database::Restore(const std::string& collection, Version version, const std::string& into) {
  VERITY_CHECK_WRITABLE_();
  VERITY_ASSIGN_OR_RETURN(auto source, impl_->Find(collection));
  std::shared_ptr<Collection> target = source;
  if (!into.empty() && into != collection) {
    VERITY_ASSIGN_OR_RETURN(target, impl_->Find(into));
    if (target->config.dimension != source->config.dimension || target->config.metric != source->config.metric) {
      return Status::FailedPrecondition(
          "into: \"" + into + "\" has dimension " + std::to_string(target->config.dimension) + " and metric " +
          MetricName(target->config.metric) + ", \"" + collection + "\" has dimension " +
          std::to_string(source->config.dimension) + " and metric " + MetricName(source->config.metric));
    }
  }
  std::lock_guard write(target->write_mu);
  VERITY_RETURN_IF_ERROR(Impl::CheckNotDropped(*target));
  std::optional<ScopedSnapshot> snapshot;
  {
    // The source must not be dropped under us: its rows would read as none,
    // and the restore would empty the target. Its pins_mu (which a drop
    // holds) makes the snapshot come before any drop.
    std::unique_lock<std::mutex> source_pins;
    if (source != target) {
      source_pins = std::unique_lock<std::mutex>(source->pins_mu);
      VERITY_RETURN_IF_ERROR(Impl::CheckNotDropped(*source));
    }
    std::shared_lock lock(source->graph_mu);
    VERITY_RETURN_IF_ERROR(impl_->ResolveVersion(*source, version).status());
    snapshot.emplace(impl_->db.get());  // also holds the target's head: its writers wait for us
  }
  const rocksdb::ReadOptions read = snapshot->options();
  const Version head = target->meta.head_version();

  // Merge the ids of both sides in id order.
  std::unique_ptr<rocksdb::Iterator> source_ids(impl_->db->NewIterator(read, impl_->rows));
  std::unique_ptr<rocksdb::Iterator> target_ids(impl_->db->NewIterator(read, impl_->rows));
  std::unique_ptr<rocksdb::Iterator> lookup(impl_->db->NewIterator(read, impl_->rows));
  std::set<std::string> ids;
  VERITY_RETURN_IF_ERROR(ForEachId(source_ids.get(), source->id, [&](const std::string& id) {
    ids.insert(id);
    return Status::Ok();
  }));
  VERITY_RETURN_IF_ERROR(ForEachId(target_ids.get(), target->id, [&](const std::string& id) {
    ids.insert(id);
    return Status::Ok();
  }));
  std::vector<Record> upserts;
  std::vector<std::optional<uint32_t>> revive;
  std::vector<std::string> deletes;
  // Within one collection, a row coming back usually still has its graph
  // node (superseded rows keep theirs until GC): revive it rather than
  // inserting a copy. Nodes only change under write_mu, which we hold.
  auto revivable = [&](const std::string& id, const VisibleRow& row) -> std::optional<uint32_t> {
    if (source != target) return std::nullopt;
    std::shared_lock lock(target->graph_mu);
    const uint64_t label = row.meta.label();
    if (label >= target->nodes.size() || !target->graph->Contains(static_cast<uint32_t>(label))) return std::nullopt;
    const RowNode& node = target->nodes[label];
    if (!node.revivable() || node.id != id || node.from != row.version) return std::nullopt;
    return static_cast<uint32_t>(label);
  };
  for (const std::string& id : ids) {
    VERITY_ASSIGN_OR_RETURN(auto want, RowVisibleAt(lookup.get(), source->id, id, version));
    VERITY_ASSIGN_OR_RETURN(auto have, RowVisibleAt(lookup.get(), target->id, id, head));
    if (!want) {
      if (have) deletes.push_back(id);
      continue;
    }
    if (have) {
      VERITY_ASSIGN_OR_RETURN(bool same, SameContents(impl_->db.get(), impl_->vectors, read, *want, *have));
      if (same) continue;
    }
    Record r;
    r.id = id;
    r.text = want->meta.text();
    r.document_id = want->meta.document_id();
    r.metadata = MetadataFromProto(want->meta.metadata());
    std::string bytes;
    VERITY_RETURN_IF_ERROR(FromRocks(impl_->db->Get(read, impl_->vectors, want->key, &bytes), "read vector of " + id));
    VERITY_RETURN_IF_ERROR(DecodeVector(bytes, source->config.dimension, &r.vector));
    revive.push_back(revivable(id, *want));
    upserts.push_back(std::move(r));
  }
  storage::VersionMeta vmeta;
  vmeta.set_is_restore(true);
  vmeta.set_restored_from(version);
  VERITY_ASSIGN_OR_RETURN(auto committed, impl_->Commit(*target, std::move(upserts), deletes, vmeta, revive));
  KillPoint("restore.after_commit");
  impl_->Log(LogLevel::kInfo, "restored \"" + target->config.name + "\" to the contents of \"" + collection +
                                  "\" at version " + std::to_string(version) + " as version " +
                                  std::to_string(committed.version));
  return RestoreResult{committed.version, version, committed.upserted, committed.deleted};
}

// --- Retention and GC ---------------------------------------------------------

Status Database::SetRetention(const std::string& collection, const RetentionPolicy& retention) {
  VERITY_CHECK_WRITABLE_();
  VERITY_RETURN_IF_ERROR(ValidateRetention(retention));
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->Find(collection));
  std::lock_guard write(c->write_mu);
  VERITY_RETURN_IF_ERROR(Impl::CheckNotDropped(*c));
  storage::CollectionMeta m = c->meta;
  m.set_has_retention(true);
  m.set_keep_versions(retention.keep_versions);
  m.set_keep_seconds(retention.keep_seconds);
  VERITY_RETURN_IF_ERROR(FromRocks(
      impl_->db->Put(impl_->write_options, impl_->meta, keys::CollectionKey(c->id), m.SerializeAsString()),
      "set retention"));
  c->meta = m;
  std::unique_lock lock(c->graph_mu);
  c->config.retention = retention;
  return Status::Ok();
}

uint64_t Database::Impl::ApproximateBytes(uint32_t collection_id) const {
  const std::string begin = keys::CollectionPrefix(collection_id), end = keys::CollectionEnd(collection_id);
  rocksdb::Range range(begin, end);
  rocksdb::SizeApproximationOptions size_options;
  size_options.include_memtables = true;
  size_options.include_files = true;
  uint64_t total = 0;
  for (auto* cf : {rows, vectors, changes}) {
    uint64_t size = 0;
    if (db->GetApproximateSizes(size_options, cf, &range, 1, &size).ok()) total += size;
  }
  return total;
}

Result<GcResult> Database::Gc(const std::string& collection) {
  VERITY_CHECK_WRITABLE_();
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->Find(collection));
  std::lock_guard gc(c->gc_mu);
  GcResult result;
  {
    std::lock_guard write(c->write_mu);
    VERITY_ASSIGN_OR_RETURN(result, impl_->GcLocked(*c));
    // Writes too small to trigger a repair add up between GCs.
    impl_->RepairGraphIfDue(*c, 0, "checked at GC");
  }
  if (result.rows_removed > 0) {
    const std::string begin = keys::CollectionPrefix(c->id), end = keys::CollectionEnd(c->id);
    rocksdb::Slice b(begin), e(end);
    rocksdb::CompactRangeOptions compact;
    for (auto* cf : {impl_->rows, impl_->vectors}) {
      VERITY_RETURN_IF_ERROR(FromRocks(impl_->db->CompactRange(compact, cf, &b, &e), "compact after GC"));
    }
  }
  result.bytes_after = impl_->ApproximateBytes(c->id);
  bool rebuild;
  {
    std::shared_lock lock(c->graph_mu);
    rebuild = c->collected_nodes > 0 &&
              static_cast<double>(c->collected_nodes) >
                  impl_->options.graph_rebuild_fraction * static_cast<double>(c->graph->node_count());
  }
  if (rebuild) {
    VERITY_RETURN_IF_ERROR(impl_->RebuildGraph(*c));
    result.graph_rebuilt = true;
  }
  return result;
}

Result<GcResult> Database::Impl::GcLocked(Collection& c) {
  std::unique_lock pins_lock(c.pins_mu);
  VERITY_RETURN_IF_ERROR(CheckNotDropped(c));
  GcResult result;
  result.bytes_before = ApproximateBytes(c.id);
  const Version head = c.meta.head_version();
  RetentionPolicy retention;
  {
    std::shared_lock lock(c.graph_mu);
    retention = c.config.retention;
  }
  // The window: the newest keep_versions versions, and every version that
  // was the head within keep_seconds (version v was the head until v+1 was
  // committed).
  Version window = head;
  if (retention.keep_versions > 0) {
    window = std::min<Version>(window, head + 1 > retention.keep_versions ? head + 1 - retention.keep_versions : 0);
  }
  if (retention.keep_seconds > 0) {
    const int64_t cutoff = NowMicros() - retention.keep_seconds * 1000000;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), meta));
    const std::string prefix = keys::VersionPrefix(c.id);
    Version by_time = head;
    for (it->SeekForPrev(keys::VersionKey(c.id, head)); it->Valid() && it->key().starts_with(prefix); it->Prev()) {
      if (it->key().size() != prefix.size() + 8) return Status::DataLoss("meta: malformed version key");
      const Version v = keys::GetU64(it->key().data() + prefix.size());
      storage::VersionMeta vm;
      if (!vm.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return Status::DataLoss("meta: version " + std::to_string(v) + " does not parse");
      }
      // v+1 (the version just after) was committed at vm's time when v+1 is
      // what we look at; walk down while the successor is recent enough.
      if (v == 0 || vm.committed_at_us() <= cutoff) break;
      by_time = v - 1;  // v was committed after the cutoff, so v-1 was the head then
    }
    VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "scan versions"));
    window = std::min(window, by_time);
  }
  Version horizon;
  std::map<Version, uint32_t> pins;
  std::set<Version> rows_only;
  {
    std::shared_lock lock(c.graph_mu);
    horizon = std::max(c.oldest_retained, window);
    pins = c.pins;
    rows_only = c.rows_only;
  }
  // Pins split in two: those that keep graph nodes (snapshots and other
  // holders: an explicit request for searchable history) and those that
  // keep only rows (the retrieval log's alone: audit reads, served from the
  // rows). A version already rows-only stays so (its nodes are gone).
  std::map<Version, uint32_t> graph_pins;
  {
    std::set<Version> still_pinned;
    for (const auto& [v, holders] : pins) {
      const bool log_only = holders == 1 && c.log_pinned.count(v) > 0;
      if (v < horizon && (log_only || rows_only.count(v) > 0)) {
        still_pinned.insert(v);
      } else if (!log_only) {
        graph_pins.emplace(v, holders);
      }
    }
    rows_only = std::move(still_pinned);
  }
  if (horizon > c.meta.oldest_retained()) {
    storage::CollectionMeta m = c.meta;
    m.set_oldest_retained(horizon);
    VERITY_RETURN_IF_ERROR(FromRocks(
        db->Put(write_options, meta, keys::CollectionKey(c.id), m.SerializeAsString()), "record GC horizon"));
    c.meta = m;
    std::unique_lock lock(c.graph_mu);
    c.oldest_retained = horizon;  // from here on reads below it need a pin
  }
  result.oldest_retained = horizon;
  KillPoint("gc.after_horizon");
  // Pins may come and go from here on without waiting for the scan: a new
  // pin can only be at a readable version, so at or above the horizon
  // (whose rows `needed` keeps) or at one already pinned (in `pins`); a
  // pin released meanwhile only keeps rows one GC longer. (Held for the
  // whole scan, it made every Retrieve, cache hit and snapshot of the
  // collection wait for it.)
  pins_lock.unlock();

  // A row valid over [from, to) is needed if a retained version falls in
  // that range: the window [horizon, head] or a pin. A tombstone is needed
  // only if it also hides an older row that stays.
  auto needed = [&](Version from, Version to) {
    if (to > horizon) return true;
    auto pin = pins.lower_bound(from);
    return pin != pins.end() && pin->first < to;
  };
  // A row keeps its graph node if a version that searches the graph sees it:
  // the window or a graph pin (a log-pinned version at or above the horizon
  // is in the window).
  auto graph_needed = [&](Version from, Version to) {
    if (to > horizon) return true;
    auto pin = graph_pins.lower_bound(from);
    return pin != graph_pins.end() && pin->first < to;
  };
  struct Row {
    std::string key;
    Version from;
    Version to;
    bool tombstone;
    uint64_t label;
  };
  // (label, from) of each row whose node range goes: removed rows, and rows
  // kept only for log pins.
  std::vector<std::pair<uint32_t, Version>> dropped;
  std::set<std::pair<uint32_t, Version>> log_only;  // (label, from) of rows kept only for log pins
  rocksdb::WriteBatch batch;
  auto flush = [&](bool last) -> Status {
    if (batch.Count() == 0) return Status::Ok();
    rocksdb::WriteOptions wo = write_options;
    wo.sync = last && write_options.sync;
    VERITY_RETURN_IF_ERROR(FromRocks(db->Write(wo, &batch), "GC delete"));
    batch.Clear();
    KillPoint("gc.mid_delete");
    return Status::Ok();
  };
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), rows));
  const std::string prefix = keys::CollectionPrefix(c.id);
  std::string current_id;
  std::vector<Row> id_rows;  // newest first
  auto finish_id = [&]() -> Status {
    // Oldest first: a tombstone stays only if an older row stays.
    bool older_kept = false;
    for (auto r = id_rows.rbegin(); r != id_rows.rend(); ++r) {
      bool keep = needed(r->from, r->to);
      if (r->tombstone) keep = keep && older_kept;
      if (keep) {
        if (!r->tombstone) {
          older_kept = true;
          if (!graph_needed(r->from, r->to)) log_only.emplace(static_cast<uint32_t>(r->label), r->from);
        }
        continue;
      }
      batch.Delete(rows, r->key);
      if (!r->tombstone) {
        batch.Delete(vectors, r->key);
        dropped.emplace_back(static_cast<uint32_t>(r->label), r->from);
      }
      ++result.rows_removed;
    }
    id_rows.clear();
    if (batch.Count() >= 10000) return flush(false);
    return Status::Ok();
  };
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    uint32_t coll;
    std::string_view id;
    Version version;
    const std::string_view key(it->key().data(), it->key().size());
    if (!keys::ParseRowKey(key, &coll, &id, &version)) return Status::DataLoss("rows: malformed key");
    if (id != current_id) {
      VERITY_RETURN_IF_ERROR(finish_id());
      current_id.assign(id);
    }
    storage::RowMeta row;
    if (!row.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::DataLoss("rows: value of " + it->key().ToString(true) + " does not parse");
    }
    const Version to = id_rows.empty() ? kNoVersion : id_rows.back().from;
    id_rows.push_back({std::string(key), version, to, row.tombstone(), row.label()});
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "GC scan"));
  VERITY_RETURN_IF_ERROR(finish_id());
  VERITY_RETURN_IF_ERROR(flush(true));

  // Remove each row's range from its node; a node left with none is
  // collected (a node revived by Restore has two rows).
  std::unique_lock lock(c.graph_mu);
  // Published with the nodes' removal: from here on reads at these versions
  // go to the rows.
  c.rows_only = std::move(rows_only);
  c.log_only_rows = result.log_only_rows = log_only.size();
  for (const auto& [label, from] : dropped) {
    if (label >= c.nodes.size() || c.nodes[label].collected()) continue;
    RowNode& node = c.nodes[label];
    if (node.from2 != kNoVersion && node.from2 == from) {
      node.from2 = node.to2 = kNoVersion;
    } else if (node.from == from && node.from2 != kNoVersion) {
      node.from = node.from2;
      node.to = node.to2;
      node.from2 = node.to2 = kNoVersion;
    } else if (node.from == from) {
      node = RowNode{};
      ++result.nodes_dropped;
      if (c.graph->Contains(label)) ++c.collected_nodes;
    }
  }
  // Then the nodes whose every remaining row is kept only for log pins
  // leave the graph and the node table (their rows stay on disk). A node
  // with two rows (revived by Restore) goes only when both are log-only: it
  // must keep describing every row that carries its label, or a later
  // Restore could revive it into a third.
  for (const auto& [label, from] : log_only) {
    if (label >= c.nodes.size() || c.nodes[label].collected()) continue;
    RowNode& node = c.nodes[label];
    const bool all_log_only = node.from2 == kNoVersion
                                  ? node.from == from
                                  : log_only.count({label, node.from}) > 0 && log_only.count({label, node.from2}) > 0;
    if (!all_log_only) continue;
    node = RowNode{};
    ++result.nodes_dropped;
    if (c.graph->Contains(label)) ++c.collected_nodes;
  }
  if (result.rows_removed > 0) {
    Log(LogLevel::kInfo, "GC of \"" + c.config.name + "\": oldest retained version " + std::to_string(horizon) +
                             ", removed " + std::to_string(result.rows_removed) + " row versions, dropped " +
                             std::to_string(result.nodes_dropped) + " graph nodes");
  }
  return result;
}

Status Database::Impl::RebuildGraph(Collection& c) {
  // 1. The nodes to keep, as of now; then build without blocking anyone.
  std::vector<std::string> row_key_of_label;
  size_t span;
  {
    std::shared_lock lock(c.graph_mu);
    span = c.nodes.size();
    row_key_of_label.resize(span);
    for (size_t label = 0; label < span; ++label) {
      const RowNode& node = c.nodes[label];
      if (!node.collected()) row_key_of_label[label] = keys::RowKey(c.id, node.id, node.from);
    }
  }
  const GraphParams params = c.graph->params();
  VERITY_ASSIGN_OR_RETURN(auto graph, HnswGraph::Create(params, std::max<size_t>(span, 1024)));
  VERITY_RETURN_IF_ERROR(InsertStoredLabels(c, *graph, row_key_of_label, 0, span));

  // 2. Catch up with rows written meanwhile (writers wait), swap, save.
  std::lock_guard write(c.write_mu);
  VERITY_RETURN_IF_ERROR(CheckNotDropped(c));
  {
    std::shared_lock lock(c.graph_mu);
    const size_t now = c.nodes.size();
    row_key_of_label.resize(now);
    for (size_t label = span; label < now; ++label) {
      const RowNode& node = c.nodes[label];
      if (!node.collected()) row_key_of_label[label] = keys::RowKey(c.id, node.id, node.from);
    }
    span = now;
  }
  VERITY_RETURN_IF_ERROR(InsertStoredLabels(c, *graph, row_key_of_label, graph->size(), span));
  RepairNewGraph(c, *graph, "rebuilt");
  c.nodes_since_repair = 0;
  {
    std::unique_lock lock(c.graph_mu);
    const uint64_t before = c.graph->node_count();
    c.graph = std::move(graph);
    c.dead_nodes = 0;
    for (size_t label = 0; label < c.nodes.size(); ++label) {
      if (c.graph->Contains(static_cast<uint32_t>(label)) && !c.nodes[label].open()) ++c.dead_nodes;
    }
    c.collected_nodes = 0;
    c.graph_rebuilt_unsaved = true;
    Log(LogLevel::kInfo, "collection \"" + c.config.name + "\": graph rebuilt without GC'd nodes (" +
                             std::to_string(before) + " -> " + std::to_string(c.graph->node_count()) + " nodes)");
  }
  return PersistGraph(c);
}

void Database::Impl::RunBackgroundGc() {
  std::unique_lock lock(gc_thread_mu);
  while (!gc_thread_cv.wait_for(lock, std::chrono::seconds(options.gc_interval_seconds),
                                [&] { return gc_thread_stop; })) {
    lock.unlock();
    std::vector<std::string> names;
    {
      std::shared_lock c_lock(collections_mu);
      for (const auto& [name, c] : collections) names.push_back(name);
    }
    for (const auto& name : names) {
      {
        std::lock_guard stop(gc_thread_mu);
        if (gc_thread_stop) return;
      }
      Result<GcResult> r = owner->Gc(name);
      if (!r.ok() && r.status().code() != StatusCode::kNotFound) {
        Log(LogLevel::kWarning, "background GC of \"" + name + "\": " + r.status().ToString());
      }
    }
    if (options.log_retention_seconds > 0) {
      Result<uint64_t> removed = owner->GcLog();
      if (!removed.ok()) Log(LogLevel::kWarning, "background GC of the retrieval log: " + removed.status().ToString());
    }
    lock.lock();
  }
}

// Collections whose rows exist without a collection record: an import that
// died before it committed. Their rows are invisible; remove them.
Status Database::Impl::RemoveOrphans() {
  std::set<uint32_t> known;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), meta));
    for (it->Seek("C"); it->Valid() && it->key().starts_with("C"); it->Next()) {
      if (it->key().size() == 5) known.insert(keys::GetU32(it->key().data() + 1));
    }
    VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "scan collections"));
  }
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), rows));
  rocksdb::WriteBatch batch;
  for (it->SeekToFirst(); it->Valid();) {
    if (it->key().size() < 4) return Status::DataLoss("rows: malformed key " + it->key().ToString(true));
    const uint32_t id = keys::GetU32(it->key().data());
    if (known.count(id) == 0) {
      Log(LogLevel::kWarning, "removing the rows of unfinished import (collection id " + std::to_string(id) + ")");
      for (auto* cf : {rows, vectors, changes}) batch.DeleteRange(cf, keys::CollectionPrefix(id), keys::CollectionEnd(id));
    }
    it->Seek(keys::CollectionEnd(id));
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "scan rows"));
  if (batch.Count() == 0) return Status::Ok();
  return FromRocks(db->Write(write_options, &batch), "remove unfinished import");
}

}  // namespace verity
