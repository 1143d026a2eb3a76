// Persistence: close and reopen gives identical results; a damaged or stale
// graph file is rebuilt or caught up from RocksDB, with identical results.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "engine/test_data.h"

using namespace verity;
namespace fs = std::filesystem;

namespace {

constexpr size_t kDim = 16;

struct LogCapture {
  std::mutex mu;
  std::vector<std::string> lines;
  DatabaseOptions Options() {
    DatabaseOptions options;
    options.insert_threads = 1;  // a single-threaded build is deterministic
    options.log = [this](LogLevel, const std::string& m) {
      std::lock_guard lock(mu);
      lines.push_back(m);
    };
    return options;
  }
  bool Saw(const std::string& needle) {
    std::lock_guard lock(mu);
    for (const auto& l : lines) if (l.find(needle) != std::string::npos) return true;
    return false;
  }
  void Clear() {
    std::lock_guard lock(mu);
    lines.clear();
  }
};

std::vector<std::vector<std::pair<std::string, float>>> RunQueries(Database& db, const std::vector<float>& data) {
  std::vector<std::vector<std::pair<std::string, float>>> out;
  for (size_t q = 0; q < 60; ++q) {
    SearchRequest request;
    request.vector.assign(data.begin() + static_cast<long>(q * 31 * kDim), data.begin() + static_cast<long>((q * 31 + 1) * kDim));
    request.k = 10;
    request.ef = 40;
    request.plan = SearchPlan::kGraph;  // the graph is what is under test
    if (q % 3 == 0) request.filter = Filter::Eq("parity", std::string("odd"));
    auto result = db.Search("p", request);
    REQUIRE(result.ok());
    std::vector<std::pair<std::string, float>> hits;
    for (const auto& h : result->hits) hits.emplace_back(h.id, h.distance);
    out.push_back(hits);
  }
  return out;
}

std::string GraphFile(const std::string& dir) {
  for (const auto& entry : fs::directory_iterator(dir + "/graphs")) {
    if (entry.path().extension() == ".graph") return entry.path().string();
  }
  return "";
}

void Load(Database& db, const std::vector<float>& data, size_t from, size_t to) {
  std::vector<Record> batch;
  for (size_t i = from; i < to; ++i) batch.push_back(test::MakeRecord(i, data.data() + i * kDim, kDim));
  REQUIRE(db.Upsert("p", batch).ok());
}

}  // namespace

TEST_CASE("close and reopen, with the graph intact, damaged or stale", "[engine][persistence]") {
  test::TempDir dir;
  LogCapture log;
  auto data = test::ClusteredVectors(6000, kDim, 20, 8);
  std::vector<std::vector<std::pair<std::string, float>>> before;
  {
    auto db = Database::Open(dir.path(), log.Options());
    REQUIRE(db.ok());
    REQUIRE((*db)->CreateCollection(test::MakeConfig("p", kDim)).ok());
    Load(**db, data, 0, 3000);
    Load(**db, data, 3000, 5000);
    REQUIRE((*db)->Delete("p", {"r1", "r2", "r3"}).ok());
    before = RunQueries(**db, data);
    REQUIRE((*db)->Close().ok());
  }
  const std::string graph = GraphFile(dir.path());
  REQUIRE_FALSE(graph.empty());

  SECTION("intact: loaded, not rebuilt, identical results") {
    auto db = Database::Open(dir.path(), log.Options());
    REQUIRE(db.ok());
    REQUIRE_FALSE(log.Saw("rebuilding"));
    REQUIRE(RunQueries(**db, data) == before);
    REQUIRE(*(*db)->Count("p") == 4997);
  }

  SECTION("truncated: rebuilt from RocksDB, identical results") {
    for (double fraction : {0.0, 0.01, 0.5, 0.999}) {
      log.Clear();
      const auto size = fs::file_size(graph);
      fs::resize_file(graph, static_cast<uintmax_t>(static_cast<double>(size) * fraction));
      auto db = Database::Open(dir.path(), log.Options());
      REQUIRE(db.ok());
      REQUIRE(log.Saw("rebuilding graph"));
      REQUIRE(RunQueries(**db, data) == before);
      REQUIRE((*db)->Close().ok());
      REQUIRE(fs::file_size(graph) == size);  // rewritten whole
    }
  }

  SECTION("bit flipped: rebuilt from RocksDB, identical results") {
    for (size_t offset : {size_t{3}, size_t{40}, size_t{200}, fs::file_size(graph) / 2, fs::file_size(graph) - 1}) {
      log.Clear();
      {
        std::fstream f(graph, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(static_cast<std::streamoff>(offset));
        char byte;
        f.read(&byte, 1);
        byte = static_cast<char>(byte ^ 0x10);
        f.seekp(static_cast<std::streamoff>(offset));
        f.write(&byte, 1);
      }
      auto db = Database::Open(dir.path(), log.Options());
      REQUIRE(db.ok());
      INFO("flipped byte " << offset);
      REQUIRE(log.Saw("rebuilding graph"));
      REQUIRE(RunQueries(**db, data) == before);
    }
  }

  SECTION("stale: an older graph file is caught up with newer rows") {
    const std::string saved = dir.Sub("old.graph");
    fs::copy_file(graph, saved);
    {
      auto db = Database::Open(dir.path(), log.Options());
      REQUIRE(db.ok());
      Load(**db, data, 5000, 6000);
      REQUIRE((*db)->Delete("p", {"r10"}).ok());
    }
    fs::copy_file(saved, graph, fs::copy_options::overwrite_existing);
    log.Clear();
    auto db = Database::Open(dir.path(), log.Options());
    REQUIRE(db.ok());
    REQUIRE(log.Saw("caught up 1000"));
    REQUIRE_FALSE(log.Saw("rebuilding"));
    REQUIRE(*(*db)->Count("p") == 5996);
    // Searching for a caught-up record finds it; the deleted one is gone.
    SearchRequest request;
    request.vector.assign(data.begin() + 5500 * kDim, data.begin() + 5501 * kDim);
    request.k = 1;
    auto r = (*db)->Search("p", request);
    REQUIRE(r->hits[0].id == "r5500");
    request.vector.assign(data.begin() + 10 * kDim, data.begin() + 11 * kDim);
    request.k = 5;
    auto near_deleted = (*db)->Search("p", request);
    REQUIRE(near_deleted.ok());
    for (const auto& hit : near_deleted->hits) REQUIRE(hit.id != "r10");
  }
}
