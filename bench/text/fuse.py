#!/usr/bin/python3
"""Fuses TREC run files as Verity's hybrid search specifies
(engine/src/text/fusion.h; textbench.fuse): the offline reference a hybrid
run from Verity is compared with (its text leg's run and its dense leg's run
fused here should rank as its server-side hybrid does).

    /usr/bin/python3 bench/text/fuse.py TEXT.run DENSE.run [MORE.run ...] --out FUSED.run \
        [--method rrf|convex] [--rrf-k 60] [--weights 1,1] [--leg-limit 100] [--k 100]

Each run's scores must be higher-is-better (write a dense leg's distance as
its negative: min-max normalisation then flips it as fusion.h does). Each
leg is cut to its --leg-limit best hits before fusing.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import textbench  # noqa: E402


def read_scored_run(path, limit):
    rows = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 6:
                qid, _, docid, rank, score, _ = parts
            elif len(parts) == 4:
                qid, docid, rank, score = parts
            else:
                continue
            rows.setdefault(qid, []).append((int(rank), docid, float(score)))
    return {q: [(d, s) for _, d, s in sorted(hits)[:limit]] for q, hits in rows.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", metavar="RUN")
    ap.add_argument("--out", required=True)
    ap.add_argument("--method", default="rrf", choices=("rrf", "convex"))
    ap.add_argument("--rrf-k", type=int, default=60)
    ap.add_argument("--weights", help="comma-separated, one per run (default all 1)")
    ap.add_argument("--leg-limit", type=int, default=100)
    ap.add_argument("--k", type=int, default=100, help="fused hits kept per query")
    args = ap.parse_args()
    weights = [float(w) for w in args.weights.split(",")] if args.weights else None
    if weights and len(weights) != len(args.runs):
        ap.error("--weights: %d values for %d runs" % (len(weights), len(args.runs)))
    legs = [read_scored_run(p, args.leg_limit) for p in args.runs]
    fused = textbench.fuse(legs, args.method, k=args.k, rrf_k=args.rrf_k, weights=weights)
    textbench.write_run(args.out, fused, "fused-" + args.method)


if __name__ == "__main__":
    main()
