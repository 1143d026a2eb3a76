#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "index/exact_knn_paths.h"

using namespace verity;

namespace {

// The k smallest distances by brute force in double precision.
std::vector<double> NaiveDistances(const std::vector<float>& base, const float* query, size_t dim, Metric metric) {
  const size_t n = base.size() / dim;
  std::vector<double> d(n);
  for (size_t j = 0; j < n; ++j) {
    double l2 = 0, dot = 0;
    for (size_t t = 0; t < dim; ++t) {
      const double x = query[t], y = base[j * dim + t];
      l2 += (x - y) * (x - y);
      dot += x * y;
    }
    d[j] = metric == Metric::kL2 ? l2 : 1.0 - dot;
  }
  return d;
}

}  // namespace

TEST_CASE("every exact search path finds the brute-force nearest neighbours", "[engine][exact]") {
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const auto paths = SupportedExactKnnPaths();
  REQUIRE(paths.back() == ExactKnnPath::kEigen);
  size_t checked = 0;
  for (ExactKnnPath path : paths) {
    INFO("path " << static_cast<int>(path));
    // Sizes around the kernels' panel (16 rows), query group (8) and block
    // (256 rows) edges.
    for (size_t dim : {1, 3, 16, 17, 128, 130}) {
      for (size_t n : {1, 15, 16, 17, 300, 530}) {
        for (size_t nq : {1, 7, 9, 20}) {
          for (Metric metric : {Metric::kL2, Metric::kIp}) {
            INFO("dim " << dim << " n " << n << " nq " << nq << " metric " << static_cast<int>(metric));
            std::vector<float> base(n * dim), queries(nq * dim);
            for (auto& x : base) x = u(rng);
            for (auto& x : queries) x = u(rng);
            const size_t k = 10;
            const auto got = ExactKnnWith(path, base.data(), n, queries.data(), nq, dim, k, metric);
            REQUIRE(got.size() == nq);
            for (size_t q = 0; q < nq; ++q) {
              std::vector<double> all = NaiveDistances(base, queries.data() + q * dim, dim, metric);
              std::vector<double> sorted = all;
              std::sort(sorted.begin(), sorted.end());
              REQUIRE(got[q].size() == std::min(k, n));
              for (size_t i = 0; i < got[q].size(); ++i) {
                const ExactNeighbor& nb = got[q][i];
                REQUIRE(nb.index < n);
                const double tolerance = 1e-4 * std::max(1.0, std::abs(sorted[i]));
                // The i-th nearest distance, and the returned row really is at it.
                REQUIRE(std::abs(nb.distance - sorted[i]) <= tolerance);
                REQUIRE(std::abs(all[nb.index] - sorted[i]) <= tolerance);
                if (i > 0) REQUIRE(got[q][i - 1].distance <= nb.distance);
              }
              ++checked;
            }
          }
        }
      }
    }
  }
  CHECK(checked == paths.size() * 6 * 6 * (1 + 7 + 9 + 20) * 2);
}
