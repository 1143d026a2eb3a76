// The HTTP/JSON API (docs/http.md) against a real verityd with
// --http-listen: the same answers as gRPC, errors as JSON with mapped
// statuses, keys, streaming calls as NDJSON, and a server that keeps
// serving after bad input.
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>
#include <atomic>
#include <csignal>
#include <thread>
#include <fstream>
#include <sstream>

#include "http_gateway.h"
#include "server/server_helpers.h"
#include "server/server_process.h"
#include "verity/client.h"

using namespace verity;
using nlohmann::json;

namespace {

// A verityd with --http-listen on a free port, and an HTTP client for it.
struct HttpServer {
  test::TempDir dir;
  int http_port = 0;
  std::unique_ptr<test::ServerProcess> server;

  explicit HttpServer(std::vector<std::string> extra = {}) {
    http_port = test::FreePort();
    extra.push_back("--http-listen");
    extra.push_back("127.0.0.1:" + std::to_string(http_port));
    server = test::ServerProcess::Start(dir.Sub("data"), dir.Sub("verityd.log"), extra);
    REQUIRE(server != nullptr);
  }
  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", http_port);
    client.set_read_timeout(60, 0);
    return client;
  }
  // POST /v1/<route> with `body`; the response (status and body).
  httplib::Result Post(const std::string& route, const std::string& body, const httplib::Headers& headers = {}) const {
    return Client().Post("/v1/" + route, headers, body, "application/json");
  }
  json PostOk(const std::string& route, const json& body) const {
    auto res = Post(route, body.dump());
    REQUIRE(res);
    INFO(res->body);
    REQUIRE(res->status == 200);
    return json::parse(res->body);
  }
};

// The JSON error body's fields, checked to be exactly {code, status, message}.
json ErrorBody(const httplib::Result& res) {
  REQUIRE(res);
  REQUIRE(res->get_header_value("Content-Type") == "application/json");
  json body = json::parse(res->body);
  REQUIRE(body.size() == 3);
  REQUIRE(body.contains("code"));
  REQUIRE(body.contains("status"));
  REQUIRE(body.contains("message"));
  return body;
}

json CreateBody(const std::string& name, int dimension) {
  return {{"config", {{"name", name}, {"dimension", dimension}, {"metric", "METRIC_L2"}}}};
}

}  // namespace

TEST_CASE("http api: a collection written and searched over HTTP reads the same through gRPC", "[http]") {
  HttpServer s;
  const json created = s.PostOk("CollectionService/CreateCollection", CreateBody("docs", 3));
  REQUIRE(created["collection"]["config"]["name"] == "docs");
  REQUIRE(created["collection"]["config"]["m"] == 16);  // defaults are printed
  REQUIRE(created["collection"]["headVersion"] == "0");  // 64-bit integers as strings

  const json upserted = s.PostOk("RecordService/Upsert", {{"collection", "docs"},
                                                          {"records",
                                                           {{{"id", "a"}, {"vector", {1, 0, 0}}, {"text", "alpha"}},
                                                            {{"id", "b"}, {"vector", {0, 1, 0}}, {"text", "beta"}}}}});
  REQUIRE(upserted["version"] == "1");
  REQUIRE(upserted["applied"] == 2);

  const json found = s.PostOk("SearchService/Search",
                              {{"collection", "docs"}, {"query", {{"vector", {0.9, 0.1, 0}}, {"k", 2}}}});
  REQUIRE(found["hits"].size() == 2);
  REQUIRE(found["hits"][0]["id"] == "a");

  // gRPC sees what HTTP wrote, and answers the same search the same way.
  Client client(test::ClientOptionsFor(*s.server));
  ClientSearch query;
  query.vector = {0.9f, 0.1f, 0.0f};
  query.k = 2;
  auto grpc_found = client.Search("docs", query);
  REQUIRE(grpc_found.ok());
  REQUIRE(grpc_found->hits.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    REQUIRE(found["hits"][i]["id"] == grpc_found->hits[i].id);
    REQUIRE(found["hits"][i]["distance"].get<float>() == grpc_found->hits[i].distance);
  }
  // snake_case field names are accepted too (protobuf's JSON parser).
  auto snake = s.Post("CollectionService/ListVersions", R"({"collection":"docs","start_at":"1"})");
  REQUIRE(snake);
  INFO(snake->body);
  REQUIRE(snake->status == 200);

  // A clean stop with an HTTP client's kept-alive connection open, and two
  // clients calling all the while (a call must not be created on the
  // in-process channel once the gRPC server shuts down).
  httplib::Client idle = s.Client();
  idle.set_keep_alive(true);
  REQUIRE(idle.Post("/v1/CollectionService/ListCollections", "{}", "application/json")->status == 200);
  std::atomic<bool> stop{false};
  std::atomic<int> served{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 2; ++t) {
    callers.emplace_back([&] {
      while (!stop) {
        auto res = s.Post("RecordService/Upsert", R"({"collection":"docs","records":[{"id":"c","vector":[0,0,1]}]})");
        if (res && res->status == 200) served.fetch_add(1);
      }
    });
  }
  while (served < 20) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const int code = s.server->Stop(SIGTERM);
  stop = true;
  for (auto& caller : callers) caller.join();
  REQUIRE(code == 0);
}

