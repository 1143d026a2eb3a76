// Snapshots, diffs, restore, retention, GC and export / import end to end:
// the real verityd on a free loopback port, driven through the generated
// gRPC stubs (exact status codes) and through the C++ client library.
#include <catch2/catch.hpp>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "engine/test_data.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/server_helpers.h"
#include "server/server_process.h"
#include "server/stubs.h"
#include "verity/client.h"
#include "verity/v1/collections.grpc.pb.h"
#include "verity/v1/records.grpc.pb.h"
#include "verity/v1/search.grpc.pb.h"
#include "verity/v1/snapshots.grpc.pb.h"

using namespace verity;
namespace v1 = verity::v1;
namespace fs = std::filesystem;

namespace {

using test::ExpectError;
using test::Stubs;

v1::Record WireRecord(const std::string& id, const std::vector<float>& v, const std::string& text = "") {
  v1::Record r;
  r.set_id(id);
  for (float x : v) r.add_vector(x);
  r.set_text(text.empty() ? "text of " + id : text);
  (*r.mutable_metadata())["lang"].set_string_value("en");
  return r;
}

// Records "r0".."r<n-1>" (WireRecord) over ClusteredVectors(n, dim, clusters, seed).
std::vector<v1::Record> ClusteredWireRecords(size_t n, size_t dim, size_t clusters, uint64_t seed) {
  const auto data = test::ClusteredVectors(n, dim, clusters, seed);
  std::vector<v1::Record> records;
  for (size_t i = 0; i < n; ++i) {
    const auto begin = data.begin() + static_cast<std::ptrdiff_t>(i * dim);
    records.push_back(WireRecord("r" + std::to_string(i), std::vector<float>(begin, begin + dim)));
  }
  return records;
}

void Create(Stubs& s, const std::string& name, uint32_t dim, std::optional<uint32_t> keep_versions = std::nullopt,
            std::optional<int64_t> keep_seconds = std::nullopt) {
  v1::CreateCollectionRequest req;
  req.mutable_config()->set_name(name);
  req.mutable_config()->set_dimension(dim);
  if (keep_versions) req.mutable_config()->set_keep_versions(*keep_versions);
  if (keep_seconds) req.mutable_config()->set_keep_seconds(*keep_seconds);
  v1::CreateCollectionResponse resp;
  const grpc::Status status = CALL(s.collections, CreateCollection, req, &resp);
  INFO(status.error_message());
  REQUIRE(status.ok());
}

uint64_t Upsert(Stubs& s, const std::string& collection, const std::vector<v1::Record>& records) {
  v1::UpsertRequest req;
  req.set_collection(collection);
  for (const auto& r : records) *req.add_records() = r;
  v1::WriteResponse resp;
  const grpc::Status status = CALL(s.records, Upsert, req, &resp);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return resp.version();
}

uint64_t Delete(Stubs& s, const std::string& collection, const std::vector<std::string>& ids) {
  v1::DeleteRequest req;
  req.set_collection(collection);
  for (const auto& id : ids) req.add_ids(id);
  v1::WriteResponse resp;
  REQUIRE(CALL(s.records, Delete, req, &resp).ok());
  return resp.version();
}

v1::ReadAt AtVersion(uint64_t v) {
  v1::ReadAt at;
  at.set_version(v);
  return at;
}
v1::ReadAt AtSnapshot(const std::string& name) {
  v1::ReadAt at;
  at.set_snapshot(name);
  return at;
}

grpc::Status Count(Stubs& s, const std::string& collection, const std::optional<v1::ReadAt>& at, uint64_t* count) {
  v1::CountRequest req;
  req.set_collection(collection);
  if (at) *req.mutable_at() = *at;
  v1::CountResponse resp;
  const grpc::Status status = CALL(s.records, Count, req, &resp);
  *count = resp.count();
  return status;
}

uint64_t CountOk(Stubs& s, const std::string& collection, const std::optional<v1::ReadAt>& at = std::nullopt) {
  uint64_t n = 0;
  const grpc::Status status = Count(s, collection, at, &n);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return n;
}

// Runs a server-streaming Export / Import to the end: the progress messages
// seen, the final result (if any) and the status.
template <typename Response, typename Request, typename Method>
grpc::Status Stream(Method method, const Request& request, std::vector<v1::Progress>* progress, Response* last) {
  grpc::ClientContext ctx;
  auto reader = method(&ctx, request);
  Response message;
  bool result_was_last = false;
  while (reader->Read(&message)) {
    if (message.has_progress()) {
      progress->push_back(message.progress());
      result_was_last = false;
    } else {
      *last = message;
      result_was_last = true;
    }
  }
  grpc::Status status = reader->Finish();
  if (status.ok()) REQUIRE(result_was_last);  // exactly one result, the last message
  return status;
}

grpc::Status Export(Stubs& s, const v1::ExportRequest& req, v1::ExportResponse* last,
                    std::vector<v1::Progress>* progress = nullptr) {
  std::vector<v1::Progress> ignored;
  return Stream<v1::ExportResponse>(
      [&](grpc::ClientContext* ctx, const v1::ExportRequest& r) { return s.snapshots->Export(ctx, r); }, req,
      progress ? progress : &ignored, last);
}

grpc::Status Import(Stubs& s, const v1::ImportRequest& req, v1::ImportResponse* last,
                    std::vector<v1::Progress>* progress = nullptr) {
  std::vector<v1::Progress> ignored;
  return Stream<v1::ImportResponse>(
      [&](grpc::ClientContext* ctx, const v1::ImportRequest& r) { return s.snapshots->Import(ctx, r); }, req,
      progress ? progress : &ignored, last);
}

}  // namespace

