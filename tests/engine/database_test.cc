#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "engine/test_data.h"
#include "verity/filter_parser.h"

using namespace verity;
using test::TempDir;

namespace {

CollectionConfig Config(const std::string& name, uint32_t dim, Metric metric = Metric::kL2) {
  CollectionConfig c;
  c.name = name;
  c.dimension = dim;
  c.metric = metric;
  return c;
}

Record Rec(const std::string& id, std::vector<float> v, const std::string& text = "") {
  Record r;
  r.id = id;
  r.vector = std::move(v);
  r.text = text;
  return r;
}

// A database open in a fresh directory, removed with it at the end.
struct FreshDatabase {
  FreshDatabase() {
    auto opened = Database::Open(dir.path(), test::QuietOptions());
    REQUIRE(opened.ok());
    db = std::move(*opened);
  }
  TempDir dir;
  std::unique_ptr<Database> db;
};

}  // namespace

TEST_CASE("collections: create, get, list, drop", "[engine][database]") {
  TempDir dir;
  auto db = Database::Open(dir.path(), test::QuietOptions());
  REQUIRE(db.ok());
  auto created = (*db)->CreateCollection(Config("docs", 4, Metric::kCosine));
  REQUIRE(created.ok());
  REQUIRE(created->head_version == 0);
  REQUIRE((*db)->CreateCollection(Config("docs", 4)).status().code() == StatusCode::kAlreadyExists);
  REQUIRE((*db)->CreateCollection(Config("other", 8)).ok());
  auto list = (*db)->ListCollections();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  REQUIRE((*list)[0].config.name == "docs");
  REQUIRE((*list)[0].config.metric == Metric::kCosine);
  REQUIRE((*db)->DropCollection("docs").ok());
  REQUIRE((*db)->GetCollection("docs").status().code() == StatusCode::kNotFound);
  REQUIRE((*db)->DropCollection("docs").code() == StatusCode::kNotFound);
  // The name can be used again, as a new, empty collection.
  REQUIRE((*db)->CreateCollection(Config("docs", 2)).ok());
  REQUIRE(*(*db)->Count("docs") == 0);
}

TEST_CASE("collection config limits name the field", "[engine][database]") {
  TempDir dir;
  auto db = Database::Open(dir.path(), test::QuietOptions());
  REQUIRE(db.ok());
  auto check = [&](CollectionConfig c, const std::string& field) {
    auto r = (*db)->CreateCollection(c);
    REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
    REQUIRE(r.status().message().find(field) != std::string::npos);
  };
  check(Config("", 4), "name");
  check(Config("bad name", 4), "name");
  check(Config("..", 4), "name: \"..\" is not allowed");  // a directory in an export
  check(Config(".", 4), "name: \".\" is not allowed");
  check(Config("x", 0), "dimension");
  check(Config("x", 4097), "dimension");
  auto c = Config("x", 4);
  c.m = 1;
  check(c, "m:");
  c = Config("x", 4);
  c.ef_construction = 0;
  check(c, "ef_construction");
  // keep_seconds beyond 100 years overflowed the microsecond cutoff, which
  // then kept nothing: refused, by create and by SetRetention alike.
  c = Config("x", 4);
  c.retention.keep_seconds = INT64_MAX;
  check(c, "retention.keep_seconds: 9223372036854775807 is above the limit 3153600000");
  REQUIRE((*db)->CreateCollection(Config("x", 4096)).ok());
  const Status forever = (*db)->SetRetention("x", RetentionPolicy{1, Limits::kMaxKeepSeconds + 1});
  CHECK(forever.code() == StatusCode::kInvalidArgument);
  CHECK(forever.message().find("retention.keep_seconds") != std::string::npos);
  CHECK((*db)->SetRetention("x", RetentionPolicy{1, Limits::kMaxKeepSeconds}).ok());
  // A name longer than any collection's is not echoed whole.
  const Status unknown = (*db)->GetCollection(std::string(1 << 20, 'n')).status();
  CHECK(unknown.code() == StatusCode::kNotFound);
  CHECK(unknown.message().size() < 300);
  CHECK(unknown.message().find("1048576 bytes") != std::string::npos);
}

