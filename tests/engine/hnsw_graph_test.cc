#include <catch2/catch.hpp>

#include <filesystem>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <zlib.h>

#include "engine/test_data.h"
#include "index/distance.h"
#include "index/hnsw_graph.h"

using namespace verity;

namespace {

constexpr uint64_t kSpan = 1 << 20;  // the label bound the tests' graphs stay under

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST_CASE("a saved graph loads back and searches identically", "[engine][graph]") {
  test::TempDir dir;
  const GraphParams params{16, Metric::kL2, 8, 64};
  auto data = test::ClusteredVectors(3000, 16, 20, 1);
  auto graph = HnswGraph::Create(params, 100);
  REQUIRE(graph.ok());
  REQUIRE((*graph)->Add(data.data(), 3000, 2).ok());
  REQUIRE((*graph)->size() == 3000);
  const std::string path = dir.Sub("g.graph");
  REQUIRE((*graph)->Save(path, 7, 42).ok());
  REQUIRE_FALSE(std::filesystem::exists(path + ".tmp"));

  Version covered = 0;
  auto loaded = HnswGraph::Load(path, params, 7, kSpan, &covered);
  REQUIRE(loaded.ok());
  REQUIRE(covered == 42);
  REQUIRE((*loaded)->size() == 3000);
  for (size_t q = 0; q < 50; ++q) {
    auto a = (*graph)->Search(data.data() + q * 16, 10, 50, {});
    auto b = (*loaded)->Search(data.data() + q * 16, 10, 50, {});
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) REQUIRE(a[i].label == b[i].label);
    REQUIRE(a[0].label == q);  // the vector itself is its own nearest neighbour
  }

  // Wrong owner or parameters are refused.
  REQUIRE(HnswGraph::Load(path, params, 8, kSpan, &covered).status().code() == StatusCode::kDataLoss);
  GraphParams other = params;
  other.m = 16;
  REQUIRE(HnswGraph::Load(path, other, 7, kSpan, &covered).status().code() == StatusCode::kDataLoss);
  REQUIRE(HnswGraph::Load(dir.Sub("none"), params, 7, kSpan, &covered).status().code() == StatusCode::kNotFound);
  // A label span above the collection's label count is refused (it would
  // size the label table from the file).
  auto too_wide = HnswGraph::Load(path, params, 7, 2999, &covered);
  REQUIRE(too_wide.status().code() == StatusCode::kDataLoss);
  REQUIRE(too_wide.status().message().find("label span 3000") != std::string::npos);
}

TEST_CASE("a truncated or bit-flipped graph file is refused, never crashes", "[engine][graph]") {
  test::TempDir dir;
  const GraphParams params{8, Metric::kCosine, 6, 32};
  auto data = test::ClusteredVectors(500, 8, 5, 2);
  for (size_t i = 0; i < 500; ++i) PrepareVector(Metric::kCosine, data.data() + i * 8, 8);
  auto graph = HnswGraph::Create(params, 500);
  REQUIRE(graph.ok());
  REQUIRE((*graph)->Add(data.data(), 500, 1).ok());
  const std::string path = dir.Sub("g.graph");
  REQUIRE((*graph)->Save(path, 1, 3).ok());
  const std::string good = ReadFile(path);
  Version covered;

  int truncations = 0;
  for (size_t len = 0; len < good.size(); len += std::max<size_t>(1, good.size() / 97)) {
    WriteFile(path, good.substr(0, len));
    auto r = HnswGraph::Load(path, params, 1, kSpan, &covered);
    REQUIRE(r.status().code() == StatusCode::kDataLoss);
    ++truncations;
  }
  REQUIRE(truncations > 90);

  std::mt19937 rng(3);
  for (int flip = 0; flip < 200; ++flip) {
    std::string bad = good;
    const size_t pos = rng() % bad.size();
    bad[pos] = static_cast<char>(bad[pos] ^ (1 << (rng() % 8)));
    WriteFile(path, bad);
    auto r = HnswGraph::Load(path, params, 1, kSpan, &covered);
    INFO("flipped a bit at byte " << pos);
    REQUIRE(r.status().code() == StatusCode::kDataLoss);
  }
  WriteFile(path, good);
  REQUIRE(HnswGraph::Load(path, params, 1, kSpan, &covered).ok());
}

