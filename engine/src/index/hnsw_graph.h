// HnswGraph: the one wrapper around hnswlib's HierarchicalNSW. Nothing else in
// the engine includes hnswlib (its implementation files do: hnsw_graph.cc,
// index/hnsw_repair.cc, index/hnsw_graph_impl.h); every exception it throws
// is caught here.
//
// The graph stores prepared vectors (unit length for cosine) under labels
// 0..size()-1; the caller maps labels to row versions. Labels may have holes
// (a graph rebuilt by GC leaves out the labels it dropped): Contains() says
// which labels have a node. The engine owns
// the search loop (per-query ef, a label filter for MVCC visibility and
// metadata filters) instead of hnswlib's searchKnn, whose ef is shared state.
//
// Save / Load write and read the graph file: its format, header and
// checksums are index/graph_file.h (docs/graph-file-format.md). Load()
// checks every field, both CRCs and every link before the graph is used;
// hnswlib's own loader is never called.
//
// Thread-safety: Search / ExactSearch / Save / size may run concurrently with
// each other. Add must not run concurrently with anything else on the same
// graph (the owner holds an exclusive lock); Add itself inserts in parallel.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "verity/status.h"
#include "verity/types.h"

namespace verity {

struct GraphParams {
  uint32_t dimension = 0;
  Metric metric = Metric::kL2;
  uint32_t m = 16;
  uint32_t ef_construction = 200;
};

// A predicate on labels; a null fn accepts every label.
struct LabelFilter {
  bool (*fn)(const void* context, uint32_t label) = nullptr;
  const void* context = nullptr;
  bool Accepts(uint32_t label) const { return fn == nullptr || fn(context, label); }
};

struct Neighbor {
  float distance;
  uint32_t label;
};

class HnswGraph {
 public:
  // An empty graph with room for `capacity` nodes (it grows on demand).
  static Result<std::unique_ptr<HnswGraph>> Create(const GraphParams& params, size_t capacity);

  // Reads and verifies a graph file written by Save for `collection_id` with
  // the same params, whose labels are below `max_label_span` (the
  // collection's label count: a larger span would size the label table
  // from an untrusted field). On success sets *covered_version. Errors:
  // NotFound (no file), DataLoss (anything that does not verify: the
  // message says what).
  static Result<std::unique_ptr<HnswGraph>> Load(const std::string& path, const GraphParams& params,
                                                 uint32_t collection_id, uint64_t max_label_span,
                                                 Version* covered_version);

  ~HnswGraph();
  HnswGraph(const HnswGraph&) = delete;
  HnswGraph& operator=(const HnswGraph&) = delete;

  // Writes the graph to `path` atomically: `path`.tmp, fsync, rename, fsync
  // of the directory. Errors: Unavailable on I/O failure (`path` untouched).
  Status Save(const std::string& path, uint32_t collection_id, Version covered_version) const;

  // One past the highest label (holes included).
  size_t size() const;
  // Nodes actually in the graph.
  size_t node_count() const;
  bool Contains(uint32_t label) const;
  const GraphParams& params() const { return params_; }
  // How the search routes: on uint8 codes (quantizer.h) when `routes_on_codes`,
  // with the quantizer's step; else on the float vectors.
  struct Routing {
    bool routes_on_codes;
    float step;
  };
  Routing routing() const;

  // Inserts n prepared vectors (n * dimension floats) as labels
  // size() .. size() + n - 1, using up to `threads` threads (0 = default).
  // Errors: ResourceExhausted when memory runs out, Internal for anything
  // else hnswlib throws; the graph then holds a prefix-free subset and the
  // owner must rebuild it.
  Status Add(const float* vectors, size_t n, int threads);
  // Inserts n prepared vectors under the given labels, which must be
  // strictly increasing and >= size(); labels skipped become holes.
  Status AddLabels(const uint32_t* labels, const float* vectors, size_t n, int threads);
  // Makes size() at least `span`: labels up to it that were never inserted
  // are holes. The owner keeps size() equal to its own label count, so that
  // Add numbers new nodes as the owner does even when the highest labels
  // were left out (rows collected by GC before a rebuild or a load).
  void ExtendSpan(size_t span);

  // Approximate k nearest accepted labels, nearest first. `ef` >= k.
  std::vector<Neighbor> Search(const float* query, uint32_t k, uint32_t ef,
                               const LabelFilter& accept) const;

  // Exact k nearest accepted labels by brute force, nearest first.
  std::vector<Neighbor> ExactSearch(const float* query, uint32_t k, const LabelFilter& accept) const;

  // Both searches never return a NaN distance: a node whose distance to the
  // query is NaN (a vector stored before components were bounded, see
  // Limits::kMaxVectorComponent) has no rank and is left out; the walk
  // routes through it as if it were infinitely far.

  // Reachability. HNSW can leave a node without any level-0 in-link that the
  // entry point reaches (its neighbours pruned it while keeping closer
  // ones; clusters of duplicates do this most): no search can return it,
  // not even one for its own vector. Upper levels only route, so level 0 is
  // what decides whether a node can be found.
  //
  // Nodes the entry point cannot reach along links that never climb a level
  // (the upper levels as a search descends them, then level 0): one pass
  // over the links. May run concurrently with searches.
  size_t CountUnreachable() const;

  struct RepairStats {
    size_t unreachable_before = 0;
    size_t links_added = 0;  // in-links given to unreachable nodes
    size_t unreachable_after = 0;  // 0 unless every candidate neighbour was full of sole in-links
    double seconds = 0;
  };
  // Gives each unreachable node an in-link from its nearest reachable node
  // (found by searching the graph for the node's own vector): appended when
  // that node's list has room, else in place of its farthest link whose
  // target keeps another in-link. If a search for the node's vector still
  // does not return it, the next nearest node links it too (at most 3). Repeats (at most 8 rounds) until the entry
  // point reaches every node. Must not run concurrently with anything else
  // on the graph (like Add). Costs one pass over the links plus one search
  // per unreachable node.
  RepairStats Repair();

 private:
  struct Impl;
  HnswGraph(const GraphParams& params, std::unique_ptr<Impl> impl);
  GraphParams params_;
  std::unique_ptr<Impl> impl_;
};

// Normalises `v` in place to unit length for cosine (no-op for other
// metrics). A zero vector stays zero.
void PrepareVector(Metric metric, float* v, size_t dim);

}  // namespace verity
