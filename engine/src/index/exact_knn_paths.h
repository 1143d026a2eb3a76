// The implementations behind verity::ExactKnn (exact_knn.h), for tests and
// benchmarks that compare them: register-blocked AVX-512F or AVX2 + FMA
// kernels over a packed base, or Eigen's matrix product (portable). ExactKnn
// picks the one matching the distance kernels in use (distance.h).
//
// Thread-safety: pure functions; they use the OpenMP thread team.
#pragma once

#include <cstddef>
#include <vector>

#include "verity/exact_knn.h"

namespace verity {

enum class ExactKnnPath { kAvx512, kAvx2, kEigen };

// The paths this CPU can run, fastest first (Eigen always last).
std::vector<ExactKnnPath> SupportedExactKnnPaths();

// ExactKnn with the given path, which the CPU must support. Ties in
// distance are ordered by index.
std::vector<std::vector<ExactNeighbor>> ExactKnnWith(ExactKnnPath path, const float* base, size_t n,
                                                     const float* queries, size_t nq, size_t dim, size_t k,
                                                     Metric metric);

}  // namespace verity
