// ScopedCount: adds one to an atomic counter while it lives (calls running,
// appenders waiting). Not copyable; the counter must outlive it.
#pragma once

#include <atomic>

namespace verity {

class ScopedCount {
 public:
  explicit ScopedCount(std::atomic<int>& count) : count_(count) { count_.fetch_add(1, std::memory_order_relaxed); }
  ~ScopedCount() { count_.fetch_sub(1, std::memory_order_relaxed); }
  ScopedCount(const ScopedCount&) = delete;
  ScopedCount& operator=(const ScopedCount&) = delete;

 private:
  std::atomic<int>& count_;
};

}  // namespace verity
