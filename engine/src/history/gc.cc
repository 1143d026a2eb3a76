// Retention and GC of a collection's history: the retention settings, GC
// (what to keep is history/retention.h's pure rule; here the reads that feed
// it and the deletes and graph changes that apply it), the graph rebuild
// after GC, the background GC thread, and the removal of unfinished
// imports' rows (docs/snapshots.md explains the rules;
// docs/architecture.md the locking).
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <map>
#include <set>

#include "base/validate.h"
#include "history/history.h"
#include "history/retention.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "util/clock.h"
#include "util/keep_going.h"
#include "util/kill_point.h"

namespace verity {
namespace {

// The commit times of collection `id`'s versions from `head` down, as far
// as the keep_seconds rule looks (none when it is off): stops after the
// first that ends the window (history::EndsTimeWindow).
Result<std::vector<history::VersionCommit>> ReadCommitsNewestFirst(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta,
                                                                   uint32_t id, Version head,
                                                                   const RetentionPolicy& retention, int64_t now_us) {
  std::vector<history::VersionCommit> commits;
  if (retention.keep_seconds <= 0) return commits;
  const int64_t cutoff = now_us - retention.keep_seconds * 1000000;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), meta));
  const std::string prefix = keys::VersionPrefix(id);
  for (it->SeekForPrev(keys::VersionKey(id, head)); it->Valid() && it->key().starts_with(prefix); it->Prev()) {
    if (it->key().size() != prefix.size() + 8) return Status::DataLoss("meta: malformed version key");
    const Version v = keys::GetU64(it->key().data() + prefix.size());
    storage::VersionMeta vm;
    if (!vm.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::DataLoss("meta: version " + std::to_string(v) + " does not parse");
    }
    commits.push_back({v, vm.committed_at_us()});
    if (history::EndsTimeWindow(commits.back(), cutoff)) break;
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "scan versions"));
  return commits;
}

// (label, from) of a row version: its graph node and which of its ranges.
using NodeRow = std::pair<uint32_t, Version>;

// GC's pass over a collection's rows: applies the plan's RowFates to each
// id's rows, deleting in batches. Borrows the database and its handles.
class RowSweep {
 public:
  RowSweep(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* rows, rocksdb::ColumnFamilyHandle* vectors,
           const rocksdb::WriteOptions& write_options, const history::RetentionPlan& plan, GcResult& result)
      : db_(db), rows_(rows), vectors_(vectors), write_options_(write_options), plan_(plan), result_(result) {}

  // Scans every row of collection `id`; the last batch is synced (when
  // writes are).
  Status Run(uint32_t id);

  // Rows whose node range goes: removed rows.
  std::vector<NodeRow> dropped;
  // Rows kept only for log pins.
  std::set<NodeRow> log_only;

 private:
  struct Row {
    std::string key;
    Version from;
    Version to;
    bool tombstone;
    uint64_t label;
  };
  Status FinishId();
  Status Flush(bool last);

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* rows_;
  rocksdb::ColumnFamilyHandle* vectors_;
  const rocksdb::WriteOptions& write_options_;
  const history::RetentionPlan& plan_;
  GcResult& result_;
  rocksdb::WriteBatch batch_;
  std::vector<Row> id_rows_;  // one id's rows, newest first
};

Status RowSweep::Run(uint32_t id) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), rows_));
  const std::string prefix = keys::CollectionPrefix(id);
  std::string current_id;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    VERITY_ASSIGN_OR_RETURN(const RowKeyParts parts, RowKeyAt(*it));
    const std::string_view row_id = parts.id;
    const Version version = parts.version;
    if (row_id != current_id) {
      VERITY_RETURN_IF_ERROR(FinishId());
      current_id.assign(row_id);
    }
    storage::RowMeta row;
    if (!row.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::DataLoss("rows: value of " + it->key().ToString(true) + " does not parse");
    }
    const Version to = id_rows_.empty() ? kNoVersion : id_rows_.back().from;
    id_rows_.push_back({std::string(key), version, to, row.tombstone(), row.label()});
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "GC scan"));
  VERITY_RETURN_IF_ERROR(FinishId());
  return Flush(true);
}

