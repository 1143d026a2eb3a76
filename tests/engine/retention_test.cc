// The retention rule (history/retention.h): which versions GC keeps and
// which row versions it may delete, as pure functions.
#include <catch2/catch.hpp>

#include <limits>

#include "history/retention.h"

using namespace verity;
using history::RowFate;

namespace {

constexpr Version kOpen = std::numeric_limits<Version>::max();  // the newest row's `to`
constexpr int64_t kSecond = 1000000;

RetentionPolicy Keep(uint32_t versions, int64_t seconds) {
  RetentionPolicy p;
  p.keep_versions = versions;
  p.keep_seconds = seconds;
  return p;
}

history::RetentionPlan PlanWith(Version horizon, std::map<Version, uint32_t> pins,
                                std::map<Version, uint32_t> graph_pins) {
  history::RetentionPlan plan;
  plan.horizon = horizon;
  plan.pins = std::move(pins);
  plan.graph_pins = std::move(graph_pins);
  return plan;
}

}  // namespace

TEST_CASE("retention window: keep_versions keeps the newest N, 0 and 1 keep only the head",
          "[engine][retention][gc]") {
  REQUIRE(history::RetentionWindow(10, Keep(0, 0), 0, {}) == 10);
  REQUIRE(history::RetentionWindow(10, Keep(1, 0), 0, {}) == 10);
  REQUIRE(history::RetentionWindow(10, Keep(3, 0), 0, {}) == 8);
  REQUIRE(history::RetentionWindow(10, Keep(11, 0), 0, {}) == 0);
  REQUIRE(history::RetentionWindow(10, Keep(100, 0), 0, {}) == 0);
  REQUIRE(history::RetentionWindow(1, Keep(3, 0), 0, {}) == 0);
}

TEST_CASE("retention window: an empty history keeps version 0", "[engine][retention][gc]") {
  REQUIRE(history::RetentionWindow(0, Keep(0, 0), 100 * kSecond, {}) == 0);
  REQUIRE(history::RetentionWindow(0, Keep(5, 60), 100 * kSecond, {}) == 0);
  REQUIRE(history::RetentionWindow(0, Keep(0, 60), 100 * kSecond, {{0, 99 * kSecond}}) == 0);
}

TEST_CASE("retention window: keep_seconds keeps every version that was the head within it",
          "[engine][retention][gc]") {
  const int64_t now = 100 * kSecond;  // cutoff 90 s with keep_seconds 10
  // v5 committed after the cutoff: v4 was the head then. v4 committed exactly
  // at the cutoff ends the walk: v3 stopped being the head at the cutoff.
  const std::vector<history::VersionCommit> commits = {{5, 95 * kSecond}, {4, 90 * kSecond}, {3, 80 * kSecond}};
  REQUIRE(history::RetentionWindow(5, Keep(0, 10), now, commits) == 4);
  // One microsecond later, v4 is after the cutoff too: v3 stays.
  const std::vector<history::VersionCommit> later = {{5, 95 * kSecond}, {4, 90 * kSecond + 1}, {3, 80 * kSecond}};
  REQUIRE(history::RetentionWindow(5, Keep(0, 10), now, later) == 3);
  // Nothing committed within the window: only the head.
  REQUIRE(history::RetentionWindow(5, Keep(0, 10), now, {{5, 50 * kSecond}, {4, 40 * kSecond}}) == 5);
  // No commit times read (the rule is off): the head.
  REQUIRE(history::RetentionWindow(5, Keep(0, 0), now, commits) == 5);
  // Version 0 ends the walk whatever its time.
  REQUIRE(history::RetentionWindow(1, Keep(0, 10), now, {{1, 99 * kSecond}, {0, 99 * kSecond}}) == 0);
  // A gap in the stored versions (an import stores only its own).
  REQUIRE(history::RetentionWindow(7, Keep(0, 10), now, {{7, 99 * kSecond}}) == 6);
}

TEST_CASE("retention window: of both rules, the one that keeps more wins", "[engine][retention][gc]") {
  const int64_t now = 100 * kSecond;
  const std::vector<history::VersionCommit> commits = {{10, 99 * kSecond}, {9, 98 * kSecond}, {8, 10 * kSecond}};
  REQUIRE(history::RetentionWindow(10, Keep(2, 10), now, commits) == 8);  // by time: 8
  REQUIRE(history::RetentionWindow(10, Keep(5, 10), now, commits) == 6);  // by count: 6
}

TEST_CASE("EndsTimeWindow: at or before the cutoff, or version 0", "[engine][retention][gc]") {
  REQUIRE(history::EndsTimeWindow({3, 90}, 90));
  REQUIRE(history::EndsTimeWindow({3, 89}, 90));
  REQUIRE_FALSE(history::EndsTimeWindow({3, 91}, 90));
  REQUIRE(history::EndsTimeWindow({0, 1000}, 90));
}

