// verity_bench_grpc: search over gRPC against the in-process engine, in one
// run, on the Fashion-MNIST collection that `verity_demo --load-only` (or
// scripts/run.sh) leaves in a data directory.
//
//   verity_bench_grpc --data DIR --verityd PATH [--ef 20] [--seconds 5] [--queries 2000]
//
// 1. In-process: opens DIR, measures recall@10 (against exact search) and
//    QPS with 1 and 2 threads, closes it.
// 2. Starts verityd on DIR and a free loopback port; a closed-loop load
//    generator of C++ clients (1, 8, 32 threads, one call in flight each)
//    searches for --seconds each; prints QPS and p50/p99 latency.
// One JSON object per line on stdout, like verity_bench_engine.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fashion_mnist.h"
#include "verity/client.h"
#include "verity/database.h"

namespace verity::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr char kCollection[] = "fashion_mnist";

struct Load {
  double qps = 0;
  double p50_us = 0;
  double p99_us = 0;
  double recall = 0;
};

void Print(const char* system, int clients, uint32_t ef, const Load& l) {
  std::printf("{\"system\": \"%s\", \"dataset\": \"fashion-mnist-784\", \"n\": 60000, \"clients\": %d, \"ef\": %u, "
              "\"recall_at_10\": %.4f, \"qps\": %.1f, \"p50_us\": %.1f, \"p99_us\": %.1f}\n",
              system, clients, ef, l.recall, l.qps, l.p50_us, l.p99_us);
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
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--data") dir = v;
    else if (a == "--verityd") verityd = v;
    else if (a == "--ef") ef = static_cast<uint32_t>(std::stoul(v));
    else if (a == "--seconds") seconds = std::stod(v);
    else if (a == "--queries") nq = std::stoul(v);
  }
  if (dir.empty() || verityd.empty()) {
    std::fprintf(stderr, "usage: verity_bench_grpc --data DIR --verityd PATH [--ef 20] [--seconds 5] [--queries 2000]\n");
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
  pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stderr);
    execl(verityd.c_str(), verityd.c_str(), "--data", dir.c_str(), "--listen", address.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  ClientOptions options;
  options.address = address;
  Client probe(options);
  for (int i = 0; i < 600 && !probe.Health().ok(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::vector<std::unique_ptr<Client>> clients;
  for (int t = 0; t < 32; ++t) clients.push_back(std::make_unique<Client>(options));
  double grpc_recall = 0;
  for (size_t i = 0; i < q.n; ++i) {
    ClientSearch s;
    s.vector.assign(q.row(i), q.row(i) + q.dim);
    s.ef = ef;
    s.with_payload = false;
    auto res = probe.Search(kCollection, s);
    if (res.ok()) for (const auto& h : res->hits) grpc_recall += truth[i].count(h.id);
  }
  grpc_recall /= 10.0 * static_cast<double>(q.n);
  // The floor: an RPC that does no work (the health check), one client.
  Load empty = ClosedLoop(1, seconds, [&](int, size_t) { (void)clients[0]->Health(); });
  std::fprintf(stderr, "empty RPC (health check), one client: p50 %.0f us, p99 %.0f us, %.0f calls/s\n", empty.p50_us,
               empty.p99_us, empty.qps);
  Load at32;
  for (int threads : {1, 8, 32}) {
    Load l = ClosedLoop(threads, seconds, [&](int t, size_t i) {
      ClientSearch s;
      s.vector.assign(q.row(i % q.n), q.row(i % q.n) + q.dim);
      s.ef = ef;
      s.with_payload = false;
      (void)clients[static_cast<size_t>(t)]->Search(kCollection, s);
    });
    l.recall = grpc_recall;
    Print("verity-grpc", threads, ef, l);
    if (threads == 32) at32 = l;
    if (threads == 1) {
      std::fprintf(stderr, "gRPC, one client: p50 %.0f us, p99 %.0f us (target p50 < 300 us)\n", l.p50_us, l.p99_us);
    }
  }
  std::fprintf(stderr, "gRPC, 32 clients: %.0f QPS = %.0f%% of in-process two-thread %.0f QPS (target >= 70%%)\n",
               at32.qps, 100.0 * at32.qps / in2.qps, in2.qps);
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  return 0;
}

}  // namespace
}  // namespace verity::bench

int main(int argc, char** argv) { return verity::bench::Main(argc, argv); }
