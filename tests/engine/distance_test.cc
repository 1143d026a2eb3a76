#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <random>

#include "index/distance.h"
#include "index/quantizer.h"

using namespace verity;

TEST_CASE("every kernel set this CPU runs agrees with portable and exact arithmetic", "[engine][distance]") {
  // Each set, not only the selected one: on an AVX-512 machine the AVX2
  // kernels would otherwise never run in a test.
  const auto sets = SupportedDistanceKernels();
  REQUIRE(!sets.empty());
  CHECK(std::string(sets.back().name) == "portable");
  // The best set is selected, unless VERITY_KERNELS names another this CPU runs.
  std::string expected = sets.front().name;
  if (const char* forced = std::getenv("VERITY_KERNELS")) {
    for (const auto& k : sets) {
      if (std::string(k.name) == forced) expected = forced;
    }
  }
  CHECK(expected == DistanceKernelName());
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (const auto& k : sets) {
    INFO("kernels: " << k.name);
    for (size_t dim = 1; dim <= 300; ++dim) {
      INFO("dim " << dim);
      std::vector<float> a(dim), b(dim);
      for (auto& x : a) x = u(rng);
      for (auto& x : b) x = u(rng);
      double l2 = 0, dot = 0;
      for (size_t i = 0; i < dim; ++i) {
        l2 += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
        dot += double(a[i]) * b[i];
      }
      REQUIRE(k.l2(a.data(), b.data(), dim) == Approx(l2).epsilon(1e-4));
      REQUIRE(k.dot(a.data(), b.data(), dim) == Approx(dot).epsilon(1e-4).margin(1e-4));
      REQUIRE(k.l2(a.data(), b.data(), dim) == Approx(L2SquaredPortable(a.data(), b.data(), dim)).epsilon(1e-4));
    }
  }
  std::printf("distance kernels checked: %zu sets (", sets.size());
  for (const auto& k : sets) std::printf(" %s", k.name);
  std::printf(" ), selected %s\n", DistanceKernelName());
}

TEST_CASE("selected kernels agree with the portable ones at every dimension", "[engine][distance]") {
  INFO("kernels: " << DistanceKernelName());
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (size_t dim = 1; dim <= 130; ++dim) {
    std::vector<float> a(dim), b(dim);
    for (auto& x : a) x = u(rng);
    for (auto& x : b) x = u(rng);
    const float l2 = L2Squared(a.data(), b.data(), dim);
    const float dot = Dot(a.data(), b.data(), dim);
    REQUIRE(l2 == Approx(L2SquaredPortable(a.data(), b.data(), dim)).epsilon(1e-4));
    REQUIRE(dot == Approx(DotPortable(a.data(), b.data(), dim)).epsilon(1e-4).margin(1e-5));
    double exact = 0;
    for (size_t i = 0; i < dim; ++i) exact += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    REQUIRE(l2 == Approx(exact).epsilon(1e-4));
  }
}

TEST_CASE("metric distances: l2 squared, ip and cosine as 1 - dot", "[engine][distance]") {
  const float a[3] = {1, 0, 0};
  const float b[3] = {0, 1, 0};
  REQUIRE(Distance(Metric::kL2, a, b, 3) == Approx(2.0f));
  REQUIRE(Distance(Metric::kIp, a, a, 3) == Approx(0.0f));
  REQUIRE(Distance(Metric::kCosine, a, b, 3) == Approx(1.0f));
}

TEST_CASE("every code kernel returns the exact integer squared L2", "[engine][distance][quantizer]") {
  std::mt19937 rng(5);
  for (const auto& k : SupportedDistanceKernels()) {
    INFO("kernels: " << k.name);
    for (size_t dim = 1; dim <= 300; ++dim) {
      INFO("dim " << dim);
      std::vector<uint8_t> a(dim), b(dim);
      for (auto& x : a) x = static_cast<uint8_t>(rng());
      for (auto& x : b) x = static_cast<uint8_t>(rng());
      uint32_t exact = 0;
      for (size_t i = 0; i < dim; ++i) exact += static_cast<uint32_t>((int(a[i]) - b[i]) * (int(a[i]) - b[i]));
      REQUIRE(k.l2_codes(a.data(), b.data(), dim) == exact);
    }
    // The largest value the graph can ask for: 4096 dimensions, 0 against 255.
    std::vector<uint8_t> zeros(4096, 0), full(4096, 255);
    REQUIRE(k.l2_codes(zeros.data(), full.data(), 4096) == 4096u * 255u * 255u);
    REQUIRE(k.l2_codes(full.data(), zeros.data(), 4096) == 4096u * 255u * 255u);
  }
}

TEST_CASE("the scalar quantizer: lossless on byte data, clamps and reports outliers", "[engine][quantizer]") {
  // Pixel-like data, integers 0..255: step 1, codes equal the values.
  std::vector<float> pixels = {0, 17, 255, 128, 3, 254};
  ScalarQuantizer q = ScalarQuantizer::Train(pixels.data(), 2, 3);
  CHECK(q.trained);
  CHECK(q.lo == 0.0f);
  CHECK(q.step == 1.0f);
  uint8_t code[3];
  CHECK_FALSE(q.Encode(pixels.data(), 3, code));
  CHECK((code[0] == 0 && code[1] == 17 && code[2] == 255));
  const float outside[3] = {-5.0f, 300.0f, 7.4f};
  CHECK(q.Encode(outside, 3, code));
  CHECK((code[0] == 0 && code[1] == 255 && code[2] == 7));
  // A general range: 255 steps from the smallest to the largest component;
  // each value decodes to within half a step.
  std::vector<float> v = {-2.0f, 0.5f, 1.0f, 3.1f};
  q = ScalarQuantizer::Train(v.data(), 1, 4);
  CHECK(q.lo == -2.0f);
  CHECK(q.step == Approx(5.1f / 255.0f));
  uint8_t c4[4];
  CHECK_FALSE(q.Encode(v.data(), 4, c4));
  for (int i = 0; i < 4; ++i) CHECK(std::abs(q.lo + q.step * c4[i] - v[i]) <= q.step / 2 + 1e-6f);
  CHECK(q.Valid());
  CHECK_FALSE((ScalarQuantizer{0.0f, 0.0f, true, true}).Valid());
  // A NaN component (only a damaged graph file can hold one) encodes as 0,
  // without undefined behaviour (fuzz_graph_file found the conversion).
  const float nan_vector[2] = {std::nanf(""), 1.0f};
  uint8_t c2[2];
  q.Encode(nan_vector, 2, c2);
  CHECK(c2[0] == 0);
}
