#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang, ASan and UBSan in
# build-fuzz/, and runs each for a bounded time, starting from its checked-in
# seed corpus (tests/fuzz/corpus/<target>/, which also holds every input that
# once crashed, so each run replays them first). New inputs go to
# build-fuzz/corpus/<target>/, a crash to build-fuzz/artifacts/.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 20)
#
# Exits non-zero when a target crashes; prints executions per target.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
dir=build-fuzz
targets=(fuzz_filter_parser fuzz_export_manifest fuzz_graph_file fuzz_wire_requests fuzz_log_verifier fuzz_analyzer fuzz_text_query)

flags=()  # the rest is the "fuzz" preset of CMakePresets.json
if command -v ccache >/dev/null 2>&1; then flags+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
if [ ! -f "$dir/build.ninja" ]; then cmake --preset fuzz "${flags[@]}" >/dev/null; fi
ninja -C "$dir" -j "$(nproc 2>/dev/null || echo 2)" "${targets[@]}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
mkdir -p "$dir/artifacts"
for t in "${targets[@]}"; do
  mkdir -p "$dir/corpus/$t"
  log="$dir/$t.log"
  if ! "$dir/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$dir/artifacts/$t-" "$dir/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz: $t FAILED; the input is in $dir/artifacts/ (add it to tests/fuzz/corpus/$t/ once fixed)" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  corpus=$(ls "$dir/corpus/$t" "tests/fuzz/corpus/$t" | wc -l)
  echo "fuzz: $t: $runs inputs tried in ${seconds} s, no crash ($corpus inputs in the corpora)"
done
