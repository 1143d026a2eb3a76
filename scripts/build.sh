#!/usr/bin/env bash
# Configures and builds Verity with a CMake preset (CMakePresets.json holds
# the flags). Usage: scripts/build.sh [--sanitize | --tsan] [ninja targets...]
#   (default)   Release-with-debug-info build in build/
#   --sanitize  AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/
#   --tsan      ThreadSanitizer build in build-tsan/ of the concurrency tests
#               only (target verity_tsan_tests; tests/CMakeLists.txt says why)
# Extra arguments after the mode are passed to ninja (e.g. a target name).
# With none, ninja builds `all`: the libraries, verityd, the CLI and the
# tests, not the benchmarks. `scripts/build.sh benchmarks` builds every
# benchmark and the demo into build/bench/ (docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."

preset=default
dir=build
if [ "${1:-}" = "--sanitize" ]; then
  preset=asan
  dir=build-asan
  shift
elif [ "${1:-}" = "--tsan" ]; then
  preset=tsan
  dir=build-tsan
  shift
  if [ $# -eq 0 ]; then set -- verity_tsan_tests; fi
fi
flags=()
if command -v ccache >/dev/null 2>&1; then
  flags+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
jobs=$(nproc 2>/dev/null || echo 2)
# The toxicity flagger's word lists (npm naughty-words, pinned by
# tools/wordlists/package-lock.json), read when CMake configures.
if [ tools/wordlists/package-lock.json -nt tools/wordlists/node_modules/.package-lock.json ]; then
  npm ci --prefix tools/wordlists --ignore-scripts --no-audit --no-fund --loglevel=error
fi
if [ ! -f "$dir/build.ninja" ]; then
  cmake --preset "$preset" "${flags[@]}"
fi
ninja -C "$dir" -j "$jobs" "$@"
if [ $# -eq 0 ] && [ "$dir" = build ]; then
  echo "build.sh: built $dir/ (verityd, the CLI, the tests); the benchmarks are not part of it:" \
    "bash scripts/build.sh benchmarks" >&2
fi
