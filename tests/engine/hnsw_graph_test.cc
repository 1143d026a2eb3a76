#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "engine/test_data.h"
#include "hnsw_graph.h"

using namespace verity;

namespace {

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
  auto loaded = HnswGraph::Load(path, params, 7, &covered);
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
  REQUIRE(HnswGraph::Load(path, params, 8, &covered).status().code() == StatusCode::kDataLoss);
  GraphParams other = params;
  other.m = 16;
  REQUIRE(HnswGraph::Load(path, other, 7, &covered).status().code() == StatusCode::kDataLoss);
  REQUIRE(HnswGraph::Load(dir.Sub("none"), params, 7, &covered).status().code() == StatusCode::kNotFound);
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
    auto r = HnswGraph::Load(path, params, 1, &covered);
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
    auto r = HnswGraph::Load(path, params, 1, &covered);
    INFO("flipped a bit at byte " << pos);
    REQUIRE(r.status().code() == StatusCode::kDataLoss);
  }
  WriteFile(path, good);
  REQUIRE(HnswGraph::Load(path, params, 1, &covered).ok());
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