TEST_CASE("retention plan: the horizon never goes back", "[engine][retention][gc]") {
  history::RetentionInput in;
  in.head = 10;
  in.policy = Keep(5, 0);
  in.oldest_retained = 8;
  REQUIRE(history::PlanRetention(in).horizon == 8);
  in.oldest_retained = 2;
  REQUIRE(history::PlanRetention(in).horizon == 6);
}

TEST_CASE("retention plan: log-only pins below the horizon keep rows, other pins keep nodes",
          "[engine][retention][gc]") {
  history::RetentionInput in;
  in.head = 20;
  in.policy = Keep(1, 0);  // horizon 20
  in.pins = {{2, 1}, {3, 1}, {4, 2}, {5, 2}, {20, 1}};
  in.log_pinned = {3, 4, 20};  // 3: the log alone; 4: the log and a snapshot; 20: the log at the head
  in.rows_only = {5};          // a previous GC dropped 5's nodes; a snapshot pinned it since
  const auto plan = history::PlanRetention(in);
  REQUIRE(plan.horizon == 20);
  REQUIRE(plan.pins == in.pins);
  REQUIRE(plan.rows_only == std::set<Version>{3, 5});
  REQUIRE(plan.graph_pins == std::map<Version, uint32_t>{{2, 1}, {4, 2}});
  // A log-only pin in the window is neither: the window keeps its nodes.
  REQUIRE(plan.NodeNeeded(20, kOpen));
}

TEST_CASE("row fates: the head is always kept, rows outside the window and the pins go",
          "[engine][retention][gc]") {
  const auto plan = PlanWith(5, {}, {});
  // Rows of one id at versions 6, 5, 3, 1 (newest first).
  const auto fates = history::RowFates(plan, {{6, kOpen, false}, {5, 6, false}, {3, 5, false}, {1, 3, false}});
  REQUIRE(fates == std::vector<RowFate>{RowFate::kKeep, RowFate::kKeep, RowFate::kDelete, RowFate::kDelete});
  // A row valid up to exactly the horizon is not seen by it; one past is.
  REQUIRE(history::RowFates(plan, {{3, 5, false}}) == std::vector<RowFate>{RowFate::kDelete});
  REQUIRE(history::RowFates(plan, {{3, 6, false}}) == std::vector<RowFate>{RowFate::kKeep});
  // The newest row stays even far below the horizon.
  REQUIRE(history::RowFates(PlanWith(1000, {}, {}), {{1, kOpen, false}}) == std::vector<RowFate>{RowFate::kKeep});
  REQUIRE(history::RowFates(plan, {}).empty());
}

TEST_CASE("row fates: pins older than the window keep their rows", "[engine][retention][gc]") {
  // Snapshot (graph) pin at 2, log-only pin at 4; horizon 10.
  const auto plan = PlanWith(10, {{2, 1}, {4, 1}}, {{2, 1}});
  const auto fates = history::RowFates(
      plan, {{9, kOpen, false}, {4, 9, false}, {3, 4, false}, {2, 3, false}, {1, 2, false}});
  REQUIRE(fates == std::vector<RowFate>{RowFate::kKeep, RowFate::kKeepRows, RowFate::kDelete, RowFate::kKeep,
                                        RowFate::kDelete});
  // A pin at a row's last version keeps it; one at its end does not.
  REQUIRE(history::RowFates(plan, {{2, 4, false}}) == std::vector<RowFate>{RowFate::kKeep});
  REQUIRE(history::RowFates(PlanWith(10, {{3, 1}}, {{3, 1}}), {{1, 3, false}}) ==
          std::vector<RowFate>{RowFate::kDelete});
}

TEST_CASE("row fates: a tombstone stays only while it hides an older row that stays",
          "[engine][retention][gc]") {
  // Deleted at 4, the head is 8: nothing older than the horizon is seen.
  REQUIRE(history::RowFates(PlanWith(8, {}, {}), {{4, kOpen, true}, {2, 4, false}}) ==
          std::vector<RowFate>{RowFate::kDelete, RowFate::kDelete});
  // A pin at 3 keeps the row, so the tombstone stays (and keeps no node).
  REQUIRE(history::RowFates(PlanWith(8, {{3, 1}}, {}), {{4, kOpen, true}, {2, 4, false}}) ==
          std::vector<RowFate>{RowFate::kKeep, RowFate::kKeepRows});
  // A tombstone in the window whose older row went: deleted with it.
  REQUIRE(history::RowFates(PlanWith(3, {}, {}), {{6, kOpen, false}, {4, 6, true}, {2, 4, false}}) ==
          std::vector<RowFate>{RowFate::kKeep, RowFate::kKeep, RowFate::kKeep});
  REQUIRE(history::RowFates(PlanWith(5, {}, {}), {{6, kOpen, false}, {4, 6, true}, {2, 4, false}}) ==
          std::vector<RowFate>{RowFate::kKeep, RowFate::kDelete, RowFate::kDelete});
}
