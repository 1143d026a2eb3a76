// verity_bench_engine: the Verity engine beside raw hnswlib and exact search,
// in one process, on one dataset, with the same parameters (M=16,
// ef_construction=200, k=10, L2) and the same ground truth (bench_common.h).
// Systems (--systems, default all):
//   hnswlib       HierarchicalNSW<float> + L2Space, parallel addPoint (OpenMP),
//                 single-thread searchKnn per ef
//   verity        Database::Open on a fresh temporary directory (every write
//                 synced), Upsert in batches of 5,000, single-thread Search
//                 (with_payload=false) per ef
//   verity-batch  the same database, SearchBatch of all queries on 2 threads
//   verity-exact   ExactKnn (blocked matrix products, all threads) beside this
//                 machine's measured FMA peak ("gflops", "peak_gflops")
// stdout: one JSON line per (system, ef) (PrintJson); stderr: progress and a
// summary with the ratios #7 names.
//
// Compiled with the project's default flags (no -march): hnswlib's own
// kernels then use SSE only, while the engine dispatches at run time.
// verity_bench_engine_native is this file compiled with -march=native, so
// raw hnswlib gets this machine's widest kernels ("hnswlib-native"); the
// engine library it links stays baseline x86-64.
//
// hnswlib.h defines non-inline functions when SSE is on: include it in exactly
// one .cc file per executable (this one).
#include <hnswlib/hnswlib.h>
#include <immintrin.h>
#include <omp.h>

#ifndef VERITY_HNSWLIB_NAME
#define VERITY_HNSWLIB_NAME "hnswlib"
#endif
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench_common.h"
#include "index/hnsw_graph.h"
#include "verity/database.h"
#include "verity/exact_knn.h"
#include "verity/status.h"

