// The controlled shift both drift benchmarks run (bench_drift.cc on
// Fashion-MNIST, bench_drift_text.cc on man pages): a stable phase (the
// reference, then `stable` more observations from the old population, each
// evaluation after the tracker is ready counted as a chance of a false
// alarm), then up to `shift` observations drawn from the new population
// with probability `mix`, noting when each signal first alarms.
#pragma once

#include <algorithm>
#include <cstddef>
#include <random>

#include "monitor/drift.h"

namespace verity::bench {

struct ShiftResult {
  size_t stable_evals = 0, false_score = 0, false_region = 0, false_any = 0;
  long delay_score = -1, delay_region = -1, delay_any = -1;  // -1: no alarm within `shift`
  double max_stable_score_psi = 0, max_stable_region_psi = 0;
  double final_score_psi = 0, final_region_psi = 0;  // at the end of the shifted phase
};

// observe(shifted) feeds the tracker one observation from the new
// population (true) or the old one (false).
template <typename Observe>
ShiftResult RunShiftPhases(const DriftTracker& tracker, size_t stable, size_t shift, double mix, std::mt19937_64& rng,
                           Observe observe) {
  ShiftResult s;
  for (size_t i = 0; i < stable; ++i) {
    observe(false);
    const DriftReport rep = tracker.Report();
    if (!rep.ready) continue;
    ++s.stable_evals;
    s.false_score += rep.score_alarm;
    s.false_region += rep.centroid_alarm;
    s.false_any += rep.alarm;
    s.max_stable_score_psi = std::max(s.max_stable_score_psi, rep.score_psi);
    s.max_stable_region_psi = std::max(s.max_stable_region_psi, rep.centroid_psi);
  }
  std::bernoulli_distribution from_new(mix);
  for (long i = 1; i <= static_cast<long>(shift); ++i) {
    observe(from_new(rng));
    const DriftReport rep = tracker.Report();
    if (rep.score_alarm && s.delay_score < 0) s.delay_score = i;
    if (rep.centroid_alarm && s.delay_region < 0) s.delay_region = i;
    if (rep.alarm && s.delay_any < 0) s.delay_any = i;
    s.final_score_psi = rep.score_psi;
    s.final_region_psi = rep.centroid_psi;
  }
  return s;
}

}  // namespace verity::bench
