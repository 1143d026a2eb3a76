// Loading a collection from its rows (at open, and for an import before it
// is visible): the node table from the rows, the graph from its file when
// that verifies and matches, caught up with newer rows or rebuilt from them.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collection/collections.h"
#include "storage/codec.h"
#include "storage/keys.h"

namespace verity {

Status Collections::LoadAll() {
  std::string value;
  rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), meta_, keys::NextCollectionIdKey(), &value);
  if (rs.ok()) {
    if (value.size() != 4) return Status::DataLoss("meta: next collection id is malformed");
    std::lock_guard ddl(ddl_mu_);
    next_collection_id_ = keys::GetU32(value.data());
  } else if (!rs.IsNotFound()) {
    return FromRocks(rs, "read meta");
  }

  if (!store_.opened_read_only()) VERITY_RETURN_IF_ERROR(RemoveOrphans());
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  for (it->Seek("C"); it->Valid() && it->key().starts_with("C"); it->Next()) {
    storage::CollectionMeta record;
    if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::DataLoss("meta: collection record " + it->key().ToString(true) + " does not parse");
    }
    Status loaded = LoadCollection(record);
    if (loaded.code() == StatusCode::kDataLoss) {
      // One damaged collection (a table block of its rows or vectors fails
      // its checksum) does not take the others and the retrieval log down.
      Log(LogLevel::kError, "collection \"" + record.name() + "\" is unavailable: " + loaded.message() +
                                "; the other collections and the retrieval log are served; drop it or import "
                                "it again from an export (docs/reliability.md, \"Corruption\")");
      std::unique_lock lock(mu_);
      unavailable_[record.name()] = {record, loaded};
      continue;
    }
    VERITY_RETURN_IF_ERROR(loaded);
  }
  return FromRocks(it->status(), "scan collections");
}

Status Collections::LoadCollection(const storage::CollectionMeta& meta) {
  VERITY_ASSIGN_OR_RETURN(auto c, BuildCollection(meta, true));
  std::unique_lock lock(mu_);
  by_name_[c->config.name] = std::move(c);
  return Status::Ok();
}

Status Collections::LoadPins(Collection& c) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
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

namespace {

// Whether a version of `pins` falls in [from, to).
bool PinnedIn(const std::map<Version, uint32_t>& pins, Version from, Version to) {
  auto pin = pins.lower_bound(from);
  return pin != pins.end() && pin->first < to;
}

// Why the loaded graph `g`, covering `covered`, does not match c's node
// table; empty when it does. Labels below the file's span that still have
// rows must be in it, and exactly those rows may be covered by it; labels
// at or above the span are newer rows (caught up later). Nodes whose rows
// GC removed may remain in the file: no version sees them.
std::string GraphFileMismatch(const Collection& c, const HnswGraph& g, Version covered) {
  const size_t label_count = c.nodes.size();
  const size_t n = g.size();
  if (covered > c.head) return "covers version " + std::to_string(covered) + " beyond head " + std::to_string(c.head);
  if (n > label_count) {
    return "spans " + std::to_string(n) + " labels, more than the rows' " + std::to_string(label_count);
  }
  for (size_t label = 0; label < label_count; ++label) {
    const RowNode& node = c.nodes[label];
    if (node.collected()) continue;
    if (label < n && (!g.Contains(static_cast<uint32_t>(label)) || node.from > covered)) {
      return "label " + std::to_string(label) + " does not match covered version " + std::to_string(covered);
    }
    if (label >= n && node.from <= covered) {
      return "label " + std::to_string(label) + " is missing although covered";
    }
  }
  return "";
}

// Nodes in the graph that no version sees any more (their rows were
// collected) and nodes not visible at head.
void CountDeadNodes(Collection& c) {
  c.dead_nodes = 0;
  c.collected_nodes = 0;
  for (size_t label = 0; label < c.graph->size(); ++label) {
    if (!c.graph->Contains(static_cast<uint32_t>(label))) continue;
    if (c.nodes[label].collected()) {
      ++c.collected_nodes;
      ++c.dead_nodes;
    } else if (!c.nodes[label].open()) {
      ++c.dead_nodes;
    }
  }
}

// The same without a graph (dimension 0): rows not visible at head.
void CountDeadRows(Collection& c) {
  c.dead_nodes = 0;
  c.collected_nodes = 0;
  for (const RowNode& node : c.nodes) {
    if (!node.collected() && !node.open()) ++c.dead_nodes;
  }
}

}  // namespace

