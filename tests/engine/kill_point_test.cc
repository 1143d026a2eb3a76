// SIGKILL in the middle of restore, export, import and GC, at the engine's
// named kill points and at random moments: after a restart the previous
// state (or, once the operation committed, the new one) is intact, reads
// agree with it, and the operation can be run again.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "engine/child_process.h"
#include "engine/test_data.h"

using namespace verity;
namespace fs = std::filesystem;

namespace {

constexpr size_t kDim = 8;

// Everything visible at a version: (id, row version, text, vector).
using State = std::vector<std::tuple<std::string, Version, std::string, std::vector<float>>>;

State Capture(Database& db, const std::string& name, std::optional<Version> at) {
  ScrollRequest r;
  r.at = at;
  r.limit = 10000;
  State out;
  for (;;) {
    auto page = db.Scroll(name, r);
    REQUIRE(page.ok());
    for (const auto& s : page->records) {
      out.emplace_back(s.record.id, s.row_version, s.record.text, s.record.vector);
    }
    if (page->next_cursor.empty()) break;
    r.start_after = page->next_cursor;
  }
  return out;
}

std::vector<std::string> Ids(const State& s) {
  std::vector<std::string> ids;
  for (const auto& row : s) ids.push_back(std::get<0>(row));
  return ids;
}

// A search for each of a few records' own vector finds that record.
void CheckSelfSearch(Database& db, const std::string& name, const State& state) {
  for (size_t i = 0; i < state.size(); i += state.size() / 25 + 1) {
    SearchRequest q;
    q.vector = std::get<3>(state[i]);
    q.k = 1;
    q.ef = 200;
    q.with_payload = false;
    auto r = db.Search(name, q);
    REQUIRE(r.ok());
    REQUIRE(r->hits.size() == 1);
    CHECK(r->hits[0].distance == Approx(0).margin(1e-4));
  }
}

struct Prepared {
  test::TempDir dir;
  std::string template_dir;
  Version snapshot = 0;  // "good"
  Version head = 0;      // after a bad ingest
  State at_snapshot, at_head;
};

// A data directory: collection "c" (6,000 records), snapshot "good", then
// 2,000 rewritten and 500 deleted records (the "bad ingest").
Prepared& Prepare() {
  static Prepared p = [] {
    Prepared out;
    out.template_dir = out.dir.Sub("template");
    DatabaseOptions options = test::QuietOptions();
    options.gc_interval_seconds = 0;
    auto db = Database::Open(out.template_dir, options);
    REQUIRE(db.ok());
    REQUIRE((*db)->CreateCollection(test::MakeConfig("c", kDim, 16, 100, RetentionPolicy{1, 0})).ok());
    auto data = test::ClusteredVectors(8000, kDim, 10, 21);
    std::vector<Record> batch;
    for (size_t i = 0; i < 6000; ++i) batch.push_back(test::MakeRecord(i, data.data() + i * kDim, kDim));
    REQUIRE((*db)->Upsert("c", batch).ok());
    auto snap = (*db)->CreateSnapshot("c", "good", "");
    REQUIRE(snap.ok());
    out.snapshot = snap->version;
    batch.clear();
    for (size_t i = 0; i < 2000; ++i) batch.push_back(test::MakeRecord(i, data.data() + (6000 + i) * kDim, kDim));
    REQUIRE((*db)->Upsert("c", batch).ok());
    std::vector<std::string> gone;
    for (size_t i = 5500; i < 6000; ++i) gone.push_back("r" + std::to_string(i));
    auto w = (*db)->Delete("c", gone);
    REQUIRE(w.ok());
    out.head = w->version;
    out.at_snapshot = Capture(**db, "c", out.snapshot);
    out.at_head = Capture(**db, "c", std::nullopt);
    REQUIRE((*db)->Export("c", out.snapshot, out.dir.Sub("export")).ok());
    REQUIRE((*db)->Close().ok());
    return out;
  }();
  return p;
}

// Runs the child with `point` armed (or killed after `kill_after_ms` when
// point is empty). Returns true if it died by SIGKILL.
bool RunChild(const std::vector<std::string>& args, const std::string& point, int kill_after_ms) {
  test::ChildOptions options;
  options.read_stdout = false;
  if (!point.empty()) options.env.emplace_back("VERITY_KILL_POINT", point);
  test::ChildProcess child;
  REQUIRE(child.Start(VERITY_KILL_CHILD, args, options));
  if (point.empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms));
    child.Kill();
  }
  const std::optional<int> waited = child.Wait();
  REQUIRE(waited.has_value());
  const int status = *waited;
  if (WIFEXITED(status)) {
    INFO("child exited with " << WEXITSTATUS(status));
    REQUIRE(WEXITSTATUS(status) == 0);
  }
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

