// KeepGoingCheck: how a long loop asks its caller whether to go on.
#pragma once

#include <cstdint>
#include <functional>

#include "verity/status.h"

namespace verity {

// Asks a long loop's `keep_going` (the caller's deadline, typically; may be
// empty) on the first step and every `every` steps after, and returns its
// refusal.
class KeepGoingCheck {
 public:
  KeepGoingCheck(const std::function<Status()>& keep_going, uint32_t every) : keep_going_(keep_going), every_(every) {}
  Status Step() {
    if (!keep_going_ || steps_++ % every_ != 0) return Status::Ok();
    return keep_going_();
  }

 private:
  const std::function<Status()>& keep_going_;
  const uint32_t every_;
  uint64_t steps_ = 0;
};

}  // namespace verity
