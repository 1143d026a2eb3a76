// Shared pieces of the in-process benchmarks (verity_bench_engine,
// verity_bench_faiss): the datasets, their ground truth, one pass's meter,
// the JSON line every benchmark prints, resident memory, and the common
// command-line options. docs/benchmarks.md describes the suite.
//
// Errors: functions returning Result give NotFound / DataLoss for missing or
// damaged data files (fashion_mnist.h) and InvalidArgument for bad options.
// Thread-safety: no shared state; call from one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "verity/status.h"

namespace verity::bench {

inline constexpr uint32_t kK = 10;
inline constexpr uint32_t kM = 16;
inline constexpr uint32_t kEfConstruction = 200;
inline constexpr double kRecallTarget = 0.95;

using Clock = std::chrono::steady_clock;
double SecondsSince(Clock::time_point start);

// Base and query vectors, row-major.
struct Dataset {
  std::string name;  // "fashion-mnist-784" or "clustered-128"
  size_t dim = 0;
  size_t n = 0;        // base rows
  size_t n_queries = 0;
  std::vector<float> base;
  std::vector<float> queries;
  const float* base_row(size_t i) const { return base.data() + i * dim; }
  const float* query_row(size_t i) const { return queries.data() + i * dim; }
};

// "fashion-mnist" (the Debian package's 60,000 training images as base, test
// images as queries; `base` caps the base) or "clustered" (synthetic: `base`
// vectors of dimension 128 around 1,000 Gaussian centres, deterministic;
// queries drawn from the same distribution with another seed).
Result<Dataset> LoadDataset(const std::string& kind, size_t base, size_t queries);

// Per query, the k nearest base rows by exact search (verity::ExactKnn).
using GroundTruth = std::vector<std::vector<uint32_t>>;
GroundTruth ComputeGroundTruth(const Dataset& data);
size_t TrueHits(const std::vector<uint32_t>& truth, const uint32_t* found, size_t n_found);

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
  double bytes_per_vector = 0;  // resident memory the build added, per base vector
  std::vector<Point> points;
};

// Per-query latencies and true hits of one pass.
class PassMeter {
 public:
  explicit PassMeter(size_t queries) { latencies_us_.reserve(queries); }
  void Add(double latency_us, size_t true_hits);
  Point Finish(uint32_t ef, double wall_s);

 private:
  std::vector<double> latencies_us_;
  size_t true_hits_ = 0;
};

// {"system", "dataset", "n", "ef", "recall_at_10", "qps", "p50_us",
//  "p99_us", "build_s", "bytes_per_vector"} on one line of stdout; `extra`
// (", \"threads\": 2" ...) is appended inside the object.
void PrintJson(const SystemRun& run, const Dataset& data, const Point& p, const std::string& extra = "");

// The best pass reaching kRecallTarget, or null.
const Point* BestAtTarget(const SystemRun& run);

// Resident set size of this process, from /proc/self/statm.
size_t ResidentBytes();

struct Options {
  std::string dataset = "fashion-mnist";
  size_t base = 0;  // 0: the dataset's default (60,000 / 100,000)
  size_t queries = 1000;
  std::string data_dir = "/tmp";
  std::vector<uint32_t> efs = {10, 11, 12, 13, 14, 16, 18, 20, 24, 32, 40, 64, 96, 128};
  std::vector<std::string> systems;  // empty: every system the binary has
  bool Wants(const std::string& system) const;
};
// Parses --dataset, --base, --queries, --data-dir, --ef LIST, --systems LIST
// (also --name=value). `usage` is printed for --help (exit 0).
Status ParseOptions(int argc, char** argv, const char* usage, Options* options);

}  // namespace verity::bench