TEST_CASE("snapshot RPCs: success paths, reads at snapshots, bad inputs with exact codes", "[server][snapshots]") {
  test::TempDir dir;
  auto server = test::StartServer(dir, {"--gc-interval-seconds", "0"}, "verityd.log");
  Stubs s(server->channel());

  // Retention travels in the config: unset = defaults, explicit values kept.
  Create(s, "docs", 3);
  v1::GetCollectionRequest get_collection;
  get_collection.set_name("docs");
  v1::GetCollectionResponse collection;
  REQUIRE(CALL(s.collections, GetCollection, get_collection, &collection).ok());
  REQUIRE(collection.collection().config().has_keep_versions());
  REQUIRE(collection.collection().config().keep_versions() == 100);
  REQUIRE(collection.collection().config().keep_seconds() == 7 * 24 * 3600);
  {
    v1::CreateCollectionRequest bad;
    bad.mutable_config()->set_name("negative");
    bad.mutable_config()->set_dimension(3);
    bad.mutable_config()->set_keep_seconds(-1);
    v1::CreateCollectionResponse resp;
    ExpectError(CALL(s.collections, CreateCollection, bad, &resp), grpc::StatusCode::INVALID_ARGUMENT,
                "config.keep_seconds");
  }

  // v1: a, b, c.
  REQUIRE(Upsert(s, "docs", {WireRecord("a", {1, 0, 0}), WireRecord("b", {0, 1, 0}), WireRecord("c", {0, 0, 1})}) == 1);

  // CreateSnapshot at head, GetSnapshot, ALREADY_EXISTS, bad name.
  v1::CreateSnapshotRequest create;
  create.set_collection("docs");
  create.set_name("first");
  create.set_description("three records");
  v1::CreateSnapshotResponse created;
  REQUIRE(CALL(s.snapshots, CreateSnapshot, create, &created).ok());
  REQUIRE(created.snapshot().version() == 1);
  REQUIRE(created.snapshot().records() == 3);
  REQUIRE(created.snapshot().collection() == "docs");
  REQUIRE(created.snapshot().description() == "three records");
  REQUIRE(created.snapshot().created_at_us() > 0);
  ExpectError(CALL(s.snapshots, CreateSnapshot, create, &created), grpc::StatusCode::ALREADY_EXISTS, "first");
  create.set_name("no/slash");
  ExpectError(CALL(s.snapshots, CreateSnapshot, create, &created), grpc::StatusCode::INVALID_ARGUMENT, "name");
  create.set_name("future");
  *create.mutable_at() = AtVersion(99);
  ExpectError(CALL(s.snapshots, CreateSnapshot, create, &created), grpc::StatusCode::INVALID_ARGUMENT, "99");
  create.set_name("copy");
  *create.mutable_at() = AtSnapshot("missing");
  ExpectError(CALL(s.snapshots, CreateSnapshot, create, &created), grpc::StatusCode::NOT_FOUND, "missing");
  create.set_collection("nope");
  create.clear_at();
  ExpectError(CALL(s.snapshots, CreateSnapshot, create, &created), grpc::StatusCode::NOT_FOUND, "nope");

  // v2: a changed, b deleted (v3), d added (v2).
  REQUIRE(Upsert(s, "docs", {WireRecord("a", {1, 1, 0}, "changed"), WireRecord("d", {1, 0, 1})}) == 2);
  REQUIRE(Delete(s, "docs", {"b"}) == 3);

  // A snapshot of a snapshot (ReadAt.snapshot on CreateSnapshot), and of a version.
  create.set_collection("docs");
  create.set_name("again");
  create.set_description("");
  *create.mutable_at() = AtSnapshot("first");
  REQUIRE(CALL(s.snapshots, CreateSnapshot, create, &created).ok());
  REQUIRE(created.snapshot().version() == 1);
  create.set_name("second");
  *create.mutable_at() = AtVersion(2);
  REQUIRE(CALL(s.snapshots, CreateSnapshot, create, &created).ok());
  REQUIRE(created.snapshot().version() == 2);
  REQUIRE(created.snapshot().records() == 4);

  v1::GetSnapshotRequest get;
  get.set_collection("docs");
  get.set_name("first");
  v1::GetSnapshotResponse got;
  REQUIRE(CALL(s.snapshots, GetSnapshot, get, &got).ok());
  REQUIRE(got.snapshot().version() == 1);
  get.set_name("nope");
  ExpectError(CALL(s.snapshots, GetSnapshot, get, &got), grpc::StatusCode::NOT_FOUND, "nope");

  v1::ListSnapshotsRequest list;
  list.set_collection("docs");
  v1::ListSnapshotsResponse listed;
  REQUIRE(CALL(s.snapshots, ListSnapshots, list, &listed).ok());
  REQUIRE(listed.snapshots_size() == 3);
  REQUIRE(listed.snapshots(0).name() == "again");  // sorted by name
  REQUIRE(listed.snapshots(1).name() == "first");
  REQUIRE(listed.snapshots(2).name() == "second");

  // CollectionInfo and VersionInfo carry the new fields.
  REQUIRE(CALL(s.collections, GetCollection, get_collection, &collection).ok());
  REQUIRE(collection.collection().snapshots() == 3);
  v1::ListVersionsRequest list_versions;
  list_versions.set_collection("docs");
  v1::ListVersionsResponse versions;
  REQUIRE(CALL(s.collections, ListVersions, list_versions, &versions).ok());
  REQUIRE(versions.versions_size() == 4);
  REQUIRE(versions.versions(1).snapshots_size() == 2);  // first, again
  REQUIRE(versions.versions(2).snapshots(0) == "second");
  for (const auto& v : versions.versions()) REQUIRE(v.readable());

  // Every read resolves a snapshot name: Get, Scroll, Count, Search, BatchSearch.
  REQUIRE(CountOk(s, "docs") == 3);  // a, c, d
  REQUIRE(CountOk(s, "docs", AtSnapshot("first")) == 3);  // a, b, c
  uint64_t n = 0;
  ExpectError(Count(s, "docs", AtSnapshot("ghost"), &n), grpc::StatusCode::NOT_FOUND, "ghost");
  ExpectError(Count(s, "docs", AtSnapshot(""), &n), grpc::StatusCode::INVALID_ARGUMENT, "at.snapshot");
  {
    v1::GetRequest req;
    req.set_collection("docs");
    req.set_id("b");
    *req.mutable_at() = AtSnapshot("first");
    v1::GetResponse resp;
    REQUIRE(CALL(s.records, Get, req, &resp).ok());
    REQUIRE(resp.record().row_version() == 1);
    req.set_id("a");
    REQUIRE(CALL(s.records, Get, req, &resp).ok());
    REQUIRE(resp.record().record().text() == "text of a");
    req.clear_at();
    REQUIRE(CALL(s.records, Get, req, &resp).ok());
    REQUIRE(resp.record().record().text() == "changed");
    *req.mutable_at() = AtSnapshot("ghost");
    ExpectError(CALL(s.records, Get, req, &resp), grpc::StatusCode::NOT_FOUND, "ghost");
  }
  {
    v1::ScrollRequest req;
    req.set_collection("docs");
    *req.mutable_at() = AtSnapshot("first");
    v1::ScrollResponse resp;
    REQUIRE(CALL(s.records, Scroll, req, &resp).ok());
    REQUIRE(resp.version() == 1);
    REQUIRE(resp.records_size() == 3);
    REQUIRE(resp.records(1).record().id() == "b");
    *req.mutable_at() = AtSnapshot("ghost");
    ExpectError(CALL(s.records, Scroll, req, &resp), grpc::StatusCode::NOT_FOUND, "ghost");
  }
  {
    v1::SearchRequest req;
    req.set_collection("docs");
    for (float x : {0.f, 1.f, 0.f}) req.mutable_query()->add_vector(x);
    req.mutable_query()->set_k(1);
    *req.mutable_query()->mutable_at() = AtSnapshot("first");
    v1::SearchResponse resp;
    grpc::Status status = [&] {
      grpc::ClientContext ctx;
      return s.search->Search(&ctx, req, &resp);
    }();
    REQUIRE(status.ok());
    REQUIRE(resp.version() == 1);
    REQUIRE(resp.hits(0).id() == "b");  // deleted at head, live at "first"
    *req.mutable_query()->mutable_at() = AtSnapshot("ghost");
    status = [&] {
      grpc::ClientContext ctx;
      return s.search->Search(&ctx, req, &resp);
    }();
    ExpectError(status, grpc::StatusCode::NOT_FOUND, "ghost");

    v1::BatchSearchRequest batch;
    batch.set_collection("docs");
    *batch.add_queries() = req.query();
    *batch.mutable_queries(0)->mutable_at() = AtSnapshot("first");
    *batch.add_queries() = req.query();
    batch.mutable_queries(1)->clear_at();
    v1::BatchSearchResponse results;
    status = [&] {
      grpc::ClientContext ctx;
      return s.search->BatchSearch(&ctx, batch, &results);
    }();
    REQUIRE(status.ok());
    REQUIRE(results.results(0).version() == 1);
    REQUIRE(results.results(0).hits(0).id() == "b");
    REQUIRE(results.results(1).version() == 3);
    *batch.mutable_queries(1)->mutable_at() = AtSnapshot("ghost");
    status = [&] {
      grpc::ClientContext ctx;
      return s.search->BatchSearch(&ctx, batch, &results);
    }();
    ExpectError(status, grpc::StatusCode::NOT_FOUND, "queries[1].at.snapshot");
  }

  // Diff: snapshot to head, counts and entries, paging, either order.
  v1::DiffRequest diff;
  diff.set_collection("docs");
  *diff.mutable_from() = AtSnapshot("first");
  v1::DiffResponse page;
  REQUIRE(CALL(s.snapshots, Diff, diff, &page).ok());
  REQUIRE(page.from() == 1);
  REQUIRE(page.to() == 3);  // unset = head
  REQUIRE(page.added() == 1);
  REQUIRE(page.removed() == 1);
  REQUIRE(page.changed() == 1);
  REQUIRE(page.entries_size() == 3);
  REQUIRE(page.entries(0).id() == "a");
  REQUIRE(page.entries(0).kind() == v1::CHANGE_KIND_CHANGED);
  REQUIRE(page.entries(0).from_row_version() == 1);
  REQUIRE(page.entries(0).to_row_version() == 2);
  REQUIRE(page.entries(1).id() == "b");
  REQUIRE(page.entries(1).kind() == v1::CHANGE_KIND_REMOVED);
  REQUIRE(page.entries(1).to_row_version() == 0);
  REQUIRE(page.entries(2).id() == "d");
  REQUIRE(page.entries(2).kind() == v1::CHANGE_KIND_ADDED);
  REQUIRE(page.entries(2).from_row_version() == 0);
  REQUIRE(page.next_cursor().empty());
  diff.set_limit(2);
  REQUIRE(CALL(s.snapshots, Diff, diff, &page).ok());
  REQUIRE(page.entries_size() == 2);
  REQUIRE(page.added() == 1);  // counts cover the whole diff
  REQUIRE(!page.next_cursor().empty());
  diff.set_start_after(page.next_cursor());
  REQUIRE(CALL(s.snapshots, Diff, diff, &page).ok());
  REQUIRE(page.entries_size() == 1);
  REQUIRE(page.entries(0).id() == "d");
  REQUIRE(page.next_cursor().empty());
  diff.set_start_after("");
  diff.set_limit(0);
  *diff.mutable_to() = AtVersion(2);
  *diff.mutable_from() = AtSnapshot("ghost");
  ExpectError(CALL(s.snapshots, Diff, diff, &page), grpc::StatusCode::NOT_FOUND, "ghost");
  *diff.mutable_from() = AtVersion(1);
  diff.set_limit(1000000);
  ExpectError(CALL(s.snapshots, Diff, diff, &page), grpc::StatusCode::INVALID_ARGUMENT, "limit");
  diff.set_limit(0);
  *diff.mutable_to() = AtVersion(42);
  ExpectError(CALL(s.snapshots, Diff, diff, &page), grpc::StatusCode::INVALID_ARGUMENT, "42");

  // Restore a snapshot in place: a new head equal to version 1; undo by restoring again.
  v1::RestoreRequest restore;
  restore.set_collection("docs");
  *restore.mutable_at() = AtSnapshot("first");
  v1::RestoreResponse restored;
  REQUIRE(CALL(s.snapshots, Restore, restore, &restored).ok());
  REQUIRE(restored.version() == 4);
  REQUIRE(restored.restored_from() == 1);
  REQUIRE(CountOk(s, "docs") == 3);
  diff.Clear();
  diff.set_collection("docs");
  *diff.mutable_from() = AtSnapshot("first");
  REQUIRE(CALL(s.snapshots, Diff, diff, &page).ok());
  REQUIRE(page.to() == 4);
  REQUIRE(page.added() + page.removed() + page.changed() == 0);
  REQUIRE(CALL(s.collections, ListVersions, list_versions, &versions).ok());
  REQUIRE(versions.versions(4).is_restore());
  REQUIRE(versions.versions(4).restored_from() == 1);
  *restore.mutable_at() = AtVersion(3);
  REQUIRE(CALL(s.snapshots, Restore, restore, &restored).ok());
  REQUIRE(restored.version() == 5);
  REQUIRE(restored.restored_from() == 3);
  restore.clear_at();
  ExpectError(CALL(s.snapshots, Restore, restore, &restored), grpc::StatusCode::INVALID_ARGUMENT, "at");
  *restore.mutable_at() = AtSnapshot("ghost");
  ExpectError(CALL(s.snapshots, Restore, restore, &restored), grpc::StatusCode::NOT_FOUND, "ghost");

  // Restore into another collection: same dimension works, another dimension does not.
  Create(s, "copy", 3);
  *restore.mutable_at() = AtSnapshot("second");
  restore.set_into("copy");
  REQUIRE(CALL(s.snapshots, Restore, restore, &restored).ok());
  REQUIRE(restored.version() == 1);
  REQUIRE(restored.upserted() == 4);
  REQUIRE(CountOk(s, "copy") == 4);
  Create(s, "wide", 5);
  restore.set_into("wide");
  ExpectError(CALL(s.snapshots, Restore, restore, &restored), grpc::StatusCode::FAILED_PRECONDITION, "dimension");
  restore.set_into("absent");
  ExpectError(CALL(s.snapshots, Restore, restore, &restored), grpc::StatusCode::NOT_FOUND, "absent");

  // DeleteSnapshot.
  v1::DeleteSnapshotRequest drop;
  drop.set_collection("docs");
  drop.set_name("again");
  v1::DeleteSnapshotResponse dropped;
  REQUIRE(CALL(s.snapshots, DeleteSnapshot, drop, &dropped).ok());
  ExpectError(CALL(s.snapshots, DeleteSnapshot, drop, &dropped), grpc::StatusCode::NOT_FOUND, "again");
  get.set_name("again");
  ExpectError(CALL(s.snapshots, GetSnapshot, get, &got), grpc::StatusCode::NOT_FOUND, "again");

  // Nothing above broke the server.
  REQUIRE(s.Serving());
  REQUIRE(server->Stop(SIGTERM) == 0);
}

