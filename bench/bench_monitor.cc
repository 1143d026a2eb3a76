// verity_bench_monitor: what LLMOps monitoring costs, and how soon the live
// drift alarm rings, through the real Database (issue #28). On Fashion-MNIST
// (the first --base training images, text = class name; k = 10), in one
// process, two copies of the same data directory:
//   on:  the monitor as shipped (retrievals observed, answers annotated);
//   off: observe_retrievals = annotate_answers = false.
// Both with sync_writes off, so that the log's fsync does not drown the
// CPU the monitor adds (the monitor's work is CPU; the fsync is the same).
//   1. Retrieve, interleaved call by call on / off: the calling thread's
//      CPU µs per call (median, mean) and wall µs (median) of each; then
//      the same between a third copy with the monitor off and "off" (A/A:
//      what two identical copies differ by).
//   2. RecordAnswer, interleaved on / off, the same figures; the difference
//      is the annotation (groundedness audit, toxicity, tokens, the write).
//      And Annotate(recompute) alone.
//   3. The live drift alarm (GetMonitorStats, dense leg) on a controlled
//      shift: queries from classes 0-4, then 5-9; the delay (retrievals
//      after the shift until the alarm) and the stable-phase false alarms,
//      per seed. Seeds 1..S (default 5); --first-seed 101 is the held-out run.
//   4. GetMonitorReport over the whole log: ms.
//   verity_bench_monitor [--base 20000] [--calls 5000] [--seeds 5] [--first-seed 1] [--dir DIR]
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fashion_mnist.h"
#include "verity/database.h"

