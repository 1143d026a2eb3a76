// ReadPoint (issue #24): every read takes the head, a version or a snapshot
// name, resolved once by the engine under the read's own lock. A snapshot
// read equals the read at the version it pins, in every read; the errors
// name the field ("at.snapshot", "at", "queries[i].at.snapshot",
// "from.snapshot").
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "engine/test_data.h"
#include "verity/cache.h"
#include "verity/context.h"

using namespace verity;

namespace {

constexpr uint32_t kDim = 4;

Record Rec(const std::string& id, std::vector<float> v, int64_t n) {
  Record r;
  r.id = id;
  r.vector = std::move(v);
  r.text = "text of " + id;
  r.metadata["n"] = n;
  return r;
}

// Collection "c": v1 = {a, b, c} (snapshot "first" pins it), v2 changes a
// and adds d, v3 deletes b.
struct Fixture {
  test::TempDir dir;
  std::unique_ptr<Database> db;

  Fixture() {
    DatabaseOptions options = test::QuietOptions();
    options.gc_interval_seconds = 0;
    auto opened = Database::Open(dir.path(), options);
    REQUIRE(opened.ok());
    db = std::move(opened).value();
    CollectionConfig config;
    config.name = "c";
    config.dimension = kDim;
    config.retention.keep_versions = 1;
    config.retention.keep_seconds = 0;
    REQUIRE(db->CreateCollection(config).ok());
    REQUIRE(db->Upsert("c", {Rec("a", {1, 0, 0, 0}, 1), Rec("b", {0, 1, 0, 0}, 2), Rec("c", {0, 0, 1, 0}, 3)})
                ->version == 1);
    REQUIRE(db->CreateSnapshot("c", "first", "").ok());
    REQUIRE(db->Upsert("c", {Rec("a", {1, 1, 0, 0}, 4), Rec("d", {0, 0, 0, 1}, 5)})->version == 2);
    REQUIRE(db->Delete("c", {"b"})->version == 3);
  }

  SearchRequest Query(const ReadPoint& at) const {
    SearchRequest q;
    q.vector = {0, 1, 0, 0};
    q.k = 4;
    q.plan = SearchPlan::kExact;
    q.at = at;
    return q;
  }
  RetrieveRequest Retrieval(const ReadPoint& at) const {
    RetrieveRequest r;
    r.collection = "c";
    r.vector = {0, 1, 0, 0};
    r.k = 4;
    r.at = at;
    return r;
  }
};

std::vector<std::string> Ids(const ScrollPage& page) {
  std::vector<std::string> ids;
  for (const auto& r : page.records) ids.push_back(r.record.id);
  return ids;
}

std::vector<std::string> Ids(const RetrieveResult& result) {
  std::vector<std::string> ids;
  for (const auto& chunk : result.chunks) ids.push_back(chunk.id);
  return ids;
}

// NotFound for snapshot "ghost", about `field`, with the reason.
void CheckGhost(const Status& s, const std::string& field) {
  INFO(s.ToString());
  CHECK(s.code() == StatusCode::kNotFound);
  CHECK(s.reason() == StatusReason::kSnapshotNotFound);
  CHECK(s.field() == field);
  CHECK(s.detail() == "snapshot \"ghost\" of \"c\" does not exist");
}

}  // namespace

TEST_CASE("a ReadPoint is the head, a version or a snapshot name", "[engine][read_point]") {
  const ReadPoint head;
  CHECK(head.is_head());
  CHECK(head == ReadPoint::Head());
  CHECK(ReadPoint(std::nullopt).is_head());
  CHECK(ReadPoint(std::optional<Version>()).is_head());

  const ReadPoint five = 5;  // implicit, as `request.at = 5` is written
  CHECK(five.is_version());
  CHECK(five.version() == 5);
  CHECK(five == ReadPoint::AtVersion(5));
  CHECK(ReadPoint(std::optional<Version>(0)) == ReadPoint::AtVersion(0));
  CHECK(ReadPoint::AtVersion(0) != head);  // version 0 is a version, not the head

  const ReadPoint snap = ReadPoint::AtSnapshot("first");
  CHECK(snap.is_snapshot());
  CHECK(snap.kind() == ReadPoint::Kind::kSnapshot);
  CHECK(snap.snapshot() == "first");
  CHECK(snap.version() == 0);
  CHECK(five.snapshot().empty());
  CHECK(snap != ReadPoint::AtSnapshot("second"));
}

