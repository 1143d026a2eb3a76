#!/usr/bin/python3
"""SQLite FTS5 on the speed-at-scale passages (scale_corpus.py): index build
rate, bytes on disk, single-thread QPS and p50/p99 at k (10), as
verity_bench_xapian's `speed` mode measures Xapian. Prints one JSON line.

Through Python's sqlite3 module: each query's time includes the module's
call overhead (a few µs, measured here on an empty-result query and printed
as "overhead_us"), small beside the query itself on 200k passages.

    /usr/bin/python3 bench/text/fts5_speed.py --passages P.jsonl --queries Q.txt --db FILE \
        [--tokenizer porter|unicode61] [--k 10] [--repeat 1]

Queries: each whitespace-separated token quoted, joined with OR
(baselines.fts5_query), ordered by bm25().
"""

import argparse
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from baselines import fts5_query  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passages", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--tokenizer", default="porter", choices=("porter", "unicode61"))
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    for suffix in ("", "-journal", "-wal"):
        if os.path.exists(args.db + suffix):
            os.remove(args.db + suffix)

    start = time.perf_counter()
    db = sqlite3.connect(args.db)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("CREATE VIRTUAL TABLE p USING fts5(pid UNINDEXED, body, tokenize=%s)"
               % ("'porter unicode61'" if args.tokenizer == "porter" else "'unicode61'"))
    text_bytes = 0

    def rows():
        nonlocal text_bytes
        with open(args.passages, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                text_bytes += len(r["text"].encode())
                yield r["id"], r["text"]

    with db:
        db.executemany("INSERT INTO p(pid, body) VALUES (?, ?)", rows())
    build_s = time.perf_counter() - start
    passages = db.execute("SELECT count(*) FROM p").fetchone()[0]
    db.close()
    disk = os.path.getsize(args.db)

    db = sqlite3.connect(args.db)
    with open(args.queries, encoding="utf-8") as f:
        queries = [fts5_query(line.strip()) for line in f if line.strip()]
    sql = "SELECT pid, bm25(p) FROM p WHERE p MATCH ? ORDER BY bm25(p) LIMIT ?"
    hits = sum(len(db.execute(sql, (q, args.k)).fetchall()) for q in queries)  # warm-up, untimed
    empty = [time.perf_counter()]
    for _ in range(1000):
        db.execute(sql, ('"zzzqqqxxnotaword"', args.k)).fetchall()
    overhead_us = (time.perf_counter() - empty[0]) * 1e3
    us = []
    s0 = time.perf_counter()
    for _ in range(args.repeat):
        for q in queries:
            a = time.perf_counter()
            hits += len(db.execute(sql, (q, args.k)).fetchall())
            us.append((time.perf_counter() - a) * 1e6)
    search_s = time.perf_counter() - s0
    us.sort()
    print(json.dumps({
        "system": "fts5-" + args.tokenizer, "sqlite": sqlite3.sqlite_version, "passages": passages,
        "text_mb": text_bytes / 1e6, "build_s": build_s, "passages_per_s": passages / build_s,
        "mb_per_s": text_bytes / 1e6 / build_s, "disk_bytes": disk, "bytes_per_passage": disk / passages,
        "queries": len(us), "k": args.k, "qps": len(us) / search_s,
        "p50_us": us[len(us) // 2], "p99_us": us[min(len(us) - 1, int(0.99 * len(us)))],
        "overhead_us": overhead_us, "hits": hits}))


if __name__ == "__main__":
    main()
