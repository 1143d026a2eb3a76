// libFuzzer target: the HNSW graph file loader (docs/graph-file-format.md).
// The input is written as a graph file and loaded; a file that does not
// check out must be refused with a Status, never crash. One that loads is
// searched. Each input is loaded twice: as it is, and with its body size and
// both CRC-32s made to match — random bytes almost never pass the checksums,
// so the second load is what reaches the structural checks behind them
// (link counts, links, levels, labels).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <zlib.h>

#include <cstring>
#include <vector>

#include "index/hnsw_graph.h"

namespace {

// Header offsets (docs/graph-file-format.md).
constexpr size_t kBodyBytes = 80, kBodyCrc = 88, kHeaderCrc = 108, kHeaderSize = 112;

void LoadAndSearch(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/verity-fuzz-graph-" + std::to_string(getpid()) + ".graph";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  verity::GraphParams params;
  params.dimension = 4;
  params.metric = verity::Metric::kL2;
  params.m = 4;
  params.ef_construction = 16;
  verity::Version covered = 0;
  auto graph = verity::HnswGraph::Load(path, params, /*collection_id=*/1, /*max_label_span=*/1 << 16, &covered);
  if (graph.ok()) {
    const float query[4] = {0.5f, -1.f, 2.f, 0.f};
    const verity::LabelFilter accept_all;  // null: every label
    (void)(*graph)->Search(query, 5, 16, accept_all);
    (void)(*graph)->ExactSearch(query, 5, accept_all);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  LoadAndSearch(data, size);
  if (size < kHeaderSize) return 0;
  std::vector<uint8_t> fixed(data, data + size);
  const uint64_t body = size - kHeaderSize;
  std::memcpy(fixed.data() + kBodyBytes, &body, 8);
  const uint32_t body_crc = static_cast<uint32_t>(crc32(0, fixed.data() + kHeaderSize, static_cast<uInt>(body)));
  std::memcpy(fixed.data() + kBodyCrc, &body_crc, 4);
  const uint32_t header_crc = static_cast<uint32_t>(crc32(0, fixed.data(), static_cast<uInt>(kHeaderCrc)));
  std::memcpy(fixed.data() + kHeaderCrc, &header_crc, 4);
  LoadAndSearch(fixed.data(), fixed.size());
  return 0;
}
