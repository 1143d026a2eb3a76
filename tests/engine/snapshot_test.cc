// Snapshots, history, diff, restore, retention and GC, export and import
// (issue #4): every read at a snapshot equals brute force over its rows,
// after further writes and after GC; GC removes exactly what no retained
// version can see; diff and restore agree with a brute-force comparison.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include <sys/file.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "engine/test_data.h"
#include "util/sha256.h"

using namespace verity;

namespace {

constexpr size_t kDim = 8;
using Live = std::map<std::string, Record>;

bool SameRecord(const Record& a, const Record& b) {
  return a.id == b.id && a.vector == b.vector && a.text == b.text && a.document_id == b.document_id &&
         a.metadata == b.metadata;
}

// Everything a reader can see at `at` equals `expected`: count, every row
// (scroll and get), exact search, and graph search with high recall.
void CheckReadsAt(Database& db, const std::string& name, Version at, const Live& expected) {
  INFO("version " << at);
  auto count = db.Count(name, at);
  REQUIRE(count.ok());
  CHECK(*count == expected.size());
  ScrollRequest scroll;
  scroll.at = at;
  scroll.limit = 10000;
  auto page = db.Scroll(name, scroll);
  REQUIRE(page.ok());
  REQUIRE(page->records.size() == expected.size());
  size_t i = 0;
  for (const auto& [id, record] : expected) {
    CHECK(SameRecord(page->records[i].record, record));
    ++i;
  }
  for (auto it = expected.begin(); it != expected.end(); std::advance(it, std::min<size_t>(37, std::distance(it, expected.end())))) {
    auto got = db.Get(name, it->first, at);
    REQUIRE(got.ok());
    CHECK(SameRecord(got->record, it->second));
  }
  auto queries = test::ClusteredVectors(20, kDim, 10, 99);
  double recall = 0;
  for (size_t q = 0; q < 20; ++q) {
    SearchRequest request;
    request.vector.assign(queries.begin() + q * kDim, queries.begin() + (q + 1) * kDim);
    request.k = 10;
    request.at = at;
    request.with_payload = false;
    const auto truth = test::ReferenceModel::TopKOf(expected, request.vector, 10);
    request.plan = SearchPlan::kExact;
    auto exact = db.Search(name, request);
    REQUIRE(exact.ok());
    CHECK(test::Ids(*exact) == truth);
    request.plan = SearchPlan::kAuto;
    request.ef = 100;
    auto approx = db.Search(name, request);
    REQUIRE(approx.ok());
    recall += test::Recall(test::Ids(*approx), truth);
  }
  CHECK(recall / 20 >= 0.9);
}

// A collection "s" with `n` records; returns the model.
struct Fixture {
  test::TempDir dir;
  std::unique_ptr<Database> db;
  test::ReferenceModel model;
  std::vector<float> data = test::ClusteredVectors(20000, kDim, 10, 3);
  size_t next_vector = 0;
  Version head = 0;

  explicit Fixture(RetentionPolicy retention = {}) {
    Open();
    CollectionConfig config;
    config.name = "s";
    config.dimension = kDim;
    config.m = 8;
    config.ef_construction = 64;
    config.retention = retention;
    REQUIRE(db->CreateCollection(config).ok());
  }
  void Open() {
    DatabaseOptions options = test::QuietOptions();
    options.gc_interval_seconds = 0;
    auto opened = Database::Open(dir.path(), options);
    REQUIRE(opened.ok());
    db = std::move(opened).value();
  }
  Record Make(size_t id_number) {
    return test::MakeRecord(id_number, data.data() + (next_vector++ % 20000) * kDim, kDim);
  }
  void Upsert(std::vector<Record> batch) {
    auto w = db->Upsert("s", batch);
    REQUIRE(w.ok());
    for (const auto& r : batch) model.Upsert(w->version, r);
    head = w->version;
  }
  void Delete(const std::vector<std::string>& ids) {
    auto w = db->Delete("s", ids);
    REQUIRE(w.ok());
    for (const auto& id : ids) model.Delete(w->version, id);
    head = w->version;
  }
  // Writes `n` records r0..r(n-1) in batches of 500.
  void Load(size_t n) {
    for (size_t start = 0; start < n; start += 500) {
      std::vector<Record> batch;
      for (size_t i = start; i < std::min(n, start + 500); ++i) batch.push_back(Make(i));
      Upsert(std::move(batch));
    }
  }
  // `writes` further single-record writes: updates, new ids and deletes.
  void Churn(size_t writes, size_t id_space, uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (size_t w = 0; w < writes;) {
      const size_t kind = rng() % 10;
      if (kind < 2) {
        std::vector<std::string> ids;
        for (int i = 0; i < 5; ++i) ids.push_back("r" + std::to_string(rng() % id_space));
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        Delete(ids);
        w += ids.size();
      } else {
        std::vector<Record> batch;
        std::set<std::string> used;
        for (int i = 0; i < 10; ++i) {
          Record r = Make(rng() % (id_space + id_space / 5));
          if (used.insert(r.id).second) batch.push_back(std::move(r));
        }
        w += batch.size();
        Upsert(std::move(batch));
      }
    }
  }
};

}  // namespace

