// verity_bench_grpc: search over gRPC against the in-process engine, in one
// run, on the Fashion-MNIST collection that `verity_demo --load-only` (or
// scripts/run.sh) leaves in a data directory.
//
//   verity_bench_grpc --data DIR --verityd PATH [--ef 20] [--seconds 5] [--queries 2000]
//
// 1. In-process: opens DIR, measures recall@10 (against exact search) and
//    QPS with 1 and 2 threads, closes it.
// 2. Starts verityd on DIR and a free loopback port and runs two closed-loop
//    load generators for --seconds each, printing QPS and p50/p99 latency:
//    - "verity-grpc": 1, 8, 32 client threads on the C++ client library
//      (blocking calls, one in flight each, one channel each);
//    - "verity-grpc-stream": 1, 8, 32 client threads, each with its own
//      SearchStream (one query in flight each) on one shared Client;
//    - "verity-grpc-async": 1, 8, 32 calls kept in flight by gRPC's callback
//      client API (a new call starts as soon as one completes), over two
//      channels. Same server and requests; the load generator itself uses
//      far less CPU, which matters because it shares the machine's cores
//      with the server.
// 3. Retrieve (search + a durable retrieval-log record) against Search with
//    payload (both return the hits' texts), 1 and 8 client threads, blocking
//    calls on a channel each: issue #5's logging cost measured through real
//    clients ("verity-grpc-retrieve" / "verity-grpc-search-payload").
//    `--only retrieval` runs just this part (and the in-process recall).
// 4. Search over the HTTP/JSON API (--http-listen, docs/http.md) against
//    the same Search over gRPC, 1 and 8 client threads, blocking calls on a
//    connection each, alternating windows (gRPC, HTTP, gRPC, HTTP):
//    "verity-grpc-vs-http" / "verity-http". The HTTP bodies are built
//    before the run (JSON of 784 floats); the gRPC client builds its
//    message per call. `--only http` runs just this part.
// One JSON object per line on stdout, like verity_bench_engine.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "fashion_mnist.h"
#include "verity/client.h"
#include "verity/context.h"
#include "verity/database.h"
#include "verity/v1/search.grpc.pb.h"

namespace verity::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr char kCollection[] = "fashion_mnist";

struct Load {
  double server_cores = 0;  // verityd's CPU time / wall time during the run (0: not measured)
  double qps = 0;
  double p50_us = 0;
  double p99_us = 0;
  double recall = 0;
};

void Print(const char* system, int clients, uint32_t ef, const Load& l) {
  std::printf("{\"system\": \"%s\", \"dataset\": \"fashion-mnist-784\", \"n\": 60000, \"clients\": %d, \"ef\": %u, "
              "\"recall_at_10\": %.4f, \"qps\": %.1f, \"p50_us\": %.1f, \"p99_us\": %.1f",
              system, clients, ef, l.recall, l.qps, l.p50_us, l.p99_us);
  if (l.server_cores > 0) {
    std::printf(", \"server_cores\": %.2f, \"qps_per_server_core\": %.1f", l.server_cores, l.qps / l.server_cores);
  }
  std::printf("}\n");
  std::fflush(stdout);
}

