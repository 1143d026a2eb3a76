// The C++ client library against a real verityd.
#include <catch2/catch.hpp>
#include <signal.h>

#include <thread>

#include "engine/test_data.h"
#include "server/server_helpers.h"
#include "server/server_process.h"
#include "verity/client.h"

using namespace verity;

TEST_CASE("the C++ client: typed calls, versions, filters and error codes", "[server][client]") {
  test::TempDir dir;
  auto server = test::StartServer(dir);
  const ClientOptions options = test::ClientOptionsFor(*server);
  Client client(options);
  REQUIRE(client.Health().ok());

  CollectionConfig config;
  config.name = "kb";
  config.dimension = 8;
  config.metric = Metric::kCosine;
  auto created = client.CreateCollection(config);
  REQUIRE(created.ok());
  REQUIRE(created->config.metric == Metric::kCosine);
  REQUIRE(client.CreateCollection(config).status().code() == StatusCode::kAlreadyExists);

  auto data = test::ClusteredVectors(300, 8, 5, 9);
  std::vector<Record> batch;
  for (size_t i = 0; i < 300; ++i) batch.push_back(test::MakeRecord(i, data.data() + i * 8, 8));
  auto written = client.Upsert("kb", batch);
  REQUIRE(written.ok());
  REQUIRE(written->version == 1);
  REQUIRE(written->applied == 300);

  // Values come back with their types.
  auto got = client.Get("kb", "r7");
  REQUIRE(got.ok());
  REQUIRE(got->record.metadata == batch[7].metadata);
  REQUIRE(got->record.vector == batch[7].vector);

  Record changed = batch[7];
  changed.text = "changed";
  REQUIRE(client.Upsert("kb", {changed})->version == 2);
  REQUIRE(client.Get("kb", "r7")->record.text == "changed");
  REQUIRE(client.Get("kb", "r7", 1)->record.text == batch[7].text);

  ClientSearch query;
  query.vector = batch[42].vector;
  query.k = 5;
  query.filter = "parity = \"even\" and bucket < 50";
  auto found = client.Search("kb", query);
  REQUIRE(found.ok());
  REQUIRE(found->hits.size() == 5);
  REQUIRE(found->hits[0].id == "r42");
  for (const auto& hit : found->hits) {
    REQUIRE(hit.record.has_value());
    REQUIRE(std::get<std::string>(hit.record->metadata.at("parity")) == "even");
  }
  auto batch_found = client.BatchSearch("kb", {query, query});
  REQUIRE(batch_found.ok());
  REQUIRE(batch_found->size() == 2);

  REQUIRE(*client.Count("kb") == 300);
  REQUIRE(*client.Count("kb", std::nullopt, "bucket = 3") == 3);
  size_t scrolled = 0;
  ClientScroll scroll;
  scroll.limit = 70;
  for (;;) {
    auto page = client.Scroll("kb", scroll);
    REQUIRE(page.ok());
    scrolled += page->records.size();
    if (page->next_cursor.empty()) break;
    scroll.start_after = page->next_cursor;
  }
  REQUIRE(scrolled == 300);
  REQUIRE(client.Delete("kb", {"r1", "r2"})->applied == 2);
  REQUIRE(client.ListVersions("kb")->size() == 4);

  // The server's codes and messages come through.
  query.filter = "bucket <";
  auto bad = client.Search("kb", query);
  REQUIRE(bad.status().code() == StatusCode::kInvalidArgument);
  REQUIRE(bad.status().message().find("query.filter") != std::string::npos);
  REQUIRE(client.Get("nope", "x").status().code() == StatusCode::kNotFound);
  REQUIRE(client.DropCollection("kb").ok());
  REQUIRE(client.ListCollections()->empty());

  // A stopped server is UNAVAILABLE, not a crash or a hang.
  REQUIRE(server->Stop(SIGTERM) == 0);
  ClientOptions short_timeout = options;
  short_timeout.timeout = std::chrono::milliseconds(500);
  Client offline(short_timeout);
  const StatusCode code = offline.Health().code();
  REQUIRE((code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded));
}

// Hits as (id, distance) pairs, for comparing two answers to one query.
static std::vector<std::pair<std::string, float>> HitsOf(const SearchResult& r) {
  std::vector<std::pair<std::string, float>> out;
  for (const auto& h : r.hits) out.emplace_back(h.id, h.distance);
  return out;
}

