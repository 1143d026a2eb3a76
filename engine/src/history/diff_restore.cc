// Diff and Restore of a collection's history (docs/snapshots.md explains
// the rules; docs/architecture.md the locking).
#include <rocksdb/write_batch.h>

#include <algorithm>
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
  if (SparseFromProto(a.meta.sparse()) != SparseFromProto(b.meta.sparse())) return false;
  std::string va, vb;
  // A collection without dense vectors (dimension 0) stores none: both absent.
  rocksdb::Status sa = db->Get(read, vectors, a.key, &va), sb = db->Get(read, vectors, b.key, &vb);
  if (sa.IsNotFound() && sb.IsNotFound()) return true;
  VERITY_RETURN_IF_ERROR(FromRocks(sa, "read vector"));
  VERITY_RETURN_IF_ERROR(FromRocks(sb, "read vector"));
  return va == vb;
}

// Every id of a collection that has any row, in id order, from a rows-CF
// iterator; calls fn(id) once per id. fn may move the iterator.
template <typename Fn>
Status ForEachId(rocksdb::Iterator* it, uint32_t collection, Fn fn) {
  const std::string prefix = keys::CollectionPrefix(collection);
  it->Seek(prefix);
  while (it->Valid() && it->key().starts_with(prefix)) {
    VERITY_ASSIGN_OR_RETURN(const RowKeyParts parts, RowKeyAt(*it));
    const std::string id(parts.id);
    VERITY_RETURN_IF_ERROR(fn(id));
    it->Seek(keys::RowKeyAfterId(collection, id));
  }
  return FromRocks(it->status(), "scan rows");
}

}  // namespace

// --- Diff ---------------------------------------------------------------------

Result<DiffPage> History::Diff(const std::string& collection, const ReadPoint& from_point, const ReadPoint& to_point,
                               const std::string& start_after, uint32_t limit,
                               const std::function<Status()>& keep_going) const {
  KeepGoingCheck check(keep_going, 1024);
  if (limit < 1 || limit > Limits::kMaxDiffLimit) {
    return Status::InvalidArgument("limit: " + std::to_string(limit) + " is outside 1.." +
                                   std::to_string(Limits::kMaxDiffLimit));
  }
  VERITY_ASSIGN_OR_RETURN(auto c, collections_.Find(collection));
  std::optional<ScopedSnapshot> snapshot;
  Version from, to;
  {
    std::shared_lock lock(c->graph_mu);
    VERITY_ASSIGN_OR_RETURN(from, collections_.ResolveReadPoint(*c, from_point, "from"));
    VERITY_ASSIGN_OR_RETURN(to, collections_.ResolveReadPoint(*c, to_point, "to"));
    snapshot.emplace(db_);
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
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, changes_));
    const std::string end = keys::ChangeKey(c->id, hi + 1, "");
    const size_t id_offset = 4 + 8;
    for (it->Seek(keys::ChangeKey(c->id, lo + 1, "")); it->Valid() && it->key().compare(end) < 0; it->Next()) {
      VERITY_RETURN_IF_ERROR(check.Step());
      if (it->key().size() <= id_offset) return Status::DataLoss("changes: malformed key");
      ids.emplace(it->key().data() + id_offset, it->key().size() - id_offset);
    }
    VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "scan changes"));
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, rows_));
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
      VERITY_ASSIGN_OR_RETURN(bool same, SameContents(db_, vectors_, read, *before, *after));
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

namespace {

// FailedPrecondition unless `target` (named `into`) can take `source`'s
// (named `collection`) records: same dimension and metric.
Status CheckRestoreInto(const Collection& source, const Collection& target, const std::string& collection,
                        const std::string& into) {
  if (target.config.dimension == source.config.dimension && target.config.metric == source.config.metric) {
    return Status::Ok();
  }
  return Status::FailedPrecondition("into: \"" + into + "\" has dimension " + std::to_string(target.config.dimension) +
                                    " and metric " + MetricName(target.config.metric) + ", \"" + collection +
                                    "\" has dimension " + std::to_string(source.config.dimension) + " and metric " +
                                    MetricName(source.config.metric));
}

// The ids of both collections, merged in id order.
Result<std::set<std::string>> IdsOfBoth(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* rows,
                                        const rocksdb::ReadOptions& read, uint32_t source, uint32_t target) {
  std::set<std::string> ids;
  for (const uint32_t collection : {source, target}) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read, rows));
    VERITY_RETURN_IF_ERROR(ForEachId(it.get(), collection, [&](const std::string& id) {
      ids.insert(id);
      return Status::Ok();
    }));
  }
  return ids;
}