namespace verity::bench {
namespace {

constexpr char kCollection[] = "bench";
constexpr size_t kBatch = 5000;

#ifndef VERITY_BENCH_PROGRAM
#define VERITY_BENCH_PROGRAM "verity_bench_engine"
#endif

// The --help text of this binary: the systems it runs under the names it
// accepts (the -march=native build's raw hnswlib is "hnswlib-native";
// "hnswlib" selects it too).
std::string Usage() {
  const std::string hnswlib = VERITY_HNSWLIB_NAME;
  const std::string accepted = hnswlib == "hnswlib" ? "hnswlib" : hnswlib + " (or hnswlib)";
  return "usage: " VERITY_BENCH_PROGRAM " [--dataset fashion-mnist|clustered] [--base N] [--queries N]\n"
         "         [--data-dir DIR] [--ef LIST] [--systems LIST]\n"
         "  --dataset      fashion-mnist (real, 784-d, default) or clustered (synthetic, 128-d)\n"
         "  --base N       base vectors (default: all 60,000 / 100,000)\n"
         "  --queries N    queries (default 1000)\n"
         "  --data-dir DIR where the engine's temporary database directory is created\n"
         "                 (a fresh verity-bench-XXXXXX inside it, removed at the end; default /tmp)\n"
         "  --ef LIST      comma-separated search ef values (default 10,11,12,13,14,16,18,20,24,32,40,64,96,128)\n"
         "  --systems LIST comma-separated, default all of:\n"
         "                   " + accepted + "  raw hnswlib" +
         (hnswlib == "hnswlib" ? " built with the project's flags (SSE kernels)" : " built with -march=native") +
         "\n"
         "                   verity, verity-batch, verity-exact  the engine: Search, SearchBatch, exact search\n"
         "                 and, only when named, reachability: unreachable graph nodes before and after\n"
         "                 the repair, its time, and self-query recall@10 at the default ef\n" +
         (hnswlib == "hnswlib" ? ""
                               : "                 (scripts/bench.sh asks this binary only for " + hnswlib + ")\n");
}

// Removes the directory it holds when it goes out of scope.
class TempDir {
 public:
  static Result<std::unique_ptr<TempDir>> Create(const std::string& parent) {
    std::string pattern = parent + "/verity-bench-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      return Status::Unavailable("mkdtemp " + pattern + ": " + std::strerror(errno));
    }
    return std::unique_ptr<TempDir>(new TempDir(pattern));
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    if (ec) std::fprintf(stderr, "warning: could not remove %s: %s\n", path_.c_str(), ec.message().c_str());
  }
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

Result<SystemRun> RunHnswlib(const Dataset& data, const GroundTruth& truth, const Options& options) {
  SystemRun run;
  run.name = VERITY_HNSWLIB_NAME;
  try {
    const size_t rss_before = ResidentBytes();
    hnswlib::L2Space space(data.dim);
    hnswlib::HierarchicalNSW<float> index(&space, data.n, kM, kEfConstruction);
    const auto build_start = Clock::now();
    // The first point goes in alone (as hnswlib's Python bindings do), so the
    // parallel inserts all find an entry point.
    index.addPoint(data.base_row(0), 0);
    bool failed = false;
    std::string error;
    const auto n = static_cast<int64_t>(data.n);
#pragma omp parallel for schedule(dynamic, 64)
    for (int64_t i = 1; i < n; ++i) {
      try {
        index.addPoint(data.base_row(static_cast<size_t>(i)), static_cast<hnswlib::labeltype>(i));
      } catch (const std::exception& e) {
#pragma omp critical
        {
          failed = true;
          error = e.what();
        }
      }
    }
    if (failed) return Status::Internal("hnswlib addPoint: " + error);
    run.build_s = SecondsSince(build_start);
    run.bytes_per_vector = static_cast<double>(ResidentBytes() - rss_before) / static_cast<double>(data.n);
    std::fprintf(stderr, "hnswlib: built %zu points in %.2f s with %d threads\n", data.n, run.build_s,
                 omp_get_max_threads());

    std::vector<uint32_t> found;
    for (uint32_t ef : options.efs) {
      index.setEf(ef);
      PassMeter meter(data.n_queries);
      const auto pass_start = Clock::now();
      for (size_t q = 0; q < data.n_queries; ++q) {
        const auto t0 = Clock::now();
        auto heap = index.searchKnn(data.query_row(q), kK);  // farthest on top
        const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
        found.assign(heap.size(), 0);
        for (size_t i = found.size(); i-- > 0; heap.pop()) found[i] = static_cast<uint32_t>(heap.top().second);
        meter.Add(us, TrueHits(truth[q], found.data(), found.size()));
      }
      run.points.push_back(meter.Finish(ef, SecondsSince(pass_start)));
      PrintJson(run, data, run.points.back());
    }
  } catch (const std::exception& e) {
    return Status::Internal(std::string("hnswlib: ") + e.what());
  }
  return run;
}

// Parses the hits' ids (the base row numbers) into `found`.
Status FoundRows(const SearchResult& result, std::vector<uint32_t>* found) {
  found->clear();
  for (const SearchHit& hit : result.hits) {
    uint32_t row;
    auto [ptr, ec] = std::from_chars(hit.id.data(), hit.id.data() + hit.id.size(), row);
    if (ec != std::errc() || ptr != hit.id.data() + hit.id.size()) {
      return Status::Internal("Search returned an id that is not ours: \"" + hit.id + "\"");
    }
    found->push_back(row);
  }
  return Status::Ok();
}

// "verity" (single-thread Search per ef) and "verity-batch" (SearchBatch,
// all threads) on one database in `dir`, a fresh, empty directory.
Result<std::vector<SystemRun>> RunVerity(const Dataset& data, const GroundTruth& truth, const Options& options,
                                         const std::string& dir) {
  SystemRun run;
  run.name = "verity";
  const size_t rss_before = ResidentBytes();
  VERITY_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(dir));

