// Kill points: named places in the engine where a crash test can make the
// process die (SIGKILL, no cleanup) to check that the state on disk is always
// recoverable. Armed only by the environment variable VERITY_KILL_POINT:
//   VERITY_KILL_POINT=name        die the first time `name` is reached
//   VERITY_KILL_POINT=name:N      die the N-th time (N >= 1)
// When the variable is unset, KillPoint is one predictable branch. Compiled
// in only when the build sets VERITY_KILL_POINTS (CMake option, ON in the
// project's own builds, which run the tests; a release package builds with
// -DVERITY_KILL_POINTS=OFF and KillPoint does nothing whatever the
// environment says). Names in use: commit.after_wal, restore.after_commit,
// gc.after_horizon, gc.mid_delete, export.mid_records, export.before_rename,
// import.mid_rows, import.before_register, log.after_append, graph.mid_save.
// tests/crash/crash_harness.cc exercises each.
#pragma once

namespace verity {

void KillPoint(const char* name);

}  // namespace verity