// Within one collection, a row coming back usually still has its graph
// node (superseded rows keep theirs until GC): the label of that node, to
// revive rather than insert a copy. Nodes only change under write_mu,
// which the caller holds.
std::optional<uint32_t> RevivableNode(const Collection& source, const Collection& target, const std::string& id,
                                      const VisibleRow& row) {
  if (&source != &target) return std::nullopt;
  std::shared_lock lock(target.graph_mu);
  const uint64_t label = row.meta.label();
  if (label >= target.nodes.size()) return std::nullopt;
  if (target.graph && !target.graph->Contains(static_cast<uint32_t>(label))) return std::nullopt;
  const RowNode& node = target.nodes[label];
  if (!node.revivable() || node.id != id || node.from != row.version) return std::nullopt;
  return static_cast<uint32_t>(label);
}

// What a restore writes: the records to upsert (with the node each may
// revive) and the ids to delete.
struct RestoreChanges {
  std::vector<Record> upserts;
  std::vector<std::optional<uint32_t>> revive;
  std::vector<std::string> deletes;
};

// The changes that make `target` at `head` hold what `source` held at
// `version`, for every id of `ids`, read with `read`.
Result<RestoreChanges> PlanRestore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* rows,
                                   rocksdb::ColumnFamilyHandle* vectors, const rocksdb::ReadOptions& read,
                                   const Collection& source, Version version, const Collection& target, Version head,
                                   const std::set<std::string>& ids) {
  RestoreChanges changes;
  std::unique_ptr<rocksdb::Iterator> lookup(db->NewIterator(read, rows));
  for (const std::string& id : ids) {
    VERITY_ASSIGN_OR_RETURN(auto want, RowVisibleAt(lookup.get(), source.id, id, version));
    VERITY_ASSIGN_OR_RETURN(auto have, RowVisibleAt(lookup.get(), target.id, id, head));
    if (!want) {
      if (have) changes.deletes.push_back(id);
      continue;
    }
    if (have) {
      VERITY_ASSIGN_OR_RETURN(bool same, SameContents(db, vectors, read, *want, *have));
      if (same) continue;
    }
    Record r;
    r.id = id;
    r.text = want->meta.text();
    r.document_id = want->meta.document_id();
    r.metadata = MetadataFromProto(want->meta.metadata());
    r.sparse = SparseFromProto(want->meta.sparse());
    if (source.config.dimension > 0) {
      std::string bytes;
      VERITY_RETURN_IF_ERROR(FromRocks(db->Get(read, vectors, want->key, &bytes), "read vector of " + id));
      VERITY_RETURN_IF_ERROR(DecodeVector(bytes, source.config.dimension, &r.vector));
    }
    changes.revive.push_back(RevivableNode(source, target, id, *want));
    changes.upserts.push_back(std::move(r));
  }
  return changes;
}

}  // namespace

Result<RestoreResult> History::Restore(const std::string& collection, const ReadPoint& at, const std::string& into) {
  VERITY_ASSIGN_OR_RETURN(auto source, collections_.Find(collection));
  std::shared_ptr<Collection> target = source;
  if (!into.empty() && into != collection) {
    VERITY_ASSIGN_OR_RETURN(target, collections_.Find(into));
    VERITY_RETURN_IF_ERROR(CheckRestoreInto(*source, *target, collection, into));
  }
  std::lock_guard write(target->write_mu);
  VERITY_RETURN_IF_ERROR(Collections::CheckNotDropped(*target));
  std::optional<ScopedSnapshot> snapshot;
  Version version = 0;  // the one `at` reads
  {
    // The source must not be dropped under us: its rows would read as none,
    // and the restore would empty the target. Its pins_mu (which a drop
    // holds) makes the snapshot come before any drop.
    std::unique_lock<std::mutex> source_pins;
    if (source != target) {
      source_pins = std::unique_lock<std::mutex>(source->pins_mu);
      VERITY_RETURN_IF_ERROR(Collections::CheckNotDropped(*source));
    }
    std::shared_lock lock(source->graph_mu);
    VERITY_ASSIGN_OR_RETURN(version, collections_.ResolveReadPoint(*source, at));
    snapshot.emplace(db_);  // also holds the target's head: its writers wait for us
  }
  const rocksdb::ReadOptions read = snapshot->options();
  const Version head = target->meta.head_version();
  VERITY_ASSIGN_OR_RETURN(auto ids, IdsOfBoth(db_, rows_, read, source->id, target->id));
  VERITY_ASSIGN_OR_RETURN(RestoreChanges changes,
                          PlanRestore(db_, rows_, vectors_, read, *source, version, *target, head, ids));
  storage::VersionMeta vmeta;
  vmeta.set_is_restore(true);
  vmeta.set_restored_from(version);
  VERITY_ASSIGN_OR_RETURN(
      auto committed, collections_.Commit(*target, std::move(changes.upserts), changes.deletes, vmeta, changes.revive));
  KillPoint("restore.after_commit");
  Log(LogLevel::kInfo, "restored \"" + target->config.name + "\" to the contents of \"" + collection +
                           "\" at version " + std::to_string(version) + " as version " +
                           std::to_string(committed.version));
  return RestoreResult{committed.version, version, committed.upserted, committed.deleted};
}

}  // namespace verity