  CollectionConfig config;
  config.name = kCollection;
  config.dimension = static_cast<uint32_t>(data.dim);
  config.metric = Metric::kL2;
  config.m = kM;
  config.ef_construction = kEfConstruction;
  VERITY_RETURN_IF_ERROR(db->CreateCollection(config).status().WithPrefix("CreateCollection"));

  const auto build_start = Clock::now();
  for (size_t start = 0; start < data.n; start += kBatch) {
    const size_t end = std::min(data.n, start + kBatch);
    std::vector<Record> records(end - start);
    for (size_t i = start; i < end; ++i) {
      Record& r = records[i - start];
      r.id = std::to_string(i);
      r.vector.assign(data.base_row(i), data.base_row(i) + data.dim);
    }
    auto written = db->Upsert(kCollection, std::move(records));
    if (!written.ok()) return written.status().WithPrefix("Upsert of rows " + std::to_string(start) + ".." +
                                                          std::to_string(end - 1));
  }
  run.build_s = SecondsSince(build_start);
  run.bytes_per_vector = static_cast<double>(ResidentBytes() - rss_before) / static_cast<double>(data.n);
  VERITY_ASSIGN_OR_RETURN(CollectionInfo info, db->GetCollection(kCollection));
  if (info.live_records != data.n) {
    return Status::Internal("after ingest the collection reports " + std::to_string(info.live_records) +
                            " live records, expected " + std::to_string(data.n));
  }
  std::fprintf(stderr, "verity: ingested %zu records in %.2f s (batches of %zu, synced writes, %d threads)\n",
               data.n, run.build_s, kBatch, omp_get_max_threads());

