#!/usr/bin/env bash
# The text-retrieval benchmark's baselines (issue #26; docs/benchmarks.md,
# "Text retrieval (issue #26) — baselines"):
#   1. the man-page corpus (bench/text/manpages.py): Verity chunks and the
#      known-item set (docs.jsonl, queries.tsv, qrels.tsv)
#   2. known-item runs: SQLite FTS5 (unicode61, porter), Xapian 1.4 BM25 (no
#      stemmer, English stemmer), Lucene 8 BM25 (StandardAnalyzer,
#      EnglishAnalyzer), an LSA dense leg trained on the corpus, and
#      their fusions (RRF k=60, convex min-max) (bench/text/baselines.py),
#      scored by bench/text/evaluate.py's code
#   3. the speed-at-scale corpus (bench/text/scale_corpus.py, >= 200k
#      passages) and index/search speed of Xapian (C++, verity_bench_xapian),
#      FTS5 (Python sqlite3, bench/text/fts5_speed.py) and Lucene (Java,
#      bench/text/LuceneBench.java)
# Corpora are cached under --out (rebuilt only when their packages change).
#
#   bash scripts/bench_text.sh [--out DIR] [--skip-speed] [--repeat N] [--update-docs]
#     --out         corpora, runs and results (default build/text-corpus)
#     --update-docs replace the tables in docs/benchmarks.md (between its
#                   "bench-text tables begin/end" markers) with this run's
#     --skip-speed  only the known-item part (1 and 2)
#     --repeat      timed passes over the speed queries (default 1)
#
# Plugging in another system (Verity's runner): index DIR/manpages/knownitem/
# docs.jsonl (or chunks.jsonl: map hits to document_id), run the queries of
# queries.tsv, write a TREC run file (qid Q0 docid rank score tag), then
#   /usr/bin/python3 bench/text/evaluate.py RUN --qrels DIR/manpages/knownitem/qrels.tsv
# For hybrid: DIR/runs/lsa/docs.jsonl holds the same documents with the LSA
# vectors, DIR/runs/lsa/queries.jsonl the query vectors.
set -euo pipefail
cd "$(dirname "$0")/.."

out=build/text-corpus
speed=1
repeat=1
update_docs=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift ;;
    --out=*) out="${1#--out=}" ;;
    --skip-speed) speed=0 ;;
    --update-docs) update_docs=1 ;;
    --repeat) repeat="$2"; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0"; exit 0 ;;
    *) echo "bench_text.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

bash scripts/setup.sh --bench
# Configure again: libxapian-dev may have just been installed (--bench).
if [ -f build/build.ninja ]; then cmake build > /dev/null; fi
flock /tmp/verity-build.lock nice -n 10 bash scripts/build.sh verity_bench_xapian verity_bench_text
py=/usr/bin/python3
xapian=build/bench/verity_bench_xapian
verity=build/bench/verity_bench_text
# Lucene 8: LuceneBench.java against Debian's jars (liblucene8-java).
jars=$(ls /usr/share/java/lucene-core-8*.jar /usr/share/java/lucene-analyzers-common-8*.jar \
  /usr/share/java/lucene-queryparser-8*.jar | tr '\n' ':')
mkdir -p "$out/lucene-classes"
javac -d "$out/lucene-classes" -cp "$jars" bench/text/LuceneBench.java
lucene_cp="$out/lucene-classes:$jars"

nice -n 10 $py bench/text/manpages.py --out "$out/manpages"
echo
echo "## Known-item (man pages): MRR@10, recall@1, recall@10"
nice -n 10 $py bench/text/baselines.py --corpus "$out/manpages/knownitem" --out "$out/runs" --xapian "$xapian" \
  --lucene-classpath "$lucene_cp" \
  | tee "$out/knownitem.md"
# Verity: BM25 per preset, the LSA vectors as its dense leg, RRF and convex
# fusion server-side (the convex weight chosen on train by verity_runs.py).
k="$out/manpages/knownitem"
nice -n 10 "$verity" known-item --docs "$k/docs.jsonl" --queries "$k/queries.tsv" --data "$out/verity-knownitem.db" \
  --out-dir "$out/runs" --vectors "$out/runs/lsa/docs.jsonl" --query-vectors "$out/runs/lsa/queries.jsonl" \
  --convex-weights "$(seq -s, 0 0.05 1)" > /dev/null
