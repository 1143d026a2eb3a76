#!/usr/bin/python3
"""Draws the recall-QPS plot of a benchmark run (scripts/bench.sh).

One panel per dataset (and size); one line per graph system over its ef
sweep, exact searches as single points at recall 1. QPS on a log scale,
higher and further right is better, as on ann-benchmarks.org.

usage: plot.py --results results.jsonl --out plot.png
"""
import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STYLE = {
    "verity": ("tab:red", "o", "-"),
    "verity-batch": ("tab:red", "o", ":"),
    "hnswlib": ("tab:blue", "s", "-"),
    "hnswlib-native": ("tab:cyan", "s", "-"),
    "faiss-hnsw": ("tab:green", "^", "-"),
    "verity-exact": ("black", "*", ""),
    "faiss-flat": ("tab:gray", "*", ""),
}
LABEL = {
    "verity": "Verity (1 thread)",
    "verity-batch": "Verity batch (all threads)",
    "hnswlib": "hnswlib (same flags)",
    "hnswlib-native": "hnswlib -march=native",
    "faiss-hnsw": "FAISS IndexHNSWFlat",
    "verity-exact": "exact (Verity ExactKnn)",
    "faiss-flat": "FAISS IndexFlatL2",
}


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                row = json.loads(line)
                # Recall-QPS passes only: not skipped systems, gRPC clients or
                # other benchmarks' lines (answer cache, retrieval log: "bench").
                if "skipped" not in row and "clients" not in row and "bench" not in row:
                    rows.append(row)
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    rows = load(args.results)
    panels = sorted({(r["dataset"], r["n"]) for r in rows}, key=lambda p: (p[0] != "fashion-mnist-784", p[1]))
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 5), squeeze=False)
    for ax, (dataset, n) in zip(axes[0], panels):
        systems = sorted({r["system"] for r in rows if r["dataset"] == dataset and r["n"] == n})
        for system in systems:
            points = sorted(
                ((r["recall_at_10"], r["qps"]) for r in rows
                 if r["dataset"] == dataset and r["n"] == n and r["system"] == system))
            color, marker, line = STYLE.get(system, ("tab:purple", "x", "-"))
            ax.plot([p[0] for p in points], [p[1] for p in points], color=color, marker=marker,
                    linestyle=line or "None", label=LABEL.get(system, system), markersize=5)
        ax.set_yscale("log")
        ax.set_xlim(left=min(0.85, ax.get_xlim()[0]), right=1.002)
        ax.set_xlabel("recall@10")
        ax.set_ylabel("queries per second (log)")
        ax.set_title(f"{dataset}, n={n:,}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
    fig.suptitle("Recall vs throughput, k=10, M=16, ef_construction=200 (scripts/bench.sh)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)


if __name__ == "__main__":
    main()
