// Concurrency: several searching threads and one writer for a few seconds.
// Readers check that every hit is valid at the version they read and that
// results come nearest first; at the end the state equals the model.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include "engine/test_data.h"

using namespace verity;

TEST_CASE("searches run in parallel with a writer, safely", "[engine][concurrency]") {
  constexpr size_t kDim = 16;
  test::TempDir dir;
  DatabaseOptions options = test::QuietOptions();
  options.exact_search_max_rows = 256;  // mostly graph searches
  auto opened = Database::Open(dir.path(), options);
  REQUIRE(opened.ok());
  Database& db = **opened;
  REQUIRE(db.CreateCollection(test::MakeConfig("cc", kDim, 12, 80)).ok());
  auto data = test::ClusteredVectors(20000, kDim, 25, 21);

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> searches{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      while (!stop.load()) {
        SearchRequest request;
        const size_t q = rng() % 20000;
        request.vector.assign(data.begin() + static_cast<long>(q * kDim), data.begin() + static_cast<long>((q + 1) * kDim));
        request.k = 10;
        request.with_payload = (t % 2 == 0);
        if (t == 1) request.filter = Filter::Eq("parity", std::string("odd"));
        auto info = db.GetCollection("cc");
        if (t == 3 && info.ok() && info->head_version > 0) request.at = rng() % (info->head_version + 1);
        auto result = db.Search("cc", request);
        if (!result.ok()) {
          failures++;
          continue;
        }
        for (size_t i = 1; i < result->hits.size(); ++i) {
          if (result->hits[i - 1].distance > result->hits[i].distance) failures++;
        }
        // Spot-check visibility: the hit's row is the one valid at the version read.
        if (!result->hits.empty() && rng() % 8 == 0) {
          const auto& hit = result->hits[0];
          auto got = db.Get("cc", hit.id, result->version);
          if (!got.ok() || got->row_version != hit.row_version) failures++;
          if (request.filter && got.ok() && !request.filter->Matches(got->record.metadata)) failures++;
        }
        searches++;
      }
    });
  }

  test::ReferenceModel model;
  std::mt19937 rng(99);
  size_t next = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  Version head = 0;
  while (std::chrono::steady_clock::now() < deadline && next < 20000) {
    if (rng() % 4 == 0 && next > 100) {
      std::vector<std::string> ids;
      for (int i = 0; i < 20; ++i) {
        std::string id = "r" + std::to_string(rng() % next);
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
      }
      auto w = db.Delete("cc", ids);
      REQUIRE(w.ok());
      for (auto& id : ids) model.Delete(w->version, id);
      head = w->version;
    } else {
      std::vector<Record> batch;
      for (int i = 0; i < 200 && next < 20000; ++i, ++next) batch.push_back(test::MakeRecord(next, data.data() + next * kDim, kDim));
      auto w = db.Upsert("cc", batch);
      REQUIRE(w.ok());
      for (auto& r : batch) model.Upsert(w->version, r);
      head = w->version;
    }
  }
  stop = true;
  for (auto& t : readers) t.join();
  INFO("searches: " << searches.load() << ", versions written: " << head);
  REQUIRE(failures.load() == 0);
  REQUIRE(searches.load() > 100);
  // The state equals the model: every live id, with its vector and text.
  const auto expected = model.At(head);
  REQUIRE(*db.Count("cc") == expected.size());
  ScrollRequest all;
  all.limit = Limits::kMaxScrollLimit;
  std::map<std::string, Record> got;
  for (;;) {
    auto page = db.Scroll("cc", all);
    REQUIRE(page.ok());
    for (const auto& r : page->records) got.emplace(r.record.id, r.record);
    if (page->next_cursor.empty()) break;
    all.start_after = page->next_cursor;
  }
  REQUIRE(got.size() == expected.size());
  for (const auto& [id, record] : expected) {
    INFO(id);
    auto it = got.find(id);
    REQUIRE(it != got.end());
    CHECK(it->second.vector == record.vector);
    CHECK(it->second.text == record.text);
  }
}

namespace {

Record Rec(const std::string& id, float x) {
  Record r;
  r.id = id;
  r.vector.assign(8, x);
  return r;
}

}  // namespace