TEST_CASE("a scroll page of large records ends early at the page byte limit, with a cursor", "[engine][database]") {
  FreshDatabase fresh;
  Database& db = *fresh.db;
  REQUIRE(db.CreateCollection(Config("c", 2)).ok());
  std::vector<Record> batch;
  for (int i = 0; i < 24; ++i) {
    batch.push_back(Rec("id" + std::to_string(100 + i), {float(i), 1}, std::string(1 << 20, 'a' + i % 26)));
  }
  REQUIRE(db.Upsert("c", batch).ok());
  ScrollRequest request;
  request.limit = 100;
  std::vector<std::string> seen;
  size_t pages = 0;
  do {
    auto page = db.Scroll("c", request);
    REQUIRE(page.ok());
    ++pages;
    size_t bytes = 0;
    for (const auto& r : page->records) {
      bytes += r.record.text.size();
      seen.push_back(r.record.id);
    }
    CHECK(bytes <= Limits::kMaxPageBytes + (1 << 20) + 4096);  // ends at the first record past the limit
    request.start_after = page->next_cursor;
  } while (!request.start_after.empty());
  CHECK(pages >= 2);
  REQUIRE(seen.size() == 24);
  for (int i = 0; i < 24; ++i) CHECK(seen[i] == "id" + std::to_string(100 + i));
}