  SearchRequest request;
  request.k = kK;
  request.with_payload = false;
  std::vector<uint32_t> found;
  SystemRun batch_run = run;
  batch_run.name = "verity-batch";
  for (uint32_t ef : options.efs) {
    request.ef = ef;
    if (options.Wants("verity")) {
      PassMeter meter(data.n_queries);
      size_t exact_plans = 0;
      const auto pass_start = Clock::now();
      for (size_t q = 0; q < data.n_queries; ++q) {
        request.vector.assign(data.query_row(q), data.query_row(q) + data.dim);
        const auto t0 = Clock::now();
        Result<SearchResult> result = db->Search(kCollection, request);
        const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
        if (!result.ok()) return result.status().WithPrefix("Search (query " + std::to_string(q) + ")");
        if (result->exact) ++exact_plans;
        VERITY_RETURN_IF_ERROR(FoundRows(*result, &found));
        meter.Add(us, TrueHits(truth[q], found.data(), found.size()));
      }
      run.points.push_back(meter.Finish(ef, SecondsSince(pass_start)));
      if (exact_plans > 0) {
        std::fprintf(stderr, "verity: note: ef=%u: the planner searched exactly for %zu of %zu queries\n", ef,
                     exact_plans, data.n_queries);
      }
      PrintJson(run, data, run.points.back(), ", \"threads\": 1");
    }
    if (options.Wants("verity-batch")) {
      std::vector<SearchRequest> requests(data.n_queries, request);
      for (size_t q = 0; q < data.n_queries; ++q) {
        requests[q].vector.assign(data.query_row(q), data.query_row(q) + data.dim);
      }
      const auto pass_start = Clock::now();
      auto results = db->SearchBatch(kCollection, requests);
      const double wall_s = SecondsSince(pass_start);
      if (!results.ok()) return results.status().WithPrefix("SearchBatch");
      // One batch: per-query latency is not measured; p50/p99 are the mean.
      PassMeter meter(data.n_queries);
      const double mean_us = wall_s * 1e6 / static_cast<double>(data.n_queries) * omp_get_max_threads();
      for (size_t q = 0; q < data.n_queries; ++q) {
        VERITY_RETURN_IF_ERROR(FoundRows((*results)[q], &found));
        meter.Add(mean_us, TrueHits(truth[q], found.data(), found.size()));
      }
      batch_run.points.push_back(meter.Finish(ef, wall_s));
      PrintJson(batch_run, data, batch_run.points.back(),
                ", \"threads\": " + std::to_string(omp_get_max_threads()));
    }
  }
  VERITY_RETURN_IF_ERROR(db->Close().WithPrefix("Close"));
  std::vector<SystemRun> runs;
  if (options.Wants("verity")) runs.push_back(std::move(run));
  if (options.Wants("verity-batch")) runs.push_back(std::move(batch_run));
  return runs;
}

// Self-queries: each base vector searched for at `ef`, k = 10. A miss is a
// record that exact search would return and the graph does not: its own id
// is not in the top 10, and fewer than 10 hits are at distance 0 (with 10 or
// more exact duplicates, any 10 of them are a correct answer).
std::vector<uint32_t> SelfQueryMisses(const HnswGraph& graph, const Dataset& data, uint32_t ef) {
  std::vector<uint8_t> missed(data.n, 0);
#pragma omp parallel for schedule(dynamic, 256)
  for (size_t i = 0; i < data.n; ++i) {
    const std::vector<Neighbor> hits = graph.Search(data.base_row(i), kK, ef, {});
    size_t at_zero = 0;
    bool own = false;
    for (const Neighbor& hit : hits) {
      own = own || hit.label == i;
      at_zero += hit.distance == 0 ? 1 : 0;
    }
    missed[i] = !own && at_zero < kK;
  }
  std::vector<uint32_t> out;
  for (size_t i = 0; i < data.n; ++i) {
    if (missed[i]) out.push_back(static_cast<uint32_t>(i));
  }
  return out;
}

// The graph as the engine builds it (chunks of 2,048 inserts, all threads,
// M and ef_construction of the suite), before and after the reachability
// repair (#23). Prints one "reachability:" line.
Status RunReachability(const Dataset& data) {
  const GraphParams params{static_cast<uint32_t>(data.dim), Metric::kL2, kM, kEfConstruction};
  VERITY_ASSIGN_OR_RETURN(std::unique_ptr<HnswGraph> graph, HnswGraph::Create(params, data.n));
  const auto build_start = Clock::now();
  for (size_t start = 0; start < data.n; start += 2048) {
    VERITY_RETURN_IF_ERROR(graph->Add(data.base_row(start), std::min<size_t>(2048, data.n - start), 0));
  }
  const double build_s = SecondsSince(build_start);
  const uint32_t ef = CollectionConfig().default_ef;
  auto still_missed = [&](const std::vector<uint32_t>& misses) {
    size_t n = 0;
    for (uint32_t i : misses) {
      bool found = false;
      for (const Neighbor& hit : graph->Search(data.base_row(i), kK, 1000, {})) found = found || hit.label == i;
      n += found ? 0 : 1;
    }
    return n;
  };
  const std::vector<uint32_t> before = SelfQueryMisses(*graph, data, ef);
  const size_t before_1000 = still_missed(before);
  const HnswGraph::RepairStats repair = graph->Repair();
  const std::vector<uint32_t> after = SelfQueryMisses(*graph, data, ef);
  const size_t after_1000 = still_missed(after);
  const double n = static_cast<double>(data.n);
  std::fprintf(stderr,
               "reachability: %s n=%zu M=%u (built in %.1f s): unreachable nodes %zu before repair, %zu after "
               "(%zu links added in %.1f ms); self-query recall@10 at ef=%u %.5f before (%zu misses, %zu of them "
               "also at ef=1000), %.5f after (%zu misses, %zu at ef=1000)\n",
               data.name.c_str(), data.n, kM, build_s, repair.unreachable_before, repair.unreachable_after,
               repair.links_added, repair.seconds * 1000, ef, 1 - static_cast<double>(before.size()) / n,
               before.size(), before_1000, 1 - static_cast<double>(after.size()) / n, after.size(), after_1000);
  return Status::Ok();
}

// Single-precision FMA throughput of this machine with all OpenMP threads:
// 12 independent accumulator chains in the widest registers the CPU has.
__attribute__((target("avx512f"))) float Run512(size_t iterations) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  for (size_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
  }
  alignas(64) float lanes[16];
  float sink = 0;
  for (int i = 0; i < 12; ++i) {
    _mm512_store_ps(lanes, acc[i]);
    sink += lanes[0];
  }
  return sink;
}
__attribute__((target("avx2,fma"))) float Run256(size_t iterations) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  for (size_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  }
  float sink = 0;
  for (int i = 0; i < 12; ++i) sink += _mm256_cvtss_f32(acc[i]);
  return sink;
}

