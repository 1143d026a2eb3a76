// The in-memory state of one open collection. Internal to the engine.
//
// Locking (see docs/architecture.md, "Concurrency"):
// - write_mu serialises writers of this collection. It guards `meta` (the
//   last committed CollectionMeta) and `live`.
// - graph_mu guards graph, nodes, columns, head, live_count, dead_nodes and the saved_*
//   fields. Readers hold it shared for a whole search; a writer holds it
//   exclusively only while it appends nodes, inserts a chunk into the graph,
//   or publishes a new head.
// Lock order: write_mu before graph_mu.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "hnsw_graph.h"
#include "metadata_columns.h"
#include "rw_lock.h"
#include "storage.pb.h"
#include "verity/filter.h"
#include "verity/types.h"

namespace verity {

constexpr Version kNoVersion = std::numeric_limits<Version>::max();

// One row version that has a graph node (tombstones have none). Its label is
// its index in Collection::nodes.
struct RowNode {
  std::string id;
  Version from = kNoVersion;  // the version that wrote it
  Version to = kNoVersion;    // the version that replaced or deleted it

  bool VisibleAt(Version v) const { return from <= v && v < to; }
};

struct Collection {
  CollectionConfig config;
  uint32_t id = 0;
  int64_t created_at_us = 0;

  std::mutex write_mu;
  storage::CollectionMeta meta;                     // GUARDED_BY(write_mu)
  std::unordered_map<std::string, uint32_t> live;   // GUARDED_BY(write_mu): id -> label at head

  mutable RwLock graph_mu;
  std::unique_ptr<HnswGraph> graph;  // GUARDED_BY(graph_mu)
  std::vector<RowNode> nodes;        // GUARDED_BY(graph_mu), by label
  MetadataColumns columns;           // GUARDED_BY(graph_mu): nodes' metadata, for filters
  Version head = 0;                  // GUARDED_BY(graph_mu): newest published version
  uint64_t live_count = 0;           // GUARDED_BY(graph_mu): records visible at head
  uint64_t dead_nodes = 0;           // GUARDED_BY(graph_mu): nodes with to != kNoVersion
  uint64_t saved_nodes = 0;          // GUARDED_BY(graph_mu): nodes in the graph file
  bool graph_broken = false;         // GUARDED_BY(graph_mu): an insert failed; searches refuse
};

}  // namespace verity