Status RowSweep::FinishId() {
  std::vector<history::RowSpan> spans;
  spans.reserve(id_rows_.size());
  for (const Row& r : id_rows_) spans.push_back({r.from, r.to, r.tombstone});
  const std::vector<history::RowFate> fates = history::RowFates(plan_, spans);
  for (size_t i = id_rows_.size(); i-- > 0;) {  // oldest first
    const Row& r = id_rows_[i];
    if (fates[i] == history::RowFate::kKeepRows) log_only.emplace(static_cast<uint32_t>(r.label), r.from);
    if (fates[i] != history::RowFate::kDelete) continue;
    batch_.Delete(rows_, r.key);
    if (!r.tombstone) {
      batch_.Delete(vectors_, r.key);
      dropped.emplace_back(static_cast<uint32_t>(r.label), r.from);
    }
    ++result_.rows_removed;
  }
  id_rows_.clear();
  if (batch_.Count() >= 10000) return Flush(false);
  return Status::Ok();
}

Status RowSweep::Flush(bool last) {
  if (batch_.Count() == 0) return Status::Ok();
  rocksdb::WriteOptions wo = write_options_;
  wo.sync = last && write_options_.sync;
  VERITY_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch_), "GC delete"));
  batch_.Clear();
  KillPoint("gc.mid_delete");
  return Status::Ok();
}

// Collects node `label` (its every row is gone from the graph's view).
void CollectNode(Collection& c, uint32_t label, GcResult& result) {
  c.nodes[label] = RowNode{};
  ++result.nodes_dropped;
  if (c.text) c.text->Collect(label);
  if (c.graph && c.graph->Contains(label)) ++c.collected_nodes;
}

// Removes each removed row's range from its node; a node left with none is
// collected (a node revived by Restore has two rows). Then the nodes whose
// every remaining row is kept only for log pins leave the graph and the
// node table (their rows stay on disk). A node with two rows (revived by
// Restore) goes only when both are log-only: it must keep describing every
// row that carries its label, or a later Restore could revive it into a
// third. Caller holds c.graph_mu exclusively.
void DropNodes(Collection& c, const std::vector<NodeRow>& dropped, const std::set<NodeRow>& log_only,
               GcResult& result) {
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
      CollectNode(c, label, result);
    }
  }
  for (const auto& [label, from] : log_only) {
    if (label >= c.nodes.size() || c.nodes[label].collected()) continue;
    const RowNode& node = c.nodes[label];
    const bool all_log_only = node.from2 == kNoVersion
                                  ? node.from == from
                                  : log_only.count({label, node.from}) > 0 && log_only.count({label, node.from2}) > 0;
    if (all_log_only) CollectNode(c, label, result);
  }
}

}  // namespace

Status History::SetRetention(const std::string& collection, const RetentionPolicy& retention) {
  VERITY_RETURN_IF_ERROR(ValidateRetention(retention));
  VERITY_ASSIGN_OR_RETURN(auto c, collections_.Find(collection));
  std::lock_guard write(c->write_mu);
  VERITY_RETURN_IF_ERROR(Collections::CheckNotDropped(*c));
  storage::CollectionMeta m = c->meta;
  m.set_has_retention(true);
  m.set_keep_versions(retention.keep_versions);
  m.set_keep_seconds(retention.keep_seconds);
  VERITY_RETURN_IF_ERROR(
      FromRocks(db_->Put(write_options_, meta_, keys::CollectionKey(c->id), m.SerializeAsString()), "set retention"));
  c->meta = m;
  std::unique_lock lock(c->graph_mu);
  c->config.retention = retention;
  return Status::Ok();
}

Result<GcResult> History::Gc(const std::string& collection) {
  VERITY_ASSIGN_OR_RETURN(auto c, collections_.Find(collection));
  std::lock_guard gc(c->gc_mu);
  GcResult result;
  {
    std::lock_guard write(c->write_mu);
    VERITY_ASSIGN_OR_RETURN(result, GcLocked(*c));
    // Writes too small to trigger a repair add up between GCs.
    collections_.RepairGraphIfDue(*c, 0, "checked at GC");
  }
  if (result.rows_removed > 0) {
    const std::string begin = keys::CollectionPrefix(c->id), end = keys::CollectionEnd(c->id);
    rocksdb::Slice b(begin), e(end);
    rocksdb::CompactRangeOptions compact;
    for (auto* cf : {rows_, vectors_}) {
      VERITY_RETURN_IF_ERROR(FromRocks(db_->CompactRange(compact, cf, &b, &e), "compact after GC"));
    }
  }
  result.bytes_after = collections_.ApproximateBytes(c->id);
  bool rebuild;
  {
    std::shared_lock lock(c->graph_mu);
    rebuild =
        c->graph && c->collected_nodes > 0 && static_cast<double>(c->collected_nodes) >
                                      options_.graph_rebuild_fraction * static_cast<double>(c->graph->node_count());
  }
  if (rebuild) {
    VERITY_RETURN_IF_ERROR(collections_.RebuildGraph(*c));
    result.graph_rebuilt = true;
  }
  return result;
}

