// The deterministic write workload shared by the crash writer (child) and the
// crash test (parent): batch i (version i) depends only on i, so the parent
// can rebuild the expected state after any prefix of batches.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "verity/types.h"

namespace verity::test {

constexpr uint32_t kCrashDim = 8;
constexpr size_t kCrashIdSpace = 400;

struct CrashBatch {
  bool is_delete = false;
  std::vector<Record> upserts;
  std::vector<std::string> deletes;
};

inline CrashBatch MakeCrashBatch(uint64_t index) {
  std::mt19937_64 rng(index * 7919 + 13);
  CrashBatch b;
  b.is_delete = index % 5 == 0;
  std::vector<bool> used(kCrashIdSpace, false);
  const size_t n = 5 + rng() % 40;
  for (size_t i = 0; i < n; ++i) {
    const size_t id = rng() % kCrashIdSpace;
    if (used[id]) continue;
    used[id] = true;
    if (b.is_delete) {
      b.deletes.push_back("k" + std::to_string(id));
    } else {
      Record r;
      r.id = "k" + std::to_string(id);
      r.vector.resize(kCrashDim);
      for (auto& x : r.vector) x = static_cast<float>(rng() % 1000) / 10.0f;
      r.text = "batch " + std::to_string(index) + " key " + r.id;  // text-indexed: "k<id>" finds it
      r.metadata["batch"] = static_cast<int64_t>(index);
      b.upserts.push_back(std::move(r));
    }
  }
  return b;
}

}  // namespace verity::test
