// End-to-end tests: the real verityd on a free loopback port, driven through
// the generated gRPC stubs.
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "engine/test_data.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/server_helpers.h"
#include "server/server_process.h"
#include "server/stubs.h"
#include "verity/v1/collections.grpc.pb.h"
#include "verity/v1/records.grpc.pb.h"
#include "verity/v1/search.grpc.pb.h"

using namespace verity;
namespace v1 = verity::v1;

namespace {

using test::CreateCollection;
using test::ExpectError;
using test::Stubs;

v1::Record WireRecord(const std::string& id, const std::vector<float>& v, const std::string& lang = "en") {
  v1::Record r;
  r.set_id(id);
  for (float x : v) r.add_vector(x);
  r.set_text("text of " + id);
  (*r.mutable_metadata())["lang"].set_string_value(lang);
  (*r.mutable_metadata())["n"].set_int_value(static_cast<int64_t>(id.size()));
  return r;
}

}  // namespace

TEST_CASE("every RPC: success path, bad input with its exact code, and the server keeps serving", "[server][e2e]") {
  test::TempDir dir;
  auto server = test::StartServer(
      dir, {"--max-batch", "100", "--max-k", "50", "--max-dimension", "64", "--max-message-bytes", "1000000"},
      "verityd.log");
  Stubs s(server->channel());

  // CreateCollection
  v1::CreateCollectionRequest create;
  create.mutable_config()->set_name("docs");
  create.mutable_config()->set_dimension(4);
  create.mutable_config()->set_metric(v1::METRIC_COSINE);
  v1::CreateCollectionResponse created;
  REQUIRE(CALL(s.collections, CreateCollection, create, &created).ok());
  REQUIRE(created.collection().config().m() == 16);  // default filled in
  REQUIRE(created.collection().head_version() == 0);
  ExpectError(CALL(s.collections, CreateCollection, create, &created), grpc::StatusCode::ALREADY_EXISTS, "docs");
  create.mutable_config()->set_name("big");
  create.mutable_config()->set_dimension(65);
  ExpectError(CALL(s.collections, CreateCollection, create, &created), grpc::StatusCode::INVALID_ARGUMENT,
              "--max-dimension=64");
  create.mutable_config()->set_dimension(0);
  ExpectError(CALL(s.collections, CreateCollection, create, &created), grpc::StatusCode::INVALID_ARGUMENT,
              "config.dimension: 0 (a collection without a dense vector) needs a text index or a sparse field");
  create.mutable_config()->set_dimension(4);
  create.mutable_config()->set_name("no spaces");
  ExpectError(CALL(s.collections, CreateCollection, create, &created), grpc::StatusCode::INVALID_ARGUMENT,
              "config.name: only letters");
  create.mutable_config()->set_name("big");
  create.mutable_config()->set_m(1);
  ExpectError(CALL(s.collections, CreateCollection, create, &created), grpc::StatusCode::INVALID_ARGUMENT,
              "config.m: 1 is outside 2..128");

  // GetCollection, ListCollections
  v1::GetCollectionRequest get_collection;
  get_collection.set_name("docs");
  v1::GetCollectionResponse got_collection;
  REQUIRE(CALL(s.collections, GetCollection, get_collection, &got_collection).ok());
  REQUIRE(got_collection.collection().config().metric() == v1::METRIC_COSINE);
  get_collection.set_name("nope");
  ExpectError(CALL(s.collections, GetCollection, get_collection, &got_collection), grpc::StatusCode::NOT_FOUND, "nope");
  v1::ListCollectionsResponse listed;
  REQUIRE(CALL(s.collections, ListCollections, v1::ListCollectionsRequest(), &listed).ok());
  REQUIRE(listed.collections_size() == 1);

  // Upsert
  v1::UpsertRequest upsert;
  upsert.set_collection("docs");
  *upsert.add_records() = WireRecord("a", {1, 0, 0, 0});
  *upsert.add_records() = WireRecord("bb", {0, 1, 0, 0}, "de");
  *upsert.add_records() = WireRecord("ccc", {0, 0, 1, 0});
  (*upsert.mutable_records(2)->mutable_metadata())["tags"].mutable_list_value()->add_values("x");
  v1::WriteResponse written;
  REQUIRE(CALL(s.records, Upsert, upsert, &written).ok());
  REQUIRE(written.version() == 1);
  REQUIRE(written.applied() == 3);
  v1::UpsertRequest bad_upsert;
  bad_upsert.set_collection("docs");
  *bad_upsert.add_records() = WireRecord("ok", {1, 1, 1, 1});
  *bad_upsert.add_records() = WireRecord("nan", {NAN, 1, 1, 1});
  ExpectError(CALL(s.records, Upsert, bad_upsert, &written), grpc::StatusCode::INVALID_ARGUMENT, "records[1].vector[0]: NaN");
  bad_upsert.clear_records();
  *bad_upsert.add_records() = WireRecord("short", {1, 1});
  ExpectError(CALL(s.records, Upsert, bad_upsert, &written), grpc::StatusCode::INVALID_ARGUMENT, "records[0].vector");
  bad_upsert.clear_records();
  *bad_upsert.add_records() = WireRecord("unset", {1, 1, 1, 1});
  (*bad_upsert.mutable_records(0)->mutable_metadata())["empty"];
  ExpectError(CALL(s.records, Upsert, bad_upsert, &written), grpc::StatusCode::INVALID_ARGUMENT, "no value set");
  bad_upsert.clear_records();
  for (int i = 0; i < 101; ++i) *bad_upsert.add_records() = WireRecord("r" + std::to_string(i), {1, 1, 1, 1});
  ExpectError(CALL(s.records, Upsert, bad_upsert, &written), grpc::StatusCode::RESOURCE_EXHAUSTED, "--max-batch=100");
  bad_upsert.clear_records();
  for (int i = 0; i < 2; ++i) {
    *bad_upsert.add_records() = WireRecord("big" + std::to_string(i), {1, 1, 1, 1});
    bad_upsert.mutable_records(i)->set_text(std::string(600000, 'x'));
  }
  ExpectError(CALL(s.records, Upsert, bad_upsert, &written), grpc::StatusCode::RESOURCE_EXHAUSTED, "1000000");
  // A string field that is not UTF-8, named with its map key (docs/server.md,
  // "Errors"). Nothing is written; the server goes on.
  bad_upsert.clear_records();
  *bad_upsert.add_records() = WireRecord("latin1", {1, 1, 1, 1}, "caf\xe9");
  ExpectError(CALL(s.records, Upsert, bad_upsert, &written), grpc::StatusCode::INVALID_ARGUMENT,
              "records[0].metadata[\"lang\"].string_value: is not valid UTF-8 (byte 0xE9 at offset 3)");
  upsert.set_collection("nope");
  ExpectError(CALL(s.records, Upsert, upsert, &written), grpc::StatusCode::NOT_FOUND, "nope");

  // Get
  v1::GetRequest get;
  get.set_collection("docs");
  get.set_id("bb");
  v1::GetResponse got;
  REQUIRE(CALL(s.records, Get, get, &got).ok());
  REQUIRE(got.record().record().text() == "text of bb");
  REQUIRE(got.record().record().metadata().at("lang").string_value() == "de");
  REQUIRE(got.record().row_version() == 1);
  get.mutable_at()->set_version(7);
  ExpectError(CALL(s.records, Get, get, &got), grpc::StatusCode::INVALID_ARGUMENT, "version 7 does not exist yet");
  get.clear_at();
  get.set_id("zz");
  ExpectError(CALL(s.records, Get, get, &got), grpc::StatusCode::NOT_FOUND, "zz");
  get.set_id("latin1");  // refused above, not written
  ExpectError(CALL(s.records, Get, get, &got), grpc::StatusCode::NOT_FOUND, "latin1");

  // Count and Scroll, with filters
  v1::CountRequest count;
  count.set_collection("docs");
  count.set_filter("lang = \"en\"");
  v1::CountResponse counted;
  REQUIRE(CALL(s.records, Count, count, &counted).ok());
  REQUIRE(counted.count() == 2);
  count.set_filter("lang = ");
  ExpectError(CALL(s.records, Count, count, &counted), grpc::StatusCode::INVALID_ARGUMENT, "filter");
  v1::ScrollRequest scroll;
  scroll.set_collection("docs");
  scroll.set_limit(2);
  v1::ScrollResponse page;
  REQUIRE(CALL(s.records, Scroll, scroll, &page).ok());
  REQUIRE(page.records_size() == 2);
  REQUIRE(page.next_cursor() == "bb");
  scroll.set_limit(20000);
  ExpectError(CALL(s.records, Scroll, scroll, &page), grpc::StatusCode::INVALID_ARGUMENT, "limit");

  // Search and BatchSearch
  v1::SearchRequest search;
  search.set_collection("docs");
  for (float x : {1.0f, 0.1f, 0.0f, 0.0f}) search.mutable_query()->add_vector(x);
  search.mutable_query()->set_k(2);
  search.mutable_query()->set_with_payload(true);
  v1::SearchResponse found;
  REQUIRE(CALL(s.search, Search, search, &found).ok());
  REQUIRE(found.hits_size() == 2);
  REQUIRE(found.hits(0).id() == "a");
  REQUIRE(found.hits(0).record().text() == "text of a");
  search.mutable_query()->set_filter("tags any [\"x\"]");
  REQUIRE(CALL(s.search, Search, search, &found).ok());
  REQUIRE(found.hits_size() == 1);
  REQUIRE(found.hits(0).id() == "ccc");
  search.mutable_query()->set_filter("");
  search.mutable_query()->set_k(51);
  ExpectError(CALL(s.search, Search, search, &found), grpc::StatusCode::INVALID_ARGUMENT, "--max-k=50");
  search.mutable_query()->set_k(2);
  search.mutable_query()->add_vector(1);
  ExpectError(CALL(s.search, Search, search, &found), grpc::StatusCode::INVALID_ARGUMENT, "query.vector: has 5 components");
  v1::BatchSearchRequest batch;
  batch.set_collection("docs");
  for (int i = 0; i < 3; ++i) {
    auto* q = batch.add_queries();
    for (int d = 0; d < 4; ++d) q->add_vector(d == i ? 1.0f : 0.0f);
    q->set_k(1);
  }
  v1::BatchSearchResponse batch_found;
  REQUIRE(CALL(s.search, BatchSearch, batch, &batch_found).ok());
  REQUIRE(batch_found.results_size() == 3);
  REQUIRE(batch_found.results(1).hits(0).id() == "bb");
  batch.mutable_queries(1)->set_filter("n >");
  ExpectError(CALL(s.search, BatchSearch, batch, &batch_found), grpc::StatusCode::INVALID_ARGUMENT, "queries[1].filter");

  // Delete, ListVersions
  v1::DeleteRequest del;
  del.set_collection("docs");
  del.add_ids("a");
  del.add_ids("gone");
  REQUIRE(CALL(s.records, Delete, del, &written).ok());
  REQUIRE(written.version() == 2);
  REQUIRE(written.applied() == 1);
  del.add_ids("");
  ExpectError(CALL(s.records, Delete, del, &written), grpc::StatusCode::INVALID_ARGUMENT, "ids[2]");
  v1::ListVersionsRequest versions;
  versions.set_collection("docs");
  v1::ListVersionsResponse versions_resp;
  REQUIRE(CALL(s.collections, ListVersions, versions, &versions_resp).ok());
  REQUIRE(versions_resp.versions_size() == 3);
  REQUIRE(versions_resp.versions(2).deleted() == 1);
  versions.set_collection("nope");
  ExpectError(CALL(s.collections, ListVersions, versions, &versions_resp), grpc::StatusCode::NOT_FOUND, "nope");
  versions.set_collection("docs");  // a page at a time
  versions.set_limit(2);
  REQUIRE(CALL(s.collections, ListVersions, versions, &versions_resp).ok());
  REQUIRE(versions_resp.versions_size() == 2);
  REQUIRE(versions_resp.versions(0).version() == 0);
  REQUIRE(versions_resp.next_start_at() == 2);
  versions.set_start_at(versions_resp.next_start_at());
  REQUIRE(CALL(s.collections, ListVersions, versions, &versions_resp).ok());
  REQUIRE(versions_resp.versions_size() == 1);
  REQUIRE(versions_resp.versions(0).version() == 2);
  REQUIRE(versions_resp.next_start_at() == 0);
  versions.set_start_at(99);  // past the head: an empty last page
  REQUIRE(CALL(s.collections, ListVersions, versions, &versions_resp).ok());
  REQUIRE(versions_resp.versions_size() == 0);
  REQUIRE(versions_resp.next_start_at() == 0);
  versions.set_start_at(0);
  versions.set_limit(10001);
  ExpectError(CALL(s.collections, ListVersions, versions, &versions_resp), grpc::StatusCode::INVALID_ARGUMENT,
              "limit: 10001 is over 10000 (0 = every version)");

  // Reads at an old version still see the deleted record.
  get.set_id("a");
  get.mutable_at()->set_version(1);
  REQUIRE(CALL(s.records, Get, get, &got).ok());

  // DropCollection
  v1::DropCollectionRequest drop;
  drop.set_name("docs");
  v1::DropCollectionResponse dropped;
  REQUIRE(CALL(s.collections, DropCollection, drop, &dropped).ok());
  ExpectError(CALL(s.collections, DropCollection, drop, &dropped), grpc::StatusCode::NOT_FOUND, "docs");

  // Still serving after all of that.
  REQUIRE(s.Serving());
  REQUIRE(CALL(s.collections, ListCollections, v1::ListCollectionsRequest(), &listed).ok());
  REQUIRE(listed.collections_size() == 0);
  REQUIRE(server->Stop(SIGTERM) == 0);
  const std::string log = test::ReadFile(dir.Sub("verityd.log"));
  REQUIRE(log.find("\"event\":\"start\"") != std::string::npos);
  REQUIRE(log.find("\"event\":\"request_failed\"") != std::string::npos);
  REQUIRE(log.find("\"event\":\"stop\"") != std::string::npos);
}

