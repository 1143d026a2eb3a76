#include "util/kill_point.h"

#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

namespace verity {
namespace {

struct Armed {
  std::string name;      // "" = disarmed
  long remaining = 0;    // hits left before dying
};

Armed& ArmedPoint() {
  static Armed armed = [] {
    Armed a;
    const char* spec = std::getenv("VERITY_KILL_POINT");
    if (spec == nullptr || *spec == 0) return a;
    std::string s(spec);
    a.remaining = 1;
    const auto colon = s.find(':');
    if (colon != std::string::npos) {
      a.remaining = std::max(1L, std::strtol(s.c_str() + colon + 1, nullptr, 10));
      s.resize(colon);
    }
    a.name = s;
    return a;
  }();
  return armed;
}

std::atomic<long> hits{0};

}  // namespace

void KillPoint(const char* name) {
#ifndef VERITY_KILL_POINTS
  (void)name;
  return;
#endif
  const Armed& armed = ArmedPoint();
  if (armed.name.empty() || armed.name != name) return;
  if (hits.fetch_add(1) + 1 >= armed.remaining) raise(SIGKILL);
}

}  // namespace verity