Result<std::shared_ptr<Collection>> Collections::BuildCollection(const storage::CollectionMeta& meta,
                                                                 bool use_graph_file) {
  auto c = std::make_shared<Collection>();
  c->config = ConfigFromMeta(meta);
  c->id = meta.id();
  c->created_at_us = meta.created_at_us();
  c->meta = meta;
  c->head = meta.head_version();
  c->oldest_retained = meta.oldest_retained();
  VERITY_RETURN_IF_ERROR(LoadPins(*c));
  c->nodes.resize(meta.next_label());
  std::vector<std::string> row_key_of_label(meta.next_label());
  VERITY_RETURN_IF_ERROR(LoadNodeTable(*c, &row_key_of_label));
  c->live_count = c->live.size();
  if (c->live_count != meta.live_records()) {
    Log(LogLevel::kWarning, "collection \"" + c->config.name + "\": live count " + std::to_string(c->live_count) +
                                " differs from recorded " + std::to_string(meta.live_records()));
  }

  // The graph: load and verify the file, then catch up with newer rows; on
  // any mismatch rebuild it from the rows.
  if (c->config.dimension > 0) {
    std::string reason;
    if (use_graph_file) c->graph = LoadGraphFile(*c, &reason);
    if (!use_graph_file && !c->nodes.empty()) reason = "no graph file";
    VERITY_RETURN_IF_ERROR(FinishGraph(*c, row_key_of_label, reason));
    CountDeadNodes(*c);
  } else {
    CountDeadRows(*c);
  }
  VERITY_RETURN_IF_ERROR(LoadTextIndex(*c, row_key_of_label));
  VERITY_RETURN_IF_ERROR(LoadSparseIndex(*c, row_key_of_label));
  return c;
}

Status Collections::LoadNodeTable(Collection& c, std::vector<std::string>* row_key_of_label) {
  const size_t label_count = c.nodes.size();
  // As GC leaves it: a row that only log-pinned versions below the oldest
  // retained one see gets no node (docs/snapshots.md); reads at those
  // versions go to the rows.
  std::map<Version, uint32_t> graph_pins;
  for (const auto& [v, holders] : c.pins) {
    if (v < c.oldest_retained && holders == 1 && c.log_pinned.count(v) > 0) {
      c.rows_only.insert(v);
    } else {
      graph_pins.emplace(v, holders);
    }
  }
  constexpr char kGraph = 1, kLogOnly = 2;  // per label: a row needs a node / only log-only rows so far
  std::vector<char> label_need(label_count, 0);
  auto log_pinned_in = [&](Version from, Version to) {
    auto pin = c.rows_only.lower_bound(from);
    return pin != c.rows_only.end() && *pin < to;
  };

  // Rebuild the node table from the rows: versions of one id come newest
  // first, so each row is valid until the version of the row before it.
  const std::string prefix = keys::CollectionPrefix(c.id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), rows_));
  std::string previous_id;
  Version previous_version = kNoVersion;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    VERITY_ASSIGN_OR_RETURN(const RowKeyParts parts, RowKeyAt(*it));
    const std::string_view id = parts.id;
    const Version version = parts.version;
    const Version to = (id == previous_id) ? previous_version : kNoVersion;
    previous_id.assign(id);
    previous_version = version;
    if (version > c.head) continue;  // cannot happen: rows are written with their version
    storage::RowMeta row;
    if (!row.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::DataLoss("rows: value of " + it->key().ToString(true) + " does not parse");
    }
    if (row.tombstone()) continue;
    if (row.label() >= label_count) {
      return Status::DataLoss("rows: label " + std::to_string(row.label()) + " beyond next_label");
    }
    VERITY_RETURN_IF_ERROR(AddRowToNode(c.nodes[row.label()], row.label(), id, version, to));
    const bool log_only = to <= c.oldest_retained && !PinnedIn(graph_pins, version, to) && log_pinned_in(version, to);
    if (log_only) ++c.log_only_rows;
    char& need = label_need[row.label()];
    need = (log_only && need != kGraph) ? kLogOnly : kGraph;
    c.columns.Set(static_cast<uint32_t>(row.label()),
                  FilterFields(MetadataFromProto(row.metadata()), std::string(id), row.document_id()));
    (*row_key_of_label)[row.label()] = std::string(key);
    if (to == kNoVersion) c.live.emplace(c.nodes[row.label()].id, static_cast<uint32_t>(row.label()));
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "scan rows of " + c.config.name));
  // Nodes all of whose rows only log pins see get none (as GC drops them);
  // a node with a row some other version sees keeps both of its rows.
  for (size_t label = 0; label < label_count; ++label) {
    if (label_need[label] != kLogOnly) continue;
    c.nodes[label] = RowNode{};
    (*row_key_of_label)[label].clear();
  }
  return Status::Ok();
}

