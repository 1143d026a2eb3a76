#include "fashion_mnist.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace verity::bench {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;
// Far above any real IDX file; guards the allocation against a bad header.
constexpr uint64_t kMaxBodyBytes = uint64_t{1} << 32;

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

Result<GzFile> Open(const std::string& path) {
  errno = 0;
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    const std::string why = err != 0 ? std::strerror(err) : "gzopen failed";
    if (err == ENOENT) {
      return Status::NotFound(path + ": " + why + " (install the Debian package dataset-fashion-mnist)");
    }
    return Status::Unavailable(path + ": " + why);
  }
  return GzFile(f);
}

// Reads exactly `n` bytes; DataLoss naming `path` and `what` if the stream
// ends early or is not valid gzip, Unavailable on an I/O error.
Status ReadExactly(gzFile f, const std::string& path, const char* what, void* out, size_t n) {
  auto* p = static_cast<unsigned char*>(out);
  size_t done = 0;
  while (done < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
    const int got = gzread(f, p + done, chunk);
    if (got < 0) {
      int zerr = 0;
      const char* msg = gzerror(f, &zerr);
      const std::string text = path + ": reading " + what + ": " + (msg != nullptr ? msg : "gzread failed");
      // Z_ERRNO is the file system failing; anything else is a bad stream.
      return zerr == Z_ERRNO ? Status::Unavailable(text) : Status::DataLoss(text);
    }
    if (got == 0) {
      return Status::DataLoss(path + ": truncated " + what + ": expected " + std::to_string(n) + " bytes, got " +
                              std::to_string(done));
    }
    done += static_cast<size_t>(got);
  }
  return Status::Ok();
}

Status ReadBigEndianU32s(gzFile f, const std::string& path, uint32_t* out, size_t count) {
  unsigned char bytes[16];
  VERITY_RETURN_IF_ERROR(ReadExactly(f, path, "header", bytes, count * 4));
  for (size_t i = 0; i < count; ++i) {
    const unsigned char* b = bytes + 4 * i;
    out[i] = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
  }
  return Status::Ok();
}

std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

Status CheckFashionDim(const ImageSet& set, const std::string& path) {
  if (set.dim != kFashionMnistDim) {
    return Status::DataLoss(path + ": images have " + std::to_string(set.dim) + " pixels, Fashion-MNIST has " +
                            std::to_string(kFashionMnistDim));
  }
  return Status::Ok();
}

}  // namespace

Result<ImageSet> LoadIdxImages(const std::string& path, size_t max_images) {
  VERITY_ASSIGN_OR_RETURN(GzFile file, Open(path));
  uint32_t header[4];
  VERITY_RETURN_IF_ERROR(ReadBigEndianU32s(file.get(), path, header, 4));
  if (header[0] != kImagesMagic) {
    return Status::DataLoss(path + ": bad IDX magic " + Hex(header[0]) + ", expected " + Hex(kImagesMagic) +
                            " (unsigned byte, 3 dimensions)");
  }
  const uint64_t count = header[1], rows = header[2], cols = header[3];
  if (rows == 0 || cols == 0 || count * rows * cols > kMaxBodyBytes) {
    return Status::DataLoss(path + ": implausible header: " + std::to_string(count) + " images of " +
                            std::to_string(rows) + "x" + std::to_string(cols));
  }
  ImageSet set;
  set.n = static_cast<size_t>(std::min<uint64_t>(count, max_images));
  set.dim = static_cast<size_t>(rows * cols);
  std::vector<unsigned char> bytes(set.n * set.dim);
  VERITY_RETURN_IF_ERROR(ReadExactly(file.get(), path, "image data", bytes.data(), bytes.size()));
  set.pixels.assign(bytes.begin(), bytes.end());
  return set;
}

Result<std::vector<uint8_t>> LoadIdxLabels(const std::string& path, size_t max_labels) {
  VERITY_ASSIGN_OR_RETURN(GzFile file, Open(path));
  uint32_t header[2];
  VERITY_RETURN_IF_ERROR(ReadBigEndianU32s(file.get(), path, header, 2));
  if (header[0] != kLabelsMagic) {
    return Status::DataLoss(path + ": bad IDX magic " + Hex(header[0]) + ", expected " + Hex(kLabelsMagic) +
                            " (unsigned byte, 1 dimension)");
  }
  if (header[1] > kMaxBodyBytes) {
    return Status::DataLoss(path + ": implausible header: " + std::to_string(header[1]) + " labels");
  }
  std::vector<uint8_t> labels(static_cast<size_t>(std::min<uint64_t>(header[1], max_labels)));
  VERITY_RETURN_IF_ERROR(ReadExactly(file.get(), path, "label data", labels.data(), labels.size()));
  return labels;
}

Result<ImageSet> LoadFashionMnistBase(const std::string& dir, size_t max_images) {
  const std::string path = dir + "/train-images-idx3-ubyte.gz";
  VERITY_ASSIGN_OR_RETURN(ImageSet set, LoadIdxImages(path, max_images));
  VERITY_RETURN_IF_ERROR(CheckFashionDim(set, path));
  return set;
}

Result<ImageSet> LoadFashionMnistQueries(const std::string& dir, size_t n) {
  const std::string path = dir + "/t10k-images-idx3-ubyte.gz";
  VERITY_ASSIGN_OR_RETURN(ImageSet set, LoadIdxImages(path, n));
  VERITY_RETURN_IF_ERROR(CheckFashionDim(set, path));
  return set;
}

Result<std::vector<uint8_t>> LoadFashionMnistTrainLabels(const std::string& dir, size_t max_labels) {
  return LoadIdxLabels(dir + "/train-labels-idx1-ubyte.gz", max_labels);
}

Result<std::vector<uint8_t>> LoadFashionMnistTestLabels(const std::string& dir, size_t max_labels) {
  return LoadIdxLabels(dir + "/t10k-labels-idx1-ubyte.gz", max_labels);
}

const char* FashionMnistClassName(int label) {
  static constexpr const char* kNames[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                           "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  if (label < 0 || label > 9) return "unknown";
  return kNames[label];
}

}  // namespace verity::bench
