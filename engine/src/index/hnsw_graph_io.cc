// HnswGraph's side of Save and Load (hnsw_graph.h): the graph's memory
// written as a graph file (index/graph_file.h), and Load's steps that read it
// back with the structure checks that keep a bad file from sending the search
// loop out of bounds (Impl::LoadNodes, Impl::CheckLevels). Load itself is in
// hnsw_graph.cc, next to the quantized codes it rebuilds.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "index/graph_file.h"
#include "index/hnsw_graph.h"
#include "index/hnsw_graph_impl.h"

namespace verity {

Status HnswGraph::Save(const std::string& path, uint32_t collection_id, Version covered_version) const {
  const Hnsw& h = *impl_->hnsw;
  const size_t count = h.cur_element_count;
  GraphFileHeader header{};
  header.collection_id = collection_id;
  header.dimension = params_.dimension;
  header.metric = static_cast<uint32_t>(params_.metric);
  header.m = params_.m;
  header.ef_construction = params_.ef_construction;
  header.node_count = count;
  header.label_span = impl_->internal_of_label.size();
  header.covered_version = covered_version;
  header.bytes_per_node = h.size_data_per_element_;
  header.bytes_per_upper_list = h.size_links_per_element_;
  header.entry_point = count > 0 ? h.enterpoint_node_ : 0;
  header.max_level = count > 0 ? h.maxlevel_ : -1;
  if (impl_->codes && impl_->quantizer.trained) {
    header.quantizer_trained = 1;
    header.quantizer_lo = impl_->quantizer.lo;
    header.quantizer_step = impl_->quantizer.step;
    header.quantizer_routes = impl_->quantizer.routes ? 1 : 0;
  }
  GraphFileBody body;
  body.level0 = h.data_level0_memory_;
  body.levels = h.element_levels_.data();
  body.upper_lists = h.linkLists_;
  return WriteGraphFile(path, header, body);
}

namespace {

// Whether a link list holds at most `max_links` links, each to one of the
// `count` nodes.
bool ValidList(const Hnsw& h, linklistsizeint* list, size_t max_links, size_t count) {
  const size_t n = h.getListCount(list);
  if (n > max_links) return false;
  const tableint* links = reinterpret_cast<const tableint*>(list + 1);
  for (size_t j = 0; j < n; ++j) {
    if (links[j] >= count) return false;
  }
  return true;
}

}  // namespace

Status HnswGraph::Impl::LoadNodes(const std::string& path, const GraphFileContents& file) {
  // The checksum matched; still check structure so that a file written by a
  // buggy or foreign writer cannot send the search loop out of bounds.
  auto bad = [&](const std::string& what) { return GraphFileError(path, what); };
  const GraphFileHeader& header = file.header;
  const char* body = file.body();
  Hnsw& h = *hnsw;
  const size_t count = header.node_count;
  const size_t level0_bytes = count * h.size_data_per_element_;
  if (level0_bytes > header.body_bytes) return bad("level-0 block truncated");
  std::memcpy(h.data_level0_memory_, body, level0_bytes);
  size_t offset = level0_bytes;
  internal_of_label.assign(header.label_span, kMissing);
  for (size_t i = 0; i < count; ++i) {
    h.element_levels_[i] = 0;
    h.linkLists_[i] = nullptr;
  }
  h.cur_element_count = count;  // from here on the destructor frees what was allocated
  for (size_t i = 0; i < count; ++i) {
    uint32_t level;
    if (offset + sizeof(level) > header.body_bytes) return bad("upper levels truncated");
    std::memcpy(&level, body + offset, sizeof(level));
    offset += sizeof(level);
    if (level > static_cast<uint32_t>(header.max_level)) return bad("node level above max level");
    const size_t bytes = level * h.size_links_per_element_;
    if (offset + bytes > header.body_bytes) return bad("upper levels truncated");
    if (level > 0) {
      h.linkLists_[i] = static_cast<char*>(std::malloc(bytes + 1));
      if (h.linkLists_[i] == nullptr) return Status::ResourceExhausted("out of memory loading " + path);
      std::memcpy(h.linkLists_[i], body + offset, bytes);
      h.element_levels_[i] = static_cast<int>(level);
      for (uint32_t l = 1; l <= level; ++l) {
        if (!ValidList(h, h.get_linklist(static_cast<tableint>(i), static_cast<int>(l)), h.maxM_, count)) {
          return bad("bad upper link list");
        }
      }
    }
    offset += bytes;
    if (!ValidList(h, h.get_linklist0(static_cast<tableint>(i)), h.maxM0_, count)) return bad("bad level-0 link list");
    const labeltype label = h.getExternalLabel(static_cast<tableint>(i));
    if (label >= header.label_span || internal_of_label[label] != kMissing) {
      return bad("labels are not unique labels below the label span");
    }
    internal_of_label[label] = static_cast<tableint>(i);
    label_of_internal[i] = static_cast<uint32_t>(label);
    h.label_lookup_[label] = static_cast<tableint>(i);
  }
  if (offset != header.body_bytes) return bad("trailing bytes");
  return Status::Ok();
}

Status HnswGraph::Impl::CheckLevels(const std::string& path, const GraphFileHeader& header) {
  Hnsw& h = *hnsw;
  const size_t count = header.node_count;
  // A link on level l must lead to a node that has level l, or the descent
  // would read a link list the target does not have.
  for (size_t i = 0; i < count; ++i) {
    for (int l = 1; l <= h.element_levels_[i]; ++l) {
      linklistsizeint* list = h.get_linklist(static_cast<tableint>(i), l);
      const tableint* links = reinterpret_cast<const tableint*>(list + 1);
      for (size_t j = 0, n = h.getListCount(list); j < n; ++j) {
        if (h.element_levels_[links[j]] < l) {
          return GraphFileError(path, "an upper link leads to a node without that level");
        }
      }
    }
  }
  if (count > 0) {
    if (h.element_levels_[header.entry_point] != header.max_level) {
      return GraphFileError(path, "entry point is not on the top level");
    }
    h.enterpoint_node_ = header.entry_point;
    h.maxlevel_ = header.max_level;
  }
  return Status::Ok();
}

}  // namespace verity
