// The C++ client library against a real verityd.
#include <catch2/catch.hpp>
#include <signal.h>

#include "engine/test_data.h"
#include "server/server_process.h"
#include "verity/client.h"

using namespace verity;

TEST_CASE("the C++ client: typed calls, versions, filters and error codes", "[server][client]") {
  test::TempDir dir;
  auto server = test::ServerProcess::Start(dir.Sub("data"), dir.Sub("log"));
  REQUIRE(server);
  ClientOptions options;
  options.address = server->address();
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