// Writers that found the collection before a drop and waited for its lock
// must not write after it: their keys would bring it back at the next open.
// Three threads write (upserts, snapshots, retention) as fast as they can
// while it is dropped, in several rounds; after a reopen none is there.
TEST_CASE("a collection dropped under concurrent writers stays dropped after a reopen", "[engine][concurrency]") {
  test::TempDir dir;
  auto db = Database::Open(dir.path(), test::QuietOptions());
  REQUIRE(db.ok());
  constexpr int kRounds = 6;
  for (int round = 0; round < kRounds; ++round) {
    const std::string name = "d" + std::to_string(round);
    REQUIRE((*db)->CreateCollection(test::MakeConfig(name, 8)).ok());
    std::vector<std::thread> writers;
    std::mutex unexpected_mu;
    std::vector<std::string> unexpected;  // refusals other than NOT_FOUND (Catch's CHECK is not thread-safe)
    std::atomic<int> writing{0};          // writers with at least one write done
    for (int w = 0; w < 3; ++w) {
      writers.emplace_back([&, w] {
        for (int i = 0;; ++i) {
          Status s;
          if (w == 0) {
            std::vector<Record> batch;
            for (int j = 0; j < 200; ++j) batch.push_back(Rec("a" + std::to_string(j), float(i)));
            s = (*db)->Upsert(name, batch).status();
          } else if (w == 1) {
            s = (*db)->Upsert(name, {Rec("b" + std::to_string(i), 1)}).status();
            if (s.ok()) s = (*db)->CreateSnapshot(name, "s" + std::to_string(i), "", std::nullopt).status();
          } else {
            s = (*db)->SetRetention(name, RetentionPolicy{static_cast<uint32_t>(10 + i % 5), 0});
          }
          if (i == 0) writing.fetch_add(1);  // (a first write that failed counts: it is reported below)
          if (!s.ok()) {  // the drop: from then on each writer is refused
            if (s.code() != StatusCode::kNotFound) {
              std::lock_guard lock(unexpected_mu);
              unexpected.push_back(s.ToString());
            }
            return;
          }
        }
      });
    }
    // The drop comes while every writer is writing (not before the first).
    while (writing.load() < 3) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE((*db)->DropCollection(name).ok());
    for (auto& t : writers) t.join();
    CHECK(unexpected == std::vector<std::string>{});
    CHECK((*db)->GetCollection(name).status().code() == StatusCode::kNotFound);
  }
  REQUIRE((*db)->Close().ok());
  auto reopened = Database::Open(dir.path(), test::QuietOptions());
  REQUIRE(reopened.ok());
  auto list = (*reopened)->ListCollections();
  REQUIRE(list.ok());
  std::string back;
  for (const auto& c : *list) back += " " + c.config.name + " (" + std::to_string(c.live_records) + " records)";
  INFO("back after the reopen:" << back);
  CHECK(list->empty());
}