TEST_CASE("every read at a snapshot reads the version it pins", "[engine][read_point][snapshot]") {
  Fixture f;
  const ReadPoint snap = ReadPoint::AtSnapshot("first");
  const ReadPoint v1 = ReadPoint::AtVersion(1);

  // Get: b is deleted at the head, live at the snapshot; a has its old text.
  CHECK(f.db->Get("c", "b").status().code() == StatusCode::kNotFound);
  auto b = f.db->Get("c", "b", snap);
  REQUIRE(b.ok());
  CHECK(b->row_version == 1);
  CHECK(f.db->Get("c", "a", snap)->record.metadata == f.db->Get("c", "a", v1)->record.metadata);
  CHECK(f.db->Get("c", "d", snap).status().code() == StatusCode::kNotFound);

  // Count, plain and filtered.
  CHECK(*f.db->Count("c") == 3);  // a, c, d
  CHECK(*f.db->Count("c", snap) == 3);  // a, b, c
  const Filter small = Filter::Lt("n", int64_t{3});
  CHECK(*f.db->Count("c", snap, &small) == 2);  // a (n 1), b (n 2)
  CHECK(*f.db->Count("c", ReadPoint::Head(), &small) == 0);

  // Scroll.
  ScrollRequest scroll;
  scroll.at = snap;
  auto page = f.db->Scroll("c", scroll);
  REQUIRE(page.ok());
  CHECK(page->version == 1);
  CHECK(Ids(*page) == std::vector<std::string>{"a", "b", "c"});
  scroll.at = v1;
  CHECK(Ids(*f.db->Scroll("c", scroll)) == Ids(*page));

  // Search and SearchBatch.
  auto found = f.db->Search("c", f.Query(snap));
  REQUIRE(found.ok());
  CHECK(found->version == 1);
  CHECK(test::Ids(*found) == test::Ids(*f.db->Search("c", f.Query(v1))));
  CHECK(test::Ids(*found)[0] == "b");
  auto batch = f.db->SearchBatch("c", {f.Query(ReadPoint::Head()), f.Query(snap)});
  REQUIRE(batch.ok());
  CHECK((*batch)[0].version == 3);
  CHECK((*batch)[1].version == 1);
  CHECK(test::Ids((*batch)[1]) == test::Ids(*found));

  // Retrieve: the log keeps the snapshot's name, and only then.
  auto at_snapshot = f.db->Retrieve(f.Retrieval(snap));
  REQUIRE(at_snapshot.ok());
  CHECK(at_snapshot->version == 1);
  auto at_version = f.db->Retrieve(f.Retrieval(v1));
  REQUIRE(at_version.ok());
  CHECK(Ids(*at_snapshot) == Ids(*at_version));
  CHECK(f.db->GetRetrieval(at_snapshot->retrieval_id)->first.snapshot == "first");
  CHECK(f.db->GetRetrieval(at_version->retrieval_id)->first.snapshot.empty());

  // A counterfactual replay of a head retrieval, at the snapshot.
  auto head = f.db->Retrieve(f.Retrieval(ReadPoint::Head()));
  REQUIRE(head.ok());
  auto replayed = f.db->Replay({head->retrieval_id, ReplayMode::kCounterfactual, snap});
  REQUIRE(replayed.ok());
  CHECK(replayed->version == 1);
  auto replayed_v1 = f.db->Replay({head->retrieval_id, ReplayMode::kCounterfactual, v1});
  REQUIRE(replayed_v1.ok());
  CHECK(replayed->added == replayed_v1->added);
  CHECK(replayed->removed == replayed_v1->removed);
  CHECK(replayed->outcome == replayed_v1->outcome);
  CHECK(std::find(replayed->added.begin(), replayed->added.end(), "b") != replayed->added.end());

  // The answer cache looks up at the snapshot's version.
  CacheLookupRequest lookup;
  lookup.collection = "c";
  lookup.vector = {0, 1, 0, 0};
  lookup.query_text = "q";
  lookup.at = snap;
  auto miss = f.db->CacheLookup(lookup);
  REQUIRE(miss.ok());
  CHECK(miss->version == 1);

  // The history calls: a snapshot of a snapshot, diff, restore, export.
  auto again = f.db->CreateSnapshot("c", "again", "", snap);
  REQUIRE(again.ok());
  CHECK(again->version == 1);
  auto diff = f.db->Diff("c", snap, ReadPoint::Head());
  REQUIRE(diff.ok());
  CHECK(diff->from == 1);
  CHECK(diff->to == 3);
  CHECK(diff->entries.size() == 3);  // a changed, b removed, d added
  auto exported = f.db->Export("c", snap, f.dir.Sub("export"));
  REQUIRE(exported.ok());
  auto restored = f.db->Restore("c", snap);
  REQUIRE(restored.ok());
  CHECK(restored->restored_from == 1);
  CHECK(*f.db->Count("c") == 3);
  CHECK(f.db->Get("c", "b").ok());
}

