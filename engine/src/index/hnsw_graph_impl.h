// HnswGraph's private state, shared by the files that implement it
// (hnsw_graph.cc, index/hnsw_repair.cc): the only files besides hnswlib's
// own that see hnswlib. Not for use elsewhere in the engine.
//
// Thread-safety: as HnswGraph's (hnsw_graph.h).
#pragma once

#include <hnswlib/hnswlib.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "index/hnsw_graph.h"
#include "index/graph_file.h"
#include "index/quantizer.h"

namespace verity {

using hnswlib::labeltype;
using hnswlib::linklistsizeint;
using hnswlib::tableint;
using Hnsw = hnswlib::HierarchicalNSW<float>;

// internal_of_label's value for a label without a node (a hole).
constexpr tableint kMissing = std::numeric_limits<tableint>::max();

class KernelSpace;  // hnswlib's distance plug-in (hnsw_graph.cc)
class CodeStore;    // the quantized routing copy (hnsw_graph.cc)

struct HnswGraph::Impl {
  std::unique_ptr<KernelSpace> space;
  std::unique_ptr<Hnsw> hnsw;
  std::vector<tableint> internal_of_label;  // label -> hnswlib internal id, kMissing for holes
  std::vector<uint32_t> label_of_internal;  // internal id -> label (hnswlib keeps it inside the node)
  // Quantized routing copy, for l2 and cosine (null for ip, which searches
  // on floats: an inner product is not ranked by L2 between codes).
  std::unique_ptr<CodeStore> codes;
  ScalarQuantizer quantizer;
  size_t clamped_since_training = 0;  // nodes with a clamped component

  const float* vector(tableint id) const {
    return reinterpret_cast<const float*>(hnsw->getDataByInternalId(id));
  }
  // Retrains the quantizer on every node and re-encodes all codes.
  void Retrain(size_t dim);
  // Load's steps after the file's header and checksums verified
  // (index/graph_file.h): the nodes, their link lists and labels from the
  // body; then the levels the upper links lead to and the entry point.
  // DataLoss saying what does not verify.
  Status LoadNodes(const std::string& path, const GraphFileContents& file);
  Status CheckLevels(const std::string& path, const GraphFileHeader& header);
};

}  // namespace verity
