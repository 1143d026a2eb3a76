#include "verity/exact_knn.h"

// GCC 12 reports a false "used uninitialized" inside its own AVX-512
// intrinsics; the kernels are covered by tests (exact_knn_test.cc).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "index/distance.h"
#include "index/exact_knn_paths.h"

namespace verity {
namespace {

auto Farther = [](const ExactNeighbor& x, const ExactNeighbor& y) { return x.distance < y.distance; };

// Keeps the k nearest of the offered neighbours: a max-heap on distance.
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) { heap_.reserve(k); }
  float worst() const { return heap_.size() < k_ ? std::numeric_limits<float>::infinity() : heap_.front().distance; }
  void Offer(float d, uint32_t index) {
    if (!(d < worst())) return;
    if (heap_.size() < k_) {
      heap_.push_back({d, index});
      std::push_heap(heap_.begin(), heap_.end(), Farther);
    } else {
      std::pop_heap(heap_.begin(), heap_.end(), Farther);
      heap_.back() = {d, index};
      std::push_heap(heap_.begin(), heap_.end(), Farther);
    }
  }
  std::vector<ExactNeighbor>& items() { return heap_; }

 private:
  size_t k_;
  std::vector<ExactNeighbor> heap_;
};

std::vector<ExactNeighbor> Sorted(std::vector<ExactNeighbor> heap) {
  std::sort(heap.begin(), heap.end(), [](const ExactNeighbor& a, const ExactNeighbor& b) {
    return a.distance < b.distance || (a.distance == b.distance && a.index < b.index);
  });
  return heap;
}

// ----- Eigen (portable): blocked matrix products, parallel over query blocks.
std::vector<std::vector<ExactNeighbor>> ExactKnnEigen(const float* base, size_t n, const float* queries, size_t nq,
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
    std::vector<TopK> heaps(static_cast<size_t>(qn), TopK(k));
    std::vector<float> distances;
    for (Eigen::Index b0 = 0; b0 < static_cast<Eigen::Index>(n); b0 += kBaseBlock) {
      const Eigen::Index bn = std::min<Eigen::Index>(kBaseBlock, static_cast<Eigen::Index>(n) - b0);
      dots.noalias() = q.middleRows(q0, qn) * b.middleRows(b0, bn).transpose();
      distances.resize(static_cast<size_t>(bn));
      for (Eigen::Index i = 0; i < qn; ++i) {
        // First the block's distances (a loop the compiler vectorises), then
        // one compare per distance against the heap's worst.
        const float* row = dots.data() + i * bn;
        if (metric == Metric::kL2) {
          const float qnorm = q.row(q0 + i).squaredNorm();
          const float* norms = base_norms.data() + b0;
          for (Eigen::Index j = 0; j < bn; ++j) distances[j] = std::max(0.0f, qnorm + norms[j] - 2 * row[j]);
        } else {
          for (Eigen::Index j = 0; j < bn; ++j) distances[j] = 1.0f - row[j];
        }
        TopK& heap = heaps[static_cast<size_t>(i)];
        for (Eigen::Index j = 0; j < bn; ++j) heap.Offer(distances[j], static_cast<uint32_t>(b0 + j));
      }
    }
    for (Eigen::Index i = 0; i < qn; ++i) out[static_cast<size_t>(q0 + i)] = Sorted(std::move(heaps[i].items()));
  }
  return out;
}

// ----- Register-blocked kernels (AVX-512F, AVX2 + FMA) --------------------
// The base is packed, a block of kBlockRows rows at a time, into panels of 16
// rows stored dimension-major (panel[t * 16 + r] = row r's component t), so
// that one vector load holds component t of 16 base rows. A tile of G
// queries x 16 rows keeps its dot products in registers: per component, one
// or two loads of the panel, G broadcasts of query components and G (or 2G)
// FMAs. AVX-512 tiles 8 queries (8 zmm accumulators), AVX2 4 queries (8 ymm:
// two per query). Threads take base blocks and keep their own top-k per
// query, merged at the end.
constexpr size_t kPanel = 16;
constexpr size_t kBlockRows = 256;
constexpr size_t kGroup = 8;  // queries are padded to a multiple of this

// What a tile needs to turn dot products into distances and to skip rows
// that cannot enter a query's top k: d = max(floor, qnorm[i] + bnorm[r] +
// scale * dot) (l2: scale -2, floor 0; ip and cosine: qnorm 1, bnorm 0,
// scale -1, floor -inf), and each query's current worst distance.
struct TileContext {
  const float* qnorm;  // 8 queries
  const float* bnorm;  // 16 panel rows
  const float* worst;  // 8 queries
  float scale;
  float floor;
};

