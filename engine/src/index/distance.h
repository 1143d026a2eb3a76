// Distance kernels, chosen once at run time for the CPU at hand: AVX-512F + BW,
// AVX2 + FMA, or portable C++. The binary is built for baseline x86-64; the
// wider kernels are compiled with function-level target attributes. The
// environment variable VERITY_KERNELS=avx512|avx2|portable picks a narrower
// set (for tests and comparisons); a value the CPU cannot run, or an unknown
// one, is ignored. The database logs the set in use when it opens.
//
// Thread-safety: the functions are pure; selection happens once, on first use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "verity/types.h"

namespace verity {

using DistanceKernel = float (*)(const float* a, const float* b, size_t dim);
// Squared L2 distance between two uint8 code vectors (the graph's quantized
// copy, quantizer.h). Exact integer arithmetic: every kernel set returns the
// same value. dim <= 4096 cannot overflow (4096 * 255^2 < 2^31).
using CodeKernel = uint32_t (*)(const uint8_t* a, const uint8_t* b, size_t dim);

// Squared Euclidean distance.
float L2Squared(const float* a, const float* b, size_t dim);
// Dot product.
float Dot(const float* a, const float* b, size_t dim);

// The distance of `metric` as the engine defines it (smaller is closer):
// l2 → squared L2; ip and cosine → 1 - dot (cosine vectors are unit length).
float Distance(Metric metric, const float* a, const float* b, size_t dim);

// The selected kernels, for loops that call one kernel many times and
// should not re-dispatch on every call.
DistanceKernel SelectedL2Kernel();
DistanceKernel SelectedDotKernel();
CodeKernel SelectedCodeL2Kernel();

// "avx512", "avx2" or "portable": which kernels this process uses.
const char* DistanceKernelName();

// For tests: every kernel set this CPU can run (best first, portable last),
// so that each is checked, not only the one selected here.
struct DistanceKernels {
  DistanceKernel l2;
  DistanceKernel dot;
  CodeKernel l2_codes;
  const char* name;
};
std::vector<DistanceKernels> SupportedDistanceKernels();

// For tests: the portable kernels, to compare against the selected ones.
float L2SquaredPortable(const float* a, const float* b, size_t dim);
float DotPortable(const float* a, const float* b, size_t dim);

}  // namespace verity