TEST_CASE("filtered graph search returns only accepted labels", "[engine][graph]") {
  const GraphParams params{16, Metric::kL2, 16, 100};
  auto data = test::ClusteredVectors(4000, 16, 30, 4);
  auto graph = HnswGraph::Create(params, 4000);
  REQUIRE(graph.ok());
  REQUIRE((*graph)->Add(data.data(), 4000, 2).ok());
  auto even = [](const void*, uint32_t label) { return label % 2 == 0; };
  LabelFilter accept{even, nullptr};
  for (size_t q = 0; q < 20; ++q) {
    auto hits = (*graph)->Search(data.data() + q * 16, 10, 64, accept);
    REQUIRE(hits.size() == 10);
    for (const auto& h : hits) REQUIRE(h.label % 2 == 0);
    auto exact = (*graph)->ExactSearch(data.data() + q * 16, 10, accept);
    for (size_t i = 1; i < exact.size(); ++i) REQUIRE(exact[i - 1].distance <= exact[i].distance);
  }
}

namespace {

// Recall@k of the graph's search against its exact search, over queries
// that are base vectors plus noise; also checks that every returned distance
// is the exact float distance of the returned label's vector.
double GraphRecall(const HnswGraph& graph, const std::vector<float>& data, Metric metric, size_t dim,
                   uint32_t ef, uint64_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  const size_t n = data.size() / dim;
  size_t found = 0, wanted = 0;
  for (int q = 0; q < 100; ++q) {
    const size_t base = q * 37 % n;
    std::vector<float> query(data.begin() + base * dim, data.begin() + (base + 1) * dim);
    for (auto& x : query) x += noise(rng) * (std::abs(x) + 1.0f);
    PrepareVector(metric, query.data(), dim);
    const auto hits = graph.Search(query.data(), 10, ef, {});
    const auto truth = graph.ExactSearch(query.data(), 10, {});
    REQUIRE(hits.size() == 10);
    for (const auto& h : hits) {
      REQUIRE(h.distance == Distance(metric, query.data(), data.data() + size_t{h.label} * dim, dim));
      for (const auto& t : truth) found += t.label == h.label;
    }
    wanted += truth.size();
  }
  return static_cast<double>(found) / static_cast<double>(wanted);
}

}  // namespace

TEST_CASE("the quantized search loop keeps recall and returns exact distances for every metric",
          "[engine][graph][quantizer]") {
  const size_t dim = 32;
  for (Metric metric : {Metric::kL2, Metric::kCosine, Metric::kIp}) {
    INFO("metric " << static_cast<int>(metric));
    auto data = test::ClusteredVectors(6000, dim, 40, 9);
    for (size_t i = 0; i < 6000; ++i) PrepareVector(metric, data.data() + i * dim, dim);
    auto graph = HnswGraph::Create({static_cast<uint32_t>(dim), metric, 16, 100}, 100);
    REQUIRE(graph.ok());
    REQUIRE((*graph)->Add(data.data(), 6000, 2).ok());
    const double recall = GraphRecall(**graph, data, metric, dim, 64, 1);
    std::printf("quantized loop, metric %d: recall@10 %.3f at ef 64\n", static_cast<int>(metric), recall);
    CHECK(recall >= 0.95);
    CHECK((*graph)->routing().routes_on_codes == (metric != Metric::kIp));
  }
}

