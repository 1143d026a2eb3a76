// libFuzzer target: the HNSW graph file loader (docs/graph-file-format.md).
// The input is written as a graph file and loaded; a file that does not
// check out must be refused with a Status, never crash. One that loads is
// searched.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "hnsw_graph.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
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
  auto graph = verity::HnswGraph::Load(path, params, /*collection_id=*/1, &covered);
  if (graph.ok()) {
    const float query[4] = {0.5f, -1.f, 2.f, 0.f};
    const verity::LabelFilter accept_all;  // null: every label
    (void)(*graph)->Search(query, 5, 16, accept_all);
    (void)(*graph)->ExactSearch(query, 5, accept_all);
  }
  return 0;
}