TEST_CASE("retention and GC: collected versions refuse reads, snapshots stay readable", "[server][snapshots]") {
  test::TempDir dir;
  auto server = test::StartServer(dir, {"--gc-interval-seconds", "0"}, "verityd.log");
  Stubs s(server->channel());

  Create(s, "h", 2, /*keep_versions=*/1, /*keep_seconds=*/0);
  v1::GetCollectionRequest get_collection;
  get_collection.set_name("h");
  v1::GetCollectionResponse collection;
  REQUIRE(CALL(s.collections, GetCollection, get_collection, &collection).ok());
  REQUIRE(collection.collection().config().keep_versions() == 1);
  REQUIRE(collection.collection().config().has_keep_seconds());
  REQUIRE(collection.collection().config().keep_seconds() == 0);

  REQUIRE(Upsert(s, "h", {WireRecord("a", {1, 0}), WireRecord("b", {0, 1})}) == 1);
  v1::CreateSnapshotRequest create;
  create.set_collection("h");
  create.set_name("pinned");
  v1::CreateSnapshotResponse created;
  REQUIRE(CALL(s.snapshots, CreateSnapshot, create, &created).ok());
  REQUIRE(Upsert(s, "h", {WireRecord("a", {2, 0})}) == 2);
  REQUIRE(Upsert(s, "h", {WireRecord("a", {3, 0}), WireRecord("c", {1, 1})}) == 3);
  REQUIRE(Delete(s, "h", {"b"}) == 4);
  REQUIRE(Upsert(s, "h", {WireRecord("a", {4, 0})}) == 5);

  v1::GcRequest gc;
  gc.set_collection("h");
  v1::GcResponse collected;
  REQUIRE(CALL(s.snapshots, Gc, gc, &collected).ok());
  REQUIRE(collected.oldest_retained() == 5);
  REQUIRE(collected.rows_removed() > 0);
  gc.set_collection("nope");
  ExpectError(CALL(s.snapshots, Gc, gc, &collected), grpc::StatusCode::NOT_FOUND, "nope");

  // An old version is gone; the head and the pinned version still read.
  uint64_t n = 0;
  ExpectError(Count(s, "h", AtVersion(3), &n), grpc::StatusCode::FAILED_PRECONDITION, "5");
  {
    v1::GetRequest req;
    req.set_collection("h");
    req.set_id("a");
    *req.mutable_at() = AtVersion(2);
    v1::GetResponse resp;
    ExpectError(CALL(s.records, Get, req, &resp), grpc::StatusCode::FAILED_PRECONDITION, "retained");
  }
  REQUIRE(CountOk(s, "h") == 2);  // a, c
  REQUIRE(CountOk(s, "h", AtSnapshot("pinned")) == 2);  // a, b at version 1
  {
    v1::GetRequest req;
    req.set_collection("h");
    req.set_id("b");
    *req.mutable_at() = AtSnapshot("pinned");
    v1::GetResponse resp;
    const grpc::Status status = CALL(s.records, Get, req, &resp);
    INFO(status.error_message());
    REQUIRE(status.ok());
    REQUIRE(resp.record().row_version() == 1);
  }
  v1::ListVersionsRequest list_versions;
  list_versions.set_collection("h");
  v1::ListVersionsResponse versions;
  REQUIRE(CALL(s.collections, ListVersions, list_versions, &versions).ok());
  REQUIRE(versions.versions(1).readable());  // pinned
  REQUIRE(!versions.versions(3).readable());
  REQUIRE(versions.versions(5).readable());  // head
  v1::DiffRequest diff;
  diff.set_collection("h");
  *diff.mutable_from() = AtVersion(2);
  v1::DiffResponse page;
  ExpectError(CALL(s.snapshots, Diff, diff, &page), grpc::StatusCode::FAILED_PRECONDITION, "retained");
  v1::CreateSnapshotRequest late;
  late.set_collection("h");
  late.set_name("late");
  *late.mutable_at() = AtVersion(3);
  ExpectError(CALL(s.snapshots, CreateSnapshot, late, &created), grpc::StatusCode::FAILED_PRECONDITION, "retained");

  // SetRetention: unset fields keep their value; negative is refused.
  v1::SetRetentionRequest retention;
  retention.set_collection("h");
  retention.set_keep_versions(10);
  v1::SetRetentionResponse set;
  REQUIRE(CALL(s.snapshots, SetRetention, retention, &set).ok());
  REQUIRE(set.collection().config().keep_versions() == 10);
  REQUIRE(set.collection().config().keep_seconds() == 0);
  retention.clear_keep_versions();
  retention.set_keep_seconds(3600);
  REQUIRE(CALL(s.snapshots, SetRetention, retention, &set).ok());
  REQUIRE(set.collection().config().keep_versions() == 10);
  REQUIRE(set.collection().config().keep_seconds() == 3600);
  REQUIRE(CALL(s.collections, GetCollection, get_collection, &collection).ok());
  REQUIRE(collection.collection().config().keep_versions() == 10);
  retention.set_keep_seconds(-5);
  ExpectError(CALL(s.snapshots, SetRetention, retention, &set), grpc::StatusCode::INVALID_ARGUMENT, "keep_seconds");
  retention.set_collection("nope");
  retention.set_keep_seconds(1);
  ExpectError(CALL(s.snapshots, SetRetention, retention, &set), grpc::StatusCode::NOT_FOUND, "nope");

  REQUIRE(s.Serving());
  REQUIRE(server->Stop(SIGTERM) == 0);
}

