// Loader for Fashion-MNIST as installed by the Debian package
// dataset-fashion-mnist: gzip-compressed IDX files in
// /usr/share/datasets/fashion-mnist/.
//
// IDX format (all header integers big-endian):
//   images: magic 0x00000803, count, rows, cols, then count*rows*cols bytes
//   labels: magic 0x00000801, count, then count bytes
// Pixels are returned as floats 0..255 (not normalised) so that L2 distances
// are the ones every other Fashion-MNIST benchmark reports.
//
// Errors: every function returns NotFound naming the file if it cannot be
// opened, and DataLoss naming the file and what is wrong (bad magic, absurd
// header, truncated body, corrupt gzip stream) if it is malformed, and
// Unavailable for other I/O errors. Nothing throws.
//
// Thread-safety: the functions share no state; call them from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "verity/status.h"

namespace verity::bench {

inline constexpr char kFashionMnistDir[] = "/usr/share/datasets/fashion-mnist";
inline constexpr size_t kFashionMnistDim = 28 * 28;
inline constexpr size_t kAll = std::numeric_limits<size_t>::max();

// A set of images as one row-major n x dim matrix.
struct ImageSet {
  size_t n = 0;
  size_t dim = 0;
  std::vector<float> pixels;  // n * dim values in 0..255

  const float* row(size_t i) const { return pixels.data() + i * dim; }
};

// Reads at most `max_images` images (the first ones) from an IDX3 file,
// gzip-compressed or not.
Result<ImageSet> LoadIdxImages(const std::string& path, size_t max_images = kAll);

// Reads at most `max_labels` labels (the first ones) from an IDX1 file.
Result<std::vector<uint8_t>> LoadIdxLabels(const std::string& path, size_t max_labels = kAll);

// The 60,000 training images (or the first `max_images`): the search base.
// Also checks that the images are 28x28 (DataLoss otherwise).
Result<ImageSet> LoadFashionMnistBase(const std::string& dir = kFashionMnistDir, size_t max_images = kAll);

// The first `n` of the 10,000 test images: the queries. Same checks.
Result<ImageSet> LoadFashionMnistQueries(const std::string& dir = kFashionMnistDir, size_t n = kAll);

// Labels 0..9 of the training / test images (the first `max_labels`).
Result<std::vector<uint8_t>> LoadFashionMnistTrainLabels(const std::string& dir = kFashionMnistDir,
                                                         size_t max_labels = kAll);
Result<std::vector<uint8_t>> LoadFashionMnistTestLabels(const std::string& dir = kFashionMnistDir,
                                                        size_t max_labels = kAll);

// "T-shirt/top", "Trouser", ..., "Ankle boot" for labels 0..9; "unknown"
// for anything else.
const char* FashionMnistClassName(int label);

}  // namespace verity::bench