Result<history::RetentionPlan> History::PlanGc(Collection& c) const {
  history::RetentionInput input;
  input.head = c.meta.head_version();
  input.now_us = NowMicros();
  {
    std::shared_lock lock(c.graph_mu);
    input.policy = c.config.retention;
  }
  // The window: the newest keep_versions versions, and every version that
  // was the head within keep_seconds (version v was the head until v+1 was
  // committed).
  VERITY_ASSIGN_OR_RETURN(input.commits_newest_first,
                          ReadCommitsNewestFirst(db_, meta_, c.id, input.head, input.policy, input.now_us));
  {
    std::shared_lock lock(c.graph_mu);
    input.oldest_retained = c.oldest_retained;
    input.pins = c.pins;
    input.rows_only = c.rows_only;
  }
  for (const auto& [v, used_at] : c.log_pinned) input.log_pinned.insert(v);
  return history::PlanRetention(input);
}

Status History::RecordGcHorizon(Collection& c, Version horizon) {
  if (horizon <= c.meta.oldest_retained()) return Status::Ok();
  storage::CollectionMeta m = c.meta;
  m.set_oldest_retained(horizon);
  VERITY_RETURN_IF_ERROR(FromRocks(db_->Put(write_options_, meta_, keys::CollectionKey(c.id), m.SerializeAsString()),
                                   "record GC horizon"));
  c.meta = m;
  std::unique_lock lock(c.graph_mu);
  c.oldest_retained = horizon;  // from here on reads below it need a pin
  return Status::Ok();
}

Result<GcResult> History::GcLocked(Collection& c) {
  // 1. What to keep, from the retention settings, the pins and the head;
  // the horizon recorded before any row goes.
  std::unique_lock pins_lock(c.pins_mu);
  VERITY_RETURN_IF_ERROR(collections_.CheckNotDropped(c));
  GcResult result;
  result.bytes_before = collections_.ApproximateBytes(c.id);
  VERITY_ASSIGN_OR_RETURN(history::RetentionPlan plan, PlanGc(c));
  VERITY_RETURN_IF_ERROR(RecordGcHorizon(c, plan.horizon));
  result.oldest_retained = plan.horizon;
  KillPoint("gc.after_horizon");
  // Pins may come and go from here on without waiting for the scan: a new
  // pin can only be at a readable version, so at or above the horizon
  // (whose rows the plan keeps) or at one already pinned (in plan.pins); a
  // pin released meanwhile only keeps rows one GC longer. (Held for the
  // whole scan, it made every Retrieve, cache hit and snapshot of the
  // collection wait for it.)
  pins_lock.unlock();

  // 2. Delete the rows no retained version sees.
  RowSweep sweep(db_, rows_, vectors_, write_options_, plan, result);
  VERITY_RETURN_IF_ERROR(sweep.Run(c.id));

  // 3. Remove each row's range from its node. The rows-only versions are
  // published with the nodes' removal: from here on reads at these
  // versions go to the rows.
  std::unique_lock lock(c.graph_mu);
  c.rows_only = std::move(plan.rows_only);
  c.log_only_rows = result.log_only_rows = sweep.log_only.size();
  DropNodes(c, sweep.dropped, sweep.log_only, result);
  if (result.rows_removed > 0) {
    Log(LogLevel::kInfo, "GC of \"" + c.config.name + "\": oldest retained version " + std::to_string(plan.horizon) +
                             ", removed " + std::to_string(result.rows_removed) + " row versions, dropped " +
                             std::to_string(result.nodes_dropped) + " graph nodes");
  }
  return result;
}

}  // namespace verity
