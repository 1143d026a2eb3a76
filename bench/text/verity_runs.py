#!/usr/bin/python3
"""Scores Verity's known-item runs (bench/text/verity_bench_text.cc) like the
baselines (bench/text/baselines.py): one Markdown table row per run, with
the train/test split of textbench.split_of. The convex fusion's dense weight
is chosen on the train split only (the same grid and tie rule as the
baselines' convex-train rows); the test split is reported, never tuned on.

    /usr/bin/python3 bench/text/verity_runs.py --runs build/text-corpus/runs \
        --qrels build/text-corpus/manpages/knownitem/qrels.tsv
"""

import argparse
import glob
import os
import re

import textbench

COLUMNS = ["system", "mrr@10", "recall@1", "recall@10", "train mrr@10", "test mrr@10",
           "train recall@10", "test recall@10"]


def row(name, run, qrels):
    m = textbench.metrics_by_split(run, qrels)
    out = {"system": name, **m["all"]}
    for split in ("train", "test"):
        out.update({"%s %s" % (split, key): m[split][key] for key in ("mrr@10", "recall@1", "recall@10")})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", required=True, help="the directory of verity-*.run")
    ap.add_argument("--qrels", required=True)
    args = ap.parse_args()
    qrels = textbench.read_qrels(args.qrels)
    rows, notes = [], []
    for name in ("verity-standard", "verity-english", "verity-lsa", "verity-rrf"):
        path = os.path.join(args.runs, name + ".run")
        if os.path.exists(path):
            rows.append(row(name, textbench.read_run(path), qrels))
    convex = {}
    for path in glob.glob(os.path.join(args.runs, "verity-convex-*.run")):
        convex[float(re.search(r"verity-convex-([0-9.]+)\.run$", path).group(1))] = textbench.read_run(path)
    if convex:
        if 0.5 in convex:
            rows.append(row("verity-convex-0.5", convex[0.5], qrels))
        train = [q for q in qrels if textbench.split_of(q) == "train"]
        best = max(convex, key=lambda w: (round(textbench.metrics(convex[w], qrels, train)["mrr@10"], 6),
                                          -abs(w - 0.5)))
        rows.append(row("verity-convex-train-%.2f" % best, convex[best], qrels))
        notes.append("verity-convex-train-%.2f: dense weight %.2f, text weight %.2f, chosen on train among %d "
                     "weights" % (best, best, 1 - best, len(convex)))
    print(textbench.format_table(rows, COLUMNS))
    print()
    for note in notes:
        print("- " + note)


if __name__ == "__main__":
    main()
