// Collections' graphs (collection/collections.h): catching a graph up with
// stored rows, reachability repair, saving the graph file, and the rebuild
// GC asks for.
#include <filesystem>

#include "collection/collections.h"
#include "storage/codec.h"
#include "storage/keys.h"

namespace verity {

std::string Collections::GraphPath(uint32_t collection_id) const {
  return dir_ + "/graphs/" + std::to_string(collection_id) + ".graph";
}

Status Collections::InsertStoredLabels(const Collection& c, HnswGraph& graph,
                                       const std::vector<std::string>& row_key_of_label, size_t from, size_t to) {
  const uint32_t dim = c.config.dimension;
  constexpr size_t kChunk = 8192;
  std::vector<float> chunk;
  std::vector<uint32_t> labels;
  std::vector<float> vector;
  std::string bytes;
  for (size_t start = from; start < to; start += kChunk) {
    const size_t end = std::min(to, start + kChunk);
    chunk.clear();
    labels.clear();
    for (size_t label = start; label < end; ++label) {
      if (row_key_of_label[label].empty()) continue;  // collected by GC
      rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), vectors_, row_key_of_label[label], &bytes);
      VERITY_RETURN_IF_ERROR(FromRocks(rs, "read vector of label " + std::to_string(label)));
      VERITY_RETURN_IF_ERROR(DecodeVector(bytes, dim, &vector));
      PrepareVector(c.config.metric, vector.data(), dim);
      chunk.insert(chunk.end(), vector.begin(), vector.end());
      labels.push_back(static_cast<uint32_t>(label));
    }
    VERITY_RETURN_IF_ERROR(graph.AddLabels(labels.data(), chunk.data(), labels.size(), options_.insert_threads));
  }
  // Collected labels at the end are holes too: the graph's span is the
  // collection's label count, where the next write's labels start.
  graph.ExtendSpan(to);
  return Status::Ok();
}

bool Collections::RepairNewGraph(const Collection& c, HnswGraph& graph, const char* when) const {
  const HnswGraph::RepairStats r = graph.Repair();
  if (r.unreachable_before == 0) return false;
  Log(r.unreachable_after == 0 ? LogLevel::kInfo : LogLevel::kWarning,
      "collection \"" + c.config.name + "\": graph " + when + ": " + std::to_string(r.unreachable_before) + " of " +
          std::to_string(graph.node_count()) + " nodes were unreachable; " + std::to_string(r.links_added) +
          " links added, " + std::to_string(r.unreachable_after) + " left, in " +
          std::to_string(static_cast<int64_t>(r.seconds * 1000)) + " ms");
  return r.links_added > 0;
}

void Collections::RepairGraphIfDue(Collection& c, double min_fraction, const char* when) {
  if (c.nodes_since_repair == 0 || !c.graph) return;
  {
    std::shared_lock lock(c.graph_mu);
    if (c.graph_broken ||
        static_cast<double>(c.nodes_since_repair) < min_fraction * static_cast<double>(c.graph->node_count())) {
      return;
    }
    c.nodes_since_repair = 0;
    if (c.graph->CountUnreachable() == 0) return;
  }
  std::unique_lock lock(c.graph_mu);
  if (RepairNewGraph(c, *c.graph, when)) c.graph_rebuilt_unsaved = true;
}

Status Collections::PersistGraph(Collection& c) {
  std::shared_lock lock(c.graph_mu);
  if (c.graph_broken || store_.opened_read_only() || !c.graph) return Status::Ok();
  const size_t n = c.graph->size();
  if (n == c.saved_nodes && !c.graph_rebuilt_unsaved && std::filesystem::exists(GraphPath(c.id))) return Status::Ok();
  // Nodes beyond the head belong to a write in progress; the graph must not
  // claim to cover them. Writers hold graph_mu exclusively while inserting,
  // so under the shared lock every node is published.
  VERITY_RETURN_IF_ERROR(c.graph->Save(GraphPath(c.id), c.id, c.head));
  c.saved_nodes = n;
  c.graph_rebuilt_unsaved = false;
  return Status::Ok();
}

Status Collections::PersistGraphs() {
  std::vector<std::shared_ptr<Collection>> all;
  {
    std::shared_lock lock(mu_);
    for (auto& [name, c] : by_name_) all.push_back(c);
  }
  for (auto& c : all) {
    // Hold the writer lock so no write is half published while saving.
    std::lock_guard write(c->write_mu);
    if (c->dropped) continue;  // its graph file is gone with it
    VERITY_RETURN_IF_ERROR(PersistGraph(*c));
  }
  return Status::Ok();
}

Status Collections::RebuildGraph(Collection& c) {
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

}  // namespace verity