TEST_CASE("resolving a ReadPoint: unknown snapshot, empty name, future and collected versions",
          "[engine][read_point][snapshot]") {
  Fixture f;
  const ReadPoint ghost = ReadPoint::AtSnapshot("ghost");

  SECTION("an unknown snapshot is NotFound naming at.snapshot, in every read") {
    CheckGhost(f.db->Get("c", "a", ghost).status(), "at.snapshot");
    CheckGhost(f.db->Count("c", ghost).status(), "at.snapshot");
    ScrollRequest scroll;
    scroll.at = ghost;
    CheckGhost(f.db->Scroll("c", scroll).status(), "at.snapshot");
    const Status searched = f.db->Search("c", f.Query(ghost)).status();
    CheckGhost(searched, "at.snapshot");
    CHECK(searched.message() == "at.snapshot: snapshot \"ghost\" of \"c\" does not exist");
    CheckGhost(f.db->SearchBatch("c", {f.Query(ReadPoint::Head()), f.Query(ghost)}).status(),
               "queries[1].at.snapshot");
    CheckGhost(f.db->Retrieve(f.Retrieval(ghost)).status(), "at.snapshot");
    auto head = f.db->Retrieve(f.Retrieval(ReadPoint::Head()));
    REQUIRE(head.ok());
    CheckGhost(f.db->Replay({head->retrieval_id, ReplayMode::kCounterfactual, ghost}).status(), "at.snapshot");
    CacheLookupRequest lookup;
    lookup.collection = "c";
    lookup.vector = {0, 1, 0, 0};
    lookup.at = ghost;
    CheckGhost(f.db->CacheLookup(lookup).status(), "at.snapshot");
    CheckGhost(f.db->CreateSnapshot("c", "copy", "", ghost).status(), "at.snapshot");
    CheckGhost(f.db->Diff("c", ghost, ReadPoint::Head()).status(), "from.snapshot");
    CheckGhost(f.db->Diff("c", ReadPoint::Head(), ghost).status(), "to.snapshot");
    CheckGhost(f.db->Restore("c", ghost).status(), "at.snapshot");
    CheckGhost(f.db->Export("c", ghost, f.dir.Sub("export")).status(), "at.snapshot");
  }

  SECTION("an empty snapshot name is InvalidArgument") {
    const Status s = f.db->Count("c", ReadPoint::AtSnapshot("")).status();
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(s.field() == "at.snapshot");
    CHECK(s.message() == "at.snapshot: empty snapshot name");
  }

  SECTION("a version newer than the head is InvalidArgument naming at") {
    const Status s = f.db->Get("c", "a", 99).status();
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(s.field() == "at");
    CHECK(s.message() == "at: version 99 does not exist yet (head of \"c\" is 3)");
  }

  SECTION("a deleted snapshot stops resolving; its version, collected, is FailedPrecondition") {
    REQUIRE(f.db->Count("c", ReadPoint::AtSnapshot("first")).ok());
    REQUIRE(f.db->DeleteSnapshot("c", "first").ok());
    const Status gone = f.db->Count("c", ReadPoint::AtSnapshot("first")).status();
    CHECK(gone.code() == StatusCode::kNotFound);
    CHECK(gone.reason() == StatusReason::kSnapshotNotFound);
    REQUIRE(f.db->Gc("c").ok());
    const Status collected = f.db->Count("c", 1).status();
    CHECK(collected.code() == StatusCode::kFailedPrecondition);
    CHECK(collected.field() == "at");
    CHECK(collected.message().rfind("at: version 1 of \"c\" is not retained", 0) == 0);
  }
}

// A snapshot deleted, and its version collected, while reads name it: each
// read resolves the name under the lock it reads with, so it reads the
// snapshot's version whole or finds no snapshot; it never meets a version
// collected between the lookup and the read (what a lookup in a separate
// call, as the server made before, could).
TEST_CASE("a read at a snapshot deleted and collected meanwhile reads it whole or not at all",
          "[engine][read_point][snapshot][concurrency]") {
  Fixture f;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> read{0}, missing{0};
  std::vector<std::string> wrong;  // written by the reader only, read after join
  std::thread reader([&] {
    while (!done.load()) {
      auto counted = f.db->Count("c", ReadPoint::AtSnapshot("s"));
      if (counted.ok()) {
        ++read;
      } else if (counted.status().reason() == StatusReason::kSnapshotNotFound) {
        ++missing;
      } else if (wrong.size() < 5) {
        wrong.push_back(counted.status().ToString());
      }
    }
  });
  for (int i = 0; i < 300; ++i) {
    REQUIRE(f.db->CreateSnapshot("c", "s", "").ok());
    REQUIRE(f.db->Upsert("c", {Rec("n" + std::to_string(i), {1, 2, 3, 4}, i)}).ok());
    REQUIRE(f.db->DeleteSnapshot("c", "s").ok());
    REQUIRE(f.db->Gc("c").ok());  // collects the snapshot's version: only the head is kept
  }
  done = true;
  reader.join();
  INFO("reads " << read.load() << ", snapshot missing " << missing.load());
  for (const auto& w : wrong) UNSCOPED_INFO(w);
  CHECK(wrong.empty());
}
