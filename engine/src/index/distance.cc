#include "index/distance.h"

// GCC 12 reports a false "used uninitialized" inside its own AVX-512
// intrinsics (_mm512_maskz_loadu_ps); the kernels are covered by tests.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdlib>
#include <cstring>

namespace verity {
namespace {

// ----- portable -------------------------------------------------------------
float L2Portable(const float* a, const float* b, size_t dim) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    float d0 = a[i] - b[i], d1 = a[i + 1] - b[i + 1];
    float d2 = a[i + 2] - b[i + 2], d3 = a[i + 3] - b[i + 3];
    s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3;
  }
  for (; i < dim; ++i) { float d = a[i] - b[i]; s0 += d * d; }
  return (s0 + s1) + (s2 + s3);
}

float DotPortableImpl(const float* a, const float* b, size_t dim) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3];
  }
  for (; i < dim; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

uint32_t L2CodesPortable(const uint8_t* a, const uint8_t* b, size_t dim) {
  uint32_t sum = 0;
  for (size_t i = 0; i < dim; ++i) {
    const int d = int(a[i]) - int(b[i]);
    sum += static_cast<uint32_t>(d * d);
  }
  return sum;
}

// ----- AVX2 + FMA -----------------------------------------------------------
__attribute__((target("avx2,fma"))) inline float HorizontalSum256(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  __m128 hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  __m128 shuf = _mm_movehdup_ps(lo);
  __m128 sums = _mm_add_ps(lo, shuf);
  shuf = _mm_movehl_ps(shuf, sums);
  sums = _mm_add_ss(sums, shuf);
  return _mm_cvtss_f32(sums);
}

__attribute__((target("avx2,fma"))) float L2Avx2(const float* a, const float* b, size_t dim) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    acc0 = _mm256_fmadd_ps(d0, d0, acc0);
    acc1 = _mm256_fmadd_ps(d1, d1, acc1);
  }
  for (; i + 8 <= dim; i += 8) {
    __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    acc0 = _mm256_fmadd_ps(d0, d0, acc0);
  }
  float sum = HorizontalSum256(_mm256_add_ps(acc0, acc1));
  for (; i < dim; ++i) { float d = a[i] - b[i]; sum += d * d; }
  return sum;
}

__attribute__((target("avx2,fma"))) float DotAvx2(const float* a, const float* b, size_t dim) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= dim; i += 8) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  }
  float sum = HorizontalSum256(_mm256_add_ps(acc0, acc1));
  for (; i < dim; ++i) sum += a[i] * b[i];
  return sum;
}

__attribute__((target("avx2"))) uint32_t L2CodesAvx2(const uint8_t* a, const uint8_t* b, size_t dim) {
  const __m256i zero = _mm256_setzero_si256();
  __m256i acc = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i));
    const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i));
    // |x - y| in unsigned bytes, widened to 16 bits; madd squares and adds
    // pairs into 32-bit lanes (at most 2 * 255^2 each).
    const __m256i diff = _mm256_or_si256(_mm256_subs_epu8(x, y), _mm256_subs_epu8(y, x));
    const __m256i lo = _mm256_unpacklo_epi8(diff, zero);
    const __m256i hi = _mm256_unpackhi_epi8(diff, zero);
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(lo, lo));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(hi, hi));
  }
  __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, _MM_SHUFFLE(1, 0, 3, 2)));
  sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, _MM_SHUFFLE(2, 3, 0, 1)));
  uint32_t total = static_cast<uint32_t>(_mm_cvtsi128_si32(sum));
  for (; i < dim; ++i) {
    const int d = int(a[i]) - int(b[i]);
    total += static_cast<uint32_t>(d * d);
  }
  return total;
}

