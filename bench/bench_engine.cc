// verity_bench_engine: the Verity engine against raw hnswlib on
// Fashion-MNIST-784, in one process and one run, with the same data, the same
// parameters (M=16, ef_construction=200, k=10, L2) and the same ground truth.
//
//   1. Ground truth: verity::ExactKnn over the base for every query.
//   2. hnswlib: HierarchicalNSW<float> + L2Space, parallel addPoint (OpenMP),
//      then per ef a single-thread searchKnn over all queries.
//   3. Verity: Database::Open on a fresh temporary directory (default options:
//      every write synced), Upsert in batches of 5,000, then per ef a
//      single-thread Search (with_payload=false).
//
// stdout: one JSON object per (system, ef), e.g.
//   {"system": "verity", "dataset": "fashion-mnist-784", "n": 60000, "ef": 40,
//    "recall_at_10": 0.9731, "qps": 8123.4, "p50_us": 110.2, "p99_us": 301.7,
//    "build_s": 12.34}
// stderr: progress and a short summary (best QPS at recall >= 0.95 and the
// verity/hnswlib ratios).
//
// Both are compiled with the project's default flags (no -march): hnswlib's
// own kernels then use SSE only, while the engine dispatches at run time.
// verity_bench_engine_native is this file compiled with -march=native, so
// raw hnswlib gets this machine's widest kernels (reported as
// "hnswlib-native"); the engine library it links stays baseline x86-64.
//
// hnswlib.h defines non-inline functions when SSE is on: include it in exactly
// one .cc file per executable (this one).
#include <hnswlib/hnswlib.h>
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

#include "fashion_mnist.h"
#include "verity/database.h"
#include "verity/exact_knn.h"
#include "verity/status.h"

namespace verity::bench {
namespace {

constexpr char kDataset[] = "fashion-mnist-784";
constexpr char kCollection[] = "fashion_mnist_bench";
constexpr uint32_t kM = 16;
constexpr uint32_t kEfConstruction = 200;
constexpr uint32_t kK = 10;
constexpr size_t kBatch = 5000;
constexpr double kRecallTarget = 0.95;

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Options {
  size_t base = 60000;
  size_t queries = 2000;
  std::string data_dir = "/tmp";
  std::vector<uint32_t> efs = {10, 20, 40, 80, 120, 200};
};

constexpr char kUsage[] =
    "usage: verity_bench_engine [--base N] [--queries N] [--data-dir DIR] [--ef 10,20,40,80,120,200]\n"
    "  --base N       base vectors from the training set (1..60000, default 60000)\n"
    "  --queries N    queries from the test set (1..10000, default 2000)\n"
    "  --data-dir DIR where the engine's temporary database directory is created\n"
    "                 (a fresh verity-bench-XXXXXX inside it, removed at the end; default /tmp)\n"
    "  --ef LIST      comma-separated search ef values (default 10,20,40,80,120,200)\n";

bool ParseSize(std::string_view text, size_t* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end && !text.empty();
}

Status ParseArgs(int argc, char** argv, Options* options) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    const size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (arg == "--base" || arg == "--queries" || arg == "--data-dir" || arg == "--ef") {
      if (i + 1 >= argc) return Status::InvalidArgument(std::string(arg) + ": missing value");
      value = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (arg == "--base" || arg == "--queries") {
      size_t n;
      const size_t limit = arg == "--base" ? 60000 : 10000;
      if (!ParseSize(value, &n) || n < 1 || n > limit) {
        return Status::InvalidArgument(std::string(arg) + ": \"" + std::string(value) + "\" is not in 1.." +
                                       std::to_string(limit));
      }
      (arg == "--base" ? options->base : options->queries) = n;
    } else if (arg == "--data-dir") {
      if (value.empty()) return Status::InvalidArgument("--data-dir: empty");
      options->data_dir = std::string(value);
    } else if (arg == "--ef") {
      options->efs.clear();
      size_t start = 0;
      while (start <= value.size()) {
        const size_t comma = std::min(value.find(',', start), value.size());
        size_t ef;
        if (!ParseSize(value.substr(start, comma - start), &ef) || ef < 1 || ef > Limits::kMaxEf) {
          return Status::InvalidArgument("--ef: \"" + std::string(value) + "\" is not a list of integers in 1.." +
                                         std::to_string(Limits::kMaxEf));
        }
        options->efs.push_back(static_cast<uint32_t>(ef));
        start = comma + 1;
      }
    } else {
      return Status::InvalidArgument("unknown argument \"" + std::string(argv[i]) + "\"\n" + kUsage);
    }
  }
  if (options->base < kK) return Status::InvalidArgument("--base: must be at least k = " + std::to_string(kK));
  return Status::Ok();
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

// One query pass at one ef.
struct Point {
  uint32_t ef = 0;
  double recall = 0;
  double qps = 0;
  double p50_us = 0;
  double p99_us = 0;
};

struct SystemRun {
  std::string name;
  double build_s = 0;
  std::vector<Point> points;
};

// Collects per-query latencies and hit counts for one pass.
class PassMeter {
 public:
  explicit PassMeter(size_t queries) { latencies_us_.reserve(queries); }
  void Add(double latency_us, size_t true_hits) {
    latencies_us_.push_back(latency_us);
    true_hits_ += true_hits;
  }
  Point Finish(uint32_t ef, double wall_s) {
    std::sort(latencies_us_.begin(), latencies_us_.end());
    Point p;
    p.ef = ef;
    const double nq = static_cast<double>(latencies_us_.size());
    p.recall = static_cast<double>(true_hits_) / (nq * kK);
    p.qps = nq / wall_s;
    p.p50_us = Percentile(0.50);
    p.p99_us = Percentile(0.99);
    return p;
  }

