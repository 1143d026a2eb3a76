#!/usr/bin/python3
"""The speed-at-scale corpus of issue #26: >= 200k passages of real prose from
installed Debian documentation, and queries from its section titles.

Sources, in this order, each file sorted by path:
  1. the Linux kernel's documentation (linux-doc: Documentation/**/*.rst.gz,
     *.txt.gz and the extension-less text files; not the YAML bindings)
  2. Python's documentation sources (python3-doc: html/_sources/**/*.rst.txt)
  3. the GNU Info manuals (/usr/share/info/*.info*.gz)
  4. Debian changelogs and NEWS files (/usr/share/doc/*/changelog*.gz,
     NEWS*.gz; identical files once), only as many as it takes to reach
     --min-passages: 1-3 give about 130k passages, fewer than the 200k the
     benchmark asks for.
Each file is split into paragraphs (blank-line separated; RST/Info markup
lines such as title underlines and directives dropped); consecutive
paragraphs are merged until a passage holds >= --min-bytes (300), and a
paragraph longer than --max-bytes (800) is cut at line ends.

Writes under --out:
  passages.jsonl  {"id": "linux-doc/admin-guide/README.rst#3", "text": ...,
                   "document_id": "linux-doc/admin-guide/README.rst",
                   "metadata": {"source": "linux-doc"}}  (`verity import`
                   shape without "vector", docs/cli.md)
  queries.txt     one query per line: --queries (10,000) distinct section
                  titles of sources 1-3 (at least two words), chosen by a hash
                  of their text, so the same on every run
  manifest.json   counts per source, bytes, package versions
A second run with the same package versions and parameters does nothing.

    /usr/bin/python3 bench/text/scale_corpus.py --out build/text-corpus/scale
"""

import argparse
import glob
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys

TOOL_VERSION = 1
PACKAGES = ("linux-doc", "python3-doc")
KERNEL = "/usr/share/doc/linux-doc/Documentation"
PYTHON = "/usr/share/doc/python3-doc/html/_sources"
INFO = "/usr/share/info"

UNDERLINE = re.compile(r"^([=\-~^\"'`#*+_.:])\1{2,}\s*$")
DIRECTIVE = re.compile(r"^\s*\.\. ")  # RST directive / comment / target


def package_versions():
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\n", *PACKAGES],
                         capture_output=True, text=True).stdout
    return dict(line.split("\t") for line in out.splitlines() if "\t" in line)