// Runs `threads` closed loops of `one(thread, i)` for `seconds`; returns
// throughput and latency percentiles.
template <typename Fn>
Load ClosedLoop(int threads, double seconds, Fn one) {
  std::vector<std::vector<double>> latencies(static_cast<size_t>(threads));
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (size_t i = static_cast<size_t>(t); !stop.load(std::memory_order_relaxed); i += static_cast<size_t>(threads)) {
        const auto s = Clock::now();
        one(t, i);
        latencies[static_cast<size_t>(t)].push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Load load;
  load.qps = static_cast<double>(all.size()) / elapsed;
  if (!all.empty()) {
    load.p50_us = all[all.size() / 2];
    load.p99_us = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return load;
}

// Keeps `outstanding` searches in flight over `stubs` (round-robin) for
// `seconds`: each completion records its latency and starts the next call.
Load AsyncClosedLoop(const std::vector<std::unique_ptr<v1::SearchService::Stub>>& stubs, int outstanding,
                     double seconds, const std::vector<v1::SearchRequest>& requests) {
  struct Slot {
    grpc::ClientContext* context = nullptr;
    v1::SearchResponse response;
    Clock::time_point start;
    size_t next = 0;
    v1::SearchService::Stub* stub = nullptr;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::vector<double> latencies;
  size_t failures = 0;
  int running = outstanding;
  std::atomic<bool> stop{false};
  std::vector<Slot> slots(static_cast<size_t>(outstanding));
  std::function<void(Slot*)> issue = [&](Slot* slot) {
    delete slot->context;
    slot->context = new grpc::ClientContext();
    slot->response.Clear();
    const v1::SearchRequest& request = requests[slot->next % requests.size()];
    slot->next += static_cast<size_t>(outstanding);
    slot->start = Clock::now();
    slot->stub->async()->Search(slot->context, &request, &slot->response, [&, slot](grpc::Status status) {
      const double us = std::chrono::duration<double, std::micro>(Clock::now() - slot->start).count();
      {
        std::lock_guard lock(mu);
        if (status.ok()) latencies.push_back(us);
        else ++failures;
      }
      if (!stop.load(std::memory_order_relaxed)) {
        issue(slot);
        return;
      }
      std::lock_guard lock(mu);
      if (--running == 0) cv.notify_all();
    });
  };
  const auto start = Clock::now();
  for (size_t i = 0; i < slots.size(); ++i) {
    slots[i].next = i;
    slots[i].stub = stubs[i % stubs.size()].get();
    issue(&slots[i]);
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return running == 0; });
  for (auto& slot : slots) delete slot.context;
  if (failures > 0) std::fprintf(stderr, "async load: %zu calls failed\n", failures);
  std::sort(latencies.begin(), latencies.end());
  Load load;
  load.qps = static_cast<double>(latencies.size()) / elapsed;
  if (!latencies.empty()) {
    load.p50_us = latencies[latencies.size() / 2];
    load.p99_us = latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
  }
  return load;
}

// CPU seconds (user + system) used so far by process `pid`.
double CpuSeconds(pid_t pid) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (f == nullptr) return 0;
  char buffer[4096];
  const size_t n = std::fread(buffer, 1, sizeof(buffer) - 1, f);
  std::fclose(f);
  buffer[n] = 0;
  // Fields after the parenthesised command name; utime and stime are the
  // 14th and 15th fields of the line.
  const char* p = std::strrchr(buffer, ')');
  if (p == nullptr) return 0;
  unsigned long utime = 0, stime = 0;
  if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) return 0;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Runs `fn` (which returns a Load) and sets its server_cores from verityd's
// CPU time over the run.
template <typename Fn>
Load MeasuringServer(pid_t server, Fn fn) {
  const double cpu0 = CpuSeconds(server);
  const auto t0 = Clock::now();
  Load load = fn();
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  load.server_cores = (CpuSeconds(server) - cpu0) / wall;
  return load;
}

// Retrieve against Search with payload over gRPC, at 1 and 8 client
// threads, alternating windows (search, retrieve, search, retrieve) so that
// drift in the shared machine's speed falls on both; prints each and the
// logging cost (1 - retrieve QPS / search QPS over the windows).
void RetrievalOverGrpc(pid_t pid, const std::vector<std::unique_ptr<Client>>& clients, const ImageSet& q, uint32_t ef,
                       double seconds) {
  for (int threads : {1, 8}) {
    double search_qps = 0, retrieve_qps = 0;
    Load search_load, retrieve_load;
    std::atomic<size_t> failures{0};
    for (int window = 0; window < 2; ++window) {
      Load s = MeasuringServer(pid, [&] {
        return ClosedLoop(threads, seconds / 2, [&](int t, size_t i) {
          ClientSearch search;
          search.vector.assign(q.row(i % q.n), q.row(i % q.n) + q.dim);
          search.ef = ef;
          search.with_payload = true;
          if (!clients[static_cast<size_t>(t)]->Search(kCollection, search).ok()) failures.fetch_add(1);
        });
      });
      Load r = MeasuringServer(pid, [&] {
        return ClosedLoop(threads, seconds / 2, [&](int t, size_t i) {
          RetrieveRequest retrieve;
          retrieve.collection = kCollection;
          retrieve.vector.assign(q.row(i % q.n), q.row(i % q.n) + q.dim);
          retrieve.ef = ef;
          if (!clients[static_cast<size_t>(t)]->Retrieve(retrieve).ok()) failures.fetch_add(1);
        });
      });
      search_qps += s.qps / 2;
      retrieve_qps += r.qps / 2;
      if (window == 1) {
        search_load = s;
        retrieve_load = r;
      }
    }
    if (failures > 0) std::fprintf(stderr, "retrieval load: %zu calls failed\n", failures.load());
    search_load.qps = search_qps;
    retrieve_load.qps = retrieve_qps;
    Print("verity-grpc-search-payload", threads, ef, search_load);
    Print("verity-grpc-retrieve", threads, ef, retrieve_load);
    std::fprintf(stderr,
                 "gRPC, %d client thread(s): Retrieve %.0f QPS vs Search with payload %.0f QPS: logging costs %.1f%% "
                 "(issue #5's target: at most 15%% at 8 clients)\n",
                 threads, retrieve_qps, search_qps, 100.0 * (1 - retrieve_qps / search_qps));
  }
}

// Search over HTTP/JSON against Search over gRPC (see the top of the file):
// prints each window and the HTTP/gRPC ratios of QPS and of QPS per server
// core at 1 and 8 clients.
void HttpAgainstGrpc(pid_t pid, const std::vector<std::unique_ptr<Client>>& clients, int http_port,
                     const ImageSet& q, uint32_t ef, double seconds, const std::vector<std::set<std::string>>& truth) {
  std::vector<std::string> bodies(q.n);
  for (size_t i = 0; i < q.n; ++i) {
    nlohmann::json body = {{"collection", kCollection}, {"query", {{"k", 10}, {"ef", ef}}}};
    body["query"]["vector"] = std::vector<float>(q.row(i), q.row(i) + q.dim);
    bodies[i] = body.dump();
  }
  std::vector<std::unique_ptr<httplib::Client>> http;
  for (int t = 0; t < 8; ++t) {
    http.push_back(std::make_unique<httplib::Client>("127.0.0.1", http_port));
    http.back()->set_keep_alive(true);
    http.back()->set_tcp_nodelay(true);
  }
  std::atomic<size_t> failures{0};
  const auto http_search = [&](int t, size_t i) {
    auto res = http[static_cast<size_t>(t)]->Post("/v1/SearchService/Search", bodies[i % q.n], "application/json");
    if (!res || res->status != 200) failures.fetch_add(1);
  };
  double hits = 0;
  for (size_t i = 0; i < q.n; ++i) {
    auto res = http[0]->Post("/v1/SearchService/Search", bodies[i], "application/json");
    if (!res || res->status != 200) continue;
    const nlohmann::json answer = nlohmann::json::parse(res->body);  // outlives the loop
    for (const auto& hit : answer["hits"]) {
      hits += static_cast<double>(truth[i].count(hit["id"].get<std::string>()));
    }
  }
  const double recall = hits / (10.0 * static_cast<double>(q.n));
  // The fixed cost of a call, beside Search's: a call with a small request
  // and answer (ListCollections: one collection), one client, both ways.
  for (int window = 0; window < 2; ++window) {
    Load g = ClosedLoop(1, seconds / 2, [&](int, size_t) { (void)clients[0]->ListCollections(); });
    Load h = ClosedLoop(1, seconds / 2, [&](int, size_t) {
      (void)http[0]->Post("/v1/CollectionService/ListCollections", "{}", "application/json");
    });
    std::fprintf(stderr, "small call (ListCollections), one client: gRPC p50 %.0f us, HTTP/JSON p50 %.0f us\n",
                 g.p50_us, h.p50_us);
  }
  for (int threads : {1, 8}) {
    Load grpc_sum, http_sum;
    for (int window = 0; window < 2; ++window) {
      Load g = MeasuringServer(pid, [&] {
        return ClosedLoop(threads, seconds, [&](int t, size_t i) {
          ClientSearch s;
          s.vector.assign(q.row(i % q.n), q.row(i % q.n) + q.dim);
          s.ef = ef;
          s.with_payload = false;
          (void)clients[static_cast<size_t>(t)]->Search(kCollection, s);
        });
      });
      Load h = MeasuringServer(pid, [&] { return ClosedLoop(threads, seconds, http_search); });
      g.recall = recall;  // the same searches; HTTP's recall is computed above
      h.recall = recall;
      Print("verity-grpc-vs-http", threads, ef, g);
      Print("verity-http", threads, ef, h);
      grpc_sum.qps += g.qps;
      http_sum.qps += h.qps;
      grpc_sum.server_cores += g.server_cores;
      http_sum.server_cores += h.server_cores;
    }
    std::fprintf(stderr,
                 "HTTP/JSON vs gRPC Search, %d client(s): %.0f vs %.0f QPS (%.0f%%); per server core %.0f vs %.0f "
                 "(%.0f%%); HTTP recall@10 %.4f\n",
                 threads, http_sum.qps / 2, grpc_sum.qps / 2, 100.0 * http_sum.qps / grpc_sum.qps,
                 http_sum.qps / http_sum.server_cores, grpc_sum.qps / grpc_sum.server_cores,
                 100.0 * (http_sum.qps / http_sum.server_cores) / (grpc_sum.qps / grpc_sum.server_cores), recall);
  }
  if (failures > 0) std::fprintf(stderr, "HTTP load: %zu calls failed\n", failures.load());
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

int Main(int argc, char** argv) {
  std::string dir, verityd;
  uint32_t ef = 20;
  double seconds = 5;
  size_t nq = 2000;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--only")
      only = v;
    else if (a == "--data")
      dir = v;
    else if (a == "--verityd") verityd = v;
    else if (a == "--ef") ef = static_cast<uint32_t>(std::stoul(v));
    else if (a == "--seconds") seconds = std::stod(v);
    else if (a == "--queries") nq = std::stoul(v);
  }
  if (dir.empty() || verityd.empty()) {
    std::fprintf(stderr,
                 "usage: verity_bench_grpc --data DIR --verityd PATH [--ef 20] [--seconds 5] [--queries 2000] "
                 "[--only retrieval|http]\n");
    return 2;
  }
  if (!only.empty() && only != "retrieval" && only != "http") {
    std::fprintf(stderr, "--only: expected retrieval or http, got \"%s\"\n", only.c_str());
    return 2;
  }
  auto queries = LoadFashionMnistQueries(kFashionMnistDir, nq);
  if (!queries.ok()) {
    std::fprintf(stderr, "%s\n", queries.status().ToString().c_str());
    return 1;
  }
  const ImageSet& q = *queries;

  // 1. In-process.
  std::vector<std::set<std::string>> truth(q.n);
  Load in1, in2;
  {
    auto db = Database::Open(dir);
    if (!db.ok() || !(*db)->GetCollection(kCollection).ok()) {
      std::fprintf(stderr, "open %s: %s (load it with verity_demo --load-only)\n", dir.c_str(),
                   db.ok() ? "no fashion_mnist collection" : db.status().ToString().c_str());
      return 1;
    }
    std::vector<SearchRequest> exact(q.n);
    for (size_t i = 0; i < q.n; ++i) {
      exact[i].vector.assign(q.row(i), q.row(i) + q.dim);
      exact[i].with_payload = false;
      exact[i].plan = SearchPlan::kExact;
    }
    auto truths = (*db)->SearchBatch(kCollection, exact);
    if (!truths.ok()) return 1;
    for (size_t i = 0; i < q.n; ++i) for (const auto& h : (*truths)[i].hits) truth[i].insert(h.id);
    auto one = [&](int, size_t i) {
      SearchRequest r;
      r.vector.assign(q.row(i % q.n), q.row(i % q.n) + q.dim);
      r.ef = ef;
      r.with_payload = false;
      (void)(*db)->Search(kCollection, r);
    };
    in1 = ClosedLoop(1, seconds, one);
    in2 = ClosedLoop(2, seconds, one);
    double hits = 0;
    for (size_t i = 0; i < q.n; ++i) {
      SearchRequest r;
      r.vector.assign(q.row(i), q.row(i) + q.dim);
      r.ef = ef;
      r.with_payload = false;
      auto res = (*db)->Search(kCollection, r);
      for (const auto& h : res->hits) hits += truth[i].count(h.id);
    }
    in1.recall = in2.recall = hits / (10.0 * static_cast<double>(q.n));
    Print("verity-inprocess", 1, ef, in1);
    Print("verity-inprocess", 2, ef, in2);
  }

  // 2. Over gRPC.
  const std::string address = "127.0.0.1:" + std::to_string(FreePort());
  const int http_port = FreePort();
  const std::string http_address = "127.0.0.1:" + std::to_string(http_port);
  pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stderr);
    execl(verityd.c_str(), verityd.c_str(), "--data", dir.c_str(), "--listen", address.c_str(), "--http-listen",
          http_address.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ClientOptions options;
  options.address = address;
  Client probe(options);
  for (int i = 0; i < 600 && !probe.Health().ok(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::vector<std::unique_ptr<Client>> clients;
  for (int t = 0; t < 32; ++t) clients.push_back(std::make_unique<Client>(options));
  // Query i of the workload (i wraps around the query set), as every client sends it.
  auto query_of = [&](size_t i) {
    ClientSearch s;
    s.vector.assign(q.row(i % q.n), q.row(i % q.n) + q.dim);
    s.ef = ef;
    s.with_payload = false;
    return s;
  };
  double grpc_recall = 0;
  for (size_t i = 0; i < q.n; ++i) {
    auto res = probe.Search(kCollection, query_of(i));
    if (res.ok()) for (const auto& h : res->hits) grpc_recall += truth[i].count(h.id);
  }
  grpc_recall /= 10.0 * static_cast<double>(q.n);
  if (only == "http") {
    HttpAgainstGrpc(pid, clients, http_port, q, ef, seconds, truth);
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    return 0;
  }
  if (only == "retrieval") {
    RetrievalOverGrpc(pid, clients, q, ef, seconds);
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    return 0;
  }
  // The floor: an RPC that does no work (the health check), one client.
  Load empty = ClosedLoop(1, seconds, [&](int, size_t) { (void)clients[0]->Health(); });
  std::fprintf(stderr, "empty RPC (health check), one client: p50 %.0f us, p99 %.0f us, %.0f calls/s\n", empty.p50_us,
               empty.p99_us, empty.qps);
  Load at32;
  for (int threads : {1, 8, 32}) {
    Load l = MeasuringServer(pid, [&] {
      return ClosedLoop(threads, seconds, [&](int t, size_t i) {
        (void)clients[static_cast<size_t>(t)]->Search(kCollection, query_of(i));
      });
    });
    l.recall = grpc_recall;
    Print("verity-grpc", threads, ef, l);
    if (threads == 32) at32 = l;
    if (threads == 1) {
      std::fprintf(stderr, "gRPC, one client: p50 %.0f us, p99 %.0f us (target p50 < 300 us)\n", l.p50_us, l.p99_us);
    }
  }
  std::fprintf(stderr, "gRPC, 32 client threads: %.0f QPS = %.0f%% of in-process two-thread %.0f QPS\n",
               at32.qps, 100.0 * at32.qps / in2.qps, in2.qps);

  // The same searches as queries on open SearchStream calls: one stream per
  // client thread, one query in flight each, all on one Client (one
  // connection), as an application shares one Client between its threads.
  for (int threads : {1, 8, 32}) {
    std::vector<std::unique_ptr<SearchStream>> streams;
    for (int t = 0; t < threads; ++t) {
      auto stream = clients[0]->OpenSearchStream(kCollection);
      if (!stream.ok()) {
        std::fprintf(stderr, "cannot open a search stream: %s\n", stream.status().ToString().c_str());
        return 1;
      }
      streams.push_back(std::move(*stream));
    }
    std::atomic<size_t> failures{0};
    Load l = MeasuringServer(pid, [&] {
      return ClosedLoop(threads, seconds, [&](int t, size_t i) {
        if (!streams[static_cast<size_t>(t)]->Search(query_of(i)).ok()) failures.fetch_add(1);
      });
    });
    if (failures > 0) std::fprintf(stderr, "stream load: %zu queries failed\n", failures.load());
    l.recall = grpc_recall;
    Print("verity-grpc-stream", threads, ef, l);
    if (threads == 1) {
      std::fprintf(stderr, "gRPC stream, one client: p50 %.0f us, p99 %.0f us\n", l.p50_us, l.p99_us);
    } else if (threads == 32) {
      std::fprintf(stderr,
                   "gRPC stream, 32 client threads: %.0f QPS = %.0f%% of in-process two-thread (target >= 70%%)\n",
                   l.qps, 100.0 * l.qps / in2.qps);
      std::fprintf(stderr, "  verityd used %.2f cores: %.0f QPS per server core = %.0f%% of in-process per-core\n",
                   l.server_cores, l.qps / l.server_cores, 100.0 * (l.qps / l.server_cores) / (in2.qps / 2));
    }
  }

  // The same searches with the callback client API.
  std::vector<v1::SearchRequest> requests(q.n);
  for (size_t i = 0; i < q.n; ++i) {
    requests[i].set_collection(kCollection);
    auto* query = requests[i].mutable_query();
    query->mutable_vector()->Add(q.row(i), q.row(i) + q.dim);
    query->set_k(10);
    query->set_ef(ef);
  }
  std::vector<std::unique_ptr<v1::SearchService::Stub>> stubs;
  for (int c = 0; c < 2; ++c) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own
    stubs.push_back(v1::SearchService::NewStub(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args)));
  }
  for (int outstanding : {1, 8, 32}) {
    Load l = MeasuringServer(pid, [&] { return AsyncClosedLoop(stubs, outstanding, seconds, requests); });
    l.recall = grpc_recall;
    Print("verity-grpc-async", outstanding, ef, l);
    if (outstanding == 1) {
      std::fprintf(stderr, "gRPC async, one call in flight: p50 %.0f us, p99 %.0f us (target p50 < 300 us)\n",
                   l.p50_us, l.p99_us);
    } else if (outstanding == 32) {
      std::fprintf(stderr, "gRPC async, 32 in flight: %.0f QPS = %.0f%% of in-process two-thread (target >= 70%%)\n",
                   l.qps, 100.0 * l.qps / in2.qps);
      // The load generator shares the two cores with the server; per core of
      // server CPU the comparison does not depend on where the clients run.
      std::fprintf(stderr,
                   "  verityd used %.2f cores: %.0f QPS per server core = %.0f%% of in-process per-core %.0f QPS\n",
                   l.server_cores, l.qps / l.server_cores, 100.0 * (l.qps / l.server_cores) / (in2.qps / 2),
                   in2.qps / 2);
    }
  }
  RetrievalOverGrpc(pid, clients, q, ef, seconds);
  HttpAgainstGrpc(pid, clients, http_port, q, ef, seconds, truth);
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  return 0;
}

}  // namespace
}  // namespace verity::bench

int main(int argc, char** argv) { return verity::bench::Main(argc, argv); }