namespace verity::bench {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double Us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Data {
  ImageSet base, queries;
  std::vector<uint8_t> base_labels, query_labels;
};

DatabaseOptions Options(bool monitor) {
  DatabaseOptions o;
  o.sync_writes = false;
  o.log = [](LogLevel, const std::string&) {};
  o.monitor.observe_retrievals = monitor;
  o.monitor.annotate_answers = monitor;
  o.monitor.toxicity_languages = {"en"};
  return o;
}

Status Load(const std::string& dir, const Data& d) {
  VERITY_ASSIGN_OR_RETURN(auto db, Database::Open(dir, Options(false)));
  CollectionConfig config;
  config.name = "fm";
  config.dimension = static_cast<uint32_t>(d.base.dim);
  VERITY_RETURN_IF_ERROR(db->CreateCollection(config).status());
  for (size_t start = 0; start < d.base.n; start += 1000) {
    std::vector<Record> batch;
    for (size_t i = start; i < std::min(d.base.n, start + 1000); ++i) {
      Record r;
      r.id = "img" + std::to_string(i);
      r.vector.assign(d.base.row(i), d.base.row(i) + d.base.dim);
      r.text = std::string("This picture shows a ") + FashionMnistClassName(d.base_labels[i]) + ".";
      batch.push_back(std::move(r));
    }
    VERITY_RETURN_IF_ERROR(db->Upsert("fm", std::move(batch)).status());
  }
  return db->Close();
}

RetrieveRequest Query(const Data& d, size_t q) {
  RetrieveRequest r;
  r.collection = "fm";
  r.vector.assign(d.queries.row(q), d.queries.row(q) + d.queries.dim);
  r.query_text = "What does the picture show?";
  r.k = 10;
  return r;
}

// The calling thread's CPU time: the monitor's work runs on it (the log's
// syncer and the centroid trainer are other threads), and unlike wall time
// it is hardly moved by other processes on a shared machine.
double ThreadCpuUs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

struct CallCost {
  std::vector<double> cpu, wall;
  void Add(double cpu_us, double wall_us) {
    cpu.push_back(cpu_us);
    wall.push_back(wall_us);
  }
  double Mean(const std::vector<double>& v) const {
    double sum = 0;
    for (double x : v) sum += x;
    return v.empty() ? 0 : sum / v.size();
  }
};

// Runs fn once and adds its thread CPU and wall µs to `cost`.
template <typename Fn>
void Timed(CallCost& cost, Fn fn) {
  const double cpu = ThreadCpuUs();
  const auto start = Clock::now();
  fn();
  cost.Add(ThreadCpuUs() - cpu, Us(Clock::now() - start));
}

// 1. Retrieve, interleaved call by call: on, off, on, off, ...
void RetrieveCost(Database& on, Database& off, const Data& d, size_t calls, const char* name) {
  CallCost cost[2];
  for (size_t i = 0; i < 2 * calls; ++i) {
    Database& db = i % 2 == 0 ? on : off;
    const RetrieveRequest q = Query(d, (i / 2) % d.queries.n);
    Timed(cost[i % 2], [&] {
      if (!db.Retrieve(q).ok()) std::abort();
    });
  }
  std::printf("{\"bench\":\"%s\",\"calls\":%zu,\"on_cpu_us\":{\"median\":%.1f,\"mean\":%.1f},"
              "\"off_cpu_us\":{\"median\":%.1f,\"mean\":%.1f},\"on_wall_us_median\":%.1f,"
              "\"off_wall_us_median\":%.1f}\n",
              name, calls, Median(cost[0].cpu), cost[0].Mean(cost[0].cpu), Median(cost[1].cpu), cost[1].Mean(cost[1].cpu),
              Median(cost[0].wall), Median(cost[1].wall));
}

// 2. RecordAnswer on / off, interleaved, and Annotate(recompute).
void AnnotationCost(Database& on, Database& off, const Data& d, size_t n) {
  CallCost cost[2], annotate;
  std::vector<std::string> on_ids;
  for (size_t i = 0; i < n; ++i) {
    for (int side = 0; side < 2; ++side) {
      Database& db = side == 0 ? on : off;
      auto r = db.Retrieve(Query(d, i));
      if (!r.ok()) std::abort();
      const std::string answer = std::string("The picture shows a ") + FashionMnistClassName(d.query_labels[i]) +
                                 ". It was taken in a studio in 2017.";
      Timed(cost[side], [&] {
        if (!db.RecordAnswer({r->retrieval_id, answer, "m", 0, 0}).ok()) std::abort();
      });
      if (side == 0) on_ids.push_back(r->retrieval_id);
    }
  }
  for (const std::string& id : on_ids) {
    Timed(annotate, [&] {
      if (!on.Annotate(id, true).ok()) std::abort();
    });
  }
  std::printf("{\"bench\":\"annotate\",\"answers\":%zu,\"record_answer_on_cpu_us\":%.1f,"
              "\"record_answer_off_cpu_us\":%.1f,\"record_answer_on_wall_us\":%.1f,\"record_answer_off_wall_us\":%.1f,"
              "\"annotate_recompute_cpu_us\":%.1f,\"annotate_recompute_wall_us\":%.1f}\n",
              n, Median(cost[0].cpu), Median(cost[1].cpu), Median(cost[0].wall), Median(cost[1].wall),
              Median(annotate.cpu), Median(annotate.wall));
}

bool Alarm(Database& db) {
  for (const CollectionMonitorStats& s : db.GetMonitorStats()) {
    for (const LiveDriftState& l : s.legs) {
      if (s.collection == "fm" && l.leg == "dense" && l.alarm) return true;
    }
  }
  return false;
}

// 3. The live drift alarm on a class shift, one seed.
void DriftShift(Database& db, const Data& d, uint64_t seed) {
  std::vector<size_t> before, after;
  for (size_t i = 0; i < d.queries.n; ++i) (d.query_labels[i] <= 4 ? before : after).push_back(i);
  std::mt19937_64 rng(seed);
  if (!db.ResetMonitorReference("fm").ok()) std::abort();
  constexpr size_t kStable = 2500, kShift = 1500, kCheckEvery = 10;
  size_t false_alarms = 0, checks = 0, delay = 0;
  for (size_t i = 0; i < kStable; ++i) {
    if (!db.Retrieve(Query(d, before[rng() % before.size()])).ok()) std::abort();
    if (i % kCheckEvery == 0) {
      ++checks;
      false_alarms += Alarm(db);
    }
  }
  for (size_t i = 1; i <= kShift && delay == 0; ++i) {
    if (!db.Retrieve(Query(d, after[rng() % after.size()])).ok()) std::abort();
    if (Alarm(db)) delay = i;
  }
  std::printf("{\"bench\":\"drift_live\",\"seed\":%llu,\"stable_checks\":%zu,\"false_alarms\":%zu,"
              "\"delay\":%zu,\"detected\":%s}\n",
              static_cast<unsigned long long>(seed), checks, false_alarms, delay, delay ? "true" : "false");
}

int Main(int argc, char** argv) {
  size_t base = 20000;
  size_t calls = 5000;
  int seeds = 5;
  uint64_t first_seed = 1;
  std::string dir = "/tmp/verity-bench-monitor";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--base")) base = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--calls")) calls = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seeds")) seeds = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--first-seed")) first_seed = std::stoull(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
  }
  Data d;
  auto b = LoadFashionMnistBase(kFashionMnistDir, base);
  auto bl = LoadFashionMnistTrainLabels(kFashionMnistDir, base);
  auto q = LoadFashionMnistQueries(kFashionMnistDir);
  auto ql = LoadFashionMnistTestLabels(kFashionMnistDir);
  if (!b.ok() || !bl.ok() || !q.ok() || !ql.ok()) {
    std::fprintf(stderr, "Fashion-MNIST not found under %s: apt-get install dataset-fashion-mnist\n", kFashionMnistDir);
    return 2;
  }
  d.base = std::move(*b), d.base_labels = std::move(*bl), d.queries = std::move(*q), d.query_labels = std::move(*ql);
  fs::remove_all(dir);
  if (Status s = Load(dir + "/on", d); !s.ok()) {
    std::fprintf(stderr, "load: %s\n", s.ToString().c_str());
    return 1;
  }
  fs::copy(dir + "/on", dir + "/off", fs::copy_options::recursive);
  fs::copy(dir + "/on", dir + "/off2", fs::copy_options::recursive);
  auto on = Database::Open(dir + "/on", Options(true));
  auto off = Database::Open(dir + "/off", Options(false));
  auto off2 = Database::Open(dir + "/off2", Options(false));
  if (!on.ok() || !off.ok() || !off2.ok()) return 1;
  // The first dense retrieval asks for centroids; the trainer makes them
  // within a few seconds.
  (void)(*on)->Retrieve(Query(d, 0));
  std::this_thread::sleep_for(std::chrono::seconds(4));
  // The same comparison between two copies with the monitor off: how far
  // apart two identical directories measure (the noise floor of the first).
  RetrieveCost(**on, **off, d, calls, "retrieve");
  RetrieveCost(**off2, **off, d, calls, "retrieve_a_a");
  AnnotationCost(**on, **off, d, 300);
  for (int s = 0; s < seeds; ++s) DriftShift(**on, d, first_seed + s);
  MonitorReportRequest request;
  request.collection = "fm";
  request.max_flagged = 0;
  const auto start = Clock::now();
  auto report = (*on)->GetMonitorReport(request);
  if (!report.ok()) return 1;
  std::printf("{\"bench\":\"report\",\"records\":%llu,\"ms\":%.1f}\n",
              static_cast<unsigned long long>(report->records_examined), Us(Clock::now() - start) / 1000);
  return 0;
}

}  // namespace
}  // namespace verity::bench

int main(int argc, char** argv) { return verity::bench::Main(argc, argv); }
