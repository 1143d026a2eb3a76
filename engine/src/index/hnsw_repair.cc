// HnswGraph's reachability check and repair (hnsw_graph.h: CountUnreachable,
// Repair): HNSW can leave a node that no search reaches; Repair gives each
// such node an in-link from its nearest reachable node.
#include <algorithm>
#include <chrono>
#include <vector>

#include "index/hnsw_graph.h"
#include "index/hnsw_graph_impl.h"

namespace verity {
namespace {

// Marks (1 in `seen`) every node reachable over level-0 links from the nodes
// on `stack`, which must be marked already.
void Flood(const Hnsw& h, std::vector<tableint>& stack, std::vector<uint8_t>& seen) {
  while (!stack.empty()) {
    const tableint id = stack.back();
    stack.pop_back();
    linklistsizeint* list = h.get_linklist0(id);
    const tableint* links = reinterpret_cast<const tableint*>(list + 1);
    for (int i = 0, n = h.getListCount(list); i < n; ++i) {
      if (seen[links[i]] == 0) {
        seen[links[i]] = 1;
        stack.push_back(links[i]);
      }
    }
  }
}

// Reachability from the entry point by paths that never climb a level (as
// a search moves: down through the upper levels, then along level 0): 1
// per reachable node. A node reached on an upper level is where a descent
// may end, so it seeds level 0.
std::vector<uint8_t> Reachable(const Hnsw& h) {
  std::vector<uint8_t> seen(h.cur_element_count, 0);
  if (h.cur_element_count == 0) return seen;
  std::vector<tableint> reached{h.enterpoint_node_};  // nodes reached on the levels above
  seen[h.enterpoint_node_] = 1;
  std::vector<tableint> stack;
  for (int level = h.maxlevel_; level > 0; --level) {
    stack = reached;
    while (!stack.empty()) {
      const tableint id = stack.back();
      stack.pop_back();
      linklistsizeint* list = h.get_linklist(id, level);
      const tableint* links = reinterpret_cast<const tableint*>(list + 1);
      for (int i = 0, n = h.getListCount(list); i < n; ++i) {
        if (seen[links[i]] == 0) {
          seen[links[i]] = 1;
          reached.push_back(links[i]);
          stack.push_back(links[i]);
        }
      }
    }
  }
  stack = std::move(reached);
  Flood(h, stack, seen);
  return seen;
}

size_t CountZeros(const std::vector<uint8_t>& seen) {
  return static_cast<size_t>(std::count(seen.begin(), seen.end(), uint8_t{0}));
}

}  // namespace

size_t HnswGraph::CountUnreachable() const { return CountZeros(Reachable(*impl_->hnsw)); }

// How many of its nearest reachable nodes a repair considers for an in-link.
constexpr uint32_t kRepairCandidates = 16;

namespace {

// Adds level-0 links for Repair, keeping each node's level-0 in-degree, so
// that a replaced link never takes a node's only one.
class LevelZeroLinker {
 public:
  explicit LevelZeroLinker(Hnsw& h) : h_(h), in_degree_(h.cur_element_count, 0) {
    for (size_t i = 0; i < h.cur_element_count; ++i) {
      linklistsizeint* list = h.get_linklist0(static_cast<tableint>(i));
      const tableint* links = reinterpret_cast<const tableint*>(list + 1);
      for (int j = 0, c = h.getListCount(list); j < c; ++j) ++in_degree_[links[j]];
    }
  }