TEST_CASE("export and import: streamed progress, names confined to --export-dir, corruption is DATA_LOSS",
          "[server][snapshots]") {
  test::TempDir dir;
  const std::string exports = dir.Sub("exports");
  auto server = test::StartServer(dir, {"--export-dir", exports}, "verityd.log");
  Stubs s(server->channel());

  Create(s, "src", 8);
  REQUIRE(Upsert(s, "src", ClusteredWireRecords(500, 8, 4, 3)) == 1);
  v1::CreateSnapshotRequest create;
  create.set_collection("src");
  create.set_name("full");
  v1::CreateSnapshotResponse created;
  REQUIRE(CALL(s.snapshots, CreateSnapshot, create, &created).ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.push_back("r" + std::to_string(i));
  REQUIRE(Delete(s, "src", ids) == 2);
  Create(s, "other", 2);

  // Export one collection at a snapshot.
  v1::ExportRequest ex;
  ex.set_collection("src");
  *ex.mutable_at() = AtSnapshot("full");
  ex.set_name("src-full");
  v1::ExportResponse last;
  std::vector<v1::Progress> progress;
  grpc::Status status = Export(s, ex, &last, &progress);
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE(last.result().name() == "src-full");
  REQUIRE(last.result().collections_size() == 1);
  REQUIRE(last.result().collections(0).name() == "src");
  REQUIRE(last.result().collections(0).version() == 1);
  REQUIRE(last.result().collections(0).records() == 500);
  REQUIRE(last.result().bytes() > 500 * 8 * 4);
  REQUIRE(!progress.empty());
  for (size_t i = 1; i < progress.size(); ++i) REQUIRE(progress[i].bytes_done() >= progress[i - 1].bytes_done());
  REQUIRE(fs::is_directory(exports + "/src-full"));
  // The same name again; a snapshot that does not exist; --at without a collection.
  ExpectError(Export(s, ex, &last), grpc::StatusCode::ALREADY_EXISTS, "src-full");
  ex.set_name("other-name");
  *ex.mutable_at() = AtSnapshot("ghost");
  ExpectError(Export(s, ex, &last), grpc::StatusCode::NOT_FOUND, "ghost");
  ex.set_collection("");
  *ex.mutable_at() = AtVersion(1);
  ExpectError(Export(s, ex, &last), grpc::StatusCode::INVALID_ARGUMENT, "at");

  // Names never leave --export-dir.
  const std::vector<std::string> bad_names = {"../x", "..", ".", "", "a/b", "/tmp/x", std::string(129, 'a'),
                                              std::string("nul\0x", 5)};
  for (const std::string& bad : bad_names) {
    INFO("name \"" << bad << "\"");
    ex.clear_at();
    ex.set_name(bad);
    ExpectError(Export(s, ex, &last), grpc::StatusCode::INVALID_ARGUMENT, "name");
    v1::ImportRequest im;
    im.set_name(bad);
    v1::ImportResponse imported;
    ExpectError(Import(s, im, &imported), grpc::StatusCode::INVALID_ARGUMENT, "name");
  }
  REQUIRE(!fs::exists(dir.Sub("x")));

  // Export everything at head.
  ex.set_collection("");
  ex.clear_at();
  ex.set_name("everything");
  REQUIRE(Export(s, ex, &last).ok());
  REQUIRE(last.result().collections_size() == 2);

  // Import under a new name: the records of version 1, searchable.
  v1::ImportRequest im;
  im.set_name("src-full");
  im.set_as_name("restored");
  v1::ImportResponse imported;
  progress.clear();
  status = Import(s, im, &imported, &progress);
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE(imported.result().collections_size() == 1);
  REQUIRE(imported.result().collections(0).config().name() == "restored");
  REQUIRE(imported.result().collections(0).config().dimension() == 8);
  REQUIRE(imported.result().records() == 500);
  REQUIRE(CountOk(s, "restored") == 500);
  REQUIRE(CountOk(s, "src") == 400);

  // Over an existing collection: ALREADY_EXISTS without replace, replaced with it.
  im.set_as_name("src");
  ExpectError(Import(s, im, &imported), grpc::StatusCode::ALREADY_EXISTS, "src");
  REQUIRE(CountOk(s, "src") == 400);
  im.set_replace(true);
  REQUIRE(Import(s, im, &imported).ok());
  REQUIRE(CountOk(s, "src") == 500);
  // as_name with an export of several collections; an export that does not exist.
  im.set_name("everything");
  im.set_as_name("single");
  im.set_replace(false);
  ExpectError(Import(s, im, &imported), grpc::StatusCode::INVALID_ARGUMENT, "as_name");
  im.set_name("never-written");
  im.set_as_name("");
  ExpectError(Import(s, im, &imported), grpc::StatusCode::NOT_FOUND, "never-written");

  // A flipped byte in a data file: DATA_LOSS naming the file, nothing imported.
  std::string victim;
  uintmax_t victim_size = 0;
  for (const auto& entry : fs::recursive_directory_iterator(exports + "/src-full")) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (name.find("manifest") != std::string::npos) continue;
    if (entry.file_size() > victim_size) {
      victim = entry.path().string();
      victim_size = entry.file_size();
    }
  }
  REQUIRE(!victim.empty());
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f);
    f.seekg(static_cast<std::streamoff>(victim_size / 2));
    char byte = 0;
    f.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x5a);
    f.seekp(static_cast<std::streamoff>(victim_size / 2));
    f.write(&byte, 1);
  }
  im.set_name("src-full");
  im.set_as_name("corrupt");
  status = Import(s, im, &imported);
  ExpectError(status, grpc::StatusCode::DATA_LOSS, fs::path(victim).filename().string());
  v1::GetCollectionRequest get_collection;
  get_collection.set_name("corrupt");
  v1::GetCollectionResponse collection;
  ExpectError(CALL(s.collections, GetCollection, get_collection, &collection), grpc::StatusCode::NOT_FOUND, "corrupt");

  // The server still answers.
  REQUIRE(s.Serving());
  REQUIRE(CountOk(s, "restored") == 500);
  REQUIRE(server->Stop(SIGTERM) == 0);
}