TEST_CASE("a graceful restart keeps data and search results identical", "[server][e2e]") {
  test::TempDir dir;
  auto data = test::ClusteredVectors(3000, 16, 10, 3);
  std::vector<std::vector<std::string>> before;
  auto run_queries = [&](Stubs& s) {
    std::vector<std::vector<std::string>> out;
    for (int q = 0; q < 30; ++q) {
      v1::SearchRequest search;
      search.set_collection("c");
      for (int d = 0; d < 16; ++d) search.mutable_query()->add_vector(data[static_cast<size_t>(q * 50 * 16 + d)]);
      search.mutable_query()->set_k(10);
      search.mutable_query()->set_plan(v1::SEARCH_PLAN_GRAPH);
      v1::SearchResponse found;
      REQUIRE(CALL(s.search, Search, search, &found).ok());
      std::vector<std::string> ids;
      for (const auto& h : found.hits()) ids.push_back(h.id());
      out.push_back(ids);
    }
    return out;
  };
  {
    auto server = test::StartServer(dir);
    Stubs s(server->channel());
    CreateCollection(s, "c", 16);
    for (int b = 0; b < 3; ++b) {
      v1::UpsertRequest upsert;
      upsert.set_collection("c");
      for (int i = b * 1000; i < (b + 1) * 1000; ++i) {
        std::vector<float> v(data.begin() + i * 16, data.begin() + (i + 1) * 16);
        *upsert.add_records() = WireRecord("r" + std::to_string(i), v);
      }
      v1::WriteResponse written;
      REQUIRE(CALL(s.records, Upsert, upsert, &written).ok());
    }
    before = run_queries(s);
    REQUIRE(server->Stop(SIGTERM) == 0);
  }
  auto server = test::StartServer(dir);
  Stubs s(server->channel());
  REQUIRE(run_queries(s) == before);
  v1::CountRequest count;
  count.set_collection("c");
  v1::CountResponse counted;
  REQUIRE(CALL(s.records, Count, count, &counted).ok());
  REQUIRE(counted.count() == 3000);
  // The graph was saved at shutdown: the restart loaded it, no rebuild.
  REQUIRE(test::ReadFile(dir.Sub("log")).find("rebuilding") == std::string::npos);
}

