#include "bench_common.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string_view>

#include "fashion_mnist.h"
#include "verity/exact_knn.h"

namespace verity::bench {

double SecondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

namespace {

// `count` points around `centres` (dim each): centre + N(0, spread²) per component.
std::vector<float> Clustered(const std::vector<float>& centres, size_t dim, size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.35f);
  const size_t n_centres = centres.size() / dim;
  std::vector<float> out(count * dim);
  for (size_t i = 0; i < count; ++i) {
    const float* c = centres.data() + (rng() % n_centres) * dim;
    for (size_t j = 0; j < dim; ++j) out[i * dim + j] = c[j] + noise(rng);
  }
  return out;
}

}  // namespace

Result<Dataset> LoadDataset(const std::string& kind, size_t base, size_t queries) {
  Dataset data;
  if (kind == "fashion-mnist") {
    VERITY_ASSIGN_OR_RETURN(ImageSet b, LoadFashionMnistBase(kFashionMnistDir, base == 0 ? kAll : base));
    VERITY_ASSIGN_OR_RETURN(ImageSet q, LoadFashionMnistQueries(kFashionMnistDir, queries));
    data.name = "fashion-mnist-784";
    data.dim = b.dim;
    data.n = b.n;
    data.n_queries = q.n;
    data.base = std::move(b.pixels);
    data.queries = std::move(q.pixels);
  } else if (kind == "clustered") {
    data.name = "clustered-128";
    data.dim = 128;
    data.n = base == 0 ? 100000 : base;
    data.n_queries = queries;
    std::mt19937_64 rng(20261129);
    std::normal_distribution<float> unit(0.0f, 1.0f);
    std::vector<float> centres(1000 * data.dim);
    for (auto& x : centres) x = unit(rng);
    data.base = Clustered(centres, data.dim, data.n, 1);
    data.queries = Clustered(centres, data.dim, data.n_queries, 2);
  } else {
    return Status::InvalidArgument("--dataset: \"" + kind + "\" is not fashion-mnist or clustered");
  }
  if (data.n < kK) return Status::InvalidArgument("--base: must be at least k = " + std::to_string(kK));
  return data;
}

GroundTruth ComputeGroundTruth(const Dataset& data) {
  const auto start = Clock::now();
  auto exact = ExactKnn(data.base.data(), data.n, data.queries.data(), data.n_queries, data.dim, kK, Metric::kL2);
  GroundTruth truth(exact.size());
  for (size_t q = 0; q < exact.size(); ++q) {
    for (const ExactNeighbor& nb : exact[q]) truth[q].push_back(nb.index);
  }
  std::fprintf(stderr, "ground truth: %zu queries x %zu base by ExactKnn in %.2f s\n", data.n_queries, data.n,
               SecondsSince(start));
  return truth;
}

size_t TrueHits(const std::vector<uint32_t>& truth, const uint32_t* found, size_t n_found) {
  size_t hits = 0;
  for (size_t i = 0; i < n_found; ++i) {
    if (std::find(truth.begin(), truth.end(), found[i]) != truth.end()) ++hits;
  }
  return hits;
}

void PassMeter::Add(double latency_us, size_t true_hits) {
  latencies_us_.push_back(latency_us);
  true_hits_ += true_hits;
}

Point PassMeter::Finish(uint32_t ef, double wall_s) {
  std::sort(latencies_us_.begin(), latencies_us_.end());
  Point p;
  p.ef = ef;
  const size_t n = latencies_us_.size();
  p.recall = static_cast<double>(true_hits_) / (static_cast<double>(n) * kK);
  p.qps = static_cast<double>(n) / wall_s;
  // Nearest-rank percentiles.
  auto percentile = [&](double q) {
    const size_t rank = std::clamp<size_t>(static_cast<size_t>(std::ceil(q * static_cast<double>(n))), 1, n);
    return latencies_us_[rank - 1];
  };
  p.p50_us = percentile(0.50);
  p.p99_us = percentile(0.99);
  return p;
}

void PrintJson(const SystemRun& run, const Dataset& data, const Point& p, const std::string& extra) {
  std::printf(
      "{\"system\": \"%s\", \"dataset\": \"%s\", \"n\": %zu, \"ef\": %u, \"recall_at_10\": %.4f, \"qps\": %.1f, "
      "\"p50_us\": %.1f, \"p99_us\": %.1f, \"build_s\": %.2f, \"bytes_per_vector\": %.0f%s}\n",
      run.name.c_str(), data.name.c_str(), data.n, p.ef, p.recall, p.qps, p.p50_us, p.p99_us, run.build_s,
      run.bytes_per_vector, extra.c_str());
  std::fflush(stdout);
}

const Point* BestAtTarget(const SystemRun& run) {
  const Point* best = nullptr;
  for (const Point& p : run.points) {
    if (p.recall >= kRecallTarget && (best == nullptr || p.qps > best->qps)) best = &p;
  }
  return best;
}

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

bool Options::Wants(const std::string& system) const {
  return systems.empty() || std::find(systems.begin(), systems.end(), system) != systems.end();
}

namespace {

bool ParseSize(std::string_view text, size_t* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end && !text.empty();
}

std::vector<std::string_view> SplitCommas(std::string_view value) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= value.size()) {
    const size_t comma = std::min(value.find(',', start), value.size());
    out.push_back(value.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

Status ParseOptions(int argc, char** argv, const char* usage, Options* options) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage, stdout);
      std::exit(0);
    }
    std::string_view value;
    const size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else {
      if (i + 1 >= argc) return Status::InvalidArgument(std::string(arg) + ": missing value\n" + usage);
      value = argv[++i];
    }
    const std::string name(arg);
    if (name == "--base" || name == "--queries") {
      size_t n;
      if (!ParseSize(value, &n) || n < 1 || n > 10000000) {
        return Status::InvalidArgument(name + ": \"" + std::string(value) + "\" is not in 1..10000000");
      }
      (name == "--base" ? options->base : options->queries) = n;
    } else if (name == "--dataset") {
      options->dataset = std::string(value);
    } else if (name == "--data-dir") {
      if (value.empty()) return Status::InvalidArgument("--data-dir: empty");
      options->data_dir = std::string(value);
    } else if (name == "--ef") {
      options->efs.clear();
      for (std::string_view part : SplitCommas(value)) {
        size_t ef;
        if (!ParseSize(part, &ef) || ef < 1 || ef > 4096) {
          return Status::InvalidArgument("--ef: \"" + std::string(value) + "\" is not a list of integers in 1..4096");
        }
        options->efs.push_back(static_cast<uint32_t>(ef));
      }
    } else if (name == "--systems") {
      options->systems.clear();
      for (std::string_view part : SplitCommas(value)) options->systems.emplace_back(part);
    } else {
      return Status::InvalidArgument("unknown argument \"" + std::string(argv[i]) + "\"\n" + usage);
    }
  }
  return Status::Ok();
}

}  // namespace verity::bench
