#include "history/retention.h"

#include <algorithm>
#include <utility>

namespace verity {
namespace history {

bool EndsTimeWindow(const VersionCommit& commit, int64_t cutoff_us) {
  return commit.version == 0 || commit.committed_at_us <= cutoff_us;
}

Version RetentionWindow(Version head, const RetentionPolicy& policy, int64_t now_us,
                        const std::vector<VersionCommit>& newest_first) {
  Version window = head;
  if (policy.keep_versions > 0) {
    window = std::min<Version>(window, head + 1 > policy.keep_versions ? head + 1 - policy.keep_versions : 0);
  }
  if (policy.keep_seconds > 0) {
    const int64_t cutoff = now_us - policy.keep_seconds * 1000000;
    Version by_time = head;
    for (const VersionCommit& commit : newest_first) {
      // Walk down while the version was committed after the cutoff: its
      // predecessor was the head then.
      if (EndsTimeWindow(commit, cutoff)) break;
      by_time = commit.version - 1;
    }
    window = std::min(window, by_time);
  }
  return window;
}

RetentionPlan PlanRetention(const RetentionInput& input) {
  RetentionPlan plan;
  plan.horizon = std::max(input.oldest_retained,
                          RetentionWindow(input.head, input.policy, input.now_us, input.commits_newest_first));
  plan.pins = input.pins;
  for (const auto& [v, holders] : input.pins) {
    const bool log_only = holders == 1 && input.log_pinned.count(v) > 0;
    if (v < plan.horizon && (log_only || input.rows_only.count(v) > 0)) {
      plan.rows_only.insert(v);
    } else if (!log_only) {
      plan.graph_pins.emplace(v, holders);
    }
  }
  return plan;
}

namespace {

// Whether a version of `pins` falls in [from, to).
bool PinIn(const std::map<Version, uint32_t>& pins, Version from, Version to) {
  auto pin = pins.lower_bound(from);
  return pin != pins.end() && pin->first < to;
}

}  // namespace

bool RetentionPlan::RowNeeded(Version from, Version to) const { return to > horizon || PinIn(pins, from, to); }

bool RetentionPlan::NodeNeeded(Version from, Version to) const { return to > horizon || PinIn(graph_pins, from, to); }

std::vector<RowFate> RowFates(const RetentionPlan& plan, const std::vector<RowSpan>& newest_first) {
  std::vector<RowFate> fates(newest_first.size(), RowFate::kDelete);
  // Oldest first: a tombstone stays only if an older row stays.
  bool older_kept = false;
  for (size_t i = newest_first.size(); i-- > 0;) {
    const RowSpan& r = newest_first[i];
    bool keep = plan.RowNeeded(r.from, r.to);
    if (r.tombstone) keep = keep && older_kept;
    if (!keep) continue;
    fates[i] = RowFate::kKeep;
    if (!r.tombstone) {
      older_kept = true;
      if (!plan.NodeNeeded(r.from, r.to)) fates[i] = RowFate::kKeepRows;
    }
  }
  return fates;
}

}  // namespace history
}  // namespace verity
