// What the text benchmark's speed runs measure alike, for Verity's runner
// and Xapian's (verity_bench_text.cc, xapian_bench.cc): header-only, as
// verity_bench_xapian links nothing of Verity's. No state; any thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace verity::bench {

// The bytes of every regular file below `dir`: an index's size on disk.
inline uint64_t DirectoryBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

// The p-quantile (0..1) of `v` by the nearest-rank rule; `v` not empty.
inline double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace verity::bench
