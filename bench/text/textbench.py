"""Shared pieces of the text-retrieval benchmark (issue #26): the known-item
files, TREC run files, the metrics, the train/test split and score fusion.
Standard library only (numpy is not needed here).

File formats (docs/benchmarks.md, "Text retrieval (issue #26) — baselines"):
  queries.tsv  qid TAB query text
  qrels.tsv    qid 0 docid relevance      (TREC qrels; relevance > 0 counts)
  run file     qid Q0 docid rank score tag (TREC run; the 4-column form
               qid docid rank score is read too). Ranks are 1-based; a docid
               listed twice for a query counts at its first (best) rank.
"""

import hashlib
import math

K = 10  # the cut-off of MRR@10 and recall@10


def read_queries(path):
    """[(qid, text)] in file order."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                qid, text = line.split("\t", 1)
                out.append((qid, text))
    return out


def read_qrels(path):
    """{qid: set(relevant docids)}."""
    rel = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 4 and float(parts[3]) > 0:
                rel.setdefault(parts[0], set()).add(parts[2])
    return rel


def read_run(path):
    """{qid: [docid, ...]} best first (by the rank column), duplicates dropped."""
    rows = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) == 6:
                qid, _, docid, rank, _score, _tag = parts
            elif len(parts) == 4:
                qid, docid, rank, _score = parts
            else:
                raise ValueError("%s:%d: expected 'qid Q0 docid rank score tag' or 'qid docid rank score', "
                                 "got %d columns" % (path, n, len(parts)))
            rows.setdefault(qid, []).append((int(rank), docid))
    run = {}
    for qid, hits in rows.items():
        seen, ranked = set(), []
        for _, docid in sorted(hits, key=lambda h: h[0]):
            if docid not in seen:
                seen.add(docid)
                ranked.append(docid)
        run[qid] = ranked
    return run


def write_run(path, run, tag, scores=None):
    """run: {qid: [(docid, score)]} best first."""
    with open(path, "w", encoding="utf-8") as f:
        for qid in sorted(run):
            for rank, (docid, score) in enumerate(run[qid], 1):
                f.write("%s Q0 %s %d %.17g %s\n" % (qid, docid, rank, score, tag))


def split_of(qid):
    """'train' or 'test', fixed by a hash of the query id (its first page's
    name), so that the split does not depend on the file's order or size."""
    return "train" if int(hashlib.sha1(qid.encode("utf-8")).hexdigest()[:8], 16) % 2 == 0 else "test"


def metrics(run, qrels, qids=None):
    """MRR@10 (reciprocal rank of the first relevant document in the top 10),
    recall@1 and recall@10 (the share of a query's relevant documents in its
    top 1 / top 10), each averaged over the queries of `qids` (default: all
    queries of qrels; a query the run lacks scores 0)."""
    qids = sorted(qrels) if qids is None else sorted(qids)
    mrr = r1 = r10 = 0.0
    for qid in qids:
        rel = qrels[qid]
        ranked = run.get(qid, [])[:K]
        first = next((i for i, d in enumerate(ranked) if d in rel), None)
        if first is not None:
            mrr += 1.0 / (first + 1)
        r1 += sum(1 for d in ranked[:1] if d in rel) / len(rel)
        r10 += sum(1 for d in ranked if d in rel) / len(rel)
    n = max(len(qids), 1)
    return {"queries": len(qids), "mrr@10": mrr / n, "recall@1": r1 / n, "recall@10": r10 / n}


def metrics_by_split(run, qrels):
    """{"all": ..., "train": ..., "test": ...}."""
    out = {"all": metrics(run, qrels)}
    for split in ("train", "test"):
        out[split] = metrics(run, qrels, [q for q in qrels if split_of(q) == split])
    return out


def fuse(legs, method, k=10, rrf_k=60, weights=None):
    """Fuses per-query rankings exactly as Verity's hybrid search specifies
    (engine/src/text/fusion.h): legs = [{qid: [(docid, score)] best first,
    higher score better}], each cut to its leg limit by the caller.
    rrf: sum of w / (rrf_k + rank), rank from 1. convex: sum of w * min-max
    normalised score / sum of w (a leg whose hits all score the same gives
    each 1; a leg that did not return the doc adds 0). Ties: docid
    ascending. Returns {qid: [(docid, fused score)]} (top k)."""
    weights = weights or [1.0] * len(legs)
    out = {}
    for qid in sorted(set().union(*legs)):
        fused = {}
        for leg, w in zip(legs, weights):
            hits = leg.get(qid, [])
            if not hits:
                continue
            if method == "rrf":
                for rank, (docid, _) in enumerate(hits, 1):
                    fused[docid] = fused.get(docid, 0.0) + w / (rrf_k + rank)
            elif method == "convex":
                lo = min(s for _, s in hits)
                hi = max(s for _, s in hits)
                for docid, s in hits:
                    norm = 1.0 if hi == lo else (s - lo) / (hi - lo)
                    fused[docid] = fused.get(docid, 0.0) + w * norm / sum(weights)
            else:
                raise ValueError("fusion method: 'rrf' or 'convex', not %r" % method)
        out[qid] = sorted(fused.items(), key=lambda x: (-x[1], x[0]))[:k]
    return out


def format_table(rows, columns):
    """A Markdown table of dict rows."""
    def cell(v):
        if isinstance(v, float):
            return "%.4f" % v if abs(v) < 10 else "{:,.0f}".format(v) if math.isfinite(v) else str(v)
        if isinstance(v, int):
            return "{:,}".format(v)
        return str(v)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append("| " + " | ".join(cell(r.get(c, "–")) for c in columns) + " |")
    return "\n".join(lines)
