// The retention rule: which versions of a collection GC keeps, and which
// row versions it may delete (docs/snapshots.md, "Retention"). Pure
// functions of their inputs, no I/O and no locks: GC (history/gc.cc) reads
// the inputs under the collection's locks, calls these, and applies the
// answer to RocksDB and the graph.
//
// Thread-safety: stateless; RetentionPlan is a value (const use is safe
// from any thread).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "verity/types.h"

namespace verity {
namespace history {

// When a version was committed (VersionMeta::committed_at_us).
struct VersionCommit {
  Version version = 0;
  int64_t committed_at_us = 0;
};

// Whether `commit`, met while walking the versions down from the head, ends
// the keep_seconds window: version 0, or a version committed at or before
// `cutoff_us` (so its predecessor stopped being the head before the
// cutoff). A caller that reads commits newest first may stop reading after
// the first one for which this is true: RetentionWindow reads no further.
bool EndsTimeWindow(const VersionCommit& commit, int64_t cutoff_us);

// The oldest version the retention window keeps: the newest
// `policy.keep_versions` versions (0: the rule is off), and every version
// that was the head within `policy.keep_seconds` of `now_us` (0: off; version
// v was the head from its commit until v+1's). `newest_first` are the
// stored versions' commit times from `head` down (gaps allowed: an import
// stores only its version); only those up to the first for which
// EndsTimeWindow is true are looked at. Never above `head`: the head is
// always kept.
Version RetentionWindow(Version head, const RetentionPolicy& policy, int64_t now_us,
                        const std::vector<VersionCommit>& newest_first);

// What GC reads before it decides.
struct RetentionInput {
  Version head = 0;
  // The horizon of the previous GC (CollectionMeta::oldest_retained): the
  // horizon never goes back, versions below it are gone unless pinned.
  Version oldest_retained = 0;
  RetentionPolicy policy;
  int64_t now_us = 0;
  std::vector<VersionCommit> commits_newest_first;  // as RetentionWindow's
  std::map<Version, uint32_t> pins;                 // pinned version -> number of holders
  std::set<Version> log_pinned;                     // versions one of whose holders is the retrieval log
  std::set<Version> rows_only;                      // versions whose graph nodes a previous GC dropped
};

// What GC keeps.
struct RetentionPlan {
  // Versions at or above it are kept whole (rows and graph nodes); below it
  // only pinned versions are readable.
  Version horizon = 0;
  std::map<Version, uint32_t> pins;        // every pin: keeps rows
  std::map<Version, uint32_t> graph_pins;  // pins that keep graph nodes too
  // Pinned versions below the horizon served from rows alone (no graph
  // nodes): those pinned by the log only, and those already rows-only.
  std::set<Version> rows_only;

  // A row valid over [from, to) stays on disk: a kept version falls in it
  // (the window or any pin). `to` is the version of the id's next row, or
  // the largest Version for the newest row (always kept).
  bool RowNeeded(Version from, Version to) const;
  // A row keeps its graph node: the window or a graph pin falls in [from, to).
  bool NodeNeeded(Version from, Version to) const;
};

// Pins split in two: those that keep graph nodes (snapshots and other
// holders: an explicit request for searchable history) and those that keep
// only rows (the retrieval log's alone: audit reads, served from the rows).
// A version already rows-only stays so (its nodes are gone). A log-only pin
// at or above the horizon is in the window and in neither set.
RetentionPlan PlanRetention(const RetentionInput& input);

// One stored row version of an id, for RowFates.
struct RowSpan {
  Version from = 0;  // the row's version
  Version to = 0;    // the version of the id's next row (largest Version if none)
  bool tombstone = false;
};

enum class RowFate {
  kDelete,    // GC deletes the row (and its vector)
  kKeep,      // kept, with its graph node
  kKeepRows,  // kept on disk only for log pins: its graph node may go
};

// The fate of each row of one id, given newest first (as the rows sort);
// the answer is in the same order. A tombstone stays only if an older row
// of the id stays (it hides that row); a tombstone never keeps a node, so
// it is kKeep or kDelete.
std::vector<RowFate> RowFates(const RetentionPlan& plan, const std::vector<RowSpan>& newest_first);

}  // namespace history
}  // namespace verity