TEST_CASE("http api: errors are JSON with the gRPC code mapped to an HTTP status", "[http]") {
  HttpServer s;
  s.PostOk("CollectionService/CreateCollection", CreateBody("docs", 3));

  // The engine's refusal, naming the field, as gRPC gives it: 400.
  auto wrong_dim = s.Post("RecordService/Upsert", R"({"collection":"docs","records":[{"id":"a","vector":[1,2]}]})");
  json body = ErrorBody(wrong_dim);
  REQUIRE(wrong_dim->status == 400);
  REQUIRE(body["status"] == "INVALID_ARGUMENT");
  REQUIRE(body["code"] == 3);
  REQUIRE(body["message"].get<std::string>().find("records[0].vector") != std::string::npos);

  auto missing = s.Post("CollectionService/GetCollection", R"({"name":"nope"})");
  REQUIRE(missing->status == 404);
  REQUIRE(ErrorBody(missing)["status"] == "NOT_FOUND");

  auto twice = s.Post("CollectionService/CreateCollection", CreateBody("docs", 3).dump());
  REQUIRE(twice->status == 409);
  REQUIRE(ErrorBody(twice)["status"] == "ALREADY_EXISTS");

  // Not the method's JSON: an unknown field, a wrong type, not JSON at all.
  for (const std::string bad : {R"({"nam":"docs"})", R"({"name":7})", "{name"}) {
    auto res = s.Post("CollectionService/GetCollection", bad);
    INFO(bad << " -> " << res->body);
    REQUIRE(res->status == 400);
    REQUIRE(ErrorBody(res)["message"].get<std::string>().find("request body") == 0);
  }

  auto no_route = s.Post("SearchService/Nope", "{}");
  REQUIRE(no_route->status == 404);
  REQUIRE(ErrorBody(no_route)["message"].get<std::string>().find("/v1/SearchService/Nope") != std::string::npos);

  auto get = s.Client().Get("/v1/CollectionService/ListCollections");
  REQUIRE(get->status == 405);
  REQUIRE(get->get_header_value("Allow") == "POST");

  auto bad_timeout = s.Post("CollectionService/ListCollections", "{}", {{"X-Verity-Timeout-Ms", "soon"}});
  REQUIRE(bad_timeout->status == 400);
  REQUIRE(ErrorBody(bad_timeout)["message"].get<std::string>().find("X-Verity-Timeout-Ms") == 0);

  // A POST without a Content-Length would be read until the client closes.
  httplib::Client raw("127.0.0.1", s.http_port);
  auto no_length = raw.Post("/v1/CollectionService/ListCollections", [](size_t, httplib::DataSink& sink) {
    sink.done();
    return true;
  }, "application/json");  // httplib sends a chunked body: that is fine
  REQUIRE(no_length->status == 200);

  // The listener's own refusals are JSON errors too: a form body (curl -d's
  // default type, which httplib would cut at 8 KiB), an unknown path.
  auto form = s.Client().Post("/v1/CollectionService/ListCollections", "{}", "application/x-www-form-urlencoded");
  REQUIRE(form->status == 415);
  REQUIRE(ErrorBody(form)["message"].get<std::string>().find("application/json") != std::string::npos);
  auto elsewhere = s.Client().Get("/nowhere");
  REQUIRE(elsewhere->status == 404);
  REQUIRE(ErrorBody(elsewhere)["status"] == "NOT_FOUND");

  // A body that is not JSON by its type: a browser's cross-site POST
  // (text/plain needs no preflight) must not run.
  for (const std::string type : {"text/plain", "", "application/jsonx"}) {
    httplib::Headers headers;
    auto res = s.Client().Post("/v1/CollectionService/DropCollection", headers, R"({"name":"docs"})", type);
    INFO(type);
    REQUIRE(res->status == 415);
    REQUIRE(ErrorBody(res)["message"].get<std::string>().find("application/json") != std::string::npos);
  }
  REQUIRE(s.Post("CollectionService/GetCollection", R"({"name":"docs"})", {})->status == 200);
  REQUIRE(s.Client().Post("/v1/CollectionService/GetCollection", R"({"name":"docs"})",
                          "Application/JSON; charset=utf-8")->status == 200);

  // Without keys, only the listener's own names in Host (DNS rebinding).
  auto rebound = s.Post("CollectionService/ListCollections", "{}", {{"Host", "evil.example:80"}});
  REQUIRE(rebound->status == 403);
  REQUIRE(ErrorBody(rebound)["message"].get<std::string>().find("DNS rebinding") != std::string::npos);
  REQUIRE(s.Post("CollectionService/ListCollections", "{}", {{"Host", "LocalHost:1"}})->status == 200);

  // A header gRPC cannot carry (a byte outside printable ASCII) is refused,
  // not passed on (gRPC 1.51 aborts the process on it).
  auto mangled = s.Post("CollectionService/ListCollections", "{}", {{"Authorization", "Bearer \xff\x01"}});
  REQUIRE(mangled->status == 401);
  REQUIRE(ErrorBody(mangled)["message"].get<std::string>().find("Authorization") == 0);

  // The listener's 405 for a GET-only path is JSON too.
  auto post_metrics = s.Client().Post("/metrics", "{}", "application/json");
  REQUIRE(post_metrics->status == 405);
  REQUIRE(ErrorBody(post_metrics)["message"].get<std::string>().find("/metrics") == 0);

  // And the server still serves.
  const json listed = s.PostOk("CollectionService/ListCollections", json::object());
  REQUIRE(listed["collections"].size() == 1);
}