TEST_CASE("snapshots: create, get, list, delete and their errors", "[engine][snapshot]") {
  Fixture f;
  f.Load(100);
  auto created = f.db->CreateSnapshot("s", "before", "first load");
  REQUIRE(created.ok());
  CHECK(created->version == f.head);
  CHECK(created->records == 100);
  CHECK(created->description == "first load");
  auto older = f.db->CreateSnapshot("s", "empty", "", Version{0});
  REQUIRE(older.ok());
  CHECK(older->records == 0);

  CHECK(f.db->CreateSnapshot("s", "before", "").status().code() == StatusCode::kAlreadyExists);
  CHECK(f.db->CreateSnapshot("s", "bad/name", "").status().code() == StatusCode::kInvalidArgument);
  CHECK(f.db->CreateSnapshot("s", "", "").status().code() == StatusCode::kInvalidArgument);
  CHECK(f.db->CreateSnapshot("s", "future", "", f.head + 1).status().code() == StatusCode::kInvalidArgument);
  CHECK(f.db->CreateSnapshot("nope", "x", "").status().code() == StatusCode::kNotFound);
  CHECK(f.db->CreateSnapshot("s", "long", std::string(5000, 'd')).status().code() == StatusCode::kInvalidArgument);
  CHECK(f.db->GetSnapshot("s", "missing").status().code() == StatusCode::kNotFound);
  CHECK(*f.db->SnapshotVersion("s", "before") == created->version);  // no count: what reads resolve
  CHECK(*f.db->SnapshotVersion("s", "empty") == 0);
  CHECK(f.db->SnapshotVersion("s", "missing").status().code() == StatusCode::kNotFound);
  CHECK(f.db->SnapshotVersion("nope", "before").status().code() == StatusCode::kNotFound);
  CHECK(f.db->DeleteSnapshot("s", "missing").code() == StatusCode::kNotFound);
  // A missing snapshot says so in its reason (the server names the request
  // field by it); a missing collection does not.
  for (const Status& s : {f.db->GetSnapshot("s", "missing").status(), f.db->SnapshotVersion("s", "missing").status(),
                          f.db->DeleteSnapshot("s", "missing")}) {
    CHECK(s.reason() == StatusReason::kSnapshotNotFound);
    CHECK(s.message() == "snapshot \"missing\" of \"s\" does not exist");
  }
  CHECK(f.db->SnapshotVersion("nope", "before").status().reason() == StatusReason::kNone);
  // A name longer than any snapshot's is not echoed whole.
  const std::string huge(100000, 'x');
  for (const Status& s : {f.db->GetSnapshot("s", huge).status(), f.db->DeleteSnapshot("s", huge)}) {
    CHECK(s.code() == StatusCode::kNotFound);
    CHECK(s.reason() == StatusReason::kSnapshotNotFound);
    CHECK(s.message().size() < 300);
    CHECK(s.message().find("100000 bytes; names are at most 128") != std::string::npos);
  }

  auto list = f.db->ListSnapshots("s");
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].name == "before");
  CHECK((*list)[1].name == "empty");
  auto info = f.db->GetCollection("s");
  REQUIRE(info.ok());
  CHECK(info->snapshots == 2);

  // Survives a restart.
  REQUIRE(f.db->Close().ok());
  f.Open();
  auto got = f.db->GetSnapshot("s", "before");
  REQUIRE(got.ok());
  CHECK(got->version == created->version);
  CHECK(got->records == 100);
  REQUIRE(f.db->DeleteSnapshot("s", "empty").ok());
  CHECK(f.db->GetSnapshot("s", "empty").status().code() == StatusCode::kNotFound);
  auto versions = f.db->ListVersions("s");
  REQUIRE(versions.ok());
  CHECK(versions->at(created->version).snapshots == std::vector<std::string>{"before"});
}

TEST_CASE("reads at a snapshot equal brute force after 1,000 further writes and after GC", "[engine][snapshot][gc]") {
  Fixture f(RetentionPolicy{1, 0});  // keep only the head (and pins)
  f.Load(3000);
  auto snap = f.db->CreateSnapshot("s", "pinned", "");
  REQUIRE(snap.ok());
  const Live at_snapshot = f.model.At(snap->version);
  const Version unpinned_old = f.head - 1;
  f.Churn(1000, 3000, 7);
  CheckReadsAt(*f.db, "s", snap->version, at_snapshot);
  CheckReadsAt(*f.db, "s", f.head, f.model.At(f.head));
  REQUIRE(f.db->Count("s", unpinned_old).ok());  // not collected yet

  auto gc = f.db->Gc("s");
  REQUIRE(gc.ok());
  CHECK(gc->oldest_retained == f.head);
  CHECK(gc->rows_removed > 0);
  CHECK(gc->nodes_dropped > 0);
  CHECK(gc->bytes_after < gc->bytes_before);
  CheckReadsAt(*f.db, "s", snap->version, at_snapshot);
  CheckReadsAt(*f.db, "s", f.head, f.model.At(f.head));

  // An unpinned old version is refused, naming the oldest retained one.
  auto refused = f.db->Count("s", unpinned_old);
  CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(refused.status().message(), Catch::Contains("oldest retained version is " + std::to_string(f.head)));
  CHECK(f.db->CreateSnapshot("s", "late", "", unpinned_old).status().code() == StatusCode::kFailedPrecondition);
  auto versions = f.db->ListVersions("s");
  REQUIRE(versions.ok());
  CHECK_FALSE(versions->at(unpinned_old).readable);
  CHECK(versions->at(snap->version).readable);

  // After a restart the same holds.
  REQUIRE(f.db->Close().ok());
  f.Open();
  CheckReadsAt(*f.db, "s", snap->version, at_snapshot);
  CHECK(f.db->Count("s", unpinned_old).status().code() == StatusCode::kFailedPrecondition);

  // Unpinned, the next GC collects it too.
  REQUIRE(f.db->DeleteSnapshot("s", "pinned").ok());
  auto second = f.db->Gc("s");
  REQUIRE(second.ok());
  CHECK(second->rows_removed > 0);
  CHECK(f.db->Count("s", snap->version).status().code() == StatusCode::kFailedPrecondition);
  CheckReadsAt(*f.db, "s", f.head, f.model.At(f.head));
}

