// The engine's wall clock: microseconds since the Unix epoch (commit
// times, log record times, pin times). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace verity {

inline int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace verity