std::unique_ptr<Database> OpenCopy(const Prepared& p, const std::string& dir) {
  auto db = Database::Open(dir, test::QuietOptions());
  REQUIRE(db.ok());
  return std::move(db).value();
}

std::string FreshCopy(const Prepared& p, const std::string& name) {
  const std::string dir = p.dir.Sub(name);
  fs::remove_all(dir);
  fs::copy(p.template_dir, dir, fs::copy_options::recursive);
  return dir;
}

}  // namespace

TEST_CASE("SIGKILL during restore leaves the old or the restored contents", "[engine][crash][restore]") {
  Prepared& p = Prepare();
  std::mt19937 rng(3);
  const std::vector<std::string> points = {"commit.after_wal", "restore.after_commit", "", "", "", ""};
  int killed = 0;
  for (size_t round = 0; round < points.size(); ++round) {
    INFO("round " << round << " point " << points[round]);
    const std::string dir = FreshCopy(p, "restore" + std::to_string(round));
    killed += RunChild({dir, "restore", std::to_string(p.snapshot)}, points[round], 50 + static_cast<int>(rng() % 400));
    auto db = OpenCopy(p, dir);
    auto info = db->GetCollection("c");
    REQUIRE(info.ok());
    const State now = Capture(*db, "c", std::nullopt);
    if (info->head_version == p.head) {
      CHECK(now == p.at_head);
    } else {
      REQUIRE(info->head_version == p.head + 1);
      CHECK(Ids(now) == Ids(p.at_snapshot));
    }
    CHECK(Capture(*db, "c", p.snapshot) == p.at_snapshot);
    CheckSelfSearch(*db, "c", now);
    // And it can be run (again) to completion.
    auto again = db->Restore("c", p.snapshot);
    REQUIRE(again.ok());
    CHECK(Ids(Capture(*db, "c", std::nullopt)) == Ids(p.at_snapshot));
  }
  CHECK(killed >= 2);
}

TEST_CASE("SIGKILL during export leaves the database intact and no export", "[engine][crash][export]") {
  Prepared& p = Prepare();
  for (const std::string point : {"export.mid_records:1", "export.mid_records:4", "export.before_rename"}) {
    INFO(point);
    const std::string dir = FreshCopy(p, "export-kill");
    const std::string out = p.dir.Sub("export-kill-out");
    fs::remove_all(out);
    CHECK(RunChild({dir, "export", std::to_string(p.snapshot), out}, point, 0));
    CHECK_FALSE(fs::exists(out));
    // The killed export left its .partial-… directory, which is removed as
    // its own; the complete export beside it stays.
    auto cleaned = Database::RemoveUnfinishedExports(p.dir.path());
    REQUIRE(cleaned.ok());
    CHECK(cleaned->errors.empty());
    REQUIRE(cleaned->removed.size() == 1);
    CHECK(cleaned->removed[0].rfind(out + ".partial-", 0) == 0);
    CHECK_FALSE(fs::exists(cleaned->removed[0]));
    CHECK(fs::exists(p.dir.Sub("export") + "/manifest.json"));
    auto db = OpenCopy(p, dir);
    CHECK(Capture(*db, "c", std::nullopt) == p.at_head);
    CHECK(Capture(*db, "c", p.snapshot) == p.at_snapshot);
    REQUIRE(db->Export("c", p.snapshot, out).ok());
    REQUIRE(db->Import(out, "copy").ok());
    CHECK(Capture(*db, "copy", std::nullopt) == p.at_snapshot);
  }
}

TEST_CASE("SIGKILL during import leaves no trace, and the import can be run again", "[engine][crash][import]") {
  Prepared& p = Prepare();
  for (const std::string point : {"import.mid_rows:1", "import.mid_rows:5", "import.before_register"}) {
    INFO(point);
    const std::string dir = FreshCopy(p, "import-kill");
    CHECK(RunChild({dir, "import", p.dir.Sub("export"), "imported"}, point, 0));
    auto db = OpenCopy(p, dir);
    CHECK(db->GetCollection("imported").status().code() == StatusCode::kNotFound);
    auto list = db->ListCollections();
    REQUIRE(list.ok());
    CHECK(list->size() == 1);
    CHECK(Capture(*db, "c", std::nullopt) == p.at_head);
    REQUIRE(db->Import(p.dir.Sub("export"), "imported").ok());
    const State imported = Capture(*db, "imported", std::nullopt);
    CHECK(imported == p.at_snapshot);
    CheckSelfSearch(*db, "imported", imported);
  }
}