double MeasureFmaPeakGflops() {
  __builtin_cpu_init();
  const bool wide = __builtin_cpu_supports("avx512f");
  if (!wide && !__builtin_cpu_supports("fma")) return 0;
  const size_t lanes = wide ? 16 : 8;
  const size_t iterations = 50'000'000;
  double sink = 0;
  const auto start = Clock::now();
#pragma omp parallel reduction(+ : sink)
  sink += wide ? Run512(iterations) : Run256(iterations);
  const double seconds = SecondsSince(start);
  const double flops = 2.0 * 12 * lanes * static_cast<double>(iterations) * omp_get_max_threads();
  if (sink == 42) std::fprintf(stderr, " ");  // keeps the loop
  return flops / seconds / 1e9;
}

SystemRun RunExact(const Dataset& data, const GroundTruth& truth) {
  SystemRun run;
  run.name = "verity-exact";
  const double peak = MeasureFmaPeakGflops();
  double best_s = 1e300;
  std::vector<std::vector<ExactNeighbor>> exact;
  for (int repeat = 0; repeat < 3; ++repeat) {
    const auto start = Clock::now();
    exact = ExactKnn(data.base.data(), data.n, data.queries.data(), data.n_queries, data.dim, kK, Metric::kL2);
    best_s = std::min(best_s, SecondsSince(start));
  }
  PassMeter meter(data.n_queries);
  std::vector<uint32_t> found;
  for (size_t q = 0; q < data.n_queries; ++q) {
    found.clear();
    for (const ExactNeighbor& nb : exact[q]) found.push_back(nb.index);
    meter.Add(best_s * 1e6 / static_cast<double>(data.n_queries), TrueHits(truth[q], found.data(), found.size()));
  }
  run.points.push_back(meter.Finish(0, best_s));
  const double gflops = 2.0 * static_cast<double>(data.n) * static_cast<double>(data.n_queries) *
                        static_cast<double>(data.dim) / best_s / 1e9;
  char extra[160];
  std::snprintf(extra, sizeof(extra), ", \"threads\": %d, \"gflops\": %.1f, \"peak_gflops\": %.1f, \"peak_fraction\": %.3f",
                omp_get_max_threads(), gflops, peak, peak > 0 ? gflops / peak : 0.0);
  PrintJson(run, data, run.points.back(), extra);
  std::fprintf(stderr, "verity-exact: %zu x %zu x %zu in %.3f s: %.1f GFLOP/s, measured FMA peak %.1f GFLOP/s (%.0f%%)\n",
               data.n_queries, data.n, data.dim, best_s, gflops, peak, peak > 0 ? 100 * gflops / peak : 0.0);
  return run;
}