TEST_CASE("values outside the first batch's range retrain the quantizer, and uneven dimensions route on floats",
          "[engine][graph][quantizer]") {
  const size_t dim = 32;
  // wide: dimension 0 spans 1000 times the range of the others, which codes
  // with one step cannot resolve.
  for (bool wide : {false, true}) {
    INFO("wide " << wide);
    test::TempDir dir;
    auto data = test::ClusteredVectors(6000, dim, 40, 10);
    if (wide) {
      for (size_t i = 0; i < 6000; ++i) data[i * dim] *= 1000.0f;
    }
    // The second half lies three times farther out than the first batch.
    for (size_t i = 3000 * dim; i < data.size(); ++i) data[i] *= 3.0f;
    const GraphParams params{static_cast<uint32_t>(dim), Metric::kL2, 16, 100};
    auto graph = HnswGraph::Create(params, 100);
    REQUIRE(graph.ok());
    REQUIRE((*graph)->Add(data.data(), 200, 1).ok());  // trains on these 200
    const HnswGraph::Routing first = (*graph)->routing();
    CHECK(first.routes_on_codes == !wide);
    for (size_t at = 200; at < 6000; at += 400) {
      const size_t n = std::min<size_t>(400, 6000 - at);
      REQUIRE((*graph)->Add(data.data() + at * dim, n, 2).ok());
    }
    const HnswGraph::Routing last = (*graph)->routing();
    CHECK(last.routes_on_codes == !wide);
    CHECK(last.step > 2 * first.step);  // retrained on the wider range
    const double recall = GraphRecall(**graph, data, Metric::kL2, dim, 64, 2);
    std::printf("quantized loop, range growing, wide dimension %d: recall@10 %.3f at ef 64\n", wide, recall);
    CHECK(recall >= 0.95);

    // Reopened, it routes on the same codes: identical ids and distances.
    const std::string path = dir.Sub("g.graph");
    REQUIRE((*graph)->Save(path, 1, 1).ok());
    Version covered;
    auto loaded = HnswGraph::Load(path, params, 1, kSpan, &covered);
    REQUIRE(loaded.ok());
    CHECK((*loaded)->routing().routes_on_codes == last.routes_on_codes);
    CHECK((*loaded)->routing().step == last.step);
    for (size_t q = 0; q < 100; ++q) {
      const float* query = data.data() + q * 53 * dim;
      auto a = (*graph)->Search(query, 10, 40, {});
      auto b = (*loaded)->Search(query, 10, 40, {});
      REQUIRE(a.size() == b.size());
      for (size_t i = 0; i < a.size(); ++i) {
        REQUIRE(a[i].label == b[i].label);
        REQUIRE(a[i].distance == b[i].distance);
      }
    }
  }
}

TEST_CASE("the graph loader's fuzz seed is a graph file of the current format", "[engine][graph]") {
  // tests/fuzz/fuzz_graph_file.cc loads with these parameters. The seed is
  // what Save writes for this fixed graph (one insert thread: hnswlib's
  // levels come from a fixed seed, so the bytes are reproducible); when the
  // format changes, run this test with VERITY_REGENERATE_FUZZ_SEEDS=1.
  const std::string seed = std::string(VERITY_FUZZ_CORPUS) + "/fuzz_graph_file/small.graph";
  const GraphParams params{4, Metric::kL2, 4, 16};
  auto data = test::ClusteredVectors(24, 4, 3, 1);
  auto graph = HnswGraph::Create(params, 24);
  REQUIRE(graph.ok());
  REQUIRE((*graph)->Add(data.data(), 24, 1).ok());
  test::TempDir dir;
  const std::string path = dir.Sub("small.graph");
  REQUIRE((*graph)->Save(path, 1, 1).ok());
  if (std::getenv("VERITY_REGENERATE_FUZZ_SEEDS") != nullptr) WriteFile(seed, ReadFile(path));
  REQUIRE(ReadFile(seed) == ReadFile(path));
  Version covered;
  REQUIRE(HnswGraph::Load(seed, params, 1, kSpan, &covered).ok());
}

TEST_CASE("the graph loader refuses an upper link to a node without that level", "[engine][graph]") {
  // A fuzz find (tests/fuzz/corpus/fuzz_graph_file/upper-link-to-lower-node):
  // with its checksums fixed the file loaded, and the search's descent then
  // read the link list of a node on a level it does not have (a null
  // pointer). The loader now checks every upper link's target level.
  std::string bytes = ReadFile(std::string(VERITY_FUZZ_CORPUS) + "/fuzz_graph_file/upper-link-to-lower-node");
  REQUIRE(bytes.size() > 112);
  // As the fuzz target does: make the checksums match, so that the
  // structure checks are what is tested.
  const uint64_t body = bytes.size() - 112;
  std::memcpy(bytes.data() + 80, &body, 8);
  const uint32_t body_crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(bytes.data()) + 112, static_cast<uInt>(body)));
  std::memcpy(bytes.data() + 88, &body_crc, 4);
  const uint32_t header_crc =
      static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), 108));
  std::memcpy(bytes.data() + 108, &header_crc, 4);
  test::TempDir dir;
  const std::string path = dir.Sub("bad.graph");
  WriteFile(path, bytes);
  const GraphParams params{4, Metric::kL2, 4, 16};
  Version covered;
  auto loaded = HnswGraph::Load(path, params, 1, 1 << 16, &covered);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.status().code() == StatusCode::kDataLoss);
  CHECK(loaded.status().message().find("upper link leads to a node without that level") != std::string::npos);
}

