#!/usr/bin/env bash
# The groundedness benchmark (issue #25; docs/groundedness.md, "Benchmark"):
# builds the cases from Debian's history and FAQ (bench/groundedness/
# make_cases.py), scores them with the scorer as built
# (verity_bench_groundedness), prints the JSON lines and the Markdown tables.
#
#   bash scripts/bench_groundedness.sh [--update-docs] [--out DIR]
#     --update-docs  also replace this scorer version's tables in
#                    docs/groundedness.md (between its "bench-groundedness
#                    <version> begin/end" markers) with this run's
#     --out          where the cases, per-case scores, JSON lines and tables
#                    go (default build/bench-groundedness)
set -euo pipefail
cd "$(dirname "$0")/.."

update_docs=0
out=build/bench-groundedness
while [ $# -gt 0 ]; do
  case "$1" in
    --update-docs) update_docs=1 ;;
    --out) out="$2"; shift ;;
    --out=*) out="${1#--out=}" ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench_groundedness.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

bash scripts/setup.sh
bash scripts/build.sh verity_bench_groundedness
mkdir -p "$out"
/usr/bin/python3 bench/groundedness/make_cases.py --out "$out/cases.jsonl"
build/bench/verity_bench_groundedness --cases "$out/cases.jsonl" --markdown "$out/tables.md" \
  --scores "$out/scores.jsonl" | tee "$out/results.jsonl"
echo
cat "$out/tables.md"

if [ "$update_docs" = 1 ]; then
  /usr/bin/python3 - "$out/tables.md" "$out/results.jsonl" docs/groundedness.md <<'EOF'
import json, sys
tables, results, doc = sys.argv[1:4]
scorer = json.loads(open(results, encoding="utf-8").readline())["scorer"]
begin = "<!-- bench-groundedness %s begin -->" % scorer
end = "<!-- bench-groundedness %s end -->" % scorer
text = open(doc, encoding="utf-8").read()
if begin not in text or end not in text:
    sys.exit("bench_groundedness.sh: %s has no '%s' ... '%s' markers: add them where %s's tables go"
             % (doc, begin, end, scorer))
head, rest = text.split(begin, 1)
tail = rest.split(end, 1)[1]
with open(doc, "w", encoding="utf-8") as f:
    f.write(head + begin + "\n" + open(tables, encoding="utf-8").read() + end + tail)
print("bench_groundedness.sh: %s tables written to %s" % (scorer, doc), file=sys.stderr)
EOF
fi
