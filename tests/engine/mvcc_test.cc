// MVCC: after interleaved upserts and deletes, every read at every earlier
// version equals brute force over the rows valid then.
#include <catch2/catch.hpp>

#include <random>

#include "engine/test_data.h"

using namespace verity;

TEST_CASE("reads at every version equal brute force over the rows valid then", "[engine][mvcc]") {
  constexpr size_t kDim = 8;
  test::TempDir dir;
  DatabaseOptions options = test::QuietOptions();
  auto opened = Database::Open(dir.path(), options);
  REQUIRE(opened.ok());
  Database& db = **opened;
  REQUIRE(db.CreateCollection(test::MakeConfig("m", kDim)).ok());

  test::ReferenceModel model;
  std::mt19937_64 rng(5);
  auto data = test::ClusteredVectors(4000, kDim, 10, 6);
  size_t next_vector = 0;
  std::vector<std::string> ever;
  Version head = 0;
  for (int step = 0; step < 40; ++step) {
    if (step % 4 == 3 && !ever.empty()) {
      std::vector<std::string> ids;
      for (int i = 0; i < 30; ++i) {
        const std::string& id = ever[rng() % ever.size()];
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
      }
      auto w = db.Delete("m", ids);
      REQUIRE(w.ok());
      for (const auto& id : ids) model.Delete(w->version, id);
      head = w->version;
    } else {
      std::vector<Record> batch;
      std::vector<std::string> used;
      for (int i = 0; i < 80; ++i) {
        // Half new ids, half updates of earlier ones.
        const size_t id_number = (rng() % 2 == 0 || ever.empty()) ? ever.size() + i : rng() % ever.size();
        Record r = test::MakeRecord(id_number, data.data() + (next_vector++ % 4000) * kDim, kDim);
        if (std::find(used.begin(), used.end(), r.id) != used.end()) continue;
        used.push_back(r.id);
        batch.push_back(std::move(r));
      }
      auto w = db.Upsert("m", batch);
      REQUIRE(w.ok());
      for (const auto& r : batch) {
        model.Upsert(w->version, r);
        if (std::find(ever.begin(), ever.end(), r.id) == ever.end()) ever.push_back(r.id);
      }
      head = w->version;
    }
  }
  REQUIRE(head == 40);

  double recall_sum = 0;
  size_t recall_n = 0;
  for (Version v = 0; v <= head; ++v) {
    const auto live = model.At(v);
    REQUIRE(*db.Count("m", v) == live.size());
    Filter even = Filter::Eq("parity", std::string("even"));
    size_t even_count = 0;
    for (const auto& [id, r] : live) even_count += even.Matches(r.metadata);
    REQUIRE(*db.Count("m", v, &even) == even_count);

    // Get: every id ever written, live or not at v.
    for (size_t i = 0; i < ever.size(); i += 7) {
      auto got = db.Get("m", ever[i], v);
      auto it = live.find(ever[i]);
      if (it == live.end()) {
        REQUIRE(got.status().code() == StatusCode::kNotFound);
      } else {
        REQUIRE(got.ok());
        REQUIRE(got->record.vector == it->second.vector);
      }
    }
    // Scroll sees exactly the live ids.
    ScrollRequest sr;
    sr.at = v;
    sr.limit = 10000;
    auto page = db.Scroll("m", sr);
    REQUIRE(page.ok());
    REQUIRE(page->records.size() == live.size());
    // Search: exact path equals the model; graph path close to it and never
    // returns a row that is not valid at v.
    for (int q = 0; q < 5; ++q) {
      SearchRequest request;
      request.vector.assign(data.begin() + static_cast<long>(q * 97 * kDim), data.begin() + static_cast<long>((q * 97 + 1) * kDim));
      request.k = 10;
      request.ef = 100;
      request.at = v;
      request.plan = SearchPlan::kExact;
      auto exact = db.Search("m", request);
      REQUIRE(exact.ok());
      auto truth = model.TopK(v, request.vector, 10);
      REQUIRE(test::Ids(*exact) == truth);
      request.plan = SearchPlan::kGraph;
      request.with_vectors = true;
      auto approx = db.Search("m", request);
      REQUIRE(approx.ok());
      REQUIRE_FALSE(approx->exact);
      for (const auto& hit : approx->hits) {
        auto it = live.find(hit.id);
        REQUIRE(it != live.end());
        REQUIRE(hit.record->vector == it->second.vector);  // the row valid at v
        REQUIRE(hit.row_version <= v);
      }
      recall_sum += test::Recall(test::Ids(*approx), truth);
      ++recall_n;
    }
  }
  INFO("graph-path recall over all versions: " << recall_sum / recall_n);
  REQUIRE(recall_sum / recall_n >= 0.95);
}