 private:
  // Nearest-rank percentile of the sorted latencies.
  double Percentile(double q) const {
    const size_t n = latencies_us_.size();
    size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(n)));
    rank = std::clamp<size_t>(rank, 1, n);
    return latencies_us_[rank - 1];
  }
  std::vector<double> latencies_us_;
  size_t true_hits_ = 0;
};

using GroundTruth = std::vector<std::vector<uint32_t>>;  // per query: the k nearest base rows

size_t TrueHits(const std::vector<uint32_t>& truth, const uint32_t* found, size_t n_found) {
  size_t hits = 0;
  for (size_t i = 0; i < n_found; ++i) {
    if (std::find(truth.begin(), truth.end(), found[i]) != truth.end()) ++hits;
  }
  return hits;
}

void PrintJson(const SystemRun& run, size_t n, const Point& p) {
  std::printf(
      "{\"system\": \"%s\", \"dataset\": \"%s\", \"n\": %zu, \"ef\": %u, \"recall_at_10\": %.4f, \"qps\": %.1f, "
      "\"p50_us\": %.1f, \"p99_us\": %.1f, \"build_s\": %.2f}\n",
      run.name.c_str(), kDataset, n, p.ef, p.recall, p.qps, p.p50_us, p.p99_us, run.build_s);
  std::fflush(stdout);
}

GroundTruth ComputeGroundTruth(const ImageSet& base, const ImageSet& queries) {
  const auto start = Clock::now();
  auto exact = ExactKnn(base.pixels.data(), base.n, queries.pixels.data(), queries.n, base.dim, kK, Metric::kL2);
  GroundTruth truth(exact.size());
  for (size_t q = 0; q < exact.size(); ++q) {
    for (const ExactNeighbor& nb : exact[q]) truth[q].push_back(nb.index);
  }
  std::fprintf(stderr, "ground truth: %zu queries x %zu base by ExactKnn in %.2f s\n", queries.n, base.n,
               SecondsSince(start));
  return truth;
}