TEST_CASE("the C++ client: a search stream answers like Search and survives a refused query", "[server][client]") {
  test::TempDir dir;
  auto server = test::StartServer(dir, {"--max-k", "50"});
  Client client(test::ClientOptionsFor(*server));
  test::CreateCollection(client, "kb", 8);
  const std::vector<Record> batch = test::UpsertClustered(client, "kb", 300, 8, 5, 11);

  auto stream = client.OpenSearchStream("kb");
  REQUIRE(stream.ok());
  // Many queries on one stream, each answered as the unary call answers it
  // (same version, ids, distances, payload), in order.
  for (size_t i = 0; i < 40; ++i) {
    ClientSearch query;
    query.vector = batch[i * 7].vector;
    query.k = 5;
    query.filter = i % 2 == 0 ? "" : "parity = \"odd\"";
    auto streamed = (*stream)->Search(query);
    auto unary = client.Search("kb", query);
    REQUIRE(streamed.ok());
    REQUIRE(unary.ok());
    REQUIRE(streamed->version == unary->version);
    REQUIRE(HitsOf(*streamed) == HitsOf(*unary));
    REQUIRE(streamed->hits[0].record->text == unary->hits[0].record->text);
  }
  // Refused queries get Search's codes and messages; the stream goes on.
  ClientSearch bad;
  bad.vector = batch[0].vector;
  bad.vector.push_back(1.0f);
  auto refused = (*stream)->Search(bad);
  REQUIRE(refused.status().code() == StatusCode::kInvalidArgument);
  REQUIRE(refused.status().message().find("query.vector") != std::string::npos);
  bad.vector = batch[0].vector;
  bad.k = 51;
  refused = (*stream)->Search(bad);
  REQUIRE(refused.status().code() == StatusCode::kInvalidArgument);
  REQUIRE(refused.status().message().find("--max-k=50") != std::string::npos);
  bad.k = 5;
  bad.filter = "parity >";
  REQUIRE((*stream)->Search(bad).status().code() == StatusCode::kInvalidArgument);
  bad.filter = "";
  bad.at = Version{99};  // a version the collection never had
  const Status streamed_status = (*stream)->Search(bad).status();
  const Status unary_status = client.Search("kb", bad).status();
  REQUIRE(!unary_status.ok());
  REQUIRE(streamed_status.code() == unary_status.code());
  REQUIRE(streamed_status.message() == unary_status.message());
  ClientSearch good;
  good.vector = batch[3].vector;
  auto after = (*stream)->Search(good);
  REQUIRE(after.ok());
  REQUIRE(after->hits[0].id == "r3");
  REQUIRE((*stream)->Close().ok());
  REQUIRE((*stream)->Close().ok());  // idempotent
  REQUIRE((*stream)->Search(good).status().code() == StatusCode::kFailedPrecondition);

  // A stream on a collection that does not exist opens; each query says so.
  auto missing = client.OpenSearchStream("nope");
  REQUIRE(missing.ok());
  auto not_found = (*missing)->Search(good);
  REQUIRE(not_found.status().code() == StatusCode::kNotFound);
  REQUIRE(not_found.status().message().find("nope") != std::string::npos);

  // The stream's deadline ends it, with DEADLINE_EXCEEDED from then on.
  // (2 s: room for the open and a first query on a loaded sanitizer build.)
  auto brief = client.OpenSearchStream("kb", std::chrono::milliseconds(2000));
  REQUIRE(brief.ok());
  REQUIRE((*brief)->Search(good).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  REQUIRE((*brief)->Search(good).status().code() == StatusCode::kDeadlineExceeded);
  REQUIRE((*brief)->Search(good).status().code() == StatusCode::kDeadlineExceeded);
  REQUIRE((*brief)->Close().code() == StatusCode::kDeadlineExceeded);

  // The server goes away mid-stream: the next query fails, not hangs.
  auto open = client.OpenSearchStream("kb", std::chrono::seconds(20));
  REQUIRE(open.ok());
  REQUIRE((*open)->Search(good).ok());
  REQUIRE(server->Stop(SIGKILL) != 0);
  const StatusCode gone = (*open)->Search(good).status().code();
  INFO("code " << static_cast<int>(gone));
  REQUIRE(gone == StatusCode::kUnavailable);
}

TEST_CASE("a response larger than --max-message-bytes is refused naming the limit, and the server goes on",
          "[server][client]") {
  test::TempDir dir;
  auto server = test::StartServer(dir, {"--max-message-bytes", "300000"});
  Client client(test::ClientOptionsFor(*server));
  test::CreateCollection(client, "big", 2);
  for (int i = 0; i < 4; ++i) {  // 100 KB of text each, one record per call
    Record r;
    r.id = "r" + std::to_string(i);
    r.vector = {float(i), 0};
    r.text = std::string(100000, static_cast<char>('a' + i));
    REQUIRE(client.Upsert("big", {r}).ok());
  }
  ClientSearch query;
  query.vector = {0, 0};
  query.k = 4;
  auto refused = client.Search("big", query);
  REQUIRE(refused.status().code() == StatusCode::kResourceExhausted);
  // Refused while the hits were read, at the third (300,000 bytes), not
  // after the whole response was built.
  INFO(refused.status().message());
  REQUIRE(refused.status().message().rfind("hits: the records of the first 3 hits hold ", 0) == 0);
  REQUIRE(refused.status().message().find("--max-message-bytes=300000") != std::string::npos);
  REQUIRE(refused.status().message().find("with_payload") != std::string::npos);
  query.k = 2;  // ~200 KB: fits
  REQUIRE(client.Search("big", query)->hits.size() == 2);
  query.k = 4;
  query.with_payload = false;
  REQUIRE(client.Search("big", query)->hits.size() == 4);
  query.with_payload = true;
  query.k = 2;
  auto batch = client.BatchSearch("big", {query, query});
  REQUIRE(batch.status().code() == StatusCode::kResourceExhausted);
  REQUIRE(batch.status().message().rfind("hits: the first 4 hits take ", 0) == 0);

  auto stream = client.OpenSearchStream("big");
  REQUIRE(stream.ok());
  query.k = 4;
  REQUIRE((*stream)->Search(query).status().code() == StatusCode::kResourceExhausted);
  query.k = 1;
  REQUIRE((*stream)->Search(query)->hits[0].id == "r0");  // the stream goes on

  RetrieveRequest retrieve;
  retrieve.collection = "big";
  retrieve.vector = {0, 0};
  retrieve.k = 4;
  auto too_big = client.Retrieve(retrieve);
  REQUIRE(too_big.status().code() == StatusCode::kResourceExhausted);
  REQUIRE(too_big.status().message().find("fewer chunks (k)") != std::string::npos);
  REQUIRE(too_big.status().message().rfind("hits: ", 0) == 0);
  retrieve.k = 1;  // the chunk's text and the context: ~200 KB
  auto fits = client.Retrieve(retrieve);
  INFO(fits.status().ToString());
  REQUIRE(fits.ok());

  // A batch audit whose audits would not fit: refused as it gathers them.
  for (int i = 0; i < 3; ++i) {
    auto r = client.Retrieve(retrieve);
    REQUIRE(r.ok());
    std::string answer;
    while (answer.size() < 20000) answer += "The letter is a. ";
    REQUIRE(client.RecordAnswer({r->retrieval_id, answer, "m", 0, 0}).ok());
  }
  BatchAuditRequest audit;
  audit.collection = "big";
  auto audits = client.AuditCollection(audit);
  REQUIRE(audits.status().code() == StatusCode::kResourceExhausted);
  INFO(audits.status().message());
  REQUIRE(audits.status().message().rfind("audits: the first 2 audits of the range hold about ", 0) == 0);
  REQUIRE(audits.status().message().find("--max-message-bytes=300000") != std::string::npos);

  // Logged as a refusal, and the server still answers.
  REQUIRE(client.Health().ok());
  REQUIRE(test::ReadFile(dir.Sub("log")).find("\"code\":\"RESOURCE_EXHAUSTED\"") != std::string::npos);
}

TEST_CASE("the C++ client lists more versions than one page holds", "[server][client]") {
  test::TempDir dir;
  auto server = test::StartServer(dir);
  Client client(test::ClientOptionsFor(*server));
  test::CreateCollection(client, "busy", 2);
  for (int i = 0; i < 1004; ++i) {  // versions 1..1004: with version 0, two pages of 1000
    Record r;
    r.id = "r" + std::to_string(i % 10);
    r.vector = {float(i), 1};
    REQUIRE(client.Upsert("busy", {r}).ok());
  }
  auto versions = client.ListVersions("busy");
  REQUIRE(versions.ok());
  REQUIRE(versions->size() == 1005);
  for (size_t i = 0; i < versions->size(); ++i) REQUIRE((*versions)[i].version == i);
}