def read_text(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        return f.read().replace("\r", "")


def clean_title(line):
    title = re.sub(r":[a-z]+:`([^`<]*)[^`]*`", r"\1", line.strip())  # :ref:`Text <target>`
    title = re.sub(r"[`*|]", "", title).strip()
    return re.sub(r"\s+", " ", title)


def paragraphs_and_titles(text):
    """(paragraphs, titles): markup lines dropped; a title is a line followed
    (or framed) by an underline of one repeated punctuation character."""
    lines = text.split("\n")
    paras, titles, cur = [], [], []
    for i, line in enumerate(lines):
        if UNDERLINE.match(line) or DIRECTIVE.match(line) or "\x1f" in line:  # \x1f: Info node separator
            if UNDERLINE.match(line) and i > 0 and lines[i - 1].strip() and not UNDERLINE.match(lines[i - 1]):
                titles.append(clean_title(lines[i - 1]))
            if cur:
                paras.append("\n".join(cur))
                cur = []
            continue
        if line.strip():
            cur.append(line.rstrip())
        elif cur:
            paras.append("\n".join(cur))
            cur = []
    if cur:
        paras.append("\n".join(cur))
    title_set = set(titles)
    return [p for p in paras if p.strip() not in title_set], titles


def cut_long(para, max_bytes):
    pieces, cur = [], ""
    for line in para.split("\n"):
        while len(line.encode()) > max_bytes:
            cut = line.rfind(" ", 0, max_bytes // 2)
            cut = cut if cut > 0 else max_bytes // 2
            if cur:
                pieces.append(cur)
                cur = ""
            pieces.append(line[:cut])
            line = line[cut:].lstrip()
        candidate = cur + "\n" + line if cur else line
        if cur and len(candidate.encode()) > max_bytes:
            pieces.append(cur)
            cur = line
        else:
            cur = candidate
    if cur:
        pieces.append(cur)
    return pieces


def passages(paras, min_bytes, max_bytes):
    out, cur = [], ""
    for para in paras:
        for piece in cut_long(para, max_bytes) if len(para.encode()) > max_bytes else [para]:
            candidate = cur + "\n\n" + piece if cur else piece
            if cur and len(candidate.encode()) > max_bytes:
                out.append(cur)
                cur = piece
            else:
                cur = candidate
            if len(cur.encode()) >= min_bytes:
                out.append(cur)
                cur = ""
    if cur.strip():
        out.append(cur)
    return out


def sources():
    """[(source, document id, path)] in corpus order."""
    kernel = sorted(p for p in glob.glob(KERNEL + "/**/*", recursive=True)
                    if os.path.isfile(p) and not os.path.islink(p) and p.endswith(".gz")
                    and (p.endswith((".rst.gz", ".txt.gz")) or "." not in os.path.basename(p)[:-3]))
    python = sorted(glob.glob(PYTHON + "/**/*.rst.txt", recursive=True))
    info = sorted(p for p in glob.glob(INFO + "/*.info*.gz") if not os.path.islink(p))
    changelogs, seen = [], set()
    for p in sorted(glob.glob("/usr/share/doc/*/changelog*.gz") + glob.glob("/usr/share/doc/*/NEWS*.gz")):
        real = os.path.realpath(p)
        if real in seen:
            continue
        seen.add(real)
        changelogs.append(p)
    out = [("linux-doc", "linux-doc/" + os.path.relpath(p, KERNEL)[:-3], p) for p in kernel]
    out += [("python3-doc", "python3-doc/" + os.path.relpath(p, PYTHON), p) for p in python]
    out += [("info", "info/" + os.path.basename(p)[:-3], p) for p in info]
    out += [("changelog", "changelog/" + os.path.relpath(p, "/usr/share/doc")[:-3], p) for p in changelogs]
    return out


def build(args):
    counts, titles, seen_text = {}, set(), set()
    total = text_bytes = 0
    with open(os.path.join(args.out, "passages.jsonl.tmp"), "w", encoding="utf-8") as f:
        for source, doc, path in sources():
            if source == "changelog" and total >= args.min_passages:
                break
            text = read_text(path)
            digest = hashlib.sha1(text.encode()).digest()
            if digest in seen_text:  # the same file under two packages
                continue
            seen_text.add(digest)
            paras, file_titles = paragraphs_and_titles(text)
            if source != "changelog":
                titles.update(t for t in file_titles if len(re.findall(r"\w+", t)) >= 2 and len(t) <= 120)
            for n, p in enumerate(passages(paras, args.min_bytes, args.max_bytes)):
                f.write(json.dumps({"id": "%s#%d" % (doc, n), "text": p, "document_id": doc,
                                    "metadata": {"source": source}}, ensure_ascii=False) + "\n")
                counts[source] = counts.get(source, 0) + 1
                total += 1
                text_bytes += len(p.encode())
    os.replace(os.path.join(args.out, "passages.jsonl.tmp"), os.path.join(args.out, "passages.jsonl"))
    chosen = sorted(titles, key=lambda t: hashlib.sha1(t.encode()).hexdigest())[:args.queries]
    with open(os.path.join(args.out, "queries.txt"), "w", encoding="utf-8") as f:
        for t in chosen:
            f.write(t + "\n")
    return {"passages": total, "text_bytes": text_bytes, "by_source": counts,
            "titles": len(titles), "queries": len(chosen)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--min-passages", type=int, default=200000)
    ap.add_argument("--min-bytes", type=int, default=300)
    ap.add_argument("--max-bytes", type=int, default=800)
    ap.add_argument("--queries", type=int, default=10000)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    params = {"tool_version": TOOL_VERSION, "packages": package_versions(), "min_passages": args.min_passages,
              "min_bytes": args.min_bytes, "max_bytes": args.max_bytes, "queries_wanted": args.queries}
    manifest_path = os.path.join(args.out, "manifest.json")
    if not args.force and os.path.exists(manifest_path):
        with open(manifest_path, encoding="utf-8") as f:
            old = json.load(f)
        if all(old.get(k) == v for k, v in params.items()):
            print("scale_corpus: %s is current (%d passages, %d queries); --force builds again"
                  % (args.out, old["passages"], old["queries"]), file=sys.stderr)
            return
    m = {**params, **build(args)}
    with open(manifest_path, "w", encoding="utf-8") as f:
        json.dump(m, f, indent=1, sort_keys=True)
        f.write("\n")
    print("scale_corpus: %d passages (%.1f MB of text; %s), %d queries -> %s"
          % (m["passages"], m["text_bytes"] / 1e6, ", ".join("%s %d" % kv for kv in sorted(m["by_source"].items())),
             m["queries"], args.out), file=sys.stderr)


if __name__ == "__main__":
    main()
