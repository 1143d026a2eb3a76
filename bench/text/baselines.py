#!/usr/bin/python3
"""Known-item baselines of issue #26 on the man-page corpus (manpages.py):
SQLite FTS5 bm25() (unicode61, porter), Xapian BM25Weight (through
verity_bench_xapian, C++), Lucene 8 BM25 (LuceneBench.java), a dense leg trained here (LSA: TF-IDF + truncated
SVD) and the fusions of a BM25 leg with it (RRF k=60, convex min-max) as
Verity's hybrid search defines them (engine/src/text/fusion.h).

    /usr/bin/python3 bench/text/baselines.py --corpus build/text-corpus/manpages/knownitem \
        --out build/text-corpus/runs [--xapian build/bench/verity_bench_xapian]

Writes one TREC run file per system (depth --depth, 100 by default: the
fusion's leg limit) under --out, the LSA vectors under --out/lsa (docs.jsonl
and chunks.jsonl in `verity import` shape with "vector", queries.jsonl
{"qid", "text", "vector"}) for a hybrid run in Verity, results.json, and
prints a Markdown table. Every figure is computed by textbench.metrics (the
same code as evaluate.py).

Hold-out: the LSA dimension and the convex fusion's weight are chosen on the
train half of the queries (textbench.split_of) only; the table shows both
halves. FTS5, Xapian and RRF (k=60) are not tuned.
"""

import argparse
import json
import math
import os
import re
import sqlite3
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import textbench  # noqa: E402


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# --- SQLite FTS5 -------------------------------------------------------------

def fts5_query(text):
    """The query as an OR of its whitespace-separated tokens, each one quoted
    (a double quote inside doubled) so that FTS5's syntax characters (- * :
    ^ ( ) AND OR NOT NEAR) are only text. Tokens without a letter or digit
    are left out (they would be empty phrases)."""
    tokens = [t for t in text.split() if re.search(r"\w", t)]
    return " OR ".join('"%s"' % t.replace('"', '""') for t in tokens)