// GC rebuilds the graph without its dropped nodes while searches go on, and
// swaps it in (docs/snapshots.md): searches running across the rebuilds get
// valid results, nearest first, and find records that did not change.
TEST_CASE("searches run while GC rebuilds the graph, and stay valid", "[engine][concurrency][gc]") {
  constexpr size_t kDim = 16;
  constexpr size_t kStable = 1000;  // r0..r999 are never rewritten
  constexpr size_t kRecords = 3000;
  test::TempDir dir;
  DatabaseOptions options = test::QuietOptions();
  options.exact_search_max_rows = 64;  // graph searches
  options.gc_interval_seconds = 0;
  options.graph_rebuild_fraction = 0.1;
  auto opened = Database::Open(dir.path(), options);
  REQUIRE(opened.ok());
  Database& db = **opened;
  REQUIRE(db.CreateCollection(test::MakeConfig("g", kDim, 12, 80, RetentionPolicy{1, 0})).ok());
  const auto data = test::ClusteredVectors(kRecords * 4, kDim, 25, 5);
  auto write = [&](size_t from, size_t to, size_t round) {
    std::vector<Record> batch;
    for (size_t i = from; i < to; ++i) {
      batch.push_back(test::MakeRecord(i, data.data() + ((i + round * kRecords) % (kRecords * 4)) * kDim, kDim));
    }
    REQUIRE(db.Upsert("g", batch).ok());
  };
  write(0, kRecords, 0);

  std::atomic<bool> stop{false}, in_gc{false};
  std::atomic<uint64_t> searches{0}, during_gc{0}, stable_found{0};
  std::atomic<int> failures{0};
  std::mutex first_failure_mu;
  std::string first_failure;
  auto fail = [&](const std::string& what) {
    if (failures++ == 0) {
      std::lock_guard lock(first_failure_mu);
      first_failure = what;
    }
  };
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t + 7));
      while (!stop.load()) {
        const size_t id = rng() % kStable;
        SearchRequest request;
        request.vector.assign(data.begin() + static_cast<long>(id * kDim),
                              data.begin() + static_cast<long>((id + 1) * kDim));
        request.k = 10;
        request.with_payload = false;
        const bool gc_before = in_gc.load();
        auto result = db.Search("g", request);
        const bool gc_after = in_gc.load();
        if (!result.ok()) {
          fail(result.status().ToString());
          continue;
        }
        for (size_t i = 1; i < result->hits.size(); ++i) {
          if (result->hits[i - 1].distance > result->hits[i].distance) fail("hits out of order");
        }
        if (result->hits.size() != 10) fail("hits: " + std::to_string(result->hits.size()));
        for (const auto& hit : result->hits) {  // each hit is the row live at the version read
          auto got = db.Get("g", hit.id, result->version);
          // (A GC after a later write may have collected the version read.)
          if (got.status().code() == StatusCode::kFailedPrecondition) continue;
          if (!got.ok())
            fail(hit.id + " at version " + std::to_string(result->version) + ": " + got.status().ToString());
          else if (got->row_version != hit.row_version)
            fail(hit.id + ": row version differs");
        }
        if (!result->hits.empty() && result->hits[0].id == "r" + std::to_string(id)) ++stable_found;
        ++searches;
        if (gc_before && gc_after) ++during_gc;
      }
    });
  }
  int rebuilt = 0;
  for (size_t round = 1; round <= 4; ++round) {
    write(kStable, kRecords, round);  // every other record moves: its old node is dropped by GC
    in_gc = true;
    auto gc = db.Gc("g");
    in_gc = false;
    REQUIRE(gc.ok());
    if (gc->graph_rebuilt) ++rebuilt;
  }
  stop = true;
  for (auto& t : readers) t.join();
  INFO("searches " << searches.load() << " (" << during_gc.load() << " during GC), graph rebuilt " << rebuilt
                   << " times, first failure: " << first_failure);
  CHECK(failures.load() == 0);
  CHECK(rebuilt >= 3);
  CHECK(during_gc.load() > 0);
  // The unchanged records are found first (exact vector, distance 0) by
  // nearly every search: a graph swapped in with wrong labels would not.
  CHECK(static_cast<double>(stable_found.load()) >= 0.95 * static_cast<double>(searches.load()));
}

TEST_CASE("background graph checkpoints run beside writers and searchers, safely", "[engine][concurrency]") {
  constexpr size_t kDim = 16;
  constexpr size_t kRecords = 3000;
  test::TempDir dir;
  DatabaseOptions options = test::QuietOptions();
  options.gc_interval_seconds = 0;
  options.graph_checkpoint_nodes = 100;  // a save every 100 unsaved nodes: many, while writes go on
  options.graph_checkpoint_fraction = 0;
  options.graph_checkpoint_seconds = 0;
  const auto data = test::ClusteredVectors(kRecords, kDim, 10, 33);
  {
    auto opened = Database::Open(dir.path(), options);
    REQUIRE(opened.ok());
    Database& db = **opened;
    REQUIRE(db.CreateCollection(test::MakeConfig("cp", kDim)).ok());
    std::atomic<bool> stop{false};
    std::atomic<int> failures{0};
    std::thread reader([&] {
      std::mt19937 rng(7);
      while (!stop.load()) {
        SearchRequest request;
        const size_t q = rng() % kRecords;
        request.vector.assign(data.begin() + static_cast<long>(q * kDim),
                              data.begin() + static_cast<long>((q + 1) * kDim));
        request.k = 5;
        if (!db.Search("cp", request).ok()) failures++;
        if (!db.GetCollection("cp").ok()) failures++;
      }
    });
    std::vector<Status> writes;  // checked on this thread (Catch is not thread-safe)
    for (size_t from = 0; from < kRecords; from += 50) {
      std::vector<Record> batch;
      for (size_t i = from; i < from + 50; ++i) batch.push_back(test::MakeRecord(i, data.data() + i * kDim, kDim));
      writes.push_back(db.Upsert("cp", batch).status());
    }
    // The checkpointer catches up: fewer than 100 unsaved nodes at the end.
    uint64_t unsaved = kRecords;
    for (int tries = 0; tries < 300 && unsaved >= 100; ++tries) {
      unsaved = db.GetCollection("cp")->unsaved_graph_nodes;
      if (unsaved >= 100) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    stop = true;
    reader.join();
    for (const Status& s : writes) REQUIRE(s.ok());
    CHECK(failures.load() == 0);
    CHECK(unsaved < 100);
    REQUIRE(db.Close().ok());
  }
  auto reopened = Database::Open(dir.path(), options);
  REQUIRE(reopened.ok());
  CHECK(*(*reopened)->Count("cp") == kRecords);
}