TEST_CASE("GC keeps the retention window and pins of other holders", "[engine][gc]") {
  Fixture f(RetentionPolicy{5, 0});
  f.Load(600);
  f.Churn(300, 600, 11);
  const Version pinned = f.head - 20;
  REQUIRE(f.db->PinVersion("s", pinned, "log").ok());
  REQUIRE(f.db->PinVersion("s", pinned, "log").ok());  // idempotent
  auto gc = f.db->Gc("s");
  REQUIRE(gc.ok());
  CHECK(gc->oldest_retained == f.head - 4);
  for (Version v = f.head - 4; v <= f.head; ++v) CheckReadsAt(*f.db, "s", v, f.model.At(v));
  CheckReadsAt(*f.db, "s", pinned, f.model.At(pinned));
  CHECK(f.db->Count("s", f.head - 5).status().code() == StatusCode::kFailedPrecondition);
  // A second GC with nothing new to collect removes nothing.
  auto again = f.db->Gc("s");
  REQUIRE(again.ok());
  CHECK(again->rows_removed == 0);
  REQUIRE(f.db->UnpinVersion("s", pinned, "log").ok());
  REQUIRE(f.db->Gc("s").ok());
  CHECK(f.db->Count("s", pinned).status().code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("the time window keeps versions that were the head recently", "[engine][gc]") {
  Fixture f(RetentionPolicy{0, 3600});  // one hour, no count rule
  f.Load(200);
  f.Churn(100, 200, 3);
  auto gc = f.db->Gc("s");
  REQUIRE(gc.ok());
  CHECK(gc->rows_removed == 0);
  CHECK(gc->oldest_retained == 0);
  // Dropping the window to nothing collects the history.
  REQUIRE(f.db->SetRetention("s", RetentionPolicy{1, 0}).ok());
  auto after = f.db->Gc("s");
  REQUIRE(after.ok());
  CHECK(after->rows_removed > 0);
  CHECK(after->oldest_retained == f.head);
  CheckReadsAt(*f.db, "s", f.head, f.model.At(f.head));
}

TEST_CASE("GC rebuilds the graph without dropped nodes, and it survives a restart", "[engine][gc]") {
  Fixture f(RetentionPolicy{1, 0});
  f.Load(3000);
  // Rewrite half the records twice: many superseded nodes.
  for (int round = 0; round < 2; ++round) {
    std::vector<Record> batch;
    for (size_t i = 0; i < 1500; ++i) batch.push_back(f.Make(i));
    f.Upsert(std::move(batch));
  }
  auto before = f.db->GetCollection("s");
  REQUIRE(before.ok());
  CHECK(before->graph_nodes == 6000);
  auto gc = f.db->Gc("s");
  REQUIRE(gc.ok());
  CHECK(gc->nodes_dropped == 3000);
  CHECK(gc->graph_rebuilt);
  auto after = f.db->GetCollection("s");
  REQUIRE(after.ok());
  CHECK(after->graph_nodes == 3000);
  CheckReadsAt(*f.db, "s", f.head, f.model.At(f.head));
  // New writes after the rebuild, then a restart: the saved graph (with
  // label holes) loads and catches up.
  std::vector<Record> more;
  for (size_t i = 3000; i < 3100; ++i) more.push_back(f.Make(i));
  f.Upsert(std::move(more));
  REQUIRE(f.db->Close().ok());
  f.Open();
  auto reopened = f.db->GetCollection("s");
  REQUIRE(reopened.ok());
  CHECK(reopened->graph_nodes == 3100);
  CheckReadsAt(*f.db, "s", f.head, f.model.At(f.head));
}

// The highest labels collected: the rebuilt graph ends in holes, and the
// next write's nodes must still go in under the collection's labels (they
// went in under the graph's shorter span, so searches returned other
// records, or DATA_LOSS for a collected row).
TEST_CASE("writes after GC dropped the highest labels are found, before and after a restart", "[engine][gc]") {
  Fixture f(RetentionPolicy{1, 0});
  f.Load(400);
  std::vector<Record> tail;
  std::vector<std::string> tail_ids;
  for (size_t i = 1000; i < 1600; ++i) {  // more than graph_rebuild_fraction of the nodes
    tail.push_back(f.Make(i));
    tail_ids.push_back(tail.back().id);
  }
  f.Upsert(std::move(tail));
  f.Delete(tail_ids);
  auto gc = f.db->Gc("s");
  REQUIRE(gc.ok());
  REQUIRE(gc->graph_rebuilt);
  std::vector<Record> more;
  for (size_t i = 2000; i < 2100; ++i) more.push_back(f.Make(i));
  const Record probe = more.back();
  f.Upsert(std::move(more));
  auto find_probe = [&] {
    SearchRequest q;
    q.vector = probe.vector;
    q.k = 1;
    q.ef = 200;
    q.with_payload = true;
    auto r = f.db->Search("s", q);
    REQUIRE(r.ok());
    REQUIRE(r->hits.size() == 1);
    CHECK(r->hits[0].id == probe.id);
  };
  find_probe();
  CheckReadsAt(*f.db, "s", f.head, f.model.At(f.head));
  // The saved graph keeps the span; a restart, then more writes.
  REQUIRE(f.db->Close().ok());
  f.Open();
  find_probe();
  std::vector<Record> after_restart;
  for (size_t i = 3000; i < 3050; ++i) after_restart.push_back(f.Make(i));
  f.Upsert(std::move(after_restart));
  CheckReadsAt(*f.db, "s", f.head, f.model.At(f.head));
  // GC again, restart with no write in between, then write.
  std::vector<std::string> last_ids;
  for (size_t i = 3000; i < 3050; ++i) last_ids.push_back("r" + std::to_string(i));
  f.Delete(last_ids);
  gc = f.db->Gc("s");
  REQUIRE(gc.ok());
  REQUIRE(f.db->Close().ok());
  f.Open();
  std::vector<Record> final_batch;
  for (size_t i = 4000; i < 4020; ++i) final_batch.push_back(f.Make(i));
  f.Upsert(std::move(final_batch));
  CheckReadsAt(*f.db, "s", f.head, f.model.At(f.head));
}

TEST_CASE("diff equals a brute-force comparison, page by page", "[engine][diff]") {
  Fixture f;
  f.Load(800);
  const Version from = f.head;
  f.Churn(400, 800, 5);
  // A rewrite with identical contents is not a change.
  auto same = f.db->Get("s", "r1");
  if (same.ok()) f.Upsert({same->record});
  const Version to = f.head;

  const Live a = f.model.At(from), b = f.model.At(to);
  std::map<std::string, ChangeKind> expected;
  for (const auto& [id, r] : b) {
    auto it = a.find(id);
    if (it == a.end()) expected[id] = ChangeKind::kAdded;
    else if (!SameRecord(it->second, r)) expected[id] = ChangeKind::kChanged;
  }
  for (const auto& [id, r] : a) {
    if (b.count(id) == 0) expected[id] = ChangeKind::kRemoved;
  }
  REQUIRE(expected.size() > 50);

  std::map<std::string, ChangeKind> got;
  std::string cursor;
  uint64_t added = 0, removed = 0, changed = 0;
  int pages = 0;
  do {
    auto page = f.db->Diff("s", from, to, cursor, 17);
    REQUIRE(page.ok());
    ++pages;
    added = page->added;
    removed = page->removed;
    changed = page->changed;
    for (const auto& e : page->entries) CHECK(got.emplace(e.id, e.kind).second);
    cursor = page->next_cursor;
  } while (!cursor.empty());
  CHECK(got == expected);
  CHECK(pages > 1);
  CHECK(added == static_cast<uint64_t>(std::count_if(expected.begin(), expected.end(), [](auto& e) { return e.second == ChangeKind::kAdded; })));
  CHECK(removed == static_cast<uint64_t>(std::count_if(expected.begin(), expected.end(), [](auto& e) { return e.second == ChangeKind::kRemoved; })));
  CHECK(changed == static_cast<uint64_t>(std::count_if(expected.begin(), expected.end(), [](auto& e) { return e.second == ChangeKind::kChanged; })));
  // The other direction swaps added and removed.
  auto reverse = f.db->Diff("s", to, from, "", 10000);
  REQUIRE(reverse.ok());
  CHECK(reverse->added == removed);
  CHECK(reverse->removed == added);
  CHECK(f.db->Diff("s", from, to + 1).status().code() == StatusCode::kInvalidArgument);
  CHECK(f.db->Diff("s", from, to, "", 0).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("restore makes a new head equal to the snapshot, and can be undone", "[engine][restore]") {
  Fixture f;
  f.Load(700);
  auto snap = f.db->CreateSnapshot("s", "good", "");
  REQUIRE(snap.ok());
  f.Churn(300, 700, 9);
  const Version bad = f.head;
  const Live bad_contents = f.model.At(bad);
  auto nodes_before = f.db->GetCollection("s");
  REQUIRE(nodes_before.ok());

  auto restored = f.db->Restore("s", snap->version);
  REQUIRE(restored.ok());
  // The restored rows revive their old graph nodes: no new node.
  auto nodes_after = f.db->GetCollection("s");
  REQUIRE(nodes_after.ok());
  CHECK(nodes_after->graph_nodes == nodes_before->graph_nodes);
  CHECK(restored->version == bad + 1);
  CHECK(restored->restored_from == snap->version);
  CHECK(restored->upserted + restored->deleted > 0);
  CheckReadsAt(*f.db, "s", restored->version, f.model.At(snap->version));
  auto diff = f.db->Diff("s", snap->version, restored->version);
  REQUIRE(diff.ok());
  CHECK(diff->added + diff->removed + diff->changed == 0);
  // History is kept: the bad version is still readable, and restoring it
  // undoes the restore.
  CheckReadsAt(*f.db, "s", bad, bad_contents);
  auto undo = f.db->Restore("s", bad);
  REQUIRE(undo.ok());
  CheckReadsAt(*f.db, "s", undo->version, bad_contents);
  CheckReadsAt(*f.db, "s", restored->version, f.model.At(snap->version));
  // Restoring the snapshot once more: its nodes already came back once, so
  // this writes copies (new nodes). Every version still reads right, also
  // after a restart and after GC.
  auto again = f.db->Restore("s", snap->version);
  REQUIRE(again.ok());
  auto nodes_again = f.db->GetCollection("s");
  REQUIRE(nodes_again.ok());
  CHECK(nodes_again->graph_nodes > nodes_before->graph_nodes);
  for (Version v : {snap->version, bad, restored->version, undo->version, again->version}) {
    const Version model_version = v == restored->version || v == again->version ? snap->version : v == undo->version ? bad : v;
    CheckReadsAt(*f.db, "s", v, f.model.At(model_version));
  }
  // ListSnapshots counts each snapshot's records in one pass over the nodes
  // (revived nodes have two ranges): every count equals Count at its version.
  for (Version v : {bad, restored->version, undo->version, again->version}) {
    REQUIRE(f.db->CreateSnapshot("s", "at-" + std::to_string(v), "", v).ok());
  }
  auto listed = f.db->ListSnapshots("s");
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 5);
  for (const SnapshotInfo& info : *listed) {
    INFO(info.name);
    CHECK(info.records == *f.db->Count("s", info.version));
  }
  REQUIRE(f.db->Close().ok());
  f.Open();
  for (Version v : {snap->version, bad, restored->version, undo->version, again->version}) {
    const Version model_version = v == restored->version || v == again->version ? snap->version : v == undo->version ? bad : v;
    CheckReadsAt(*f.db, "s", v, f.model.At(model_version));
  }
  REQUIRE(f.db->SetRetention("s", RetentionPolicy{1, 0}).ok());
  REQUIRE(f.db->PinVersion("s", restored->version, "test").ok());
  auto gc = f.db->Gc("s");
  REQUIRE(gc.ok());
  CHECK(gc->rows_removed > 0);
  CheckReadsAt(*f.db, "s", snap->version, f.model.At(snap->version));
  CheckReadsAt(*f.db, "s", restored->version, f.model.At(snap->version));
  CheckReadsAt(*f.db, "s", again->version, f.model.At(snap->version));
  REQUIRE(f.db->Close().ok());
  f.Open();
  CheckReadsAt(*f.db, "s", again->version, f.model.At(snap->version));
  CheckReadsAt(*f.db, "s", restored->version, f.model.At(snap->version));
  auto versions = f.db->ListVersions("s");
  REQUIRE(versions.ok());
  CHECK(versions->at(restored->version).is_restore);
  CHECK(versions->at(restored->version).restored_from == snap->version);

  // Into another collection: same dimension works, another one is refused.
  CollectionConfig other;
  other.name = "copy";
  other.dimension = kDim;
  REQUIRE(f.db->CreateCollection(other).ok());
  auto copied = f.db->Restore("s", snap->version, "copy");
  REQUIRE(copied.ok());
  CheckReadsAt(*f.db, "copy", copied->version, f.model.At(snap->version));
  other.name = "wide";
  other.dimension = kDim * 2;
  REQUIRE(f.db->CreateCollection(other).ok());
  auto refused = f.db->Restore("s", snap->version, "wide");
  CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(refused.status().message(), Catch::Contains("dimension"));
  CHECK(f.db->Restore("s", 99999).status().code() == StatusCode::kInvalidArgument);

  // Unpinned, GC drops the history; the head still reads right.
  REQUIRE(f.db->DeleteSnapshot("s", "good").ok());
  REQUIRE(f.db->UnpinVersion("s", restored->version, "test").ok());
  REQUIRE(f.db->Gc("s").ok());
  CheckReadsAt(*f.db, "s", again->version, f.model.At(snap->version));
  REQUIRE(f.db->Close().ok());
  f.Open();
  CheckReadsAt(*f.db, "s", again->version, f.model.At(snap->version));
}

TEST_CASE("restore under concurrent searches: every result is all old or all new", "[engine][restore][concurrency]") {
  Fixture f;
  // Old contents: ids a*; new contents: ids b* only.
  auto records_named = [&f](const std::string& prefix) {
    std::vector<Record> records;
    for (size_t i = 0; i < 400; ++i) {
      Record r = f.Make(i);
      r.id = prefix + std::to_string(i);
      records.push_back(std::move(r));
    }
    return records;
  };
  const std::vector<Record> old_records = records_named("a");
  f.Upsert(old_records);
  const Version old_version = f.head;
  std::vector<std::string> old_ids;
  for (const auto& r : old_records) old_ids.push_back(r.id);
  f.Delete(old_ids);
  const std::vector<Record> new_records = records_named("b");
  f.Upsert(new_records);

  std::atomic<bool> stop{false};
  std::atomic<int> mixed{0}, searches{0}, errors{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      auto queries = test::ClusteredVectors(50, kDim, 10, 100 + t);
      for (size_t q = 0; !stop; q = (q + 1) % 50) {
        SearchRequest request;
        request.vector.assign(queries.begin() + q * kDim, queries.begin() + (q + 1) * kDim);
        request.k = 50;
        request.with_payload = false;
        auto r = f.db->Search("s", request);
        if (!r.ok()) {
          ++errors;
          continue;
        }
        std::set<char> prefixes;
        for (const auto& h : r->hits) prefixes.insert(h.id[0]);
        if (prefixes.size() > 1) ++mixed;
        ++searches;
      }
    });
  }
  for (int round = 0; round < 6; ++round) {
    auto back = f.db->Restore("s", round % 2 == 0 ? old_version : f.head);
    REQUIRE(back.ok());
    f.head = back->version;
  }
  stop = true;
  for (auto& t : readers) t.join();
  CHECK(errors == 0);
  CHECK(mixed == 0);
  CHECK(searches > 0);
}

TEST_CASE("export then import: every record equal, corrupted exports are refused", "[engine][export]") {
  Fixture f;
  f.Load(1200);
  auto snap = f.db->CreateSnapshot("s", "v1", "");
  REQUIRE(snap.ok());
  f.Churn(200, 1200, 4);
  const std::string path = f.dir.Sub("export-v1");
  std::vector<uint64_t> progress;
  auto exported = f.db->Export("s", snap->version, path, [&](uint64_t done, uint64_t) { progress.push_back(done); });
  REQUIRE(exported.ok());
  REQUIRE(exported->collections.size() == 1);
  CHECK(exported->collections[0].records == 1200);
  CHECK_FALSE(progress.empty());
  CHECK(f.db->Export("s", snap->version, path).status().code() == StatusCode::kAlreadyExists);
  CHECK_FALSE(std::filesystem::exists(path + ".partial"));

  CHECK(f.db->Import(path).status().code() == StatusCode::kAlreadyExists);
  // A dimension above the caller's limit (verityd's --max-dimension) is
  // refused with its reason, which the server reads to name its flag.
  auto too_wide = f.db->Import(path, "wide", false, nullptr, kDim - 1);
  CHECK(too_wide.status().code() == StatusCode::kInvalidArgument);
  CHECK(too_wide.status().reason() == StatusReason::kDimensionOverLimit);
  CHECK(too_wide.status().message() == "export: collection \"wide\" has dimension 8, above the limit 7");
  auto imported = f.db->Import(path, "restored");
  REQUIRE(imported.ok());
  CHECK(imported->records == 1200);
  // Every record, with its row version, equal.
  ScrollRequest all;
  all.limit = 10000;
  all.at = snap->version;
  auto original = f.db->Scroll("s", all);
  all.at = ReadPoint::Head();
  auto copy = f.db->Scroll("restored", all);
  REQUIRE(original.ok());
  REQUIRE(copy.ok());
  REQUIRE(copy->records.size() == original->records.size());
  for (size_t i = 0; i < copy->records.size(); ++i) {
    CHECK(SameRecord(copy->records[i].record, original->records[i].record));
    CHECK(copy->records[i].row_version == original->records[i].row_version);
  }
  CheckReadsAt(*f.db, "restored", snap->version, f.model.At(snap->version));
  CHECK(f.db->Count("restored", snap->version - 1).status().code() == StatusCode::kFailedPrecondition);

  // Replace an existing collection atomically.
  auto replaced = f.db->Import(path, "s", true);
  REQUIRE(replaced.ok());
  CheckReadsAt(*f.db, "s", snap->version, f.model.At(snap->version));

  // Corruption: a flipped byte, a truncated file, a missing file.
  auto copy_export = [&](const std::string& name) {
    const std::string to = f.dir.Sub(name);
    std::filesystem::copy(path, to, std::filesystem::copy_options::recursive);
    return to;
  };
  auto before = f.db->ListCollections();
  REQUIRE(before.ok());
  {
    const std::string bad = copy_export("flipped");
    std::fstream file(bad + "/s/records.bin", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(5000);
    char c;
    file.seekg(5000);
    file.get(c);
    file.seekp(5000);
    file.put(static_cast<char>(c ^ 0x20));
    file.close();
    auto r = f.db->Import(bad, "x1");
    CHECK(r.status().code() == StatusCode::kDataLoss);
    CHECK_THAT(r.status().message(), Catch::Contains("s/records.bin"));
  }
  {
    const std::string bad = copy_export("truncated");
    std::filesystem::resize_file(bad + "/s/records.bin", 1000);
    auto r = f.db->Import(bad, "x2");
    CHECK(r.status().code() == StatusCode::kDataLoss);
    CHECK_THAT(r.status().message(), Catch::Contains("s/records.bin"));
  }
  {
    const std::string bad = copy_export("missing");
    std::filesystem::remove(bad + "/s/records.bin");
    auto r = f.db->Import(bad, "x3");
    CHECK(r.status().code() == StatusCode::kDataLoss);
    CHECK_THAT(r.status().message(), Catch::Contains("s/records.bin"));
  }
  {
    const std::string bad = copy_export("manifest");
    std::ofstream(bad + "/manifest.json", std::ios::app) << " ";
    auto r = f.db->Import(bad, "x4");
    CHECK(r.status().code() == StatusCode::kDataLoss);
    CHECK_THAT(r.status().message(), Catch::Contains("manifest.json"));
  }
  {  // A file that is a link (here to /dev/zero) is not followed.
    const std::string bad = copy_export("linked");
    std::filesystem::remove(bad + "/s/records.bin");
    std::filesystem::create_symlink("/dev/zero", bad + "/s/records.bin");
    auto r = f.db->Import(bad, "x5");
    CHECK(r.status().code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(r.status().message(), Catch::Contains("s/records.bin is a symbolic link"));
  }
  {  // A file that is not a regular file (here a FIFO, which would wait for
     // a writer if opened blocking) is not read.
    const std::string bad = copy_export("fifo");
    std::filesystem::remove(bad + "/s/records.bin");
    REQUIRE(::mkfifo((bad + "/s/records.bin").c_str(), 0600) == 0);
    auto r = f.db->Import(bad, "x5");
    CHECK(r.status().code() == StatusCode::kDataLoss);
    CHECK_THAT(r.status().message(), Catch::Contains("s/records.bin is not a regular file"));
  }
  {  // A collection directory that is a link to another export's (the same
     // bytes, so every hash matches) is refused naming it: no component of
     // an export is followed through a link (issue #23).
    const std::string bad = copy_export("dir-linked");
    std::filesystem::remove_all(bad + "/s");
    std::filesystem::create_symlink(path + "/s", bad + "/s");
    auto r = f.db->Import(bad, "x5");
    CHECK(r.status().code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(r.status().message(), Catch::Contains("export: s is a symbolic link"));
    // The manifest too.
    const std::string manifest_linked = copy_export("manifest-linked");
    std::filesystem::remove(manifest_linked + "/manifest.json");
    std::filesystem::create_symlink(path + "/manifest.json", manifest_linked + "/manifest.json");
    r = f.db->Import(manifest_linked, "x5");
    CHECK(r.status().code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(r.status().message(), Catch::Contains("export: manifest.json is a symbolic link"));
    // And the export's own directory: an export is read where it is.
    const std::string root_linked = f.dir.Sub("root-linked");
    std::filesystem::create_symlink(path, root_linked);
    r = f.db->Import(root_linked, "x5");
    CHECK(r.status().code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(r.status().message(), Catch::Contains("export " + root_linked + " is a symbolic link"));
    CHECK(f.db->GetCollection("x5").status().code() == StatusCode::kNotFound);
  }
  // The manifest's version, rewritten (with the manifest's hash recomputed:
  // a checksum, not a signature).
  auto with_version = [&](const std::string& name, const std::string& version) {
    const std::string bad = copy_export(name);
    std::ifstream in(bad + "/manifest.json");
    std::string manifest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t at = manifest.find("\"version\":");
    REQUIRE(at != std::string::npos);
    const size_t digits = manifest.find_first_of("0123456789", at + 10);
    const size_t end = manifest.find_first_not_of("0123456789", digits);
    manifest.replace(digits, end - digits, version);
    std::ofstream(bad + "/manifest.json", std::ios::trunc) << manifest;
    std::ofstream(bad + "/manifest.json.sha256", std::ios::trunc) << Sha256::Hex(manifest) << "\n";
    return bad;
  };
  {  // A version near 2^64 is refused; the next write would have wrapped to 0.
    auto r = f.db->Import(with_version("wrapping", "18446744073709551615"), "x6");
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(r.status().message(), Catch::Contains("version 18446744073709551615 is above the limit"));
  }
  {  // 2^62, where the write path stops (Limits::kMaxVersion), is refused
     // too: the collection could never be written (issue #23) ...
    auto r = f.db->Import(with_version("at-limit", std::to_string(Limits::kMaxVersion)), "x6");
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(r.status().message(),
               Catch::Contains("collection \"s\": version " + std::to_string(Limits::kMaxVersion) +
                               " is above the limit " + std::to_string(Limits::kMaxVersion - 1)));
    CHECK(f.db->GetCollection("x6").status().code() == StatusCode::kNotFound);
    // ... and 2^62 - 1 is imported, and takes one more write.
    auto imported = f.db->Import(with_version("below-limit", std::to_string(Limits::kMaxVersion - 1)), "x6");
    REQUIRE(imported.ok());
    CHECK(imported->collections[0].head_version == Limits::kMaxVersion - 1);
    auto written = f.db->Upsert("x6", {f.Make(999999)});
    REQUIRE(written.ok());
    CHECK(written->version == Limits::kMaxVersion);
    CHECK(f.db->Count("x6").value() == 1201);
    CHECK(f.db->Upsert("x6", {f.Make(999998)}).status().code() == StatusCode::kResourceExhausted);
    REQUIRE(f.db->DropCollection("x6").ok());
  }
  {  // The caller's own dimension limit applies as it does to a create.
    auto r = f.db->Import(path, "x7", false, nullptr, /*max_dimension=*/kDim - 1);
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(r.status().message(), Catch::Contains("has dimension " + std::to_string(kDim) + ", above the limit"));
  }
  {  // A file changed after it was verified (here: between the check of every
     // file and the read of its rows, from the progress callback) is refused:
     // its rows are hashed again as they are read.
    const std::string bad = copy_export("changed");
    const std::string file = bad + "/s/records.bin";
    bool changed = false;
    auto r = f.db->Import(bad, "x8", false, [&](uint64_t done, uint64_t total) {
      if (changed || done * 2 < total) return;  // step 2 (hashing) is the first half
      std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
      std::string contents((std::istreambuf_iterator<char>(io)), std::istreambuf_iterator<char>());
      const size_t at = contents.find("text of record 7");
      REQUIRE(at != std::string::npos);
      io.clear();
      io.seekp(static_cast<std::streamoff>(at));
      io.put('T');  // same length, still a valid record
      changed = true;
    });
    CHECK(changed);
    CHECK(r.status().code() == StatusCode::kDataLoss);
    CHECK_THAT(r.status().message(), Catch::Contains("s/records.bin changed while it was imported"));
  }
  auto after = f.db->ListCollections();
  REQUIRE(after.ok());
  CHECK(after->size() == before->size());
  // An export never removes a directory it did not make: an export named
  // X.partial (a name like any other) survives an export to X.
  const std::string older = f.dir.Sub("kept.partial");
  REQUIRE(f.db->Export("s", snap->version, older).ok());
  REQUIRE(f.db->Export("s", snap->version, f.dir.Sub("kept")).ok());
  CHECK(std::filesystem::exists(older + "/manifest.json"));

  // Export of all collections, imported into a fresh database.
  const std::string everything = f.dir.Sub("export-all");
  auto all_exported = f.db->Export("", std::nullopt, everything);
  REQUIRE(all_exported.ok());
  CHECK(all_exported->collections.size() == 2);
  test::TempDir other_dir;
  auto other = Database::Open(other_dir.path(), test::QuietOptions());
  REQUIRE(other.ok());
  auto all_imported = (*other)->Import(everything);
  REQUIRE(all_imported.ok());
  CHECK(all_imported->collections.size() == 2);
  CheckReadsAt(**other, "restored", snap->version, f.model.At(snap->version));
}

TEST_CASE("RemoveUnfinishedExports removes dead exports' directories, and nothing else", "[engine][export]") {
  namespace fs = std::filesystem;
  Fixture f;
  f.Load(1200);
  test::TempDir exports;
  const std::string dir = exports.path();
  constexpr char kMarker[] = "#unfinished-export";  // docs/snapshots.md, "Export format"
  // A directory as an export leaves it when it dies: the marker, a
  // collection's directory, perhaps the manifest.
  auto leftover = [&](const std::string& name, bool marker) {
    const std::string at = dir + "/" + name;
    fs::create_directories(at + "/s");
    std::ofstream(at + "/s/records.bin") << "part of the records";
    if (marker) std::ofstream(at + "/" + kMarker);
    return at;
  };
  const std::string dead = leftover("one.partial-0123456789abcdef", true);
  const std::string dead_too = leftover("two.partial-fedcba9876543210", true);
  const std::string no_marker = leftover("three.partial-0123456789abcdef", false);
  const std::string short_suffix = leftover("four.partial-0123", true);
  const std::string upper_case = leftover("five.partial-0123456789ABCDEF", true);
  const std::string plain = leftover("six", true);
  // A link named like a dead export, to a directory that looks like one.
  test::TempDir elsewhere;
  const std::string target = elsewhere.Sub("target");
  fs::create_directories(target + "/s");
  std::ofstream(target + "/" + kMarker);
  std::ofstream(target + "/s/records.bin") << "not the export's";
  const std::string link = dir + "/seven.partial-0123456789abcdef";
  fs::create_directory_symlink(target, link);
  // A dead export's name and marker, but a link inside: not only the export's.
  const std::string with_link = leftover("eight.partial-0123456789abcdef", true);
  fs::create_directory_symlink(target, with_link + "/s/inner");
  // A complete export whose name looks like a partial one holds no marker.
  const std::string complete = dir + "/nine.partial-00112233445566ff";
  REQUIRE(f.db->Export("s", std::nullopt, complete).ok());
  CHECK_FALSE(fs::exists(complete + "/" + kMarker));
  // One whose export still runs (another process holding the marker's lock).
  const std::string running = leftover("ten.partial-aaaaaaaaaaaaaaaa", true);
  const int lock = ::open((running + "/" + kMarker).c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(lock >= 0);
  REQUIRE(::flock(lock, LOCK_EX | LOCK_NB) == 0);

  auto cleaned = Database::RemoveUnfinishedExports(dir);
  REQUIRE(cleaned.ok());
  CHECK(cleaned->removed == std::vector<std::string>{dead, dead_too});
  REQUIRE(cleaned->errors.size() == 1);
  CHECK_THAT(cleaned->errors[0], Catch::Contains(with_link + "/s/inner is not what an export writes (a symbolic link)"));
  CHECK_FALSE(fs::exists(dead));
  CHECK_FALSE(fs::exists(dead_too));
  for (const auto& kept : {no_marker, short_suffix, upper_case, plain, with_link, running}) {
    INFO(kept);
    CHECK(fs::exists(kept + "/s/records.bin"));
  }
  CHECK(fs::is_symlink(link));
  CHECK(fs::exists(target + "/" + kMarker));
  CHECK(fs::exists(target + "/s/records.bin"));
  CHECK(fs::exists(with_link + "/s/inner/s/records.bin"));
  REQUIRE(f.db->Import(complete, "copy").ok());

  // Once its export has ended (the lock released), it is a leftover too.
  ::close(lock);
  cleaned = Database::RemoveUnfinishedExports(dir);
  REQUIRE(cleaned.ok());
  CHECK(cleaned->removed == std::vector<std::string>{running});
  CHECK_FALSE(fs::exists(running));

  // A running export's own directory holds the locked marker: a cleanup
  // meanwhile (another server starting on the same directory) leaves it.
  bool checked = false;
  auto exported = f.db->Export("s", std::nullopt, dir + "/live", [&](uint64_t, uint64_t) {
    if (checked) return;
    checked = true;
    size_t partials = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().filename().string().rfind("live.partial-", 0) != 0) continue;
      ++partials;
      CHECK(fs::is_regular_file(entry.path() / kMarker));
    }
    CHECK(partials == 1);
    auto during = Database::RemoveUnfinishedExports(dir);
    REQUIRE(during.ok());
    CHECK(during->removed.empty());
  });
  REQUIRE(exported.ok());
  CHECK(checked);
  CHECK(fs::exists(dir + "/live/manifest.json"));
  CHECK_FALSE(fs::exists(dir + "/live/" + std::string(kMarker)));

  // A directory that does not exist holds nothing to remove.
  auto none = Database::RemoveUnfinishedExports(dir + "/missing");
  REQUIRE(none.ok());
  CHECK(none->removed.empty());
}
