#!/usr/bin/env bash
# The benchmark suite (#7): every system on every dataset, one process per
# system and dataset (so each one's resident memory is its own), in one run;
# then the recall-QPS plot and docs/benchmarks.md.
#
#   bash scripts/bench.sh [--large] [--quick] [--out DIR]
#     --large  also the synthetic set at 1,000,000 vectors (long: tens of minutes)
#     --quick  a smoke run: 10,000 clustered vectors, 200 queries, three ef values
#     --out    where the JSON lines go (default build/bench-results); the
#              plot and the report go to docs/ unless --quick
set -euo pipefail
cd "$(dirname "$0")/.."

large=0
quick=0
out=build/bench-results
while [ $# -gt 0 ]; do
  case "$1" in
    --large) large=1 ;;
    --quick) quick=1 ;;
    --out) out="$2"; shift ;;
    --out=*) out="${1#--out=}" ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

bash scripts/setup.sh --bench
bash scripts/build.sh verity_bench_engine verity_bench_engine_native verity_bench_grpc verity_bench_cache \
  verity_bench_retrieval verity_demo verityd
faiss=1
if ! bash scripts/build.sh verity_bench_faiss 2>/dev/null; then
  faiss=0
  echo "bench.sh: FAISS not found (libfaiss-dev): its systems are skipped" >&2
fi

mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"
log="$out/bench.log"
: > "$log"
b=build/bench

# run NAME COMMAND...: appends the command's JSON lines to the results and
# its progress to the log.
run() {
  local name="$1"
  shift
  echo "bench.sh: $name" >&2
  echo "== $name: $*" >> "$log"
  "$@" >> "$results" 2>> "$log"
}

# One dataset: raw hnswlib (project flags, -march=native), Verity (single
# thread and batch), exact search, FAISS.
dataset() {
  local label="$1"
  shift
  local args=("$@")
  run "$label hnswlib" "$b/verity_bench_engine" "${args[@]}" --systems hnswlib
  run "$label hnswlib-native" "$b/verity_bench_engine_native" "${args[@]}" --systems hnswlib-native
  run "$label verity" "$b/verity_bench_engine" "${args[@]}" --systems verity,verity-batch
  run "$label exact" "$b/verity_bench_engine" "${args[@]}" --systems verity-exact
  if [ "$faiss" = 1 ]; then
    run "$label faiss" "$b/verity_bench_faiss" "${args[@]}"
  else
    echo '{"system": "faiss-hnsw", "skipped": "libfaiss-dev not installed"}' >> "$results"
  fi
}

if [ "$quick" = 1 ]; then
  dataset "clustered 10k" --dataset clustered --base 10000 --queries 200 --ef 10,20,40
  /usr/bin/python3 bench/report.py --results "$results" --check
  exit 0
fi

dataset "fashion-mnist" --dataset fashion-mnist --queries 1000
for n in 10000 100000; do
  dataset "clustered $n" --dataset clustered --base "$n" --queries 1000
done
if [ "$large" = 1 ]; then
  dataset "clustered 1000000" --dataset clustered --base 1000000 --queries 1000 --ef 16,32,64,128
fi

# Over gRPC: the Fashion-MNIST collection the main job serves, 1/8/32 clients,
# beside the in-process engine in the same run.
grpc_data="$out/grpc-data"
echo "bench.sh: gRPC: loading $grpc_data" >&2
"$b/verity_demo" --data "$grpc_data" --load-only >> "$log" 2>&1
run "gRPC" "$b/verity_bench_grpc" --data "$grpc_data" --verityd build/server/verityd --ef 16 --seconds 5

# The answer cache: lookup latency at 10k / 100k entries, a replayed query
# set with paraphrases and number changes, the Database path.
run "answer cache" "$b/verity_bench_cache"

# The retrieval log: Retrieve (durable log record) vs Search at 1 and 8
# threads, audit throughput, log bytes per retrieval.
run "retrieval log" "$b/verity_bench_retrieval" --seconds 5

/usr/bin/python3 bench/plot.py --results "$results" --out docs/benchmarks-recall-qps.png
/usr/bin/python3 bench/report.py --results "$results" --plot benchmarks-recall-qps.png --out docs/benchmarks.md
echo "bench.sh: results in $results, report in docs/benchmarks.md" >&2