// ----- AVX-512F -------------------------------------------------------------
__attribute__((target("avx512f"))) float L2Avx512(const float* a, const float* b, size_t dim) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
    acc1 = _mm512_fmadd_ps(d1, d1, acc1);
  }
  for (; i + 16 <= dim; i += 16) {
    __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
  }
  if (i < dim) {
    __mmask16 mask = static_cast<__mmask16>((1u << (dim - i)) - 1);
    __m512 d0 = _mm512_sub_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

__attribute__((target("avx512f"))) float DotAvx512(const float* a, const float* b, size_t dim) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
  }
  for (; i + 16 <= dim; i += 16) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
  }
  if (i < dim) {
    __mmask16 mask = static_cast<__mmask16>((1u << (dim - i)) - 1);
    acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i), acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

__attribute__((target("avx512f,avx512bw"))) uint32_t L2CodesAvx512(const uint8_t* a, const uint8_t* b,
                                                                       size_t dim) {
  const __m512i zero = _mm512_setzero_si512();
  __m512i acc = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 64 <= dim; i += 64) {
    const __m512i x = _mm512_loadu_si512(a + i);
    const __m512i y = _mm512_loadu_si512(b + i);
    const __m512i diff = _mm512_or_si512(_mm512_subs_epu8(x, y), _mm512_subs_epu8(y, x));
    const __m512i lo = _mm512_unpacklo_epi8(diff, zero);
    const __m512i hi = _mm512_unpackhi_epi8(diff, zero);
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(lo, lo));
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(hi, hi));
  }
  if (i < dim) {
    const __mmask64 mask = (dim - i) >= 64 ? ~__mmask64{0} : ((__mmask64{1} << (dim - i)) - 1);
    const __m512i x = _mm512_maskz_loadu_epi8(mask, a + i);
    const __m512i y = _mm512_maskz_loadu_epi8(mask, b + i);
    const __m512i diff = _mm512_or_si512(_mm512_subs_epu8(x, y), _mm512_subs_epu8(y, x));
    const __m512i lo = _mm512_unpacklo_epi8(diff, zero);
    const __m512i hi = _mm512_unpackhi_epi8(diff, zero);
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(lo, lo));
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(hi, hi));
  }
  return static_cast<uint32_t>(_mm512_reduce_add_epi32(acc));
}

// The kernel sets this CPU can run, best first; portable is always last.
std::vector<DistanceKernels> Supported() {
  __builtin_cpu_init();
  std::vector<DistanceKernels> out;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) {
    out.push_back({L2Avx512, DotAvx512, L2CodesAvx512, "avx512"});
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    out.push_back({L2Avx2, DotAvx2, L2CodesAvx2, "avx2"});
  }
  out.push_back({L2Portable, DotPortableImpl, L2CodesPortable, "portable"});
  return out;
}

// The best supported set, or the one VERITY_KERNELS names when this CPU
// supports it.
DistanceKernels SelectKernels() {
  const std::vector<DistanceKernels> supported = Supported();
  if (const char* wanted = std::getenv("VERITY_KERNELS")) {
    for (const auto& k : supported) {
      if (std::strcmp(k.name, wanted) == 0) return k;
    }
  }
  return supported.front();
}

const DistanceKernels& Selected() {
  static const DistanceKernels kernels = SelectKernels();
  return kernels;
}

}  // namespace

float L2Squared(const float* a, const float* b, size_t dim) { return Selected().l2(a, b, dim); }
float Dot(const float* a, const float* b, size_t dim) { return Selected().dot(a, b, dim); }

float Distance(Metric metric, const float* a, const float* b, size_t dim) {
  if (metric == Metric::kL2) return L2Squared(a, b, dim);
  return 1.0f - Dot(a, b, dim);
}

DistanceKernel SelectedL2Kernel() { return Selected().l2; }
DistanceKernel SelectedDotKernel() { return Selected().dot; }
CodeKernel SelectedCodeL2Kernel() { return Selected().l2_codes; }

const char* DistanceKernelName() { return Selected().name; }
std::vector<DistanceKernels> SupportedDistanceKernels() { return Supported(); }
float L2SquaredPortable(const float* a, const float* b, size_t dim) { return L2Portable(a, b, dim); }
float DotPortable(const float* a, const float* b, size_t dim) { return DotPortableImpl(a, b, dim); }

}  // namespace verity
