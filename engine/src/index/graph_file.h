// The graph file (docs/graph-file-format.md): its header, its checksums and
// how it is written and read. Knows nothing of hnswlib: HnswGraph::Save
// describes its graph as a header and body pieces, and HnswGraph::Load gets
// back the verified header and the body's bytes, whose structure (link
// lists, levels, labels) it checks itself.
//
//   header  (sizeof(GraphFileHeader) = 112 bytes): magic, format version,
//           collection id, params, node count, label span, covered version,
//           node layout, entry point, max level, body size, body CRC-32,
//           quantizer, header CRC-32
//   body:   level-0 block (node_count * bytes_per_node), then per node its
//           upper level count (u32) and its upper-level link lists
//
// All integers little-endian (x86-64 only, checked at compile time).
// Thread-safety: free functions with no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "index/hnsw_graph.h"
#include "verity/status.h"
#include "verity/types.h"

namespace verity {

// 2: label_span (labels may have holes); 3: the quantizer's parameters.
constexpr uint32_t kGraphFileFormatVersion = 3;

// The fixed-size header of a graph file, as it is on disk.
struct GraphFileHeader {
  char magic[8];
  uint32_t format_version;
  uint32_t collection_id;
  uint32_t dimension;
  uint32_t metric;
  uint32_t m;
  uint32_t ef_construction;
  uint64_t node_count;
  uint64_t label_span;  // one past the highest label
  uint64_t covered_version;
  uint64_t bytes_per_node;        // hnswlib's size_data_per_element_
  uint64_t bytes_per_upper_list;  // hnswlib's size_links_per_element_
  uint32_t entry_point;
  int32_t max_level;
  uint64_t body_bytes;
  uint32_t body_crc;
  uint32_t quantizer_trained;  // 0 or 1 (0 only for an empty graph of an l2 / cosine collection)
  float quantizer_lo;
  float quantizer_step;
  uint32_t quantizer_routes;  // 0 or 1: the search routes on codes
  uint32_t header_crc;        // CRC-32 of all bytes above
};
static_assert(sizeof(GraphFileHeader) == 112, "graph file header layout changed");

// The body as the graph holds it in memory (borrowed, for the write).
struct GraphFileBody {
  const char* level0 = nullptr;  // node_count * bytes_per_node bytes
  const int* levels = nullptr;   // per node, its number of upper levels
  // Per node, levels[i] * bytes_per_upper_list bytes (unused when 0).
  const char* const* upper_lists = nullptr;
};

// Writes `header` (its magic, format version, body size and both CRCs
// filled in here) and `body` to `path` atomically: `path`.tmp, fsync,
// rename, fsync of the directory. Unavailable on I/O failure (`path`
// untouched).
Status WriteGraphFile(const std::string& path, GraphFileHeader header, const GraphFileBody& body);

// A graph file read whole, its header checked (ReadGraphFile).
struct GraphFileContents {
  GraphFileHeader header;
  std::string bytes;  // the whole file
  const char* body() const { return bytes.data() + sizeof(GraphFileHeader); }
};

// DataLoss "graph file <path>: <what>": how every check below fails.
Status GraphFileError(const std::string& path, const std::string& what);

// Reads `path` and checks its header: magic, format version, header CRC,
// the collection id and params, the body size, the quantizer's parameters
// and the label span (at most `max_label_span`). NotFound when there is no
// file; DataLoss saying what does not verify.
Result<GraphFileContents> ReadGraphFile(const std::string& path, const GraphParams& params, uint32_t collection_id,
                                        uint64_t max_label_span);

// The checks of a read file that follow the creation of its graph: the node
// layout against the graph's (`bytes_per_node`, `bytes_per_upper_list`),
// the entry point and max level, and the body CRC. DataLoss.
Status CheckGraphFileBody(const std::string& path, const GraphFileContents& file, size_t bytes_per_node,
                          size_t bytes_per_upper_list);

}  // namespace verity
