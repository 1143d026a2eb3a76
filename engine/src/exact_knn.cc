#include "verity/exact_knn.h"

#include <Eigen/Core>
#include <algorithm>
#include <limits>
#include <vector>

namespace verity {

std::vector<std::vector<ExactNeighbor>> ExactKnn(const float* base, size_t n, const float* queries, size_t nq,
                                                 size_t dim, size_t k, Metric metric) {
  using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const Matrix> b(base, static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(dim));
  Eigen::Map<const Matrix> q(queries, static_cast<Eigen::Index>(nq), static_cast<Eigen::Index>(dim));
  Eigen::VectorXf base_norms = b.rowwise().squaredNorm();
  std::vector<std::vector<ExactNeighbor>> out(nq);
  constexpr Eigen::Index kQueryBlock = 64;
  constexpr Eigen::Index kBaseBlock = 4096;
  const auto blocks = static_cast<Eigen::Index>((nq + kQueryBlock - 1) / kQueryBlock);
  Eigen::setNbThreads(1);  // parallel over query blocks instead
#pragma omp parallel for schedule(dynamic, 1)
  for (Eigen::Index block = 0; block < blocks; ++block) {
    const Eigen::Index q0 = block * kQueryBlock;
    const Eigen::Index qn = std::min<Eigen::Index>(kQueryBlock, static_cast<Eigen::Index>(nq) - q0);
    Matrix dots;
    std::vector<std::vector<ExactNeighbor>> heaps(static_cast<size_t>(qn));
    std::vector<float> distances;
    auto farther = [](const ExactNeighbor& x, const ExactNeighbor& y) { return x.distance < y.distance; };
    Eigen::VectorXf query_norms(qn);
    for (Eigen::Index i = 0; i < qn; ++i) query_norms[i] = metric == Metric::kL2 ? q.row(q0 + i).squaredNorm() : 0.0f;
    for (Eigen::Index b0 = 0; b0 < static_cast<Eigen::Index>(n); b0 += kBaseBlock) {
      const Eigen::Index bn = std::min<Eigen::Index>(kBaseBlock, static_cast<Eigen::Index>(n) - b0);
      dots.noalias() = q.middleRows(q0, qn) * b.middleRows(b0, bn).transpose();
      distances.resize(static_cast<size_t>(bn));
      for (Eigen::Index i = 0; i < qn; ++i) {
        // First the block's distances (a loop the compiler vectorises), then
        // one compare per distance against the heap's worst.
        const float* row = dots.data() + i * bn;
        if (metric == Metric::kL2) {
          const float qnorm = query_norms[i];
          const float* norms = base_norms.data() + b0;
          for (Eigen::Index j = 0; j < bn; ++j) distances[j] = std::max(0.0f, qnorm + norms[j] - 2 * row[j]);
        } else {
          for (Eigen::Index j = 0; j < bn; ++j) distances[j] = 1.0f - row[j];
        }
        auto& heap = heaps[static_cast<size_t>(i)];
        float worst = heap.size() < k ? std::numeric_limits<float>::infinity() : heap.front().distance;
        for (Eigen::Index j = 0; j < bn; ++j) {
          const float d = distances[static_cast<size_t>(j)];
          if (!(d < worst)) continue;
          if (heap.size() < k) {
            heap.push_back({d, static_cast<uint32_t>(b0 + j)});
            std::push_heap(heap.begin(), heap.end(), farther);
          } else {
            std::pop_heap(heap.begin(), heap.end(), farther);
            heap.back() = {d, static_cast<uint32_t>(b0 + j)};
            std::push_heap(heap.begin(), heap.end(), farther);
          }
          if (heap.size() == k) worst = heap.front().distance;
        }
      }
    }
    for (Eigen::Index i = 0; i < qn; ++i) {
      auto& heap = heaps[static_cast<size_t>(i)];
      std::sort_heap(heap.begin(), heap.end(), farther);
      out[static_cast<size_t>(q0 + i)] = std::move(heap);
    }
  }
  return out;
}

}  // namespace verity