nice -n 10 $py bench/text/verity_runs.py --runs "$out/runs" --qrels "$k/qrels.tsv" | tee "$out/knownitem-verity.md"

if [ "$speed" = 1 ]; then
  nice -n 10 $py bench/text/scale_corpus.py --out "$out/scale"
  s="$out/scale"
  echo
  echo "## Speed at scale: build and single-thread search, k=10"
  : > "$s/speed.jsonl"
  # Verity: one thread (OMP_NUM_THREADS=1: the commit's analysis runs on
  # every core otherwise), the english analyzer without and with its
  # stopwords; each line also times the search at an old version.
  for stop in none english; do
    OMP_NUM_THREADS=1 nice -n 10 "$verity" speed --passages "$s/passages.jsonl" --queries "$s/queries.txt" \
      --data "$s/verity.db" --preset english --stopwords "$stop" --repeat "$repeat" | tee -a "$s/speed.jsonl"
  done
  for stop in none english; do  # english: Lucene's 33 stopwords, as EnglishAnalyzer skips them
    nice -n 10 "$xapian" speed --passages "$s/passages.jsonl" --queries "$s/queries.txt" --db "$s/xapian.db" \
      --stem english --stopwords "$stop" --repeat "$repeat" | tee -a "$s/speed.jsonl"
  done
  rm -rf "$s/xapian.db"
  nice -n 10 $py bench/text/fts5_speed.py --passages "$s/passages.jsonl" --queries "$s/queries.txt" \
    --db "$s/fts5.sqlite" --tokenizer porter --repeat "$repeat" | tee -a "$s/speed.jsonl"
  nice -n 10 java -cp "$lucene_cp" LuceneBench speed --passages "$s/passages.jsonl" --queries "$s/queries.txt" \
    --db "$s/lucene.db" --stem english --repeat "$repeat" | tee -a "$s/speed.jsonl"
  $py - "$s/speed.jsonl" <<'EOF' | tee "$out/speed.md"
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
print("| system | passages | text MB | build s | passages/s | MB/s | bytes/passage | queries | QPS | p50 µs | p99 µs |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    if "build_s" not in r:
        continue
    print("| %s | {:,} | %.1f | %.1f | {:,.0f} | %.2f | {:,.0f} | {:,} | {:,.0f} | %.0f | %.0f |".format(
        r["passages"], r["passages_per_s"], r["bytes_per_passage"], r["queries"], r["qps"])
        % (r["system"], r["text_mb"], r["build_s"], r["mb_per_s"], r["p50_us"], r["p99_us"]))
print()
print("Verity at an old version (after 10% rewritten and 5% deleted in new versions):")
print()
print("| system | read version | queries | QPS | p50 µs | p99 µs |")
print("|---|---|---|---|---|---|")
for r in rows:
    if "version" in r:
        print("| %s | %d | {:,} | {:,.0f} | %.0f | %.0f |".format(r["queries"], r["qps"])
              % (r["system"], r["version"], r["p50_us"], r["p99_us"]))
EOF
fi

if [ "$update_docs" = 1 ]; then
  tables="$out/tables.md"
  { echo "Run $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD)."; echo
    echo "Known-item (man pages):"; echo; sed -n '/^|/p' "$out/knownitem.md"
    sed -n '/^| verity/p' "$out/knownitem-verity.md"; echo
    sed -n '/^- /p' "$out/knownitem.md" "$out/knownitem-verity.md"
    if [ "$speed" = 1 ]; then echo; echo "Speed at scale (k=10, one thread):"; echo; cat "$out/speed.md"; fi
  } > "$tables"
  $py - "$tables" docs/benchmarks.md <<'EOF'
import sys
tables, doc = sys.argv[1:3]
begin, end = "<!-- bench-text tables begin -->", "<!-- bench-text tables end -->"
text = open(doc, encoding="utf-8").read()
if begin not in text or end not in text:
    sys.exit("bench_text.sh: %s has no '%s' ... '%s' markers" % (doc, begin, end))
head, rest = text.split(begin, 1)
with open(doc, "w", encoding="utf-8") as f:
    f.write(head + begin + "\n" + open(tables, encoding="utf-8").read() + end + rest.split(end, 1)[1])
print("bench_text.sh: tables written to " + doc, file=sys.stderr)
EOF
fi