TEST_CASE("http api: streaming calls answer NDJSON, one message per line", "[http]") {
  HttpServer s;
  s.PostOk("CollectionService/CreateCollection", CreateBody("docs", 2));
  s.PostOk("RecordService/Upsert", {{"collection", "docs"},
                                    {"records", {{{"id", "a"}, {"vector", {1, 0}}}, {{"id", "b"}, {"vector", {0, 1}}}}}});

  SECTION("Export streams its progress, then its result") {
    auto res = s.Post("SnapshotService/Export", R"({"collection":"docs","name":"e1"})");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    REQUIRE(res->get_header_value("Content-Type") == "application/x-ndjson");
    std::istringstream lines(res->body);
    std::vector<json> messages;
    for (std::string line; std::getline(lines, line);) messages.push_back(json::parse(line));
    REQUIRE(messages.size() >= 2);
    REQUIRE(messages.back().contains("result"));
    REQUIRE(messages.back()["result"]["collections"][0]["records"] == "2");
    // An error before the first message is an ordinary error answer.
    auto missing = s.Post("SnapshotService/Export", R"({"collection":"nope","name":"e2"})");
    REQUIRE(missing->status == 404);
    REQUIRE(ErrorBody(missing)["status"] == "NOT_FOUND");
  }
  SECTION("SearchStream takes NDJSON requests and answers each in order") {
    const std::string body =
        R"({"collection":"docs","query":{"vector":[1,0],"k":1}})" "\n"
        R"({"collection":"docs","query":{"vector":[0,1],"k":1}})" "\n"
        R"({"collection":"nope","query":{"vector":[0,1],"k":1}})" "\n";
    auto res = s.Post("SearchService/SearchStream", body);
    REQUIRE(res);
    REQUIRE(res->status == 200);
    std::istringstream lines(res->body);
    std::vector<json> answers;
    for (std::string line; std::getline(lines, line);) answers.push_back(json::parse(line));
    REQUIRE(answers.size() == 3);
    REQUIRE(answers[0]["response"]["hits"][0]["id"] == "a");
    REQUIRE(answers[1]["response"]["hits"][0]["id"] == "b");
    REQUIRE(answers[2]["code"] == 5);  // a stream's per-request error, as gRPC gives it
    // Many more requests than the gateway holds answers for (it stops
    // reading from the server until the HTTP client has taken some): every
    // one answered, in order.
    std::string many;
    for (int i = 0; i < 300; ++i) {
      many += std::string(R"({"collection":"docs","query":{"vector":[)") + (i % 2 ? "0,1" : "1,0") + R"(],"k":1}})" "\n";
    }
    auto all = s.Post("SearchService/SearchStream", many);
    REQUIRE(all->status == 200);
    std::istringstream many_lines(all->body);
    int n = 0;
    for (std::string line; std::getline(many_lines, line); ++n) {
      REQUIRE(json::parse(line)["response"]["hits"][0]["id"] == (n % 2 ? "b" : "a"));
    }
    REQUIRE(n == 300);
    // A bad line is refused before anything is sent, naming the line.
    auto bad = s.Post("SearchService/SearchStream", R"({"collection":"docs"})" "\n" "{oops}\n");
    REQUIRE(bad->status == 400);
    REQUIRE(ErrorBody(bad)["message"].get<std::string>().find("line 2 of the request body") == 0);
  }
}