TEST_CASE("kill -9 during an import loses no acknowledged batch", "[server][e2e]") {
  test::TempDir dir;
  std::mt19937 rng(static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
  int acked_batches = 0;
  for (int round = 0; round < 3; ++round) {
    auto server = test::StartServer(dir);
    Stubs s(server->channel());
    if (round == 0) CreateCollection(s, "imp", 8);
    std::atomic<bool> stop{false};
    std::atomic<int> acked{acked_batches};
    std::thread importer([&] {
      for (int b = acked.load(); !stop.load(); ++b) {
        v1::UpsertRequest upsert;
        upsert.set_collection("imp");
        for (int i = 0; i < 50; ++i) {
          std::vector<float> v(8, static_cast<float>(b) + static_cast<float>(i) / 100.0f);
          *upsert.add_records() = WireRecord("b" + std::to_string(b) + "-" + std::to_string(i), v);
        }
        v1::WriteResponse written;
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        if (!s.records->Upsert(&ctx, upsert, &written).ok()) break;  // the server died
        acked = b + 1;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 600));
    server->Stop(SIGKILL);
    stop = true;
    importer.join();
    acked_batches = acked.load();
    INFO("round " << round << ": " << acked_batches << " batches acknowledged");
    REQUIRE(acked_batches > 0);

    auto restarted = test::StartServer(dir);
    Stubs r(restarted->channel());
    v1::CountRequest count;
    count.set_collection("imp");
    v1::CountResponse counted;
    REQUIRE(CALL(r.records, Count, count, &counted).ok());
    REQUIRE(counted.count() >= static_cast<uint64_t>(acked_batches) * 50);
    REQUIRE(counted.count() <= static_cast<uint64_t>(acked_batches + 1) * 50);
    for (int b = 0; b < acked_batches; b += std::max(1, acked_batches / 10)) {
      v1::GetRequest get;
      get.set_collection("imp");
      get.set_id("b" + std::to_string(b) + "-49");
      v1::GetResponse got;
      REQUIRE(CALL(r.records, Get, get, &got).ok());
      REQUIRE(got.record().record().vector(0) == Approx(static_cast<float>(b) + 0.49f));
    }
    acked_batches = static_cast<int>(counted.count() / 50);  // a batch in flight may have landed
    REQUIRE(restarted->Stop(SIGTERM) == 0);
  }
}

TEST_CASE("8 clients search while another imports", "[server][e2e]") {
  test::TempDir dir;
  auto server = test::StartServer(dir);
  Stubs s(server->channel());
  CreateCollection(s, "c", 16);
  auto data = test::ClusteredVectors(20000, 16, 20, 4);
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> searches{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      Stubs mine(server->channel());
      std::mt19937 rng(static_cast<unsigned>(t));
      while (!stop.load()) {
        v1::SearchRequest search;
        search.set_collection("c");
        const size_t q = rng() % 20000;
        for (size_t d = 0; d < 16; ++d) search.mutable_query()->add_vector(data[q * 16 + d]);
        search.mutable_query()->set_k(5);
        if (t % 2) search.mutable_query()->set_filter("lang = \"en\"");
        v1::SearchResponse found;
        if (!CALL(mine.search, Search, search, &found).ok()) {
          failures++;
          continue;
        }
        for (int i = 1; i < found.hits_size(); ++i) {
          if (found.hits(i - 1).distance() > found.hits(i).distance()) failures++;
        }
        searches++;
      }
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  int next = 0;
  while (std::chrono::steady_clock::now() < deadline && next < 20000) {
    v1::UpsertRequest upsert;
    upsert.set_collection("c");
    for (int i = 0; i < 500; ++i, ++next) {
      std::vector<float> v(data.begin() + next * 16, data.begin() + (next + 1) * 16);
      *upsert.add_records() = WireRecord("r" + std::to_string(next), v, next % 2 ? "en" : "fr");
    }
    v1::WriteResponse written;
    REQUIRE(CALL(s.records, Upsert, upsert, &written).ok());
  }
  stop = true;
  for (auto& c : clients) c.join();
  INFO(searches.load() << " searches while importing " << next << " records");
  REQUIRE(failures.load() == 0);
  REQUIRE(searches.load() > 100);
  REQUIRE(server->Stop(SIGTERM) == 0);
}

TEST_CASE("SearchStream answers pipelined queries in the order sent, refusals included", "[server][e2e]") {
  test::TempDir dir;
  auto server = test::StartServer(dir);
  Stubs s(server->channel());
  CreateCollection(s, "c", 8);
  auto data = test::ClusteredVectors(200, 8, 200, 6);  // one record per cluster: each query finds its own
  v1::UpsertRequest upsert;
  upsert.set_collection("c");
  for (size_t i = 0; i < 200; ++i) {
    *upsert.add_records() = WireRecord("r" + std::to_string(i), {data.begin() + i * 8, data.begin() + (i + 1) * 8});
  }
  v1::WriteResponse written;
  REQUIRE(CALL(s.records, Upsert, upsert, &written).ok());

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto stream = s.search->SearchStream(&ctx);
  // All requests are written before any answer is read.
  constexpr int kQueries = 60;
  for (int i = 0; i < kQueries; ++i) {
    v1::SearchRequest request;
    request.set_collection(i == 17 ? "absent" : "c");
    for (size_t d = 0; d < 8; ++d) request.mutable_query()->add_vector(data[static_cast<size_t>(i) * 8 + d]);
    if (i == 30) request.mutable_query()->add_vector(0.5f);  // a ninth component
    request.mutable_query()->set_k(1);
    REQUIRE(stream->Write(request));
  }
  REQUIRE(stream->WritesDone());
  v1::SearchStreamResponse answer;
  for (int i = 0; i < kQueries; ++i) {
    INFO("answer " << i);
    REQUIRE(stream->Read(&answer));
    if (i == 17) {
      REQUIRE(answer.code() == grpc::StatusCode::NOT_FOUND);
      REQUIRE(answer.message().find("absent") != std::string::npos);
      REQUIRE(!answer.has_response());
    } else if (i == 30) {
      REQUIRE(answer.code() == grpc::StatusCode::INVALID_ARGUMENT);
      REQUIRE(answer.message().find("query.vector: has 9 components") != std::string::npos);
    } else {
      REQUIRE(answer.code() == 0);
      REQUIRE(answer.response().version() == written.version());
      REQUIRE(answer.response().hits_size() == 1);
      REQUIRE(answer.response().hits(0).id() == "r" + std::to_string(i));
    }
  }
  REQUIRE(!stream->Read(&answer));
  REQUIRE(stream->Finish().ok());

  v1::SearchRequest search;
  search.set_collection("c");
  for (size_t d = 0; d < 8; ++d) search.mutable_query()->add_vector(data[d]);
  v1::SearchResponse found;
  REQUIRE(CALL(s.search, Search, search, &found).ok());  // still serving
  REQUIRE(found.hits(0).id() == "r0");

  // SIGTERM with a stream open and idle: the server ends it after the grace
  // period and exits 0; the client sees the stream end, not hang.
  grpc::ClientContext open_ctx;
  open_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto open = s.search->SearchStream(&open_ctx);
  REQUIRE(open->Write(search));
  REQUIRE(open->Read(&answer));
  REQUIRE(answer.code() == 0);
  const auto stop_start = std::chrono::steady_clock::now();
  REQUIRE(server->Stop(SIGTERM) == 0);
  REQUIRE(std::chrono::steady_clock::now() - stop_start < std::chrono::seconds(20));
  REQUIRE(!open->Read(&answer));
  const grpc::Status ended = open->Finish();
  INFO("stream ended with " << ended.error_code() << ": " << ended.error_message());
  REQUIRE(!ended.ok());
}

TEST_CASE("verityd refuses a data directory in use and bad flags, with exit codes", "[server][e2e]") {
  test::TempDir dir;
  auto first = test::StartServer(dir, {}, "log1");
  const int code = test::RunVerityd({"--data", dir.Sub("data"), "--listen", "127.0.0.1:" + std::to_string(test::FreePort())},
                                    dir.Sub("log2"));
  REQUIRE(code == 2);
  REQUIRE(test::ReadFile(dir.Sub("log2")).find("in use") != std::string::npos);
  REQUIRE(test::RunVerityd({"--max-k", "zero"}, dir.Sub("log3")) == 1);
  REQUIRE(test::ReadFile(dir.Sub("log3")).find("--max-k") != std::string::npos);
  REQUIRE(test::RunVerityd({"--wal-recovery", "ignore"}, dir.Sub("log3b")) == 1);
  REQUIRE(test::ReadFile(dir.Sub("log3b")).find("--wal-recovery: expected point-in-time or skip-corrupted") !=
          std::string::npos);
  REQUIRE(test::RunVerityd({"--data", dir.Sub("other"), "--listen", first->address()}, dir.Sub("log4")) == 3);
  // The taken port is named with why, and gRPC's own complaint is a JSON
  // line like every other: no line of stderr but the last is not JSON.
  const std::string log4 = test::ReadFile(dir.Sub("log4"));
  CHECK(log4.find("verityd: cannot listen on " + first->address() + ": Address already in use\n") != std::string::npos);
  std::istringstream lines(log4);
  std::vector<std::string> all;
  for (std::string line; std::getline(lines, line);) all.push_back(line);
  REQUIRE(!all.empty());
  for (size_t i = 0; i + 1 < all.size(); ++i) {
    INFO(all[i]);
    CHECK(all[i].rfind("{\"ts\":", 0) == 0);
  }
  REQUIRE(test::RunVerityd({"--data", dir.Sub("other"), "--listen", "notanaddr"}, dir.Sub("log5")) == 1);
  CHECK(test::ReadFile(dir.Sub("log5")) ==
        "verityd: --listen: expected HOST:PORT, [IPv6]:PORT or unix:PATH (port 0..65535), got \"notanaddr\"\n");
  REQUIRE(Stubs(first->channel()).Serving());
}

TEST_CASE("a long BatchSearch stops at the server's default deadline, and the server keeps serving", "[server][e2e]") {
  test::TempDir dir;
  auto server = test::StartServer(dir, {"--default-deadline-ms", "300"});
  Stubs s(server->channel());
  constexpr size_t kDim = 64, kRecords = 10000;
  CreateCollection(s, "big", kDim);
  const auto data = test::ClusteredVectors(kRecords, kDim, 20, 9);
  for (size_t from = 0; from < kRecords; from += 1000) {
    v1::UpsertRequest upsert;
    upsert.set_collection("big");
    for (size_t i = from; i < from + 1000; ++i) {
      *upsert.add_records() =
          WireRecord("r" + std::to_string(i), {data.begin() + long(i * kDim), data.begin() + long((i + 1) * kDim)});
    }
    v1::WriteResponse written;
    REQUIRE(CALL(s.records, Upsert, upsert, &written).ok());
  }
  // 10,000 exact searches over 10,000 rows: seconds of work, far beyond
  // 300 ms. No client deadline: the server's default applies, and the
  // engine's batch stops at it (gRPC's own expiry would not name the flag).
  auto batch_of = [&](size_t n) {
    v1::BatchSearchRequest batch;
    batch.set_collection("big");
    for (size_t q = 0; q < n; ++q) {
      auto* query = batch.add_queries();
      for (size_t d = 0; d < kDim; ++d) query->add_vector(data[(q % kRecords) * kDim + d]);
      query->set_k(10);
      query->set_plan(v1::SEARCH_PLAN_EXACT);
    }
    return batch;
  };
  v1::BatchSearchResponse results;
  const grpc::Status stopped = CALL(s.search, BatchSearch, batch_of(10000), &results);
  ExpectError(stopped, grpc::StatusCode::DEADLINE_EXCEEDED, "--default-deadline-ms");
  // The server answers what fits in its deadline.
  REQUIRE(CALL(s.search, BatchSearch, batch_of(5), &results).ok());
  REQUIRE(results.results_size() == 5);
  REQUIRE(results.results(0).hits(0).id() == "r0");
  REQUIRE(server->Stop(SIGTERM) == 0);
}

TEST_CASE("a BatchSearch that asks for more hits than its answer may hold is refused before it runs",
          "[server][e2e]") {
  test::TempDir dir;
  auto server = test::StartServer(dir, {"--max-message-bytes", "300000"});
  Stubs s(server->channel());
  constexpr size_t kDim = 4, kRecords = 1000;
  CreateCollection(s, "small", kDim);
  for (size_t from = 0; from < kRecords; from += 250) {  // requests under the 300,000-byte limit
    v1::UpsertRequest upsert;
    upsert.set_collection("small");
    for (size_t i = from; i < from + 250; ++i) {
      // 200-byte ids: the hits' ids alone outweigh the response limit.
      std::string id = "r" + std::to_string(i);
      id.resize(200, '.');
      *upsert.add_records() = WireRecord(id, {float(i), float(i % 7), 1, 0});
    }
    v1::WriteResponse written;
    REQUIRE(CALL(s.records, Upsert, upsert, &written).ok());
  }
  auto batch_of = [&](size_t n, uint32_t k) {
    v1::BatchSearchRequest batch;
    batch.set_collection("small");
    for (size_t q = 0; q < n; ++q) {
      auto* query = batch.add_queries();
      for (size_t d = 0; d < kDim; ++d) query->add_vector(float((q + d) % 13));
      query->set_k(k);
      query->set_with_payload(false);
    }
    return batch;
  };
  v1::BatchSearchResponse results;
  // 10,000 queries × k = 1,000 over 1,000 rows: 10 million hits, a request
  // of half a megabyte. Refused by the hits bound before any query runs
  // (before the fix: every hit was built, seconds and gigabytes later).
  ExpectError(CALL(s.search, BatchSearch, batch_of(10000, 1000), &results), grpc::StatusCode::RESOURCE_EXHAUSTED,
              "queries: 10000 queries may return 10000000 hits");
  ExpectError(CALL(s.search, BatchSearch, batch_of(10000, 1000), &results), grpc::StatusCode::RESOURCE_EXHAUSTED,
              "--max-batch-hits=1000000");
  // 1,000 queries × k = 1,000: 1,000,000 hits pass the hits bound, but not
  // even 1-byte ids would fit 300,000 bytes.
  ExpectError(CALL(s.search, BatchSearch, batch_of(1000, 1000), &results), grpc::StatusCode::RESOURCE_EXHAUSTED,
              "this response may hold");
  ExpectError(CALL(s.search, BatchSearch, batch_of(1000, 1000), &results), grpc::StatusCode::RESOURCE_EXHAUSTED,
              "--max-message-bytes=300000");
  // 10 queries × k = 100 might fit (17,000 bytes at least), but the hits'
  // 200-byte ids take ~216,000: counted as they are produced, without
  // payloads too, and refused before the answer is built.
  ExpectError(CALL(s.search, BatchSearch, batch_of(20, 100), &results), grpc::StatusCode::RESOURCE_EXHAUSTED,
              "hits: the first ");
  REQUIRE(CALL(s.search, BatchSearch, batch_of(5, 100), &results).ok());
  REQUIRE(results.results_size() == 5);
  REQUIRE(results.results(0).hits_size() == 100);
  REQUIRE(server->Stop(SIGTERM) == 0);
}

TEST_CASE("verityd: a config file sets options, flags override it, slow requests are logged, unix: sockets serve",
          "[server][e2e]") {
  test::TempDir dir;
  const std::string config = dir.Sub("verityd.conf");
  {
    std::ofstream out(config);
    out << "# limits for this test\n"
        << "max-k = 5          # overridden by the flag below\n"
        << "slow-request-ms = 1\n";
  }
  const std::string socket = "unix:" + dir.Sub("verityd.sock");
  auto server = test::StartServer(dir, {"--config", config, "--max-k", "7", "--listen", socket});
  Stubs s(server->channel());  // over the unix socket
  CreateCollection(s, "c", 4);
  v1::UpsertRequest upsert;
  upsert.set_collection("c");
  // 2,000 graph inserts: well over the 1 ms that makes a request slow here.
  for (int i = 0; i < 2000; ++i) *upsert.add_records() = WireRecord("r" + std::to_string(i), {float(i), 0, 0, 1});
  v1::WriteResponse written;
  REQUIRE(CALL(s.records, Upsert, upsert, &written).ok());
  auto search_k = [&](uint32_t k) {
    v1::SearchRequest search;
    search.set_collection("c");
    for (float x : {1.0f, 0.0f, 0.0f, 1.0f}) search.mutable_query()->add_vector(x);
    search.mutable_query()->set_k(k);
    v1::SearchResponse found;
    return CALL(s.search, Search, search, &found);
  };
  REQUIRE(search_k(7).ok());  // the flag's 7, not the file's 5
  ExpectError(search_k(8), grpc::StatusCode::INVALID_ARGUMENT, "--max-k=7");
  // slow-request-ms = 1: the upsert was slow, and the log says so.
  const std::string log = test::ReadFile(dir.Sub("log"));
  CHECK(log.find("\"event\":\"slow_request\"") != std::string::npos);
  CHECK(log.find("\"method\":\"Upsert\"") != std::string::npos);
  REQUIRE(server->Stop(SIGTERM) == 0);

  // A bad line names the file and its line; verityd does not start.
  {
    std::ofstream out(config, std::ios::app);
    out << "max-batch 10\n";
  }
  const int code = test::RunVerityd({"--data", dir.Sub("data2"), "--config", config}, dir.Sub("log2"));
  CHECK(code != 0);
  CHECK_THAT(test::ReadFile(dir.Sub("log2")), Catch::Contains(config + ":4: expected 'name = value'"));
}
