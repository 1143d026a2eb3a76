// The prompt registry over gRPC: the C++ client and the `verity prompt`
// commands against a real verityd, the retrieval log recording the exact
// version a label resolved to, and bad input with its gRPC code.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/test_data.h"
#include "server/server_helpers.h"
#include "server/server_process.h"
#include "verity/client.h"
#include "verity/v1/prompts.grpc.pb.h"

using Json = nlohmann::json;
using namespace verity;

namespace {

using verity::test::RunCliOk;
void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST_CASE("prompt registry over gRPC: versions, labels, rollback, render, and the logged version",
          "[server][prompts]") {
  test::TempDir dir;
  auto server = test::StartServer(dir);
  Client client(test::ClientOptionsFor(*server));

  auto v1 = client.CreatePromptVersion({"qa", "Answer {{question}} from {{context}}.", R"({"model": "m1"})", "ana",
                                        "first", {"production"}});
  REQUIRE(v1.ok());
  CHECK(v1->version == 1);
  CHECK(v1->variables == std::vector<std::string>{"question", "context"});
  auto v2 = client.CreatePromptVersion({"qa", "Answer {{question}} only from {{context}}.", "", "bo", "", {}});
  REQUIRE(v2.ok());
  REQUIRE(client.SetPromptLabel("qa", "production", 2, "ops").ok());

  test::CreateCollection(client, "docs", 3);
  std::vector<Record> records;
  for (int i = 0; i < 4; ++i) {
    Record r;
    r.id = "p" + std::to_string(i);
    r.vector = {float(i), 1, 0};
    r.text = "paragraph " + std::to_string(i);
    records.push_back(r);
  }
  REQUIRE(client.Upsert("docs", records).ok());
  RetrieveRequest retrieve;
  retrieve.collection = "docs";
  retrieve.vector = {1, 1, 0};
  retrieve.k = 2;
  retrieve.prompt = "qa";
  auto before = client.Retrieve(retrieve);
  REQUIRE(before.ok());
  CHECK(before->prompt == "qa@2");

  // Roll back with the CLI; the history shows every move.
  RunCliOk(dir, server->address(), "prompt label qa production 1 --actor oncall");
  auto after = client.Retrieve(retrieve);
  REQUIRE(after.ok());
  CHECK(after->prompt == "qa@1");
  REQUIRE(client.RecordAnswer({before->retrieval_id, "paragraph 1", "", 0, 0}).ok());
  REQUIRE(client.RecordAnswer({after->retrieval_id, "paragraph 1", "", 0, 0}).ok());
  AuditRequest audit;
  audit.retrieval_id = before->retrieval_id;
  CHECK(client.Audit(audit)->prompt == "qa@2");
  audit.retrieval_id = after->retrieval_id;
  CHECK(client.Audit(audit)->prompt == "qa@1");

  const Json history = Json::parse(RunCliOk(dir, server->address(), "--json prompt history qa --label production").out);
  REQUIRE(history.size() == 3);
  CHECK(history[2]["previous_version"] == 2);
  CHECK(history[2]["version"] == 1);
  CHECK(history[2]["actor"] == "oncall");

  // get, versions, list, diff, render through the CLI, as JSON.
  const Json got = Json::parse(RunCliOk(dir, server->address(), "--json prompt get qa").out);
  CHECK(got["version"] == 1);
  CHECK(got["labels"] == Json::array({"production"}));
  CHECK(Json::parse(RunCliOk(dir, server->address(), "--json prompt get qa@2").out)["author"] == "bo");
  CHECK(Json::parse(RunCliOk(dir, server->address(), "--json prompt versions qa").out).size() == 2);
  const Json list = Json::parse(RunCliOk(dir, server->address(), "--json prompt list").out);
  REQUIRE(list.size() == 1);
  CHECK(list[0]["latest_version"] == 2);
  const Json diff = Json::parse(RunCliOk(dir, server->address(), "--json prompt diff qa 1 2").out);
  CHECK(diff["template_diff"].get<std::string>().find("+Answer {{question}} only from {{context}}.") !=
        std::string::npos);
  CHECK(diff["config_changed"] == true);
  Write(dir.Sub("vars.json"), R"({"question": "Why?", "context": "the manual"})");
  CHECK(RunCliOk(dir, server->address(), "prompt render qa --vars-file " + dir.Sub("vars.json")).out ==
        "Answer Why? from the manual.\n");

  // Create from a file with the CLI, moving staging to it.
  Write(dir.Sub("t.txt"), "Summarise {{context}} for {{audience}}.\n");
  const Json v3 = Json::parse(RunCliOk(dir, server->address(),
                                       "--json prompt create qa --template-file " + dir.Sub("t.txt") +
                                           " --label staging --author cli --message third")
                                  .out);
  CHECK(v3["version"] == 3);
  CHECK(v3["labels"] == Json::array({"staging"}));

  // Bad input: a clear error with its code and nothing changed.
  CHECK(client.GetPrompt({"nope", std::nullopt, ""}).status().code() == StatusCode::kNotFound);
  CHECK(client.GetPrompt({"qa", 9, ""}).status().code() == StatusCode::kNotFound);
  CHECK(client.GetPrompt({"qa", std::nullopt, "canary"}).status().code() == StatusCode::kNotFound);
  auto unbalanced = client.CreatePromptVersion({"qa", "Hello {{name", "", "", "", {}});
  CHECK(unbalanced.status().code() == StatusCode::kInvalidArgument);
  CHECK(unbalanced.status().message().find("byte 6") != std::string::npos);
  auto missing = client.RenderPrompt({"qa", 1, ""}, {{"question", "q"}});
  CHECK(missing.status().code() == StatusCode::kInvalidArgument);
  CHECK(missing.status().message().find("\"context\"") != std::string::npos);
  CHECK(client.SetPromptLabel("qa", "production", 42).status().code() == StatusCode::kNotFound);
  retrieve.prompt = "qa@canary";
  CHECK(client.Retrieve(retrieve).status().code() == StatusCode::kNotFound);
  const test::CliRun bad = test::RunCli(dir, server->address(), "prompt get 'bad name'");
  CHECK(bad.code != 0);
  CHECK(client.ListPromptVersions("qa")->size() == 3);
  CHECK(client.GetPrompt({"qa", std::nullopt, ""})->version == 1);
  CHECK(client.Health().ok());
}

TEST_CASE("answer cache over gRPC: store, hits, a refused false hit, fencing, stats and clear", "[server][cache]") {
  test::TempDir dir;
  auto server = test::StartServer(dir);
  Client client(test::ClientOptionsFor(*server));
  test::CreateCollection(client, "docs", 3);
  Record r;
  r.id = "p0";
  r.vector = {1, 0, 0};
  r.text = "Revenue in 2020 was 12 million.";
  REQUIRE(client.Upsert("docs", {r}).ok());
  REQUIRE(client.CreatePromptVersion({"qa", "{{question}} {{context}}", "", "", "", {"production"}}).ok());

  RetrieveRequest retrieve;
  retrieve.collection = "docs";
  retrieve.vector = {1, 0.1f, 0};
  retrieve.query_text = "What was the revenue in 2020?";
  retrieve.k = 1;
  retrieve.prompt = "qa";
  auto retrieved = client.Retrieve(retrieve);
  REQUIRE(retrieved.ok());
  // Nothing recorded yet: a clear refusal, nothing cached.
  CHECK(client.CacheStore({retrieved->retrieval_id, "", "m", ""}).code() == StatusCode::kFailedPrecondition);
  REQUIRE(client.RecordAnswer({retrieved->retrieval_id, "12 million.", "m", 0, 0}).ok());
  REQUIRE(client.CacheStore({retrieved->retrieval_id, "", "m", R"({"t": 0})"}).ok());

  CacheLookupRequest ask;
  ask.collection = "docs";
  ask.vector = {1, 0.1f, 0};
  ask.query_text = "What was the revenue in 2020?";
  ask.prompt = "qa";
  ask.model = "m";
  ask.params_json = R"({"t": 0})";
  auto exact = client.CacheLookup(ask);
  REQUIRE(exact.ok());
  CHECK(exact->match == CacheMatch::kExact);
  CHECK(exact->answer == "12 million.");
  CHECK(exact->source_retrieval_id == retrieved->retrieval_id);
  // The hit is a log record of its own, pointing at the source.
  REQUIRE(exact->retrieval_id.rfind("rtv-", 0) == 0);
  auto hit_record = client.GetRetrieval(exact->retrieval_id);
  REQUIRE(hit_record.ok());
  CHECK(hit_record->first.kind == LogKind::kCacheHit);
  CHECK(hit_record->first.source_retrieval_id == retrieved->retrieval_id);
  CHECK(hit_record->first.cache_match == CacheMatch::kExact);
  CHECK(hit_record->first.answer == "12 million.");
  CHECK(hit_record->first.seq == exact->log_seq);
  const std::string shown = RunCliOk(dir, server->address(), "log show " + exact->retrieval_id).out;
  CHECK(shown.find("served the answer of " + retrieved->retrieval_id) != std::string::npos);
  const Json exported = Json::parse(RunCliOk(dir, server->address(), "--json log list --kind cache_hit").out);
  REQUIRE(exported.size() == 1);
  CHECK(exported[0]["verity.cache.source_retrieval_id"] == retrieved->retrieval_id);
  CHECK(exported[0]["verity.cache.match"] == "exact");
  const Json audited = Json::parse(RunCliOk(dir, server->address(), "--json audit " + exact->retrieval_id).out);
  CHECK(audited["source_retrieval_id"] == retrieved->retrieval_id);
  ask.vector = {1, 0.11f, 0.01f};
  ask.query_text = "How much revenue in 2020?";
  CHECK(client.CacheLookup(ask)->match == CacheMatch::kSemantic);
  ask.query_text = "How much revenue in 2019?";
  auto refused = client.CacheLookup(ask);
  CHECK(refused->match == CacheMatch::kMiss);
  CHECK(refused->refused == 1);

  // A write to the collection: the answer is never served at head again.
  r.text = "Revenue in 2020 was 13 million (restated).";
  REQUIRE(client.Upsert("docs", {r}).ok());
  ask.query_text = "What was the revenue in 2020?";
  ask.vector = {1, 0.1f, 0};
  CHECK(client.CacheLookup(ask)->match == CacheMatch::kMiss);

  const Json stats = Json::parse(RunCliOk(dir, server->address(), "--json cache stats").out);
  CHECK(stats["entries"] == 1);
  CHECK(stats["exact_hits"] == 1);
  CHECK(stats["semantic_hits"] == 1);
  CHECK(stats["misses"] == 2);
  CHECK(stats["refused_false_hits"] == 1);
  CHECK(RunCliOk(dir, server->address(), "cache stats").out.find("hit rate 50.0%") != std::string::npos);

  // Bad input: codes, nothing changed.
  CHECK(client.CacheStore({"rtv-" + std::string(32, 'f'), "x", "m", ""}).code() == StatusCode::kNotFound);
  CHECK(client.CacheStore({retrieved->retrieval_id, "x", "m", "not json"}).code() == StatusCode::kInvalidArgument);
  ask.at = ReadPoint::AtSnapshot("v1");  // the wire's `at` is a version: the client refuses a snapshot
  auto by_snapshot = client.CacheLookup(ask);
  CHECK(by_snapshot.status().code() == StatusCode::kInvalidArgument);
  CHECK(by_snapshot.status().message().rfind("at: ", 0) == 0);
  ask.at = ReadPoint::Head();
  ask.vector = {1, 0};
  CHECK(client.CacheLookup(ask).status().code() == StatusCode::kInvalidArgument);
  CHECK(client.GetCacheStats()->entries == 1);
  RunCliOk(dir, server->address(), "cache clear");
  CHECK(client.GetCacheStats()->entries == 0);
}

TEST_CASE("prompt versions page over the wire, and the client reads every page under the message limit",
          "[server][prompts]") {
  test::TempDir dir;
  auto server = test::StartServer(dir, {"--max-message-bytes", "1000000"});
  Client client(test::ClientOptionsFor(*server));
  // 12 versions of ~150 KB each: all of them together exceed the 1 MB limit.
  for (int i = 1; i <= 12; ++i) {
    REQUIRE(client.CreatePromptVersion({"big", "v" + std::to_string(i) + " {{q}} " + std::string(150000, 'a'), "",
                                        "", "", {}})
                .ok());
  }
  auto stub = v1::PromptService::NewStub(server->channel());
  auto list = [&](uint32_t start_at, uint32_t limit, v1::ListPromptVersionsResponse* resp) {
    v1::ListPromptVersionsRequest req;
    req.set_name("big");
    req.set_start_at(start_at);
    req.set_limit(limit);
    grpc::ClientContext ctx;
    return stub->ListPromptVersions(&ctx, req, resp);
  };
  v1::ListPromptVersionsResponse page;
  // The default page (100) would be ~1.8 MB: refused, saying what to ask for.
  grpc::Status status = list(0, 0, &page);
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(status.error_message().find("--max-message-bytes=1000000") != std::string::npos);
  CHECK(status.error_message().find("fewer versions a page (limit)") != std::string::npos);
  REQUIRE(list(0, 5, &page).ok());
  REQUIRE(page.versions_size() == 5);
  CHECK(page.versions(0).version() == 1);
  CHECK(page.next_start_at() == 6);
  page.Clear();
  REQUIRE(list(11, 5, &page).ok());
  REQUIRE(page.versions_size() == 2);
  CHECK(page.versions(1).version() == 12);
  CHECK(page.next_start_at() == 0);
  page.Clear();
  REQUIRE(list(13, 5, &page).ok());
  CHECK(page.versions_size() == 0);
  CHECK(page.next_start_at() == 0);
  status = list(0, 1001, &page);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message() == "limit: 1001 is over 1000 (0 = every version)");

  // The client asks for smaller pages until one fits, and reads them all.
  auto all = client.ListPromptVersions("big");
  REQUIRE(all.ok());
  REQUIRE(all->size() == 12);
  for (size_t i = 0; i < all->size(); ++i) {
    CHECK((*all)[i].version == i + 1);
    CHECK((*all)[i].template_text.rfind("v" + std::to_string(i + 1) + " {{q}} ", 0) == 0);
  }
  CHECK(client.ListPromptVersions("absent").status().code() == StatusCode::kNotFound);
}