  // Links `u` from `v`: true when done. A full list gives up its farthest
  // link whose target keeps an in-link: one with another in-link, or one
  // that `u` links to (or now can), since `u` becomes reachable through `v`.
  bool Link(tableint v, tableint u) {
    if (HasLink(v, u) || Append(v, u)) return true;
    linklistsizeint* list = h_.get_linklist0(v);
    tableint* links = reinterpret_cast<tableint*>(list + 1);
    const int count = h_.getListCount(list);
    const bool u_has_room = h_.getListCount(h_.get_linklist0(u)) < h_.maxM0_;
    int worst = -1;
    float worst_distance = -1;
    for (int j = 0; j < count; ++j) {
      const tableint w = links[j];
      if (in_degree_[w] < 2 && !u_has_room && !HasLink(u, w)) continue;
      const float d = Distance(v, w);
      if (worst < 0 || d > worst_distance) {
        worst = j;
        worst_distance = d;
      }
    }
    if (worst < 0) return false;
    const tableint w = links[worst];
    --in_degree_[w];
    links[worst] = u;
    ++in_degree_[u];
    if (in_degree_[w] == 0 && !HasLink(u, w)) Append(u, w);
    return true;
  }

 private:
  float Distance(tableint a, tableint b) const {
    return h_.fstdistfunc_(h_.getDataByInternalId(a), h_.getDataByInternalId(b), h_.dist_func_param_);
  }
  bool HasLink(tableint from, tableint to) const {
    linklistsizeint* list = h_.get_linklist0(from);
    const tableint* links = reinterpret_cast<const tableint*>(list + 1);
    for (int j = 0, c = h_.getListCount(list); j < c; ++j) {
      if (links[j] == to) return true;
    }
    return false;
  }
  bool Append(tableint from, tableint to) {
    linklistsizeint* list = h_.get_linklist0(from);
    const int count = h_.getListCount(list);
    if (static_cast<size_t>(count) >= h_.maxM0_) return false;
    reinterpret_cast<tableint*>(list + 1)[count] = to;
    h_.setListCount(list, static_cast<unsigned short>(count + 1));
    ++in_degree_[to];
    return true;
  }

  Hnsw& h_;
  std::vector<uint32_t> in_degree_;
};

}  // namespace

HnswGraph::RepairStats HnswGraph::Repair() {
  const auto start = std::chrono::steady_clock::now();
  Hnsw& h = *impl_->hnsw;
  const size_t n = h.cur_element_count;
  RepairStats stats;
  std::vector<uint8_t> seen = Reachable(h);
  stats.unreachable_before = CountZeros(seen);
  size_t unreachable = stats.unreachable_before;
  if (unreachable > 0) {
    LevelZeroLinker linker(h);
    const uint32_t ef = std::max<uint32_t>(64, params_.ef_construction);
    std::vector<tableint> stack;
    for (int round = 0; round < 8 && unreachable > 0; ++round) {
      for (size_t i = 0; i < n; ++i) {
        const tableint u = static_cast<tableint>(i);
        if (seen[u] != 0) continue;  // reached through a node linked before it
        // The search only visits reachable nodes: its hits are candidates.
        // Linked from the nearest one that can take it; if a search for its
        // own vector still misses it, from the next one too (at most 3).
        const uint32_t label = impl_->label_of_internal[u];
        const std::vector<Neighbor> near = Search(impl_->vector(u), kRepairCandidates, ef, {});
        int links = 0;
        for (const Neighbor& hit : near) {
          const tableint v = impl_->internal_of_label[hit.label];
          if (v == u || seen[v] == 0 || !linker.Link(v, u)) continue;
          ++stats.links_added;
          if (seen[u] == 0) {
            seen[u] = 1;
            stack.push_back(u);
            Flood(h, stack, seen);
          }
          const std::vector<Neighbor> found = Search(impl_->vector(u), kRepairCandidates, ef, {});
          const bool findable = std::any_of(found.begin(), found.end(),
                                            [&](const Neighbor& f) { return f.label == label; });
          if (findable || ++links == 3) break;
        }
      }
      // A replaced link may have been the last one reachable from the entry
      // point (its target's other in-links came from unreachable nodes).
      seen = Reachable(h);
      unreachable = CountZeros(seen);
    }
  }
  stats.unreachable_after = unreachable;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace verity
