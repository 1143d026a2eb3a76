#include "index/quantizer.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace verity {

ScalarQuantizer::Trainer::Trainer(size_t dim)
    : min_(dim, std::numeric_limits<float>::max()), max_(dim, std::numeric_limits<float>::lowest()) {}

void ScalarQuantizer::Trainer::Add(const float* vector) {
  for (size_t i = 0; i < min_.size(); ++i) {
    min_[i] = std::min(min_[i], vector[i]);
    max_[i] = std::max(max_[i], vector[i]);
  }
  ++count_;
}

ScalarQuantizer ScalarQuantizer::Trainer::Finish() const {
  ScalarQuantizer q;
  q.trained = true;
  if (count_ == 0 || min_.empty()) return q;
  const float lo = *std::min_element(min_.begin(), min_.end());
  const float hi = *std::max_element(max_.begin(), max_.end());
  q.lo = lo;
  // 255 steps between the smallest and the largest component.
  const float step = (hi - lo) / 255.0f;
  q.step = (step > 0 && std::isfinite(step)) ? step : 1.0f;
  std::vector<float> levels(min_.size());
  for (size_t i = 0; i < min_.size(); ++i) levels[i] = (max_[i] - min_[i]) / q.step;
  std::nth_element(levels.begin(), levels.begin() + levels.size() / 2, levels.end());
  q.routes = levels[levels.size() / 2] >= kMinLevels;
  return q;
}

ScalarQuantizer ScalarQuantizer::Train(const float* vectors, size_t count, size_t dim) {
  Trainer trainer(dim);
  for (size_t i = 0; i < count; ++i) trainer.Add(vectors + i * dim);
  return trainer.Finish();
}

bool ScalarQuantizer::Encode(const float* vector, size_t dim, uint8_t* code) const {
  // Branch-free so that the compiler vectorises it (baseline SSE2 has no
  // round instruction: clamp, add one half, truncate — halves round up).
  int clamped = 0;
  for (size_t i = 0; i < dim; ++i) {
    const float level = (vector[i] - lo) / step;
    clamped |= static_cast<int>(level < -0.5f) | static_cast<int>(level >= 255.5f);
    // Argument order matters: a NaN level (a damaged graph file's vector)
    // becomes 0 instead of reaching the float-to-int conversion.
    const float bounded = std::min(255.0f, std::max(0.0f, level));
    code[i] = static_cast<uint8_t>(static_cast<int>(bounded + 0.5f));
  }
  return clamped != 0;
}

bool ScalarQuantizer::Valid() const { return std::isfinite(lo) && std::isfinite(step) && step > 0; }

}  // namespace verity
