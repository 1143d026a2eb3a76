#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <random>

#include "distance.h"

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