// For the group's 8 queries (row-major, `dim` apart) and one panel of 16
// rows: out[i * 16 + r] = the distance of row r to query i; returns per
// query a 16-bit mask of the rows nearer than its worst.
__attribute__((target("avx512f"))) void TileAvx512(const float* q, size_t dim, const float* panel,
                                                   const TileContext& c, float* out, uint16_t* masks) {
  __m512 acc[8];
  for (int i = 0; i < 8; ++i) acc[i] = _mm512_setzero_ps();
  for (size_t t = 0; t < dim; ++t) {
    const __m512 b = _mm512_loadu_ps(panel + t * kPanel);
    for (int i = 0; i < 8; ++i) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(q[i * dim + t]), b, acc[i]);
  }
  const __m512 bnorm = _mm512_loadu_ps(c.bnorm);
  const __m512 scale = _mm512_set1_ps(c.scale);
  const __m512 floor = _mm512_set1_ps(c.floor);
  for (int i = 0; i < 8; ++i) {
    const __m512 d = _mm512_max_ps(floor, _mm512_fmadd_ps(scale, acc[i], _mm512_add_ps(_mm512_set1_ps(c.qnorm[i]), bnorm)));
    _mm512_storeu_ps(out + i * kPanel, d);
    masks[i] = static_cast<uint16_t>(_mm512_cmp_ps_mask(d, _mm512_set1_ps(c.worst[i]), _CMP_LT_OQ));
  }
}

__attribute__((target("avx2,fma"))) void TileAvx2(const float* q, size_t dim, const float* panel,
                                                  const TileContext& c, float* out, uint16_t* masks) {
  const __m256 scale = _mm256_set1_ps(c.scale);
  const __m256 floor = _mm256_set1_ps(c.floor);
  const __m256 bnorm_lo = _mm256_loadu_ps(c.bnorm), bnorm_hi = _mm256_loadu_ps(c.bnorm + 8);
  // Two passes of 4 queries each (16 ymm registers do not hold 8 x 2 accumulators).
  for (int half = 0; half < 2; ++half) {
    const float* qh = q + half * 4 * dim;
    __m256 lo[4], hi[4];
    for (int i = 0; i < 4; ++i) lo[i] = hi[i] = _mm256_setzero_ps();
    for (size_t t = 0; t < dim; ++t) {
      const __m256 b0 = _mm256_loadu_ps(panel + t * kPanel);
      const __m256 b1 = _mm256_loadu_ps(panel + t * kPanel + 8);
      for (int i = 0; i < 4; ++i) {
        const __m256 x = _mm256_broadcast_ss(qh + i * dim + t);
        lo[i] = _mm256_fmadd_ps(x, b0, lo[i]);
        hi[i] = _mm256_fmadd_ps(x, b1, hi[i]);
      }
    }
    for (int i = 0; i < 4; ++i) {
      const int query = half * 4 + i;
      const __m256 qnorm = _mm256_set1_ps(c.qnorm[query]);
      const __m256 worst = _mm256_set1_ps(c.worst[query]);
      const __m256 d_lo = _mm256_max_ps(floor, _mm256_fmadd_ps(scale, lo[i], _mm256_add_ps(qnorm, bnorm_lo)));
      const __m256 d_hi = _mm256_max_ps(floor, _mm256_fmadd_ps(scale, hi[i], _mm256_add_ps(qnorm, bnorm_hi)));
      _mm256_storeu_ps(out + query * kPanel, d_lo);
      _mm256_storeu_ps(out + query * kPanel + 8, d_hi);
      const int m_lo = _mm256_movemask_ps(_mm256_cmp_ps(d_lo, worst, _CMP_LT_OQ));
      const int m_hi = _mm256_movemask_ps(_mm256_cmp_ps(d_hi, worst, _CMP_LT_OQ));
      masks[query] = static_cast<uint16_t>(m_lo | (m_hi << 8));
    }
  }
}

using TileFn = void (*)(const float* q, size_t dim, const float* panel, const TileContext& c, float* out,
                       uint16_t* masks);