// HNSW leaves some nodes without an in-link from the part of the graph the
// entry point reaches (#23: 0.13% of Fashion-MNIST); a small M on clustered
// data does it reliably, and one insert thread makes the graph the same on
// every run.
TEST_CASE("repair links every unreachable node so its own vector finds it", "[engine][graph]") {
  const size_t dim = 8, n = 6000;
  const auto data = test::ClusteredVectors(n, dim, n / 50, 3);
  auto created = HnswGraph::Create({static_cast<uint32_t>(dim), Metric::kL2, 4, 32}, 100);
  REQUIRE(created.ok());
  HnswGraph& graph = **created;
  REQUIRE(graph.Add(data.data(), n, 1).ok());

  // With ef >= n a search explores everything the entry point reaches, so
  // what it cannot find for its own vector is exactly what is unreachable.
  auto finds_itself = [&](uint32_t label, uint32_t ef) {
    for (const Neighbor& hit : graph.Search(data.data() + label * dim, 10, ef, {})) {
      if (hit.label == label) return true;
    }
    return false;
  };
  std::vector<uint32_t> lost;
  for (uint32_t i = 0; i < n; ++i) {
    if (!finds_itself(i, n)) lost.push_back(i);
  }
  const size_t unreachable = graph.CountUnreachable();
  INFO(unreachable << " unreachable nodes before the repair");
  REQUIRE(unreachable > 0);
  REQUIRE(lost.size() == unreachable);

  const HnswGraph::RepairStats stats = graph.Repair();
  CHECK(stats.unreachable_before == unreachable);
  CHECK(stats.links_added >= unreachable);
  CHECK(stats.unreachable_after == 0);
  CHECK(graph.CountUnreachable() == 0);
  // Each node that was lost is now found by its own vector at an ordinary ef,
  // as exact search finds it (its own vector is its nearest, at distance 0).
  for (uint32_t label : lost) {
    INFO("label " << label);
    const auto exact = graph.ExactSearch(data.data() + label * dim, 1, {});
    REQUIRE((exact.size() == 1 && exact[0].label == label && exact[0].distance == 0));
    CHECK(finds_itself(label, 64));
  }
  // A second repair has nothing to do.
  CHECK(graph.Repair().unreachable_before == 0);
}

// Vectors stored before components were bounded (Limits::kMaxVectorComponent)
// can have NaN distances (#23: ip, [3.4e38, -3.4e38, ...] against [1,2,3,4]
// was ranked first). Neither search may rank them.
TEST_CASE("a NaN distance is never ranked", "[engine][graph]") {
  const float big = 3.4e38f;
  for (Metric metric : {Metric::kIp, Metric::kL2}) {
    INFO("metric " << static_cast<int>(metric));
    std::vector<float> data = {big, big, big, big,     big, -big, big, -big,  1, 2, 3, 4,
                               0.5f, 0.5f, 0.5f, 0.5f, -1, -2, -3, -4};
    auto created = HnswGraph::Create({4, metric, 16, 64}, 16);
    REQUIRE(created.ok());
    HnswGraph& graph = **created;
    REQUIRE(graph.Add(data.data(), 5, 1).ok());
    const float query[4] = {1, 2, 3, 4};
    for (const auto& hits : {graph.Search(query, 5, 50, {}), graph.ExactSearch(query, 5, {})}) {
      REQUIRE_FALSE(hits.empty());
      for (size_t i = 0; i < hits.size(); ++i) {
        INFO("hit " << i << " label " << hits[i].label);
        CHECK_FALSE(std::isnan(hits[i].distance));
        if (i > 0) CHECK(hits[i - 1].distance <= hits[i].distance);
      }
      CHECK(hits[0].label == (metric == Metric::kIp ? 0u : 2u));
    }
  }
}
