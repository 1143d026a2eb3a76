// Structured errors end to end: where the server (or the client library)
// acts on why the engine refused a call — a limit of its own to name, a
// request field to name — it reads the status's reason and field, and the
// message on the wire is the one callers have always read. Each message here
// is compared whole: a reason lost on the way shows as a missing or extra
// "(the server limit ...)".
#include <catch2/catch.hpp>

#include <csignal>

#include "convert.h"
#include "engine/test_data.h"
#include "server/server_process.h"
#include "server/stubs.h"
#include "verity/client.h"

using namespace verity;
namespace v1 = verity::v1;

namespace {

using test::Stubs;

void ExpectMessage(const grpc::Status& status, grpc::StatusCode code, const std::string& message) {
  INFO("status " << status.error_code() << ": " << status.error_message());
  CHECK(status.error_code() == code);
  CHECK(status.error_message() == message);
}

void CreateCollection(Stubs& s, const std::string& name, uint32_t dimension) {
  v1::CreateCollectionRequest create;
  create.mutable_config()->set_name(name);
  create.mutable_config()->set_dimension(dimension);
  v1::CreateCollectionResponse created;
  REQUIRE(CALL(s.collections, CreateCollection, create, &created).ok());
}

// Ten records "r0".."r9" of 3,000 bytes of text: 3,014 bytes each as the
// engine counts a hit's record without its vector (id, text, one int64
// metadata value with its key).
void Fill(Stubs& s, const std::string& name) {
  CreateCollection(s, name, 2);
  for (int i = 0; i < 10; ++i) {
    v1::UpsertRequest upsert;
    upsert.set_collection(name);
    v1::Record* r = upsert.add_records();
    r->set_id("r" + std::to_string(i));
    r->add_vector(static_cast<float>(i));
    r->add_vector(0);
    r->set_text(std::string(3000, 'a'));
    (*r->mutable_metadata())["part"].set_int_value(i % 2);
    v1::WriteResponse written;
    REQUIRE(CALL(s.records, Upsert, upsert, &written).ok());
  }
}

v1::SearchQuery Query(uint32_t k, bool with_payload) {
  v1::SearchQuery q;
  q.add_vector(0);
  q.add_vector(0);
  q.set_k(k);
  q.set_with_payload(with_payload);
  return q;
}

v1::BatchSearchRequest Batch(const std::string& collection, size_t n, uint32_t k, bool with_payload) {
  v1::BatchSearchRequest batch;
  batch.set_collection(collection);
  for (size_t i = 0; i < n; ++i) *batch.add_queries() = Query(k, with_payload);
  return batch;
}

template <typename Response, typename Request, typename Open>
grpc::Status RunStream(const Request& request, Open open) {
  grpc::ClientContext ctx;
  auto reader = open(&ctx, request);
  Response message;
  while (reader->Read(&message)) {
  }
  return reader->Finish();
}

constexpr char kSearchHint[] = "ask for fewer hits (k) or leave out payloads (with_payload, with_vectors)";

}  // namespace

