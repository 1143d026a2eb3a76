#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite:
#   1. the normal build's tests (CTest: unit, recall, MVCC, persistence,
#      crash, concurrency),
#   2. the same tests built with AddressSanitizer + UndefinedBehaviorSanitizer,
#      except the recall tests (pure algorithm, and slow there;
#      the MVCC, persistence, crash and concurrency tests cover the same code),
#   3. the concurrency tests built with ThreadSanitizer (only those: see
#      tests/CMakeLists.txt),
#   4. every libFuzzer target (tests/fuzz/) for 10 s, from its seed corpus.
# After step 1, the npm packages' tests (node --test) run once, against the
# normal build's verityd: the TypeScript client (client/typescript), the web
# console in Debian's Chromium with Playwright (console/), and the OpenAPI
# document's validation (tools/openapi-check).
# The tests use their own temporary directories and free ports, so two run
# at once (the machine's two cores). Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh
bash scripts/build_web.sh
(cd build && ctest --output-on-failure -j 2)

echo "== npm packages against the real verityd: TypeScript client, console (Chromium), OpenAPI check =="
export VERITYD="$PWD/build/server/verityd"
export OPENAPI_JSON="$PWD/build/server/openapi.json"
(cd client/typescript && npm ci --no-audit --no-fund --loglevel=error && npm test)
(cd console && npm test)
(cd tools/openapi-check && npm ci --no-audit --no-fund --loglevel=error && npm test)

echo "== sanitizer build (ASan + UBSan) =="
bash scripts/build.sh --sanitize
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j 2 -E "recall@10|planner's threshold")

echo "== ThreadSanitizer: the concurrency tests =="
bash scripts/build.sh --tsan
# libgomp is not instrumented: one OpenMP thread, so TSan sees only our own.
# detect_deadlocks=0: hnswlib takes one mutex per graph node, which makes
# TSan's lock-order graph cost ~100 s for a 3,000-node build (races are
# still checked). tests/tsan.supp: what is suppressed in RocksDB, and why.
OMP_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1:detect_deadlocks=0:suppressions=$PWD/tests/tsan.supp" \
  build-tsan/tests/verity_tsan_tests --warn NoTests "[concurrency]"

echo "== fuzzing (libFuzzer, clang, ASan + UBSan) =="
bash scripts/fuzz.sh 10
