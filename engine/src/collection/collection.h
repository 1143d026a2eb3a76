// The in-memory state of one open collection. Internal to the engine.
//
// Locking (see docs/architecture.md, "Concurrency"):
// - write_mu serialises writers of this collection (upsert, delete, restore,
//   GC, retention changes). It guards `meta` (the last committed
//   CollectionMeta) and `live`.
// - pins_mu serialises changes of pins (snapshots) with GC, which must see a
//   fixed set of pins. Snapshot calls take only pins_mu, so creating one
//   never waits for a write.
// - graph_mu guards graph, nodes, columns, head, live_count, dead_nodes and the saved_*
//   fields. Readers hold it shared for a whole search; a writer holds it
//   exclusively only while it appends nodes, inserts a chunk into the graph,
//   or publishes a new head.
// Lock order: gc_mu, then write_mu, then pins_mu, then graph_mu.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "index/hnsw_graph.h"
#include "index/metadata_columns.h"
#include "storage.pb.h"
#include "text/text_index.h"
#include "util/rw_lock.h"
#include "verity/filter.h"
#include "verity/types.h"

namespace verity {

constexpr Version kNoVersion = std::numeric_limits<Version>::max();

// A graph node: one record's vector, visible over one or two version ranges.
// Its label is its index in Collection::nodes. A node gets a second range
// when Restore brings back a row with the same contents (the restored row
// reuses the node instead of inserting a copy); tombstones have no node.
struct RowNode {
  std::string id;
  Version from = kNoVersion;   // the version that wrote the first row
  Version to = kNoVersion;     // the version that replaced or deleted it
  Version from2 = kNoVersion;  // the restore that revived it (or none)
  Version to2 = kNoVersion;    // the version that replaced or deleted that

  bool VisibleAt(Version v) const { return (from <= v && v < to) || (from2 <= v && v < to2); }
  // The row version seen at v (when VisibleAt(v)).
  Version RowVersionAt(Version v) const { return from2 <= v && v < to2 ? from2 : from; }
  // Visible at the head (its last range is open).
  bool open() const { return from2 != kNoVersion ? to2 == kNoVersion : (from != kNoVersion && to == kNoVersion); }
  // Ends the open range at v.
  void Close(Version v) {
    if (from2 != kNoVersion)
      to2 = v;
    else
      to = v;
  }
  // Restore may give it a second range.
  bool revivable() const { return from != kNoVersion && to != kNoVersion && from2 == kNoVersion; }
  // GC dropped every row of this node: no version sees it (the graph node,
  // if the graph still has one, only routes).
  bool collected() const { return from == kNoVersion; }
};

struct Collection {
  CollectionConfig config;
  uint32_t id = 0;
  int64_t created_at_us = 0;

  std::mutex gc_mu;  // one GC (and graph rebuild) of this collection at a time
  std::mutex write_mu;
  storage::CollectionMeta meta;                    // GUARDED_BY(write_mu)
  std::unordered_map<std::string, uint32_t> live;  // GUARDED_BY(write_mu): id -> label at head
  // GUARDED_BY(write_mu): graph nodes inserted since the last reachability
  // check (Collections::RepairGraphIfDue).
  uint64_t nodes_since_repair = 0;

  std::mutex pins_mu;
  // Set, holding write_mu and pins_mu, when DropCollection (or an import
  // that replaces the collection) has deleted it; read holding either. A
  // writer that found the collection before and got its lock after must not
  // write: its keys would bring the collection back at the next open.
  bool dropped = false;
  bool replaced = false;  // dropped by an import that put a new collection under its name

  mutable RwLock graph_mu;
  // GUARDED_BY(graph_mu). Null for a collection without a dense vector
  // (dimension 0): its searches have text and sparse legs only.
  std::unique_ptr<HnswGraph> graph;
  // The full-text and sparse indexes (null when the collection has
  // neither). Set at creation or load, then never replaced; internally
  // synchronised; a commit applies to it under write_mu and graph_mu before
  // it publishes the head (text/text_index.h).
  std::unique_ptr<text::CollectionTextIndex> text;
  std::vector<RowNode> nodes;        // GUARDED_BY(graph_mu), by label
  MetadataColumns columns;           // GUARDED_BY(graph_mu): nodes' metadata, for filters
  Version head = 0;                  // GUARDED_BY(graph_mu): newest published version
  uint64_t live_count = 0;           // GUARDED_BY(graph_mu): records visible at head
  uint64_t dead_nodes = 0;           // GUARDED_BY(graph_mu): nodes with to != kNoVersion
  // Nodes in the graph file. Written by PersistGraph under write_mu and
  // graph_mu shared, read under graph_mu shared (GetCollection, the
  // checkpointer): atomic for that reason.
  std::atomic<uint64_t> saved_nodes{0};
  bool graph_broken = false;                       // GUARDED_BY(graph_mu): an insert failed; searches refuse
  std::atomic<bool> graph_rebuilt_unsaved{false};  // as saved_nodes: GC swapped in a graph not yet saved
  // Retention. Reads below oldest_retained are allowed only at a pinned
  // version. pins: version -> number of holders (changed under pins_mu too).
  Version oldest_retained = 0;       // GUARDED_BY(graph_mu)
  std::map<Version, uint32_t> pins;  // GUARDED_BY(graph_mu)
  uint64_t snapshot_count = 0;       // GUARDED_BY(graph_mu)
  // GUARDED_BY(pins_mu): versions the retrieval log pins, each with the
  // time (µs) a retrieval last used the pin (0 if not since open). GcLog
  // releases only pins unused since its cutoff, so a retrieval whose record
  // is still being appended keeps its version.
  std::map<Version, int64_t> log_pinned;
  uint64_t collected_nodes = 0;  // GUARDED_BY(graph_mu): graph nodes whose rows GC removed
  // GUARDED_BY(graph_mu): pinned versions below oldest_retained whose nodes
  // GC dropped from the graph and the node table because only the retrieval
  // log pins them (docs/snapshots.md, "Log pins keep rows, not nodes"). Their
  // rows stay on disk; searches and counts at them read the rows.
  std::set<Version> rows_only;
  // GUARDED_BY(graph_mu): rows (row versions, not tombstones) that GC keeps
  // on disk only for log-pinned versions, without a graph node: "pinned but
  // superseded". Recounted by each GC (and at open).
  uint64_t log_only_rows = 0;

  bool Readable(Version v) const { return v >= oldest_retained || pins.count(v) > 0; }
  // False when some rows visible at v have no graph node (v is log-only
  // pinned and GC dropped its nodes): reads at v go to the rows.
  bool GraphServes(Version v) const { return rows_only.count(v) == 0; }
};

}  // namespace verity