TEST_CASE("http api: the same keys and roles as gRPC, and /metrics needs a key", "[http]") {
  test::TempDir keys_dir;
  const std::string keys = keys_dir.Sub("keys");
  std::ofstream(keys) << "boss admin " << test::Sha256Hex("admin-secret") << "\nread reader "
                      << test::Sha256Hex("reader-secret") << "\n";
  HttpServer s({"--keys", keys});

  auto anonymous = s.Post("CollectionService/ListCollections", "{}");
  REQUIRE(anonymous->status == 401);
  REQUIRE(ErrorBody(anonymous)["status"] == "UNAUTHENTICATED");

  const httplib::Headers admin = {{"Authorization", "Bearer admin-secret"}};
  const httplib::Headers reader = {{"Authorization", "Bearer reader-secret"}};
  REQUIRE(s.Post("CollectionService/CreateCollection", CreateBody("docs", 2).dump(), admin)->status == 200);
  auto denied = s.Post("CollectionService/DropCollection", R"({"name":"docs"})", reader);
  REQUIRE(denied->status == 403);
  REQUIRE(ErrorBody(denied)["message"].get<std::string>().find("reader") != std::string::npos);
  REQUIRE(s.Post("CollectionService/ListCollections", "{}", reader)->status == 200);

  // The log line of a refused HTTP call names the HTTP client, not the
  // in-process channel.
  const std::string log = test::ReadFile(s.dir.Sub("verityd.log"));
  REQUIRE(log.find("\"peer\":\"http:127.0.0.1:") != std::string::npos);

  REQUIRE(s.Client().Get("/metrics")->status == 401);
  auto scraped = s.Client().Get("/metrics", reader);
  REQUIRE(scraped->status == 200);
  // HTTP calls are counted by the same metrics as gRPC calls.
  REQUIRE(scraped->body.find("method=\"CreateCollection\"") != std::string::npos);
  REQUIRE(scraped->body.find("code=\"PERMISSION_DENIED\"") != std::string::npos);
}

TEST_CASE("http api: every RPC of every service has its route", "[http]") {
  auto gateway = server::HttpGateway::Create(nullptr, {"verity.v1.SearchService", "verity.v1.LogService"});
  REQUIRE(gateway.ok());
  const auto& routes = (*gateway)->routes();
  REQUIRE(routes.count("/v1/SearchService/Search") == 1);
  REQUIRE(routes.at("/v1/SearchService/SearchStream").client_streaming);
  REQUIRE(routes.at("/v1/LogService/Replay").grpc_method == "/verity.v1.LogService/Replay");
  REQUIRE(!server::HttpGateway::Create(nullptr, {"verity.v1.NoService"}).ok());
  REQUIRE(server::HttpStatusOf(grpc::StatusCode::DEADLINE_EXCEEDED) == 504);
  REQUIRE(server::ErrorJson(grpc::StatusCode::INTERNAL, "a \"quoted\"\nline") ==
          R"({"code":13,"status":"INTERNAL","message":"a \"quoted\"\nline"})");
}
