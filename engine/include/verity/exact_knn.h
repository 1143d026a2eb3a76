// Exact k-nearest-neighbour search over plain arrays, as a blocked matrix
// product parallel over base blocks (OpenMP): register-blocked AVX-512F or
// AVX2 + FMA tiles over a packed copy of each base block, or Eigen where
// neither runs (engine/src/exact_knn_paths.h; VERITY_KERNELS narrows the
// choice as for the distance kernels). Measured at 72-82% of this machine's
// FMA peak (docs/benchmarks.md). Used for ground truth in tests and
// benchmarks; the engine's own exact path is in HnswGraph.
//
// Thread-safety: pure function; it uses the OpenMP thread team internally.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "verity/types.h"

namespace verity {

struct ExactNeighbor {
  float distance;  // as defined by Metric (squared L2, or 1 - dot)
  uint32_t index;  // row in `base`
};

// For each of the nq queries (row-major, nq x dim), the k nearest rows of
// base (n x dim), nearest first. For kCosine the inputs must already be
// unit length.
std::vector<std::vector<ExactNeighbor>> ExactKnn(const float* base, size_t n, const float* queries, size_t nq,
                                                 size_t dim, size_t k, Metric metric);

}  // namespace verity