Result<SystemRun> RunHnswlib(const ImageSet& base, const ImageSet& queries, const GroundTruth& truth,
                             const Options& options) {
  SystemRun run;
  run.name = VERITY_HNSWLIB_NAME;
  try {
    hnswlib::L2Space space(base.dim);
    hnswlib::HierarchicalNSW<float> index(&space, base.n, kM, kEfConstruction);
    const auto build_start = Clock::now();
    // The first point goes in alone (as hnswlib's Python bindings do), so the
    // parallel inserts all find an entry point.
    index.addPoint(base.row(0), 0);
    bool failed = false;
    std::string error;
    const auto n = static_cast<int64_t>(base.n);
#pragma omp parallel for schedule(dynamic, 64)
    for (int64_t i = 1; i < n; ++i) {
      try {
        index.addPoint(base.row(static_cast<size_t>(i)), static_cast<hnswlib::labeltype>(i));
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
    std::fprintf(stderr, "hnswlib: built %zu points in %.2f s with %d threads\n", base.n, run.build_s,
                 omp_get_max_threads());

    std::vector<uint32_t> found;
    for (uint32_t ef : options.efs) {
      index.setEf(ef);
      PassMeter meter(queries.n);
      const auto pass_start = Clock::now();
      for (size_t q = 0; q < queries.n; ++q) {
        const auto t0 = Clock::now();
        auto heap = index.searchKnn(queries.row(q), kK);  // farthest on top
        const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
        found.assign(heap.size(), 0);
        for (size_t i = found.size(); i-- > 0; heap.pop()) found[i] = static_cast<uint32_t>(heap.top().second);
        meter.Add(us, TrueHits(truth[q], found.data(), found.size()));
      }
      run.points.push_back(meter.Finish(ef, SecondsSince(pass_start)));
      PrintJson(run, base.n, run.points.back());
    }
  } catch (const std::exception& e) {
    return Status::Internal(std::string("hnswlib: ") + e.what());
  }
  return run;
}

// `dir` is a fresh, empty directory.
Result<SystemRun> RunVerity(const ImageSet& base, const ImageSet& queries, const GroundTruth& truth,
                            const Options& options, const std::string& dir) {
  SystemRun run;
  run.name = "verity";
  VERITY_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(dir));

  CollectionConfig config;
  config.name = kCollection;
  config.dimension = static_cast<uint32_t>(base.dim);
  config.metric = Metric::kL2;
  config.m = kM;
  config.ef_construction = kEfConstruction;
  VERITY_RETURN_IF_ERROR(db->CreateCollection(config).status().WithPrefix("CreateCollection"));

  const auto build_start = Clock::now();
  for (size_t start = 0; start < base.n; start += kBatch) {
    const size_t end = std::min(base.n, start + kBatch);
    std::vector<Record> records(end - start);
    for (size_t i = start; i < end; ++i) {
      Record& r = records[i - start];
      r.id = std::to_string(i);
      r.vector.assign(base.row(i), base.row(i) + base.dim);
    }
    auto written = db->Upsert(kCollection, std::move(records));
    if (!written.ok()) return written.status().WithPrefix("Upsert of rows " + std::to_string(start) + ".." +
                                                          std::to_string(end - 1));
  }
  run.build_s = SecondsSince(build_start);
  VERITY_ASSIGN_OR_RETURN(CollectionInfo info, db->GetCollection(kCollection));
  if (info.live_records != base.n) {
    return Status::Internal("after ingest the collection reports " + std::to_string(info.live_records) +
                            " live records, expected " + std::to_string(base.n));
  }
  std::fprintf(stderr, "verity: ingested %zu records in %.2f s (batches of %zu, synced writes, %d threads)\n",
               base.n, run.build_s, kBatch, omp_get_max_threads());

  SearchRequest request;
  request.k = kK;
  request.with_payload = false;
  std::vector<uint32_t> found;
  for (uint32_t ef : options.efs) {
    request.ef = ef;
    PassMeter meter(queries.n);
    size_t exact_plans = 0;
    const auto pass_start = Clock::now();
    for (size_t q = 0; q < queries.n; ++q) {
      request.vector.assign(queries.row(q), queries.row(q) + queries.dim);
      const auto t0 = Clock::now();
      Result<SearchResult> result = db->Search(kCollection, request);
      const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      if (!result.ok()) return result.status().WithPrefix("Search (query " + std::to_string(q) + ")");
      if (result->exact) ++exact_plans;
      found.clear();
      for (const SearchHit& hit : result->hits) {
        uint32_t label;
        auto [ptr, ec] = std::from_chars(hit.id.data(), hit.id.data() + hit.id.size(), label);
        if (ec != std::errc() || ptr != hit.id.data() + hit.id.size()) {
          return Status::Internal("Search returned an id that is not ours: \"" + hit.id + "\"");
        }
        found.push_back(label);
      }
      meter.Add(us, TrueHits(truth[q], found.data(), found.size()));
    }
    run.points.push_back(meter.Finish(ef, SecondsSince(pass_start)));
    if (exact_plans > 0) {
      std::fprintf(stderr, "verity: note: ef=%u: the planner searched exactly for %zu of %zu queries\n", ef,
                   exact_plans, queries.n);
    }
    PrintJson(run, base.n, run.points.back());
  }
  VERITY_RETURN_IF_ERROR(db->Close().WithPrefix("Close"));
  return run;
}

// The pass with the highest QPS among those reaching the recall target.
const Point* BestAtTarget(const SystemRun& run) {
  const Point* best = nullptr;
  for (const Point& p : run.points) {
    if (p.recall >= kRecallTarget && (best == nullptr || p.qps > best->qps)) best = &p;
  }
  return best;
}

void PrintSummary(const SystemRun& hnsw, const SystemRun& verity, const ImageSet& base, const ImageSet& queries) {
  std::fprintf(stderr, "\nsummary: %s, n=%zu, %zu queries, k=%u, M=%u, ef_construction=%u, single-thread queries\n",
               kDataset, base.n, queries.n, kK, kM, kEfConstruction);
  for (const SystemRun* run : {&hnsw, &verity}) {
    const Point* best = BestAtTarget(*run);
    if (best != nullptr) {
      std::fprintf(stderr, "  %-8s best QPS at recall@10 >= %.2f: %.1f (ef=%u, recall %.4f, p99 %.1f us)\n",
                   run->name.c_str(), kRecallTarget, best->qps, best->ef, best->recall, best->p99_us);
    } else {
      std::fprintf(stderr, "  %-8s no ef reached recall@10 >= %.2f\n", run->name.c_str(), kRecallTarget);
    }
  }
  const Point* h = BestAtTarget(hnsw);
  const Point* v = BestAtTarget(verity);
  if (h != nullptr && v != nullptr) {
    std::fprintf(stderr, "  QPS ratio verity/" VERITY_HNSWLIB_NAME " at recall >= %.2f: %.3f\n", kRecallTarget, v->qps / h->qps);
  } else {
    std::fprintf(stderr, "  QPS ratio verity/" VERITY_HNSWLIB_NAME " at recall >= %.2f: n/a\n", kRecallTarget);
  }
  const double hnsw_rate = static_cast<double>(base.n) / hnsw.build_s;
  const double verity_rate = static_cast<double>(base.n) / verity.build_s;
  std::fprintf(stderr,
               "  ingest: hnswlib %.0f vectors/s (in memory), verity %.0f vectors/s (durable, synced); "
               "ratio verity/" VERITY_HNSWLIB_NAME " %.3f\n",
               hnsw_rate, verity_rate, verity_rate / hnsw_rate);
}

int Main(int argc, char** argv) {
  Options options;
  if (Status s = ParseArgs(argc, argv, &options); !s.ok()) {
    std::fprintf(stderr, "verity_bench_engine: %s\n", s.ToString().c_str());
    return 2;
  }
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "verity_bench_engine: %s\n", s.ToString().c_str());
    return 1;
  };
  // Created first so that a bad --data-dir fails before the long runs.
  Result<std::unique_ptr<TempDir>> dir = TempDir::Create(options.data_dir);
  if (!dir.ok()) return fail(dir.status());
  Result<ImageSet> base = LoadFashionMnistBase(kFashionMnistDir, options.base);
  if (!base.ok()) return fail(base.status());
  Result<ImageSet> queries = LoadFashionMnistQueries(kFashionMnistDir, options.queries);
  if (!queries.ok()) return fail(queries.status());
  std::fprintf(stderr, "data: %zu base and %zu query vectors of dimension %zu from %s\n", base->n, queries->n,
               base->dim, kFashionMnistDir);

  const GroundTruth truth = ComputeGroundTruth(*base, *queries);
  Result<SystemRun> hnsw = RunHnswlib(*base, *queries, truth, options);
  if (!hnsw.ok()) return fail(hnsw.status());
  Result<SystemRun> verity = RunVerity(*base, *queries, truth, options, (*dir)->path());
  if (!verity.ok()) return fail(verity.status());
  PrintSummary(*hnsw, *verity, *base, *queries);
  return 0;
}

}  // namespace
}  // namespace verity::bench

int main(int argc, char** argv) { return verity::bench::Main(argc, argv); }