Status Collections::AddRowToNode(RowNode& node, uint64_t label, std::string_view id, Version version, Version to) {
  if (node.from == kNoVersion) {
    node.id.assign(id);
    node.from = version;
    node.to = to;
  } else if (node.from2 == kNoVersion && node.id == id && version < node.from) {
    // A restored row sharing this node (seen first: newer rows come first).
    node.from2 = node.from;
    node.to2 = node.to;
    node.from = version;
    node.to = to;
  } else {
    return Status::DataLoss("rows: label " + std::to_string(label) + " is used by more than two rows");
  }
  return Status::Ok();
}

std::unique_ptr<HnswGraph> Collections::LoadGraphFile(const Collection& c, std::string* reason) {
  const GraphParams params{c.config.dimension, c.config.metric, c.config.m, c.config.ef_construction};
  Version covered = 0;
  const uint64_t labels = std::max<uint64_t>(c.meta.next_label(), c.nodes.size());
  auto loaded = HnswGraph::Load(GraphPath(c.id), params, c.id, labels, &covered);
  if (loaded.ok()) {
    *reason = GraphFileMismatch(c, *loaded.value(), covered);
    if (reason->empty()) return std::move(loaded).value();
  } else if (loaded.status().code() != StatusCode::kNotFound) {
    *reason = loaded.status().message();
  } else if (!c.nodes.empty()) {
    *reason = "no graph file";
  }
  return nullptr;
}

Status Collections::FinishGraph(Collection& c, const std::vector<std::string>& row_key_of_label,
                                const std::string& reason) {
  const size_t label_count = c.nodes.size();
  if (c.graph) {
    const size_t n = c.graph->size();
    VERITY_RETURN_IF_ERROR(InsertStoredLabels(c, *c.graph, row_key_of_label, n, label_count));
    c.saved_nodes = n;
    // Also repairs files written before the repair existed; saved at close.
    c.graph_rebuilt_unsaved = RepairNewGraph(c, *c.graph, "loaded");
    if (label_count > n) {
      const size_t caught_up = label_count - n;
      Log(LogLevel::kInfo, "collection \"" + c.config.name + "\": graph loaded with " + std::to_string(n) +
                               " nodes, caught up " + std::to_string(caught_up));
      // A large catch-up (after a crash, the file is as old as the last
      // clean stop) is saved now, so that the next start after another
      // crash does not redo it: inserting 1,000 nodes costs more than
      // writing the file.
      if (caught_up >= 1000 || caught_up * 10 >= n) {
        Status s = PersistGraph(c);
        if (!s.ok()) Log(LogLevel::kWarning, "collection \"" + c.config.name + "\": " + s.ToString());
      }
    }
    return Status::Ok();
  }
  if (!reason.empty()) {
    Log(LogLevel::kWarning, "collection \"" + c.config.name + "\": rebuilding graph from rows (" + reason + ")");
  }
  const GraphParams params{c.config.dimension, c.config.metric, c.config.m, c.config.ef_construction};
  VERITY_ASSIGN_OR_RETURN(c.graph, HnswGraph::Create(params, std::max<size_t>(label_count, 1024)));
  VERITY_RETURN_IF_ERROR(InsertStoredLabels(c, *c.graph, row_key_of_label, 0, label_count));
  RepairNewGraph(c, *c.graph, "built");
  c.saved_nodes = 0;
  if (label_count > 0) {
    Status s = PersistGraph(c);
    if (!s.ok()) Log(LogLevel::kWarning, "collection \"" + c.config.name + "\": " + s.ToString());
  }
  return Status::Ok();
}

}  // namespace verity