void PrintSummary(const std::vector<SystemRun>& runs, const Dataset& data) {
  std::fprintf(stderr, "\nsummary: %s, n=%zu, %zu queries, k=%u, M=%u, ef_construction=%u\n", data.name.c_str(),
               data.n, data.n_queries, kK, kM, kEfConstruction);
  const SystemRun* hnsw = nullptr;
  const SystemRun* verity = nullptr;
  for (const SystemRun& run : runs) {
    if (run.name == VERITY_HNSWLIB_NAME) hnsw = &run;
    if (run.name == "verity") verity = &run;
    if (run.name == "verity-exact") continue;
    const Point* best = BestAtTarget(run);
    if (best != nullptr) {
      std::fprintf(stderr, "  %-14s best QPS at recall@10 >= %.2f: %.1f (ef=%u, recall %.4f, p99 %.1f us), %.0f B/vector\n",
                   run.name.c_str(), kRecallTarget, best->qps, best->ef, best->recall, best->p99_us,
                   run.bytes_per_vector);
    } else {
      std::fprintf(stderr, "  %-14s no ef reached recall@10 >= %.2f\n", run.name.c_str(), kRecallTarget);
    }
  }
  if (hnsw == nullptr || verity == nullptr) return;
  const Point* h = BestAtTarget(*hnsw);
  const Point* v = BestAtTarget(*verity);
  if (h != nullptr && v != nullptr) {
    std::fprintf(stderr, "  QPS ratio verity/" VERITY_HNSWLIB_NAME " at recall >= %.2f: %.3f\n", kRecallTarget,
                 v->qps / h->qps);
  }
  const double hnsw_rate = static_cast<double>(data.n) / hnsw->build_s;
  const double verity_rate = static_cast<double>(data.n) / verity->build_s;
  std::fprintf(stderr,
               "  ingest: hnswlib %.0f vectors/s (in memory), verity %.0f vectors/s (durable, synced); "
               "ratio verity/" VERITY_HNSWLIB_NAME " %.3f\n",
               hnsw_rate, verity_rate, verity_rate / hnsw_rate);
  std::fprintf(stderr, "  memory per vector: verity/" VERITY_HNSWLIB_NAME " %.3f\n",
               verity->bytes_per_vector / hnsw->bytes_per_vector);
}

int Main(int argc, char** argv) {
  Options options;
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "verity_bench_engine: %s\n", s.ToString().c_str());
    return 1;
  };
  const std::string usage = Usage();
  if (Status s = ParseOptions(argc, argv, usage.c_str(), &options); !s.ok()) {
    std::fprintf(stderr, "verity_bench_engine: %s\n", s.ToString().c_str());
    return 2;
  }
  // Created first so that a bad --data-dir fails before the long runs.
  Result<std::unique_ptr<TempDir>> dir = TempDir::Create(options.data_dir);
  if (!dir.ok()) return fail(dir.status());
  Result<Dataset> data = LoadDataset(options.dataset, options.base, options.queries);
  if (!data.ok()) return fail(data.status());
  std::fprintf(stderr, "data: %s, %zu base and %zu query vectors of dimension %zu\n", data->name.c_str(), data->n,
               data->n_queries, data->dim);

  // Opt-in (named in --systems): it builds a graph of its own.
  if (std::find(options.systems.begin(), options.systems.end(), "reachability") != options.systems.end()) {
    if (Status s = RunReachability(*data); !s.ok()) return fail(s);
    if (options.systems.size() == 1) return 0;
  }
  const GroundTruth truth = ComputeGroundTruth(*data);
  std::vector<SystemRun> runs;
  if (options.Wants(VERITY_HNSWLIB_NAME) || options.Wants("hnswlib")) {
    Result<SystemRun> hnsw = RunHnswlib(*data, truth, options);
    if (!hnsw.ok()) return fail(hnsw.status());
    runs.push_back(std::move(*hnsw));
  }
  if (options.Wants("verity") || options.Wants("verity-batch")) {
    Result<std::vector<SystemRun>> verity = RunVerity(*data, truth, options, (*dir)->path());
    if (!verity.ok()) return fail(verity.status());
    for (SystemRun& run : *verity) runs.push_back(std::move(run));
  }
  if (options.Wants("verity-exact")) runs.push_back(RunExact(*data, truth));
  PrintSummary(runs, *data);
  return 0;
}

}  // namespace
}  // namespace verity::bench

int main(int argc, char** argv) { return verity::bench::Main(argc, argv); }