TEST_CASE("verityd removes dead exports' .partial directories at start, and an export's links are refused",
          "[server][snapshots]") {
  test::TempDir dir;
  const std::string exports = dir.Sub("exports");
  // What an export that died leaves: its directory named <name>.partial-<16
  // hex digits>, holding the marker it creates first (docs/snapshots.md).
  auto leftover = [&](const std::string& name, bool marker) {
    const std::string at = exports + "/" + name;
    fs::create_directories(at + "/src");
    std::ofstream(at + "/src/records.bin") << "part of the records";
    if (marker) std::ofstream(at + "/#unfinished-export");
    return at;
  };
  const std::string dead = leftover("old.partial-0123456789abcdef", true);
  const std::string unmarked = leftover("mine.partial-0123456789abcdef", false);
  const std::string lookalike = leftover("mine.partial-backup", true);
  const std::string target = leftover("target", true);
  const std::string link = exports + "/linked.partial-0123456789abcdef";
  fs::create_directory_symlink(target, link);

  const std::string log = dir.Sub("verityd.log");
  auto server = test::ServerProcess::Start(dir.Sub("data"), log, {"--export-dir", exports});
  REQUIRE(server);
  CHECK_FALSE(fs::exists(dead));
  CHECK(fs::exists(unmarked + "/src/records.bin"));
  CHECK(fs::exists(lookalike + "/src/records.bin"));
  CHECK(fs::is_symlink(link));
  CHECK(fs::exists(target + "/#unfinished-export"));
  CHECK(fs::exists(target + "/src/records.bin"));
  const std::string lines = test::ReadFile(log);
  CHECK_THAT(lines, Catch::Contains("\"event\":\"removed_unfinished_export\",\"path\":\"" + dead + "\""));
  CHECK_THAT(lines, !Catch::Contains("mine.partial"));

  // An export whose collection directory is a link to another export's
  // (the same bytes: every hash matches) is refused naming it.
  Stubs s(server->channel());
  Create(s, "src", 8);
  REQUIRE(Upsert(s, "src", ClusteredWireRecords(10, 8, 2, 3)) == 1);
  v1::ExportRequest ex;
  ex.set_collection("src");
  ex.set_name("one");
  v1::ExportResponse exported;
  REQUIRE(Export(s, ex, &exported).ok());
  fs::copy(exports + "/one", exports + "/two", fs::copy_options::recursive);
  fs::remove_all(exports + "/two/src");
  fs::create_directory_symlink(exports + "/one/src", exports + "/two/src");
  v1::ImportRequest im;
  im.set_name("two");
  im.set_as_name("copy");
  v1::ImportResponse imported;
  ExpectError(Import(s, im, &imported), grpc::StatusCode::FAILED_PRECONDITION, "export: src is a symbolic link");
  im.set_name("one");
  REQUIRE(Import(s, im, &imported).ok());
  REQUIRE(CountOk(s, "copy") == 10);
  REQUIRE(server->Stop(SIGTERM) == 0);
}

