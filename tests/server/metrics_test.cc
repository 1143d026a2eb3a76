// The Prometheus endpoint (docs/metrics.md): a real verityd with
// --metrics-listen, scraped over HTTP after a known sequence of calls.
#include "metrics.h"

#include <poll.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <sstream>
#include <thread>

#include "http_listener.h"
#include "server/raw_call.h"
#include "server/server_helpers.h"
#include "server/server_process.h"
#include "verity/client.h"

using namespace verity;

namespace {

// A TCP connection to 127.0.0.1:port; -1 when it cannot connect.
int ConnectLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Sends `request` to 127.0.0.1:port and returns everything the server sent
// back before closing ("" when it cannot connect). A receive that waits
// 60 s ends it (a guard against a hang, not a measure).
std::string HttpExchange(int port, const std::string& request) {
  const int fd = ConnectLoopback(port);
  if (fd < 0) return "";
  const timeval guard{60, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard));
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;) response.append(buffer, static_cast<size_t>(n));
  close(fd);
  return response;
}

struct Scrape {
  std::string status_line;
  std::string content_type;
  std::map<std::string, double> samples;     // "name{labels}" -> value
  std::map<std::string, std::string> types;  // family -> counter, gauge, histogram
};

Scrape ScrapeMetrics(int port) {
  const std::string response = HttpExchange(port, "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  Scrape s;
  const size_t body = response.find("\r\n\r\n");
  REQUIRE(body != std::string::npos);
  std::istringstream head(response.substr(0, body));
  std::getline(head, s.status_line);
  for (std::string line; std::getline(head, line);) {
    if (line.rfind("Content-Type: ", 0) == 0) s.content_type = line.substr(14);
  }
  std::istringstream text(response.substr(body + 4));
  for (std::string line; std::getline(text, line);) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      s.types[name] = type;
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    REQUIRE(space != std::string::npos);
    s.samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return s;
}

// A TCP connection to 127.0.0.1:port begun without waiting for it to be
// accepted (a listener that accepts slowly would otherwise hold the test).
int ConnectLoopbackNonBlocking(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int rc = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  REQUIRE((rc == 0 || errno == EINPROGRESS));
  return fd;
}

// Threads of process `pid`, from /proc.
int ThreadCount(pid_t pid) {
  std::istringstream status(test::ReadFile("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  FAIL("no Threads line for " << pid);
  return 0;
}

// The metrics port a verityd started with --metrics-listen 127.0.0.1:0
// chose, from its start line (port 0: no race with other tests for a port).
int MetricsPort(const std::string& log_path) {
  const std::string marker = "\"metrics\":\"http://127.0.0.1:";
  for (int attempt = 0; attempt < 500; ++attempt) {
    const std::string log = test::ReadFile(log_path);
    if (const size_t at = log.find(marker); at != std::string::npos) {
      return std::stoi(log.substr(at + marker.size()));
    }
    usleep(10000);
  }
  FAIL("no metrics URL in " << log_path);
  return 0;
}

double Value(const Scrape& s, const std::string& key) {
  auto it = s.samples.find(key);
  INFO("sample " << key);
  REQUIRE(it != s.samples.end());
  return it->second;
}

}  // namespace

TEST_CASE("metrics: histogram buckets are cumulative and count every observation", "[server][metrics]") {
  server::Histogram h({0.1, 0.5, 1.0});
  for (double v : {0.05, 0.1, 0.3, 0.7, 2.0, 3.0}) h.Observe(v);
  std::string out;
  h.Render("x", "a=\"1\"", &out);
  CHECK(out.find("x_bucket{a=\"1\",le=\"0.1\"} 2\n") != std::string::npos);  // 0.05 and 0.1 (le is inclusive)
  CHECK(out.find("x_bucket{a=\"1\",le=\"0.5\"} 3\n") != std::string::npos);
  CHECK(out.find("x_bucket{a=\"1\",le=\"1\"} 4\n") != std::string::npos);
  CHECK(out.find("x_bucket{a=\"1\",le=\"+Inf\"} 6\n") != std::string::npos);
  CHECK(out.find("x_count{a=\"1\"} 6\n") != std::string::npos);
  CHECK(out.find("x_sum{a=\"1\"} 6.15\n") != std::string::npos);
  CHECK(h.count() == 6);
  CHECK(server::EscapeLabelValue("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
}

TEST_CASE("metrics: a scrape after known calls shows their counts, latencies, the engine's state and audits",
          "[server][metrics]") {
  test::TempDir dir;
  auto server = test::StartServer(dir, {"--metrics-listen", "127.0.0.1:0"});
  const int metrics_port = MetricsPort(dir.Sub("log"));
  Client client(test::ClientOptionsFor(*server));

  // A known sequence of calls.
  const CollectionConfig config = test::CreateCollection(client, "docs", 2);
  std::vector<Record> records;
  for (int i = 0; i < 3; ++i) {
    Record r;
    r.id = "r" + std::to_string(i);
    r.vector = {float(i), 1};
    r.text = "Record " + std::to_string(i) + " says the sky is blue.";
    records.push_back(r);
  }
  REQUIRE(client.Upsert(config.name, records).ok());  // version 1: 3 nodes
  REQUIRE(client.Delete(config.name, {"r2"}).ok());   // version 2: 1 dead node
  ClientSearch search;
  search.vector = {0, 1};
  search.k = 2;
  for (int i = 0; i < 5; ++i) REQUIRE(client.Search(config.name, search).ok());
  search.vector = {0, 1, 2};
  CHECK(client.Search(config.name, search).status().code() == StatusCode::kInvalidArgument);
  {  // Each query on a search stream counts as one call of its own.
    auto stream = client.OpenSearchStream(config.name);
    REQUIRE(stream.ok());
    ClientSearch streamed;
    streamed.vector = {0, 1};
    for (int i = 0; i < 3; ++i) REQUIRE((*stream)->Search(streamed).ok());
    streamed.vector = {0, 1, 2};
    CHECK((*stream)->Search(streamed).status().code() == StatusCode::kInvalidArgument);
    REQUIRE((*stream)->Close().ok());
  }
  CHECK(client.GetCollection("missing").status().code() == StatusCode::kNotFound);
  CHECK(client.GetCollection("missing").status().code() == StatusCode::kNotFound);
  // Requests that protobuf cannot parse are refused by their method, and
  // counted and logged as such (bytes of a truncated varint; a Latin-1 text).
  const test::RawResult unparsable =
      test::RawCall(server->channel(), "/verity.v1.RecordService/Upsert", "", std::string("\x0a\xff", 2));
  CHECK(unparsable.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  const std::string latin1_query("\x12\x05\x2a\x03ok\xe9", 7);  // query { filter: "ok\xE9" }
  const test::RawResult latin1 = test::RawCall(server->channel(), "/verity.v1.SearchService/Search", "", latin1_query);
  CHECK(latin1.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(latin1.status.error_message() ==
        "query.filter: is not valid UTF-8 (byte 0xE9 at offset 2); string fields must be UTF-8");
  CHECK(
      test::ReadFile(dir.Sub("log"))
          .find(R"("event":"request_failed","method":"Upsert","code":"INVALID_ARGUMENT","message":"not a well-formed )"
                R"(verity.v1.UpsertRequest)") != std::string::npos);

  RetrieveRequest retrieve;
  retrieve.collection = config.name;
  retrieve.vector = {0, 1};
  retrieve.query_text = "What colour is the sky?";
  retrieve.k = 1;
  auto retrieved = client.Retrieve(retrieve);
  REQUIRE(retrieved.ok());
  REQUIRE(client.RecordAnswer({retrieved->retrieval_id, "Record 0 says the sky is blue.", "m", 0, 0}).ok());
  REQUIRE(client.CacheStore({retrieved->retrieval_id, "", "m", ""}).ok());
  CacheLookupRequest ask;
  ask.collection = config.name;
  ask.vector = {0, 1};
  ask.query_text = "What colour is the sky?";
  ask.model = "m";
  REQUIRE(client.CacheLookup(ask)->match == CacheMatch::kExact);  // + a cache-hit log record
  ask.vector = {1, 0};
  ask.query_text = "Something else entirely?";
  REQUIRE(client.CacheLookup(ask)->match == CacheMatch::kMiss);
  auto supported = client.Audit({retrieved->retrieval_id, std::nullopt, std::nullopt});
  REQUIRE(supported.ok());
  REQUIRE(supported->result.g == 1.0);
  auto invented =
      client.Audit({retrieved->retrieval_id, std::string("The moon is made of green cheese."), std::nullopt});
  REQUIRE(invented.ok());
  REQUIRE(invented->result.g == 0.0);

  const Scrape s = ScrapeMetrics(metrics_port);
  CHECK(s.status_line == "HTTP/1.1 200 OK\r");
  CHECK(s.content_type.rfind("text/plain; version=0.0.4", 0) == 0);

  // Calls by method and code; errors by code.
  CHECK(Value(s, R"(verity_rpc_requests_total{method="Search",code="OK"})") == 5);
  CHECK(Value(s, R"(verity_rpc_requests_total{method="Search",code="INVALID_ARGUMENT"})") == 2);
  CHECK(Value(s, R"(verity_rpc_requests_total{method="GetCollection",code="NOT_FOUND"})") == 2);
  CHECK(Value(s, R"(verity_rpc_requests_total{method="Upsert",code="OK"})") == 1);
  CHECK(Value(s, R"(verity_rpc_requests_total{method="CacheLookup",code="OK"})") == 2);
  CHECK(Value(s, R"(verity_rpc_requests_total{method="Audit",code="OK"})") == 2);
  CHECK(Value(s, R"(verity_rpc_errors_total{code="NOT_FOUND"})") == 2);
  CHECK(Value(s, R"(verity_rpc_requests_total{method="SearchStream",code="OK"})") == 3);
  CHECK(Value(s, R"(verity_rpc_requests_total{method="SearchStream",code="INVALID_ARGUMENT"})") == 1);
  CHECK(Value(s, R"(verity_rpc_requests_total{method="Upsert",code="INVALID_ARGUMENT"})") == 1);
  CHECK(Value(s, R"(verity_rpc_errors_total{code="INVALID_ARGUMENT"})") == 4);
  CHECK(Value(s, R"(verity_rpc_errors_total{code="INTERNAL"})") == 0);
  CHECK(s.types.at("verity_rpc_requests_total") == "counter");

  // Latency histograms: one observation per call, buckets cumulative.
  CHECK(s.types.at("verity_rpc_duration_seconds") == "histogram");
  CHECK(Value(s, R"(verity_rpc_duration_seconds_count{method="Search"})") == 7);
  CHECK(Value(s, R"(verity_rpc_duration_seconds_bucket{method="Search",le="+Inf"})") == 7);
  CHECK(Value(s, R"(verity_rpc_duration_seconds_count{method="Retrieve"})") == 1);
  CHECK(Value(s, R"(verity_rpc_duration_seconds_sum{method="Search"})") > 0);
  double previous = 0;
  for (const double le : server::ServerMetrics::LatencyBounds()) {
    std::ostringstream key;
    key << R"(verity_rpc_duration_seconds_bucket{method="Search",le=")" << le << "\"}";
    const double v = Value(s, key.str());
    CHECK(v >= previous);
    previous = v;
  }

  // The engine's state, per collection.
  const std::string c = R"({collection="docs"})";
  CHECK(Value(s, "verity_collection_records" + c) == 2);
  CHECK(Value(s, "verity_collection_head_version" + c) == 2);
  CHECK(Value(s, "verity_collection_versions" + c) == 3);  // versions 0, 1, 2: none collected yet
  CHECK(Value(s, "verity_graph_nodes" + c) == 3);
  CHECK(Value(s, "verity_graph_dead_nodes" + c) == 1);
  CHECK(Value(s, "verity_collection_log_only_rows" + c) == 0);  // no GC has run

  // The answer cache and the retrieval log: retrieval, answer, cache hit.
  CHECK(Value(s, R"(verity_cache_hits_total{match="exact"})") == 1);
  CHECK(Value(s, R"(verity_cache_hits_total{match="semantic"})") == 0);
  CHECK(Value(s, "verity_cache_misses_total") == 1);
  CHECK(Value(s, "verity_cache_stores_total") == 1);
  CHECK(Value(s, "verity_cache_entries") == 1);
  CHECK(Value(s, "verity_retrieval_log_records") == 3);
  CHECK(Value(s, "verity_retrieval_log_last_seq") == 3);
  CHECK(Value(s, "verity_retrieval_log_bytes") > 0);

  // Groundedness of the two audits: G = 1 and G = 0.
  CHECK(Value(s, R"(verity_groundedness_score_count{audit="single"})") == 2);
  CHECK(Value(s, R"(verity_groundedness_score_bucket{audit="single",le="0.1"})") == 1);
  CHECK(Value(s, R"(verity_groundedness_score_bucket{audit="single",le="0.9"})") == 1);
  CHECK(Value(s, R"(verity_groundedness_score_bucket{audit="single",le="1"})") == 2);
  CHECK(Value(s, R"(verity_groundedness_score_sum{audit="single"})") == 1);
  BatchAuditRequest batch;
  batch.collection = config.name;
  REQUIRE(client.AuditCollection(batch).ok());  // the retrieval and the cache hit: both G = 1
  const Scrape after = ScrapeMetrics(metrics_port);
  CHECK(Value(after, R"(verity_groundedness_score_count{audit="batch"})") == 2);
  CHECK(Value(after, R"(verity_groundedness_score_bucket{audit="batch",le="0.9"})") == 0);
  CHECK(Value(after, R"(verity_rpc_requests_total{method="AuditCollection",code="OK"})") == 1);

  // A client that trickles its request a byte at a time cannot hold the
  // endpoint: its connection is cut after 5 s and a scrape behind it is
  // answered (before: one byte every 2 s held it until 8 KiB, hours).
  {
    const int fd = ConnectLoopback(metrics_port);
    REQUIRE(fd >= 0);
    std::atomic<bool> cut{false};  // the server closed the connection (a send failed)
    std::thread trickle([&] {
      for (int i = 0; i < 60 && !cut; ++i) {
        if (send(fd, "x", 1, MSG_NOSIGNAL) != 1) cut = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
    });
    const auto start = std::chrono::steady_clock::now();
    CHECK(ScrapeMetrics(metrics_port).status_line == "HTTP/1.1 200 OK\r");
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(waited < 20);  // cut at 5 s; generous for a loaded machine (30 s if never cut)
    trickle.join();      // ends when a send fails, or after 30 s of trickling
    CHECK(cut);
    close(fd);
  }

  // Bad HTTP gets a clear status and the endpoint keeps serving.
  CHECK(HttpExchange(metrics_port, "GET /other HTTP/1.1\r\nConnection: close\r\n\r\n").rfind("HTTP/1.1 404", 0) == 0);
  CHECK(HttpExchange(metrics_port, "POST /metrics HTTP/1.1\r\nConnection: close\r\n\r\n").rfind("HTTP/1.1 405", 0) == 0);
  CHECK(HttpExchange(metrics_port, "garbage\r\n\r\n").rfind("HTTP/1.1 400", 0) == 0);
  CHECK(HttpExchange(metrics_port, std::string(20000, 'x')).rfind("HTTP/1.1 414", 0) == 0);  // cut at 16 KiB
  CHECK(ScrapeMetrics(metrics_port).status_line == "HTTP/1.1 200 OK\r");
  CHECK(client.GetCollection(config.name).ok());
  CHECK(server->Stop(SIGTERM) == 0);
}

TEST_CASE("metrics: idle connections do not hold the endpoint, and connections over the cap are refused, not queued",
          "[server][metrics]") {
  test::TempDir dir;
  auto server = test::StartServer(dir, {"--metrics-listen", "127.0.0.1:0"});
  const int port = MetricsPort(dir.Sub("log"));
  REQUIRE(ScrapeMetrics(port).status_line == "HTTP/1.1 200 OK\r");
  const int threads_before = ThreadCount(server->pid());
  const int cap = server::HttpListenerOptions{}.max_connections;  // verityd's metrics listener keeps the default

  // 40 connections that send nothing, or half a request line, held open
  // while a scrape is made: it is answered (the old listener served one
  // connection at a time, 5 s each, so the scrape waited 200 s and
  // connections beyond its backlog of 16 waited to be accepted at all).
  std::vector<int> idle;
  for (int i = 0; i < 40; ++i) {
    idle.push_back(ConnectLoopbackNonBlocking(port));
    if (i % 4 == 0) (void)send(idle.back(), "GET /metr", 9, MSG_NOSIGNAL);  // may be refused: not yet connected
  }
  {
    const Scrape s = ScrapeMetrics(port);
    CHECK(s.status_line == "HTTP/1.1 200 OK\r");
    CHECK(s.samples.count("verity_start_time_seconds") == 1);
  }
  for (const int fd : idle) close(fd);
  idle.clear();

  // More connections than the cap, all silent: those beyond it are
  // answered 503 at once, before they send anything, and closed; the
  // server's threads grow by the cap at most.
  for (int i = 0; i < cap + 16; ++i) idle.push_back(ConnectLoopbackNonBlocking(port));
  int refused = 0;
  const auto guard = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::vector<std::string> received(idle.size());
  std::vector<bool> done(idle.size(), false);
  // Read what comes back until one connection holds a whole 503, every
  // connection is closed, or the guard passes (a guard, not a measure).
  while (refused == 0 && std::chrono::steady_clock::now() < guard &&
         std::count(done.begin(), done.end(), false) > 0) {
    std::vector<pollfd> fds;
    for (size_t i = 0; i < idle.size(); ++i) fds.push_back({done[i] ? -1 : idle[i], POLLIN, 0});
    if (poll(fds.data(), fds.size(), 1000) <= 0) continue;
    for (size_t i = 0; i < idle.size(); ++i) {
      if (fds[i].revents == 0) continue;
      char buffer[512];
      const ssize_t n = recv(idle[i], buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n > 0) {
        received[i].append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINPROGRESS)) {
        done[i] = true;
      }
      if (received[i].rfind("HTTP/1.1 503", 0) == 0 && received[i].find("too many HTTP connections") != std::string::npos) {
        ++refused;
      }
    }
  }
  CHECK(refused >= 1);
  CHECK(ThreadCount(server->pid()) <= threads_before + cap);
  for (const int fd : idle) close(fd);

  // Once they are gone, scrapes are answered again.
  bool answered = false;
  for (int attempt = 0; attempt < 100 && !answered; ++attempt) {
    answered = ScrapeMetrics(port).status_line == "HTTP/1.1 200 OK\r";
    if (!answered) usleep(100000);
  }
  CHECK(answered);
  CHECK(server->Stop(SIGTERM) == 0);
}

TEST_CASE("metrics: off by default, refused on a non-loopback address without consent, a taken port fails the start",
          "[server][metrics]") {
  test::TempDir dir;
  // Off by default: the start line says so.
  {
    auto server = test::ServerProcess::Start(dir.Sub("data0"), dir.Sub("log0"));
    REQUIRE(server);
    CHECK(server->Stop(SIGTERM) == 0);
    CHECK(test::ReadFile(dir.Sub("log0")).find("\"metrics\":\"off\"") != std::string::npos);
  }
  const std::string listen = "127.0.0.1:" + std::to_string(test::FreePort());
  CHECK(test::RunVerityd({"--data", dir.Sub("data1"), "--listen", listen, "--metrics-listen", "0.0.0.0:9100"},
                         dir.Sub("log1")) == 1);
  CHECK(test::ReadFile(dir.Sub("log1")).find("--metrics-allow-remote") != std::string::npos);

  // A port already taken (by another verityd's metrics endpoint): exit 3.
  auto first = test::ServerProcess::Start(dir.Sub("data2"), dir.Sub("log2"), {"--metrics-listen", "127.0.0.1:0"});
  REQUIRE(first);
  const int port = MetricsPort(dir.Sub("log2"));
  CHECK(test::RunVerityd({"--data", dir.Sub("data3"), "--listen", "127.0.0.1:" + std::to_string(test::FreePort()),
                          "--metrics-listen", "127.0.0.1:" + std::to_string(port)},
                         dir.Sub("log3")) == 3);
  CHECK(test::ReadFile(dir.Sub("log3")).find("--metrics-listen") != std::string::npos);
  CHECK(first->Stop(SIGTERM) == 0);
}