TEST_CASE("a filtered scroll page examines a bounded number of ids and ends with a cursor", "[engine][database]") {
  FreshDatabase fresh;
  Database& db = *fresh.db;
  REQUIRE(db.CreateCollection(Config("c", 2)).ok());
  std::vector<Record> batch;
  for (int i = 0; i < 10; ++i) {
    Record r = Rec("id" + std::to_string(i), {float(i), 1});
    r.metadata["lang"] = std::string(i >= 7 ? "de" : "en");  // only the last three match
    batch.push_back(r);
  }
  REQUIRE(db.Upsert("c", batch).ok());
  auto filter = ParseFilter("lang = \"de\"");
  REQUIRE(filter.ok());
  ScrollRequest request;
  request.filter = *filter;
  request.max_scanned = 3;
  std::vector<std::string> seen;
  size_t pages = 0, empty_pages = 0;
  do {
    auto page = db.Scroll("c", request);
    REQUIRE(page.ok());
    ++pages;
    if (page->records.empty() && !page->next_cursor.empty()) ++empty_pages;
    for (const auto& r : page->records) seen.push_back(r.record.id);
    request.start_after = page->next_cursor;
  } while (!request.start_after.empty());
  CHECK(seen == std::vector<std::string>{"id7", "id8", "id9"});
  CHECK(empty_pages == 2);  // ids 0-2 and 3-5 are all "en"
  CHECK(pages == 4);
  request = ScrollRequest();
  request.max_scanned = 0;
  CHECK(db.Scroll("c", request).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("records: upsert, get, scroll, count, delete, versions", "[engine][database]") {
  FreshDatabase fresh;
  Database& db = *fresh.db;
  REQUIRE(db.CreateCollection(Config("c", 3)).ok());
  Record a = Rec("a", {1, 0, 0}, "alpha");
  a.document_id = "doc-1";
  a.metadata["lang"] = std::string("en");
  a.metadata["year"] = int64_t{2020};
  a.metadata["score"] = 0.5;
  a.metadata["ok"] = true;
  a.metadata["tags"] = std::vector<std::string>{"x", "y"};
  auto w1 = db.Upsert("c", {a, Rec("b", {0, 1, 0}, "beta"), Rec("c", {0, 0, 1}, "gamma")});
  REQUIRE(w1.ok());
  REQUIRE(w1->version == 1);
  REQUIRE(w1->applied == 3);

  auto got = db.Get("c", "a");
  REQUIRE(got.ok());
  REQUIRE(got->row_version == 1);
  REQUIRE(got->record.text == "alpha");
  REQUIRE(got->record.document_id == "doc-1");
  REQUIRE(got->record.vector == std::vector<float>{1, 0, 0});
  REQUIRE(got->record.metadata == a.metadata);

  auto w2 = db.Upsert("c", {Rec("a", {0.9f, 0.1f, 0}, "alpha v2")});
  REQUIRE(w2->version == 2);
  REQUIRE(db.Get("c", "a")->record.text == "alpha v2");
  REQUIRE(db.Get("c", "a", 1)->record.text == "alpha");
  auto w3 = db.Delete("c", {"b", "missing"});
  REQUIRE(w3.ok());
  REQUIRE(w3->version == 3);
  REQUIRE(w3->applied == 1);
  // A delete that matches no live id makes no version.
  auto noop = db.Delete("c", {"b", "missing"});
  REQUIRE(noop.ok());
  CHECK(noop->version == 3);
  CHECK(noop->applied == 0);
  CHECK(db.GetCollection("c")->head_version == 3);
  REQUIRE(db.Get("c", "b").status().code() == StatusCode::kNotFound);
  REQUIRE(db.Get("c", "b", 2)->record.text == "beta");
  REQUIRE(*db.Count("c") == 2);
  REQUIRE(*db.Count("c", 2) == 3);
  REQUIRE(*db.Count("c", 0) == 0);
  Filter en = Filter::Eq("lang", std::string("en"));
  REQUIRE(*db.Count("c", std::nullopt, &en) == 0);  // a's v2 has no metadata
  REQUIRE(*db.Count("c", 1, &en) == 1);

  ScrollRequest sr;
  sr.limit = 1;
  auto page = db.Scroll("c", sr);
  REQUIRE(page.ok());
  REQUIRE(page->records.size() == 1);
  REQUIRE(page->records[0].record.id == "a");
  sr.start_after = page->next_cursor;
  page = db.Scroll("c", sr);
  REQUIRE(page->records[0].record.id == "c");
  sr.start_after = page->next_cursor;
  page = db.Scroll("c", sr);
  REQUIRE(page->records.empty());
  REQUIRE(page->next_cursor.empty());
  ScrollRequest at1;
  at1.at = 1;
  page = db.Scroll("c", at1);
  REQUIRE(page->records.size() == 3);
  REQUIRE(page->records[0].record.text == "alpha");

  auto versions = db.ListVersions("c");
  REQUIRE(versions.ok());
  REQUIRE(versions->size() == 4);
  REQUIRE((*versions)[1].upserted == 3);
  REQUIRE((*versions)[3].deleted == 1);
  REQUIRE((*versions)[3].committed_at_us >= (*versions)[1].committed_at_us);
  // A page at a time: 0-1, 2-3, then past the head.
  auto first = db.ListVersionsPage("c", 0, 2);
  REQUIRE(first.ok());
  REQUIRE(first->versions.size() == 2);
  REQUIRE(first->versions[1].version == 1);
  REQUIRE(first->next_start_at == 2);
  auto second = db.ListVersionsPage("c", first->next_start_at, 2);
  REQUIRE(second->versions.size() == 2);
  REQUIRE(second->versions[1].deleted == 1);
  REQUIRE(second->next_start_at == 0);  // the head ended the page
  REQUIRE(db.ListVersionsPage("c", 3, 0)->versions.size() == 1);
  REQUIRE(db.ListVersionsPage("c", 9, 5)->versions.empty());
  REQUIRE(db.ListVersionsPage("nope", 0, 5).status().code() == StatusCode::kNotFound);
  REQUIRE(db.ListVersionsPage("c", 0, Limits::kMaxVersionsPage + 1).status().code() == StatusCode::kInvalidArgument);

  SearchRequest q;
  q.vector = {1, 0, 0};
  q.k = 2;
  auto hits = db.Search("c", q);
  REQUIRE(hits.ok());
  REQUIRE(hits->version == 3);
  REQUIRE(hits->hits.size() == 2);
  REQUIRE(hits->hits[0].id == "a");
  REQUIRE(hits->hits[0].row_version == 2);
  REQUIRE(hits->hits[0].record->text == "alpha v2");
  q.at = 1;
  hits = db.Search("c", q);
  REQUIRE(hits->hits[0].id == "a");
  REQUIRE(hits->hits[0].row_version == 1);
  REQUIRE(hits->hits[0].distance == Approx(0.0f));
}

TEST_CASE("bad input gets a clear error and changes nothing", "[engine][database]") {
  FreshDatabase fresh;
  Database& db = *fresh.db;
  REQUIRE(db.CreateCollection(Config("c", 2)).ok());
  REQUIRE(db.Upsert("c", {Rec("keep", {1, 1})}).ok());
  auto expect = [&](Result<WriteResult> r, const std::string& needle) {
    INFO(r.status().ToString());
    REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
    REQUIRE(r.status().message().find(needle) != std::string::npos);
  };
  const float nan = std::nanf("");
  const float inf = INFINITY;
  expect(db.Upsert("c", {Rec("x", {1, 2, 3})}), "records[0].vector: has 3 components");
  expect(db.Upsert("c", {Rec("ok", {1, 2}), Rec("x", {nan, 2})}), "records[1].vector[0]: NaN");
  expect(db.Upsert("c", {Rec("x", {1, inf})}), "records[0].vector[1]: infinite");
  // Finite but large enough to overflow a distance (#23): refused, naming the bound.
  expect(db.Upsert("c", {Rec("x", {1, 2}), Rec("y", {1, -3.4e38f})}),
         "records[1].vector[1]: -3.39999995e+38 is outside the allowed \u00b11e15");
  expect(db.Upsert("c", {Rec("x", {1.01e15f, 2})}), "records[0].vector[0]: 1.01000001e+15 is outside");
  expect(db.Upsert("c", {Rec("", {1, 2})}), "records[0].id: must not be empty");
  expect(db.Upsert("c", {Rec(std::string(513, 'a'), {1, 2})}), "the limit is 512");
  expect(db.Upsert("c", {Rec(std::string("a\0b", 3), {1, 2})}), "NUL");
  expect(db.Upsert("c", {Rec("d", {1, 2}), Rec("d", {1, 2})}), "records[1]: duplicate id");
  expect(db.Upsert("c", {}), "empty");
  expect(db.Upsert("c", {Rec("x", {1, 2}, std::string("\xff\xfe", 2))}), "text: is not valid UTF-8");
  expect(db.Delete("c", {"keep", "keep"}), "ids[1]: duplicate id");
  REQUIRE(db.Upsert("nope", {Rec("x", {1, 2})}).status().code() == StatusCode::kNotFound);

  SearchRequest q;
  q.vector = {1, 1};
  q.k = 0;
  REQUIRE(db.Search("c", q).status().message().find("k: 0 is outside") != std::string::npos);
  q.k = Limits::kMaxK + 1;
  REQUIRE(db.Search("c", q).status().code() == StatusCode::kInvalidArgument);
  q.k = 5;
  q.vector = {1};
  REQUIRE(db.Search("c", q).status().message().find("vector: has 1 components") != std::string::npos);
  q.vector = {1, 0x1p51f};  // 2.25e15, a float exactly
  REQUIRE(db.Search("c", q).status().message().find("vector[1]: 2.25179981e+15 is outside the allowed \u00b11e15") !=
          std::string::npos);
  q.vector = {1, 1};
  q.filter = Filter::Lt("a", std::string("x"));
  REQUIRE(db.Search("c", q).status().message().find("filter.values") != std::string::npos);
  q.filter.reset();
  q.at = 99;
  REQUIRE(db.Search("c", q).status().message().find("version 99 does not exist yet") != std::string::npos);
  REQUIRE(db.Get("c", "keep", 99).status().code() == StatusCode::kInvalidArgument);
  REQUIRE(db.Count("c", 99).status().code() == StatusCode::kInvalidArgument);

  // Nothing changed: still one record at version 1.
  REQUIRE(db.GetCollection("c")->head_version == 1);
  REQUIRE(*db.Count("c") == 1);
  REQUIRE(db.ListVersions("c")->size() == 2);
}

TEST_CASE("components at the bound give finite distances in every metric", "[engine][database]") {
  FreshDatabase fresh;
  Database& db = *fresh.db;
  const float b = Limits::kMaxVectorComponent;
  for (Metric metric : {Metric::kL2, Metric::kIp, Metric::kCosine}) {
    CollectionConfig config = Config("m" + std::to_string(static_cast<int>(metric)), Limits::kMaxDimension);
    config.metric = metric;
    REQUIRE(db.CreateCollection(config).ok());
    std::vector<float> plus(Limits::kMaxDimension, b), minus(Limits::kMaxDimension, -b), mixed(Limits::kMaxDimension);
    for (size_t i = 0; i < mixed.size(); ++i) mixed[i] = i % 2 == 0 ? b : -b;
    REQUIRE(db.Upsert(config.name, {Rec("plus", plus), Rec("minus", minus), Rec("mixed", mixed)}).ok());
    SearchRequest q;
    q.k = 3;
    for (const auto& query : {plus, minus, mixed}) {
      q.vector = query;
      for (SearchPlan plan : {SearchPlan::kGraph, SearchPlan::kExact}) {
        q.plan = plan;
        auto r = db.Search(config.name, q);
        REQUIRE(r.ok());
        REQUIRE(r->hits.size() == 3);
        for (const auto& hit : r->hits) {
          INFO(config.name << " " << hit.id);
          REQUIRE(std::isfinite(hit.distance));
        }
      }
    }
  }
}

TEST_CASE("a data directory is refused while another opener holds it", "[engine][database]") {
  TempDir dir;
  auto first = Database::Open(dir.path(), test::QuietOptions());
  REQUIRE(first.ok());
  auto second = Database::Open(dir.path(), test::QuietOptions());
  REQUIRE(second.status().code() == StatusCode::kFailedPrecondition);
  REQUIRE(second.status().message().find("in use") != std::string::npos);
  REQUIRE((*first)->Close().ok());
  REQUIRE((*first)->CreateCollection(Config("x", 2)).status().code() == StatusCode::kFailedPrecondition);
  auto third = Database::Open(dir.path(), test::QuietOptions());
  REQUIRE(third.ok());
  DatabaseOptions no_create = test::QuietOptions();
  no_create.create_if_missing = false;
  REQUIRE(Database::Open(dir.Sub("absent"), no_create).status().code() == StatusCode::kNotFound);
}

TEST_CASE("cosine and inner-product collections rank by angle and dot", "[engine][database]") {
  FreshDatabase fresh;
  Database& db = *fresh.db;
  REQUIRE(db.CreateCollection(Config("cos", 2, Metric::kCosine)).ok());
  REQUIRE(db.CreateCollection(Config("ip", 2, Metric::kIp)).ok());
  for (const char* name : {"cos", "ip"}) {
    REQUIRE(db.Upsert(name, {Rec("long", {10, 1}), Rec("aligned", {1, 1})}).ok());
  }
  SearchRequest q;
  q.vector = {2, 2};
  q.k = 2;
  auto cos = db.Search("cos", q);
  REQUIRE(cos->hits[0].id == "aligned");
  REQUIRE(cos->hits[0].distance == Approx(0.0f).margin(1e-5));
  REQUIRE(db.Get("cos", "long")->record.vector == std::vector<float>{10, 1});  // stored as given
  auto ip = db.Search("ip", q);
  REQUIRE(ip->hits[0].id == "long");
  REQUIRE(ip->hits[0].distance == Approx(1.0f - 22.0f));
}

TEST_CASE("SearchBatch's refusals carry the field and the reason the server acts on", "[engine][database]") {
  TempDir dir;
  auto db = Database::Open(dir.path(), test::QuietOptions());
  REQUIRE(db.ok());
  REQUIRE((*db)->CreateCollection(Config("c", 4)).ok());
  std::vector<Record> records;
  for (int i = 0; i < 20; ++i) {
    records.push_back(Rec("r" + std::to_string(i), {float(i), 0, 0, 1}, std::string(100, 't')));
  }
  REQUIRE((*db)->Upsert("c", records).ok());
  std::vector<SearchRequest> queries(3);
  for (auto& q : queries) {
    q.vector = {1, 0, 0, 1};
    q.k = 10;
    q.with_payload = true;
  }

  // More hits than the batch may return: refused before any query runs.
  BatchLimits hits;
  hits.max_hits = 29;
  auto over = (*db)->SearchBatch("c", queries, nullptr, hits);
  REQUIRE(over.status().code() == StatusCode::kResourceExhausted);
  CHECK(over.status().reason() == StatusReason::kBatchHitsOverLimit);
  CHECK(over.status().field() == "queries");
  CHECK(over.status().message() ==
        "queries: 3 queries may return 30 hits (the sum of min(k, 20 rows)), more than the 29 one batch may return; "
        "send fewer queries or a smaller k");
  hits.max_hits = 30;
  CHECK((*db)->SearchBatch("c", queries, nullptr, hits).ok());

  // More bytes than the response may hold: before the queries run (the
  // fewest bytes 30 hits can take), then as their hits come.
  BatchLimits bytes;
  bytes.max_response_bytes = 30 * (BatchLimits::kHitWireBytes + 1) - 1;
  auto before = (*db)->SearchBatch("c", queries, nullptr, bytes);
  REQUIRE(before.status().code() == StatusCode::kResourceExhausted);
  CHECK(before.status().reason() == StatusReason::kResponseTooLarge);
  CHECK(before.status().field() == "queries");
  CHECK(before.status().message().rfind("queries: 3 queries may return 30 hits, at least ", 0) == 0);
  bytes.max_response_bytes = 1000;
  auto during = (*db)->SearchBatch("c", queries, nullptr, bytes);
  REQUIRE(during.status().code() == StatusCode::kResourceExhausted);
  CHECK(during.status().reason() == StatusReason::kResponseTooLarge);
  CHECK(during.status().field() == "hits");
  CHECK(during.status().message().rfind("hits: the first ", 0) == 0);

  // One query's own payload bound: named by its index, reason kept.
  auto bounded = queries;
  bounded[1].max_payload_bytes = 150;
  auto payload = (*db)->SearchBatch("c", bounded);
  REQUIRE(payload.status().code() == StatusCode::kResourceExhausted);
  CHECK(payload.status().reason() == StatusReason::kResponseTooLarge);
  CHECK(payload.status().field() == "queries[1].hits");
  CHECK(payload.status().message().rfind("queries[1]: hits: the records of the first 2 hits hold ", 0) == 0);

  // A bad query: its field path, no reason.
  auto bad = queries;
  bad[2].vector[3] = std::nanf("");
  auto refused = (*db)->SearchBatch("c", bad);
  REQUIRE(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(refused.status().reason() == StatusReason::kNone);
  CHECK(refused.status().field() == "queries[2].vector[3]");
  CHECK(refused.status().message() == "queries[2]: vector[3]: NaN (components must be finite)");
  CHECK(refused.status().detail() == "NaN (components must be finite)");
}

TEST_CASE("SearchBatch answers each query as Search does, and stops when keep_going refuses", "[engine][database]") {
  TempDir dir;
  auto db = Database::Open(dir.path(), test::QuietOptions());
  REQUIRE(db.ok());
  REQUIRE((*db)->CreateCollection(Config("c", 8)).ok());
  const auto data = test::ClusteredVectors(500, 8, 10, 3);
  std::vector<Record> records;
  for (size_t i = 0; i < 500; ++i) records.push_back(test::MakeRecord(i, data.data() + i * 8, 8));
  REQUIRE((*db)->Upsert("c", records).ok());
  std::vector<SearchRequest> queries(64);
  for (size_t i = 0; i < queries.size(); ++i) {
    queries[i].vector.assign(data.begin() + i * 8, data.begin() + (i + 1) * 8);
    queries[i].k = 5;
    queries[i].plan = i % 2 ? SearchPlan::kExact : SearchPlan::kAuto;
  }
  auto batch = (*db)->SearchBatch("c", queries);
  REQUIRE(batch.ok());
  REQUIRE(batch->size() == queries.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    auto one = (*db)->Search("c", queries[i]);
    REQUIRE(one.ok());
    REQUIRE((*batch)[i].hits.size() == one->hits.size());
    for (size_t h = 0; h < one->hits.size(); ++h) REQUIRE((*batch)[i].hits[h].id == one->hits[h].id);
  }

  // A bad query is named by its index.
  auto bad = queries;
  bad[9].vector.push_back(1);
  std::atomic<int> searched{0};
  auto refused = (*db)->SearchBatch("c", bad, [&] {
    searched.fetch_add(1);
    return Status::Ok();
  });
  REQUIRE(refused.status().code() == StatusCode::kInvalidArgument);
  REQUIRE(refused.status().message().rfind("queries[9]: vector", 0) == 0);
  CHECK(searched.load() == 0);  // refused before any query ran

  // keep_going is asked before each query; its first refusal stops the
  // batch and is the result. Queries already started finish; none starts after.
  std::atomic<int> asked{0};
  auto stopped = (*db)->SearchBatch("c", queries, [&] {
    return ++asked <= 10 ? Status::Ok() : Status(StatusCode::kDeadlineExceeded, "the caller's deadline passed");
  });
  REQUIRE(stopped.status().code() == StatusCode::kDeadlineExceeded);
  REQUIRE(stopped.status().message() == "the caller's deadline passed");
  INFO("asked " << asked.load() << " times");
  REQUIRE(asked.load() >= 11);
  REQUIRE(asked.load() < static_cast<int>(queries.size()));
  // An OK keep_going changes nothing.
  auto all = (*db)->SearchBatch("c", queries, [] { return Status::Ok(); });
  REQUIRE(all.ok());
  REQUIRE(all->size() == queries.size());
}