def run_fts5(docs, queries, tokenizer, depth):
    """{qid: [(docid, score)]} (score = -bm25(), higher better), seconds."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE d USING fts5(docid UNINDEXED, body, tokenize=%s)"
               % ("'porter unicode61'" if tokenizer == "porter" else "'unicode61'"))
    db.executemany("INSERT INTO d(docid, body) VALUES (?, ?)", ((r["id"], r["text"]) for r in docs))
    db.commit()
    run = {}
    start = time.perf_counter()
    for qid, text in queries:
        rows = db.execute("SELECT docid, bm25(d) FROM d WHERE d MATCH ? ORDER BY bm25(d) LIMIT ?",
                          (fts5_query(text), depth)).fetchall()
        run[qid] = [(docid, -score) for docid, score in rows]
    return run, time.perf_counter() - start


# --- Xapian (C++: verity_bench_xapian) -----------------------------------------

def run_xapian(binary, corpus, stem, depth, out, k1_b=None, stopwords=False):
    """BM25Weight's defaults (k1 1, b 0.5) unless k1_b = (k1, b)."""
    tag = "xapian-%s" % stem + ("-k1_%g-b_%g" % k1_b if k1_b else "") + ("-stop" if stopwords else "")
    path = os.path.join(out, tag + ".xapian-out")  # read back, then written as a run by main()
    extra = ["--k1", str(k1_b[0]), "--b", str(k1_b[1])] if k1_b else []
    extra += ["--stopwords", "english"] if stopwords else []
    subprocess.run([binary, "known-item", "--docs", os.path.join(corpus, "docs.jsonl"),
                    "--queries", os.path.join(corpus, "queries.tsv"), "--stem", stem,
                    "--depth", str(depth), "--run", path, "--tag", tag, *extra],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            qid, _, docid, _, score, _ = line.split()
            run.setdefault(qid, []).append((docid, float(score)))
    os.remove(path)
    return run


def run_lucene(classpath, corpus, stem, depth, out):
    """Lucene 8 through bench/text/LuceneBench.java (compiled by scripts/bench_text.sh)."""
    path = os.path.join(out, "lucene-%s.lucene-out" % stem)
    subprocess.run(["java", "-cp", classpath, "LuceneBench", "known-item", "--docs", os.path.join(corpus, "docs.jsonl"),
                    "--queries", os.path.join(corpus, "queries.tsv"), "--stem", stem, "--depth", str(depth),
                    "--run", path, "--tag", "lucene-" + stem], check=True)
    run = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            qid, _, docid, _, score, _ = line.split()
            run.setdefault(qid, []).append((docid, float(score)))
    os.remove(path)
    return run


# --- LSA ---------------------------------------------------------------------

STOPWORDS = set("""a about above after again all also an and any are as at be been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers him his how i if in into is it its itself just me more most my
no nor not now of off on once only or other our out over own same she should so some such than
that the their them then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your""".split())


def lsa_tokens(text):
    return [t for t in re.findall(r"[a-z0-9_]+", text.lower()) if len(t) > 1 and t not in STOPWORDS]


class Lsa:
    """TF-IDF (1 + log tf, log(N / df), terms in >= 2 documents, rows
    L2-normalised) and a truncated SVD of the document-term matrix, computed
    from the documents' Gram matrix (documents << terms). A text's vector is
    its TF-IDF row projected on the top `dim` term singular vectors,
    L2-normalised (so cosine = dot product)."""

    def __init__(self, texts, max_dim):
        counts = [self._counts(t) for t in texts]
        df = {}
        for c in counts:
            for term in c:
                df[term] = df.get(term, 0) + 1
        vocab = sorted(t for t, n in df.items() if n >= 2)
        self.index = {t: i for i, t in enumerate(vocab)}
        self.idf = np.array([math.log(len(texts) / df[t]) for t in vocab], dtype=np.float64)
        x = np.stack([self._row(c) for c in counts])
        gram = x @ x.T
        eigval, eigvec = np.linalg.eigh(gram)
        order = np.argsort(eigval)[::-1][:max_dim]
        sing = np.sqrt(np.maximum(eigval[order], 1e-12))
        # Term singular vectors: V = X^T U S^-1 (column j for singular value j).
        self.projection = (x.T @ eigvec[:, order]) / sing
        self.vocab_size = len(vocab)

    @staticmethod
    def _counts(text):
        c = {}
        for t in lsa_tokens(text):
            c[t] = c.get(t, 0) + 1
        return c

    def _row(self, counts):
        row = np.zeros(len(self.index), dtype=np.float64)
        for term, n in counts.items():
            i = self.index.get(term)
            if i is not None:
                row[i] = (1 + math.log(n)) * self.idf[i]
        norm = np.linalg.norm(row)
        return row / norm if norm > 0 else row

    def embed(self, texts, dim, batch=512):
        parts = []
        for i in range(0, len(texts), batch):  # batches: a dense row is vocabulary-wide
            rows = np.stack([self._row(self._counts(t)) for t in texts[i:i + batch]])
            parts.append(rows @ self.projection[:, :dim])
        v = np.concatenate(parts) if parts else np.zeros((0, dim))
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        return v / np.where(norms > 0, norms, 1)


def dense_run(doc_ids, doc_vecs, queries, query_vecs, depth):
    sims = query_vecs @ doc_vecs.T
    run = {}
    for (qid, _), row in zip(queries, sims):
        top = np.argsort(-row, kind="stable")[:depth]
        run[qid] = [(doc_ids[i], float(row[i])) for i in top]
    return run


def write_vectors(path, records, vecs):
    with open(path, "w", encoding="utf-8") as f:
        for r, v in zip(records, vecs):
            f.write(json.dumps({**r, "vector": [float("%.6g" % x) for x in v]}, ensure_ascii=False) + "\n")


# --- evaluation ----------------------------------------------------------------

def ranked(run):
    return {q: [d for d, _ in hits] for q, hits in run.items()}


def train_mrr(run, qrels):
    return textbench.metrics(ranked(run), qrels, [q for q in qrels if textbench.split_of(q) == "train"])["mrr@10"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default="build/text-corpus/manpages/knownitem")
    ap.add_argument("--out", default="build/text-corpus/runs")
    ap.add_argument("--xapian", help="verity_bench_xapian binary (Xapian rows are skipped without it)")
    ap.add_argument("--lucene-classpath", help="LuceneBench's classes and Lucene's jars (Lucene rows skipped without)")
    ap.add_argument("--depth", type=int, default=100, help="hits per query per leg (default 100)")
    ap.add_argument("--dims", default="64,128,256,384,512", help="LSA dimensions to try on train")
    ap.add_argument("--no-vectors", action="store_true", help="do not write the LSA vectors")
    args = ap.parse_args()
    os.makedirs(os.path.join(args.out, "lsa"), exist_ok=True)
    docs = read_jsonl(os.path.join(args.corpus, "docs.jsonl"))
    queries = textbench.read_queries(os.path.join(args.corpus, "queries.tsv"))
    qrels = textbench.read_qrels(os.path.join(args.corpus, "qrels.tsv"))
    runs, notes = {}, {}

    for tok in ("unicode61", "porter"):
        runs["fts5-" + tok], secs = run_fts5(docs, queries, tok, args.depth)
        notes["fts5-" + tok] = "%.0f queries/s (Python sqlite3 %s)" % (len(queries) / secs, sqlite3.sqlite_version)
    if args.xapian:
        for stem in ("none", "english"):
            runs["xapian-" + stem] = run_xapian(args.xapian, args.corpus, stem, args.depth, args.out)
        # Verity's defaults (TextIndexConfig: k1 1.2, b 0.75), for reference; not tuned.
        runs["xapian-english(k1=1.2,b=0.75)"] = run_xapian(args.xapian, args.corpus, "english", args.depth,
                                                          args.out, (1.2, 0.75))
        notes["xapian-english(k1=1.2,b=0.75)"] = "BM25Weight with Verity's default k1 and b (not tuned)"
        runs["xapian-english-stop"] = run_xapian(args.xapian, args.corpus, "english", args.depth, args.out,
                                                 stopwords=True)
        notes["xapian-english-stop"] = "with Lucene's 33 English stopwords left out (as the speed runs compare)"

    if args.lucene_classpath:
        for stem in ("none", "english"):
            runs["lucene-" + stem] = run_lucene(args.lucene_classpath, args.corpus, stem, args.depth, args.out)

    # LSA: fit once at the largest dimension, choose the dimension on train.
    dims = [int(d) for d in args.dims.split(",")]
    lsa = Lsa([r["text"] for r in docs], max(dims))
    doc_ids = [r["id"] for r in docs]
    by_dim = {}
    for dim in dims:
        dv, qv = lsa.embed([r["text"] for r in docs], dim), lsa.embed([t for _, t in queries], dim)
        by_dim[dim] = (dv, qv, dense_run(doc_ids, dv, queries, qv, args.depth))
    best_dim = max(dims, key=lambda d: (train_mrr(by_dim[d][2], qrels), -d))
    dv, qv, runs["lsa-%d" % best_dim] = by_dim[best_dim]
    notes["lsa-%d" % best_dim] = "dimension chosen on train among %s (train MRR@10: %s); %d terms" % (
        args.dims, ", ".join("%d: %.3f" % (d, train_mrr(by_dim[d][2], qrels)) for d in dims), lsa.vocab_size)
    dense = runs["lsa-%d" % best_dim]
    if not args.no_vectors:
        write_vectors(os.path.join(args.out, "lsa", "docs.jsonl"), docs, dv)
        chunks = read_jsonl(os.path.join(args.corpus, "chunks.jsonl"))
        write_vectors(os.path.join(args.out, "lsa", "chunks.jsonl"), chunks,
                      lsa.embed([c["text"] for c in chunks], best_dim))
        write_vectors(os.path.join(args.out, "lsa", "queries.jsonl"),
                      [{"qid": q, "text": t} for q, t in queries], qv)

    # Fusion of each BM25 leg with the dense leg (legs cut at --depth).
    for leg in [n for n in ("xapian-english", "fts5-porter", "lucene-english") if n in runs]:
        runs["rrf(%s,lsa)" % leg] = textbench.fuse([runs[leg], dense], "rrf", k=args.depth)
        runs["convex-0.5(%s,lsa)" % leg] = textbench.fuse([runs[leg], dense], "convex", k=args.depth)
        grid = [i / 20 for i in range(21)]
        tuned = {a: textbench.fuse([runs[leg], dense], "convex", k=args.depth, weights=[1 - a, a]) for a in grid}
        best = max(grid, key=lambda a: (round(train_mrr(tuned[a], qrels), 6), -abs(a - 0.5)))
        name = "convex-train-%.2f(%s,lsa)" % (best, leg)
        runs[name] = tuned[best]
        notes[name] = "dense weight %.2f, text weight %.2f, chosen on train (grid 0..1 step 0.05)" % (best, 1 - best)

    rows, results = [], {}
    for name, run in runs.items():
        tag = re.sub(r"[^\w.-]+", "_", name).strip("_")
        textbench.write_run(os.path.join(args.out, tag + ".run"), run, tag)
        m = textbench.metrics_by_split(ranked(run), qrels)
        results[name] = {**m, "note": notes.get(name, "")}
        row = {"system": name, **m["all"]}
        for split in ("train", "test"):
            row.update({"%s %s" % (split, key): m[split][key] for key in ("mrr@10", "recall@1", "recall@10")})
        rows.append(row)
    with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    counts = {split: m[split]["queries"] for split in ("all", "train", "test")}
    print("%(all)d queries (train %(train)d, test %(test)d); %%d documents\n" % counts % len(docs))
    print(textbench.format_table(rows, ["system", "mrr@10", "recall@1", "recall@10", "train mrr@10",
                                        "test mrr@10", "train recall@10", "test recall@10"]))
    print()
    for name, note in notes.items():
        print("- %s: %s" % (name, note))


if __name__ == "__main__":
    main()