TEST_CASE("the server names its limit by the engine's reason, with the message callers have always read",
          "[server][errors]") {
  test::TempDir dir;
  auto server = test::ServerProcess::Start(dir.Sub("data"), dir.Sub("log"),
                                           {"--max-message-bytes", "20000", "--max-batch", "200",
                                            "--max-batch-hits", "1500"});
  REQUIRE(server);
  Stubs s(server->channel());
  Fill(s, "docs");

  SECTION("a search whose payloads pass --max-message-bytes") {
    v1::SearchRequest search;
    search.set_collection("docs");
    *search.mutable_query() = Query(10, true);
    v1::SearchResponse found;
    ExpectMessage(CALL(s.search, Search, search, &found), grpc::StatusCode::RESOURCE_EXHAUSTED,
                  std::string("hits: the records of the first 7 hits hold 21098 bytes, more than the 20000 this "
                              "response may hold (the server limit --max-message-bytes=20000); ") +
                      kSearchHint);
  }
  SECTION("a batch: one query's payloads, all the hits' bytes, the hits bound, the batch size") {
    v1::BatchSearchResponse results;
    ExpectMessage(CALL(s.search, BatchSearch, Batch("docs", 2, 10, true), &results),
                  grpc::StatusCode::RESOURCE_EXHAUSTED,
                  std::string("queries[0]: hits: the records of the first 7 hits hold 21098 bytes, more than the "
                              "20000 this response may hold (the server limit --max-message-bytes=20000); ") +
                      kSearchHint);
    ExpectMessage(CALL(s.search, BatchSearch, Batch("docs", 120, 10, false), &results),
                  grpc::StatusCode::RESOURCE_EXHAUSTED,
                  std::string("queries: 120 queries may return 1200 hits, at least 20400 bytes, more than the 20000 "
                              "this response may hold; send fewer queries or a smaller k (the server limit "
                              "--max-message-bytes=20000); ") +
                      kSearchHint);
    ExpectMessage(CALL(s.search, BatchSearch, Batch("docs", 160, 10, false), &results),
                  grpc::StatusCode::RESOURCE_EXHAUSTED,
                  "queries: 160 queries may return 1600 hits (the sum of min(k, 10 rows)), more than the 1500 one "
                  "batch may return; send fewer queries or a smaller k (the server limit --max-batch-hits=1500)");
    // Over --max-batch: the server's own refusal, which names its limit
    // already (it used to get the --max-message-bytes hint too, as the
    // text "queries: ..." looked like the engine's).
    ExpectMessage(CALL(s.search, BatchSearch, Batch("docs", 201, 1, false), &results),
                  grpc::StatusCode::RESOURCE_EXHAUSTED, "queries: 201 items exceed the server limit --max-batch=200");
    REQUIRE(CALL(s.search, BatchSearch, Batch("docs", 100, 10, false), &results).ok());
    CHECK(results.results_size() == 100);
  }
  SECTION("filter text: the request field replaces \"filter\", a rule keeps its words and loses the tree path") {
    v1::SearchRequest search;
    search.set_collection("docs");
    *search.mutable_query() = Query(3, false);
    v1::SearchResponse found;
    search.mutable_query()->set_filter("part = ");
    ExpectMessage(CALL(s.search, Search, search, &found), grpc::StatusCode::INVALID_ARGUMENT,
                  "query.filter: column 8: expected a value after '=', found end of input");
    search.mutable_query()->set_filter("part < \"x\"");
    ExpectMessage(CALL(s.search, Search, search, &found), grpc::StatusCode::INVALID_ARGUMENT,
                  "query.filter: '<' needs exactly 1 numeric value");
    v1::BatchSearchRequest batch = Batch("docs", 2, 3, false);
    batch.mutable_queries(1)->set_filter("part in [1, 2");
    v1::BatchSearchResponse results;
    ExpectMessage(CALL(s.search, BatchSearch, batch, &results), grpc::StatusCode::INVALID_ARGUMENT,
                  "queries[1].filter: column 14: expected ',' or ']' after '2', found end of input");
    // Retrieve's filter text goes through the same parse (in the engine).
    v1::RetrieveRequest retrieve;
    retrieve.set_collection("docs");
    *retrieve.mutable_vector() = Query(3, false).vector();
    retrieve.set_k(1);
    retrieve.set_filter("part < \"x\"");
    v1::RetrieveResponse retrieved;
    ExpectMessage(CALL(s.context, Retrieve, retrieve, &retrieved), grpc::StatusCode::INVALID_ARGUMENT,
                  "filter: '<' needs exactly 1 numeric value");
    retrieve.set_filter("part = ");
    ExpectMessage(CALL(s.context, Retrieve, retrieve, &retrieved), grpc::StatusCode::INVALID_ARGUMENT,
                  "filter: column 8: expected a value after '=', found end of input");
  }
  SECTION("a snapshot that does not exist is named by the request field") {
    v1::RetrieveRequest retrieve;
    retrieve.set_collection("docs");
    retrieve.add_vector(0);
    retrieve.add_vector(0);
    retrieve.set_k(1);
    retrieve.mutable_at()->set_snapshot("ghost");
    v1::RetrieveResponse retrieved;
    ExpectMessage(CALL(s.context, Retrieve, retrieve, &retrieved), grpc::StatusCode::NOT_FOUND,
                  "at.snapshot: snapshot \"ghost\" of \"docs\" does not exist");
    // A name longer than any snapshot's is cut in the message, and still
    // named by its field (it used to lose "at.snapshot": the text no
    // longer began with the whole name).
    const std::string long_name(200, 'g');
    retrieve.mutable_at()->set_snapshot(long_name);
    ExpectMessage(CALL(s.context, Retrieve, retrieve, &retrieved), grpc::StatusCode::NOT_FOUND,
                  "at.snapshot: snapshot \"" + long_name.substr(0, 64) +
                      "...\" (200 bytes; names are at most 128) of \"docs\" does not exist");
    // As every other read names it.
    v1::SearchRequest search;
    search.set_collection("docs");
    *search.mutable_query() = Query(1, false);
    search.mutable_query()->mutable_at()->set_snapshot("ghost");
    v1::SearchResponse found;
    ExpectMessage(CALL(s.search, Search, search, &found), grpc::StatusCode::NOT_FOUND,
                  "query.at.snapshot: snapshot \"ghost\" of \"docs\" does not exist");
    // The engine resolves every ReadPoint; the server names the field as
    // it did when it resolved snapshots itself.
    v1::BatchSearchRequest batch = Batch("docs", 3, 1, false);
    batch.mutable_queries(2)->mutable_at()->set_snapshot("ghost");
    v1::BatchSearchResponse results;
    ExpectMessage(CALL(s.search, BatchSearch, batch, &results), grpc::StatusCode::NOT_FOUND,
                  "queries[2].at.snapshot: snapshot \"ghost\" of \"docs\" does not exist");
    v1::CountRequest count;
    count.set_collection("docs");
    count.mutable_at()->set_snapshot("ghost");
    v1::CountResponse counted;
    ExpectMessage(CALL(s.records, Count, count, &counted), grpc::StatusCode::NOT_FOUND,
                  "at.snapshot: snapshot \"ghost\" of \"docs\" does not exist");
    v1::DiffRequest diff;
    diff.set_collection("docs");
    diff.mutable_to()->set_snapshot("ghost");
    v1::DiffResponse page;
    ExpectMessage(CALL(s.snapshots, Diff, diff, &page), grpc::StatusCode::NOT_FOUND,
                  "to.snapshot: snapshot \"ghost\" of \"docs\" does not exist");
    // Another NOT_FOUND of the same call is not the snapshot's.
    retrieve.set_collection("nowhere");
    retrieve.mutable_at()->set_snapshot("ghost");
    const grpc::Status missing = CALL(s.context, Retrieve, retrieve, &retrieved);
    CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(missing.error_message().rfind("at.snapshot", 0) == std::string::npos);
  }
  REQUIRE(s.Serving());
}

