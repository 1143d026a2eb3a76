// ScalarQuantizer: the graph's compact copy of its vectors. Each float
// component x becomes one byte c = round((x - lo) / step), clamped to 0..255,
// with one lo and one step for every dimension. Because the step is shared,
// squared L2 between two codes times step² approximates squared L2 between
// the vectors, and ranking by it needs only integer arithmetic on a quarter
// of the bytes (distance.h, CodeKernel). The search routes on codes and
// re-ranks its final candidates with the float vectors, so returned
// distances are exact (docs/architecture.md, "Search loop").
//
// Data whose components are integers in 0..255 (Fashion-MNIST's pixels) is
// encoded losslessly: lo = 0, step = 1. Data whose dimensions have very
// different ranges would lose the narrow ones: when the median dimension's
// range spans fewer than kMinLevels steps the quantizer says so (`routes` is
// false) and the graph searches on floats instead (measured: one dimension
// 1000x wider than the others took recall@10 from 1.0 to 0.79).
//
// Thread-safety: a value type; const methods may run concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace verity {

struct ScalarQuantizer {
  static constexpr float kMinLevels = 16;

  float lo = 0;
  float step = 1;
  bool trained = false;
  bool routes = false;  // precise enough for the search to route on codes

  // Training: Add each vector, then Finish. The quantizer covers the range of
  // all components; a constant input gets step 1.
  class Trainer {
   public:
    explicit Trainer(size_t dim);
    void Add(const float* vector);
    ScalarQuantizer Finish() const;

   private:
    std::vector<float> min_, max_;
    size_t count_ = 0;
  };
  static ScalarQuantizer Train(const float* vectors, size_t count, size_t dim);

  // Writes dim codes; returns true when some component fell outside the
  // trained range and was clamped.
  bool Encode(const float* vector, size_t dim, uint8_t* code) const;

  // Whether lo and step are usable (finite, step > 0): a check for loaders.
  bool Valid() const;
};

}  // namespace verity