TEST_CASE("SIGKILL during GC keeps the retained version correct", "[engine][crash][gc]") {
  Prepared& p = Prepare();
  for (const std::string point : {"gc.after_horizon", "gc.mid_delete:1"}) {
    INFO(point);
    const std::string dir = FreshCopy(p, "gc-kill");
    CHECK(RunChild({dir, "gc"}, point, 0));  // unpins "good", then GC
    auto db = OpenCopy(p, dir);
    const State head = Capture(*db, "c", std::nullopt);
    CHECK(head == p.at_head);
    CHECK(db->Count("c", p.snapshot).status().code() == StatusCode::kFailedPrecondition);
    CheckSelfSearch(*db, "c", head);
    auto gc = db->Gc("c");
    REQUIRE(gc.ok());
    CHECK(Capture(*db, "c", std::nullopt) == p.at_head);
    CheckSelfSearch(*db, "c", head);
  }
}

namespace {

// Runs verity_kill_child DIR checkpoint-crash N NODES, which SIGKILLs
// itself; returns the unsaved nodes it printed just before.
uint64_t RunCheckpointCrash(const std::string& dir, size_t n, uint64_t nodes) {
  test::ChildProcess child;
  REQUIRE(child.Start(VERITY_KILL_CHILD, {dir, "checkpoint-crash", std::to_string(n), std::to_string(nodes)}));
  FILE* out = child.output();
  char line[128] = {0};
  const bool printed = std::fgets(line, sizeof(line), out) != nullptr;
  child.CloseOutput();
  const std::optional<int> waited = child.Wait();
  REQUIRE(waited.has_value());
  const int status = *waited;
  INFO("child status " << status << ", printed: " << line);
  REQUIRE(printed);
  REQUIRE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
  unsigned long long unsaved = 0;
  REQUIRE(std::sscanf(line, "UNSAVED %llu", &unsaved) == 1);
  return unsaved;
}

}  // namespace

TEST_CASE("graph checkpoints bound what a start after a crash re-inserts", "[engine][crash]") {
  constexpr size_t kRecords = 3000;
  for (const uint64_t every : {uint64_t{0}, uint64_t{500}}) {
    DYNAMIC_SECTION((every == 0 ? "no checkpoints" : "a checkpoint every 500 unsaved nodes")) {
      test::TempDir dir;
      const uint64_t unsaved = RunCheckpointCrash(dir.path(), kRecords, every);
      std::mutex log_mu;
      std::string log;
      DatabaseOptions options = test::QuietOptions();
      options.log = [&](LogLevel, const std::string& line) {
        std::lock_guard<std::mutex> lock(log_mu);
        log += line + "\n";
      };
      auto db = Database::Open(dir.path(), options);
      REQUIRE(db.ok());
      CHECK(*(*db)->Count("c") == kRecords);
      SearchRequest search;  // record 1234's own vector finds it
      for (int d = 0; d < 8; ++d) search.vector.push_back(static_cast<float>((1234 * 31 + d * 7) % 101));
      search.k = 3;
      auto hits = (*db)->Search("c", search);
      REQUIRE(hits.ok());
      REQUIRE_FALSE(hits->hits.empty());
      CHECK(hits->hits[0].distance == 0);
      std::lock_guard<std::mutex> lock(log_mu);
      INFO(log);
      if (every == 0) {
        // Only a clean stop saves the graph: every node is inserted again.
        CHECK(unsaved == kRecords);
        CHECK(log.find("rebuilding graph from rows (no graph file)") != std::string::npos);
      } else {
        // The file was saved in the background: the start re-inserts only
        // what came after the last checkpoint, fewer than 500 nodes.
        CHECK(unsaved < every);
        CHECK(log.find("rebuilding graph") == std::string::npos);
        if (unsaved > 0) CHECK(log.find("caught up " + std::to_string(unsaved)) != std::string::npos);
      }
    }
  }
}