TEST_CASE("an import over --max-dimension names the server's limit", "[server][errors]") {
  test::TempDir dir;
  {
    auto server = test::ServerProcess::Start(dir.Sub("data"), dir.Sub("log"));
    REQUIRE(server);
    Stubs s(server->channel());
    CreateCollection(s, "wide", 8);
    v1::ExportRequest request;
    request.set_collection("wide");
    request.set_name("wide-export");
    REQUIRE(RunStream<v1::ExportResponse>(request, [&](grpc::ClientContext* ctx, const v1::ExportRequest& r) {
              return s.snapshots->Export(ctx, r);
            }).ok());
    REQUIRE(server->Stop(SIGTERM) == 0);
  }
  auto server = test::ServerProcess::Start(dir.Sub("data"), dir.Sub("log2"), {"--max-dimension", "4"});
  REQUIRE(server);
  Stubs s(server->channel());
  v1::ImportRequest request;
  request.set_name("wide-export");
  request.set_as_name("copy");
  auto import = [&] {
    return RunStream<v1::ImportResponse>(request, [&](grpc::ClientContext* ctx, const v1::ImportRequest& r) {
      return s.snapshots->Import(ctx, r);
    });
  };
  ExpectMessage(import(), grpc::StatusCode::INVALID_ARGUMENT,
                "export: collection \"copy\" has dimension 8, above the limit 4 (the server limit --max-dimension)");
  // Other refusals of an import are not given the limit.
  request.set_as_name("bad/name");
  const grpc::Status bad_name = import();
  CHECK(bad_name.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(bad_name.error_message().find("--max-dimension") == std::string::npos);
  REQUIRE(server->Stop(SIGTERM) == 0);
}

TEST_CASE("the client library reads a refusal for size as kMessageTooLarge, from verityd or from gRPC",
          "[server][errors][client]") {
  // verityd's own refusal names --max-message-bytes; gRPC's says "larger
  // than max"; both are RESOURCE_EXHAUSTED like refusals of other limits.
  CHECK(wire::FromGrpc(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                    "hits: ... (the server limit --max-message-bytes=20000); ask for fewer hits"))
            .reason() == StatusReason::kMessageTooLarge);
  CHECK(wire::FromGrpc(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                    "Received message larger than max (30000 vs. 20000)"))
            .reason() == StatusReason::kMessageTooLarge);
  CHECK(wire::FromGrpc(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                    "queries: 201 items exceed the server limit --max-batch=200"))
            .reason() == StatusReason::kNone);
  CHECK(wire::FromGrpc(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "larger than max")).reason() ==
        StatusReason::kNone);
  const Status converted =
      wire::FromGrpc(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "Sent message larger than max (1 vs. 0)"));
  CHECK(converted.code() == StatusCode::kResourceExhausted);
  CHECK(converted.message() == "Sent message larger than max (1 vs. 0)");

  test::TempDir dir;
  auto server = test::ServerProcess::Start(dir.Sub("data"), dir.Sub("log"), {"--max-message-bytes", "20000"});
  REQUIRE(server);
  {
    Stubs s(server->channel());
    Fill(s, "docs");
  }
  ClientOptions options;
  options.address = server->address();
  Client client(options);
  ClientSearch query;
  query.vector = {0, 0};
  query.k = 10;
  query.with_payload = true;
  auto refused = client.Search("docs", query);
  CHECK(refused.status().reason() == StatusReason::kMessageTooLarge);
  // The client's own receive limit, below the server's: gRPC refuses.
  options.max_message_bytes = 8000;
  Client small(options);
  query.k = 3;  // ~9,000 bytes
  auto received = small.Search("docs", query);
  INFO(received.status().ToString());
  CHECK(received.status().code() == StatusCode::kResourceExhausted);
  CHECK(received.status().reason() == StatusReason::kMessageTooLarge);
  query.k = 2;
  CHECK(small.Search("docs", query).ok());
  REQUIRE(server->Stop(SIGTERM) == 0);
}

TEST_CASE("a replay's outcome is an enum in C++ and its name on the wire", "[server][errors][replay]") {
  for (ReplayOutcome outcome : {ReplayOutcome::kIdentical, ReplayOutcome::kDiffers, ReplayOutcome::kCollected}) {
    ReplayResult result;
    result.outcome = outcome;
    v1::ReplayResponse wire_result;
    wire::ToProto(result, &wire_result);
    CHECK(wire_result.outcome() == ReplayOutcomeName(outcome));
    auto back = wire::FromProto(wire_result);
    REQUIRE(back.ok());
    CHECK(back->outcome == outcome);
  }
  CHECK(std::string(ReplayOutcomeName(ReplayOutcome::kIdentical)) == "identical");
  CHECK(std::string(ReplayOutcomeName(ReplayOutcome::kDiffers)) == "differs");
  CHECK(std::string(ReplayOutcomeName(ReplayOutcome::kCollected)) == "collected");
  v1::ReplayResponse unknown;
  unknown.set_outcome("similar");
  auto refused = wire::FromProto(unknown);
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(refused.status().message() == "outcome: unknown replay outcome \"similar\"");
  CHECK(refused.status().field() == "outcome");
}
