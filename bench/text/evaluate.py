#!/usr/bin/python3
"""Scores a TREC run file against the known-item qrels: MRR@10, recall@1,
recall@10, on all queries and on the train / test halves (textbench.split_of).
Every system of the text benchmark (the baselines and Verity's runner) is
scored by this one piece of code.

    /usr/bin/python3 bench/text/evaluate.py RUNFILE [RUNFILE ...] \
        [--qrels build/text-corpus/manpages/knownitem/qrels.tsv] [--json]

Run file: "qid Q0 docid rank score tag" per line (or "qid docid rank score");
docids are the page names of knownitem/docs.jsonl ("chmod.2"). A chunk-level
system maps each chunk to its document_id and keeps a document's best rank
(a docid repeated for a query counts at its first rank only).
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import textbench  # noqa: E402

DEFAULT_QRELS = "build/text-corpus/manpages/knownitem/qrels.tsv"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", metavar="RUNFILE")
    ap.add_argument("--qrels", default=DEFAULT_QRELS)
    ap.add_argument("--json", action="store_true", help="one JSON object per run instead of a table")
    args = ap.parse_args()
    qrels = textbench.read_qrels(args.qrels)
    rows = []
    for path in args.runs:
        run = textbench.read_run(path)
        unknown = sorted(set(run) - set(qrels))
        if unknown:
            print("evaluate: %s: %d query ids not in %s (first: %s); ignored"
                  % (path, len(unknown), args.qrels, unknown[0]), file=sys.stderr)
        by_split = textbench.metrics_by_split(run, qrels)
        if args.json:
            print(json.dumps({"run": path, **by_split}, sort_keys=True))
        for split, m in by_split.items():
            rows.append({"run": os.path.basename(path), "split": split, **m})
    if not args.json:
        print(textbench.format_table(rows, ["run", "split", "queries", "mrr@10", "recall@1", "recall@10"]))


if __name__ == "__main__":
    main()