TEST_CASE("the C++ client: snapshots by name, diff, restore, export / import with progress",
          "[server][client][snapshots]") {
  test::TempDir dir;
  auto server = test::StartServer(dir);
  Client client(test::ClientOptionsFor(*server));

  CollectionConfig config;
  config.name = "kb";
  config.dimension = 4;
  config.retention.keep_versions = 7;
  config.retention.keep_seconds = 0;
  auto info = client.CreateCollection(config);
  REQUIRE(info.ok());
  REQUIRE(info->config.retention.keep_versions == 7);
  REQUIRE(info->config.retention.keep_seconds == 0);

  const std::vector<Record> batch = test::UpsertClustered(client, "kb", 50, 4, 2, 5);
  auto snap = client.CreateSnapshot("kb", "v1", "the first load");
  REQUIRE(snap.ok());
  REQUIRE(snap->version == 1);
  REQUIRE(client.CreateSnapshot("kb", "v1").status().code() == StatusCode::kAlreadyExists);
  REQUIRE(client.Delete("kb", {"r0", "r1"})->version == 2);

  REQUIRE(*client.Count("kb") == 48);
  REQUIRE(*client.Count("kb", ReadPoint::AtSnapshot("v1")) == 50);
  REQUIRE(*client.Count("kb", 1) == 50);
  REQUIRE(*client.Count("kb", std::nullopt, "bucket = 0") == 0);
  REQUIRE(client.Get("kb", "r0", ReadPoint::AtSnapshot("v1")).ok());
  REQUIRE(client.Get("kb", "r0").status().code() == StatusCode::kNotFound);
  REQUIRE(client.Count("kb", ReadPoint::AtSnapshot("ghost")).status().code() == StatusCode::kNotFound);
  ClientSearch query;
  query.vector = batch[0].vector;
  query.k = 1;
  query.at = ReadPoint::AtSnapshot("v1");
  auto found = client.Search("kb", query);
  REQUIRE(found.ok());
  REQUIRE(found->hits[0].id == "r0");
  ClientScroll scroll;
  scroll.at = ReadPoint::AtSnapshot("v1");
  scroll.limit = 1000;
  REQUIRE(client.Scroll("kb", scroll)->records.size() == 50);

  auto snapshots = client.ListSnapshots("kb");
  REQUIRE(snapshots.ok());
  REQUIRE(snapshots->size() == 1);
  REQUIRE((*snapshots)[0].description == "the first load");
  REQUIRE(client.GetSnapshot("kb", "v1")->records == 50);

  auto diff = client.Diff("kb", ReadPoint::AtSnapshot("v1"), ReadPoint());
  REQUIRE(diff.ok());
  REQUIRE(diff->removed == 2);
  REQUIRE(diff->entries.size() == 2);
  REQUIRE(diff->entries[0].kind == ChangeKind::kRemoved);

  auto restored = client.Restore("kb", ReadPoint::AtSnapshot("v1"));
  REQUIRE(restored.ok());
  REQUIRE(restored->version == 3);
  REQUIRE(*client.Count("kb") == 50);
  auto versions = client.ListVersions("kb");
  REQUIRE(versions->back().is_restore);
  REQUIRE(versions->back().restored_from == 1);
  REQUIRE((*versions)[1].snapshots == std::vector<std::string>{"v1"});

  auto retained = client.SetRetention("kb", std::nullopt, 60);
  REQUIRE(retained.ok());
  REQUIRE(retained->config.retention.keep_versions == 7);
  REQUIRE(retained->config.retention.keep_seconds == 60);
  auto gc = client.Gc("kb");
  REQUIRE(gc.ok());

  uint64_t calls = 0, last_done = 0;
  auto exported = client.Export("kb", ReadPoint::AtSnapshot("v1"), "kb-v1", [&](uint64_t done, uint64_t total) {
    ++calls;
    REQUIRE(done <= total);
    last_done = done;
  });
  REQUIRE(exported.ok());
  REQUIRE(exported->path == "kb-v1");
  REQUIRE(exported->collections.size() == 1);
  REQUIRE(exported->collections[0].records == 50);
  REQUIRE(calls > 0);
  REQUIRE(last_done > 0);
  calls = 0;
  auto imported = client.Import("kb-v1", "kb2", false, [&](uint64_t, uint64_t) { ++calls; });
  REQUIRE(imported.ok());
  REQUIRE(imported->collections[0].config.name == "kb2");
  REQUIRE(imported->records == 50);
  REQUIRE(calls > 0);  // the import's progress reached the client
  REQUIRE(*client.Count("kb2") == 50);
  REQUIRE(client.Import("kb-v1", "kb2").status().code() == StatusCode::kAlreadyExists);
  REQUIRE(client.Export("kb", {}, "../escape").status().code() == StatusCode::kInvalidArgument);

  REQUIRE(client.DeleteSnapshot("kb", "v1").ok());
  REQUIRE(client.DeleteSnapshot("kb", "v1").code() == StatusCode::kNotFound);
  REQUIRE(server->Stop(SIGTERM) == 0);
}