std::vector<std::vector<ExactNeighbor>> ExactKnnTiled(TileFn tile, const float* base, size_t n, const float* queries,
                                                      size_t nq, size_t dim, size_t k, Metric metric) {
  // Queries padded with zero rows to whole groups; norms padded likewise.
  const size_t groups = (nq + kGroup - 1) / kGroup;
  const bool l2 = metric == Metric::kL2;
  std::vector<float> padded(groups * kGroup * dim, 0.0f);
  std::memcpy(padded.data(), queries, nq * dim * sizeof(float));
  std::vector<float> query_norms(groups * kGroup, l2 ? 0.0f : 1.0f);
  std::vector<float> base_norms(n + kPanel, 0.0f);
  if (l2) {
    for (size_t i = 0; i < nq; ++i) query_norms[i] = Dot(queries + i * dim, queries + i * dim, dim);
    for (size_t j = 0; j < n; ++j) base_norms[j] = Dot(base + j * dim, base + j * dim, dim);
  }
  const size_t blocks = (n + kBlockRows - 1) / kBlockRows;
  const int threads = std::max(1, std::min<int>(omp_get_max_threads(), static_cast<int>(blocks)));
  std::vector<std::vector<TopK>> per_thread(static_cast<size_t>(threads));
#pragma omp parallel num_threads(threads)
  {
    std::vector<TopK>& heaps = per_thread[static_cast<size_t>(omp_get_thread_num())];
    heaps.assign(nq, TopK(k));
    std::vector<float> packed(kBlockRows * dim);
    alignas(64) float distances[kGroup * kPanel];
    float worst[kGroup];
    uint16_t masks[kGroup];
#pragma omp for schedule(dynamic, 1)
    for (size_t block = 0; block < blocks; ++block) {
      const size_t b0 = block * kBlockRows;
      const size_t rows = std::min(kBlockRows, n - b0);
      const size_t panels = (rows + kPanel - 1) / kPanel;
      for (size_t p = 0; p < panels; ++p) {
        float* panel = packed.data() + p * kPanel * dim;
        for (size_t r = 0; r < kPanel; ++r) {
          const size_t row = p * kPanel + r;
          const float* src = row < rows ? base + (b0 + row) * dim : nullptr;
          for (size_t t = 0; t < dim; ++t) panel[t * kPanel + r] = src ? src[t] : 0.0f;
        }
      }
      for (size_t g = 0; g < groups; ++g) {
        const float* q = padded.data() + g * kGroup * dim;
        const size_t in_group = std::min(kGroup, nq - g * kGroup);
        for (size_t i = 0; i < kGroup; ++i) worst[i] = i < in_group ? heaps[g * kGroup + i].worst() : -1.0f;
        for (size_t p = 0; p < panels; ++p) {
          const size_t first = b0 + p * kPanel;
          const TileContext context{query_norms.data() + g * kGroup, base_norms.data() + first, worst,
                                    l2 ? -2.0f : -1.0f, l2 ? 0.0f : -std::numeric_limits<float>::infinity()};
          tile(q, dim, packed.data() + p * kPanel * dim, context, distances, masks);
          const size_t valid = std::min(kPanel, n - first);
          const uint32_t valid_mask = valid == kPanel ? 0xffffu : (1u << valid) - 1;
          for (size_t i = 0; i < in_group; ++i) {
            uint32_t mask = masks[i] & valid_mask;
            if (mask == 0) continue;
            TopK& heap = heaps[g * kGroup + i];
            for (; mask != 0; mask &= mask - 1) {
              const int r = __builtin_ctz(mask);
              heap.Offer(distances[i * kPanel + r], static_cast<uint32_t>(first + r));
            }
            worst[i] = heap.worst();
          }
        }
      }
    }
  }
  std::vector<std::vector<ExactNeighbor>> out(nq);
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < nq; ++i) {
    TopK merged(k);
    for (auto& heaps : per_thread) {
      if (heaps.empty()) continue;
      for (const ExactNeighbor& nb : heaps[i].items()) merged.Offer(nb.distance, nb.index);
    }
    out[i] = Sorted(std::move(merged.items()));
  }
  return out;
}

}  // namespace

std::vector<ExactKnnPath> SupportedExactKnnPaths() {
  std::vector<ExactKnnPath> out;
  for (const DistanceKernels& k : SupportedDistanceKernels()) {
    if (std::strcmp(k.name, "avx512") == 0) out.push_back(ExactKnnPath::kAvx512);
    if (std::strcmp(k.name, "avx2") == 0) out.push_back(ExactKnnPath::kAvx2);
  }
  out.push_back(ExactKnnPath::kEigen);
  return out;
}

std::vector<std::vector<ExactNeighbor>> ExactKnnWith(ExactKnnPath path, const float* base, size_t n,
                                                     const float* queries, size_t nq, size_t dim, size_t k,
                                                     Metric metric) {
  if (n == 0 || nq == 0 || k == 0) return std::vector<std::vector<ExactNeighbor>>(nq);
  switch (path) {
    case ExactKnnPath::kAvx512:
      return ExactKnnTiled(TileAvx512, base, n, queries, nq, dim, k, metric);
    case ExactKnnPath::kAvx2:
      return ExactKnnTiled(TileAvx2, base, n, queries, nq, dim, k, metric);
    case ExactKnnPath::kEigen:
      break;
  }
  return ExactKnnEigen(base, n, queries, nq, dim, k, metric);
}

std::vector<std::vector<ExactNeighbor>> ExactKnn(const float* base, size_t n, const float* queries, size_t nq,
                                                 size_t dim, size_t k, Metric metric) {
  // The kernel set the distance functions use (VERITY_KERNELS narrows it).
  const std::string selected = DistanceKernelName();
  const ExactKnnPath path = selected == "avx512" ? ExactKnnPath::kAvx512
                            : selected == "avx2" ? ExactKnnPath::kAvx2
                                                 : ExactKnnPath::kEigen;
  return ExactKnnWith(path, base, n, queries, nq, dim, k, metric);
}

}  // namespace verity
