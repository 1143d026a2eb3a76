// verity_bench_faiss: FAISS beside the engine benchmark, on the same datasets,
// parameters and ground truth (bench_common.h), with Debian's libfaiss-dev.
// Systems (--systems, default both):
//   faiss-hnsw  IndexHNSWFlat (M=16, efConstruction=200), add with all
//               threads, single-thread searches of one query at a time per ef
//   faiss-flat  IndexFlatL2: exact search of all queries in one call (BLAS,
//               all threads)
// stdout: JSON lines as verity_bench_engine's; stderr: progress.
#include <omp.h>

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <vector>

#include "bench_common.h"

namespace verity::bench {
namespace {

constexpr char kUsage[] =
    "usage: verity_bench_faiss [--dataset fashion-mnist|clustered] [--base N] [--queries N] [--ef LIST]\n"
    "                          [--systems faiss-hnsw,faiss-flat]\n"
    "  as verity_bench_engine (--data-dir is accepted and unused)\n";

Status FoundRows(const std::vector<faiss::Index::idx_t>& labels, std::vector<uint32_t>* found) {
  found->clear();
  for (faiss::Index::idx_t label : labels) {
    if (label < 0) continue;  // fewer than k results
    found->push_back(static_cast<uint32_t>(label));
  }
  return Status::Ok();
}

SystemRun RunHnsw(const Dataset& data, const GroundTruth& truth, const Options& options) {
  SystemRun run;
  run.name = "faiss-hnsw";
  const size_t rss_before = ResidentBytes();
  faiss::IndexHNSWFlat index(static_cast<int>(data.dim), static_cast<int>(kM));
  index.hnsw.efConstruction = static_cast<int>(kEfConstruction);
  const auto build_start = Clock::now();
  index.add(static_cast<faiss::Index::idx_t>(data.n), data.base.data());
  run.build_s = SecondsSince(build_start);
  run.bytes_per_vector = static_cast<double>(ResidentBytes() - rss_before) / static_cast<double>(data.n);
  std::fprintf(stderr, "faiss-hnsw: built %zu points in %.2f s with %d threads\n", data.n, run.build_s,
               omp_get_max_threads());
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);  // one query at a time, like the other systems' single-thread passes
  std::vector<float> distances(kK);
  std::vector<faiss::Index::idx_t> labels(kK);
  std::vector<uint32_t> found;
  for (uint32_t ef : options.efs) {
    index.hnsw.efSearch = static_cast<int>(ef);
    PassMeter meter(data.n_queries);
    const auto pass_start = Clock::now();
    for (size_t q = 0; q < data.n_queries; ++q) {
      const auto t0 = Clock::now();
      index.search(1, data.query_row(q), kK, distances.data(), labels.data());
      const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      (void)FoundRows(labels, &found);
      meter.Add(us, TrueHits(truth[q], found.data(), found.size()));
    }
    run.points.push_back(meter.Finish(ef, SecondsSince(pass_start)));
    PrintJson(run, data, run.points.back(), ", \"threads\": 1");
  }
  omp_set_num_threads(threads);
  return run;
}

SystemRun RunFlat(const Dataset& data, const GroundTruth& truth) {
  SystemRun run;
  run.name = "faiss-flat";
  faiss::IndexFlatL2 index(static_cast<faiss::Index::idx_t>(data.dim));
  index.add(static_cast<faiss::Index::idx_t>(data.n), data.base.data());
  std::vector<float> distances(data.n_queries * kK);
  std::vector<faiss::Index::idx_t> labels(data.n_queries * kK);
  double best_s = 0;
  // Best of three, or of one when a pass takes more than 5 s (reference BLAS).
  for (int repeat = 0; repeat < 3 && best_s < 5; ++repeat) {
    const auto start = Clock::now();
    index.search(static_cast<faiss::Index::idx_t>(data.n_queries), data.queries.data(), kK, distances.data(), labels.data());
    const double s = SecondsSince(start);
    best_s = repeat == 0 ? s : std::min(best_s, s);
  }
  PassMeter meter(data.n_queries);
  std::vector<uint32_t> found;
  for (size_t q = 0; q < data.n_queries; ++q) {
    std::vector<faiss::Index::idx_t> row(labels.begin() + q * kK, labels.begin() + (q + 1) * kK);
    (void)FoundRows(row, &found);
    meter.Add(best_s * 1e6 / static_cast<double>(data.n_queries), TrueHits(truth[q], found.data(), found.size()));
  }
  run.points.push_back(meter.Finish(0, best_s));
  const double gflops = 2.0 * static_cast<double>(data.n) * static_cast<double>(data.n_queries) *
                        static_cast<double>(data.dim) / best_s / 1e9;
  char extra[96];
  std::snprintf(extra, sizeof(extra), ", \"threads\": %d, \"gflops\": %.1f", omp_get_max_threads(), gflops);
  PrintJson(run, data, run.points.back(), extra);
  return run;
}

int Main(int argc, char** argv) {
  Options options;
  if (Status s = ParseOptions(argc, argv, kUsage, &options); !s.ok()) {
    std::fprintf(stderr, "verity_bench_faiss: %s\n", s.ToString().c_str());
    return 2;
  }
  Result<Dataset> data = LoadDataset(options.dataset, options.base, options.queries);
  if (!data.ok()) {
    std::fprintf(stderr, "verity_bench_faiss: %s\n", data.status().ToString().c_str());
    return 1;
  }
  const GroundTruth truth = ComputeGroundTruth(*data);
  try {
    if (options.Wants("faiss-hnsw")) RunHnsw(*data, truth, options);
    if (options.Wants("faiss-flat")) RunFlat(*data, truth);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "verity_bench_faiss: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace verity::bench

int main(int argc, char** argv) { return verity::bench::Main(argc, argv); }
