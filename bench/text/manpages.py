#!/usr/bin/python3
"""The man-page corpus of issue #26: Debian's `manpages` and `manpages-dev`.

Renders every page of the two packages to plain text (man -l, MANWIDTH=80,
no hyphenation, `col -bx` strips overstrikes and tabs), splits it into its
sections (NAME, SYNOPSIS, DESCRIPTION, ...) and paragraphs, and writes, under
--out (docs/benchmarks.md, "Text retrieval (issue #26) — baselines"):

  chunks.jsonl            every section of every page, chunked by paragraph
                          (small paragraphs merged up to --chunk-bytes, long
                          ones split at line ends); records in `verity import`
                          shape without "vector" (docs/cli.md):
                          {"id": "chmod.2#3", "text": ..., "document_id":
                           "chmod.2", "metadata": {"section": "2",
                           "heading": "DESCRIPTION", "page": "chmod"}}
  rendered.jsonl          {"page": "chmod.2", "text": the whole rendering}
  knownitem/docs.jsonl    one record per page: all its text except NAME (same
                          shape; id = document_id = "chmod.2")
  knownitem/chunks.jsonl  chunks.jsonl without the NAME chunks: the same
                          documents, chunked, for a chunk-level system
  knownitem/queries.tsv   qid TAB query: one per distinct NAME description
                          (the part after " - "); qid = the first page (by
                          name) with that description
  knownitem/qrels.tsv     TREC qrels "qid 0 docid 1": every page whose NAME
                          description is the query's is relevant
  manifest.json           package versions, tool version, counts, skipped
                          pages and why

Symbolic links and `.so` redirect pages are skipped: they render another
page's text, so as documents they would duplicate it (the manifest lists
them). Output is sorted and deterministic; a second run with the same package
versions and tool version finds the manifest and does nothing (--force
renders again).

    /usr/bin/python3 bench/text/manpages.py --out build/text-corpus/manpages
"""

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import textwrap
from concurrent.futures import ProcessPoolExecutor

TOOL_VERSION = 1  # bump when the output changes for the same packages
PACKAGES = ("manpages", "manpages-dev")
MAN_DIR = "/usr/share/man/"


def package_versions():
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\n", *PACKAGES],
                         check=True, capture_output=True, text=True).stdout
    return dict(line.split("\t") for line in out.splitlines())


def page_files():
    """(kept, skipped): kept = sorted (page name, path); skipped = (path, why)."""
    out = subprocess.run(["dpkg", "-L", *PACKAGES], check=True, capture_output=True, text=True).stdout
    kept, skipped = [], []
    for path in sorted(set(out.splitlines())):
        # /usr/share/man/manN/NAME.gz only: not the docs, not translations.
        if not re.fullmatch(re.escape(MAN_DIR) + r"man[0-9][^/]*/[^/]+\.gz", path):
            continue
        if os.path.islink(path):
            skipped.append((path, "symlink -> " + os.readlink(path)))
            continue
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
            first = f.readline().strip()
        if first.startswith(".so "):
            skipped.append((path, "redirect " + first))
            continue
        kept.append((os.path.basename(path)[:-3], path))
    return kept, skipped


def render(path):
    env = dict(os.environ, MANWIDTH="80", LANG="C.UTF-8", LC_ALL="C.UTF-8",
               MANROFFOPT="-rHY=0", MANPAGER="cat", PAGER="cat")
    env.pop("MAN_KEEP_FORMATTING", None)  # off: col -b then has only overstrikes to strip
    man = subprocess.run(["man", "-l", path], env=env, capture_output=True, check=True)
    col = subprocess.run(["col", "-bx"], input=man.stdout, env=env, capture_output=True, check=True)
    return col.stdout.decode("utf-8", errors="replace")


def clean_line(line):
    """Drops the 7-column body indent's common part and groff's justification
    spaces (runs of spaces inside a line become one)."""
    line = line.rstrip()
    stripped = line.lstrip(" ")
    indent = len(line) - len(stripped)
    return " " * indent + re.sub(r" {2,}", " ", stripped)


def parse_sections(text):
    """[(heading, [lines])] of a rendered page, header and footer dropped.
    A heading is a non-blank line in column 0 (subsection titles are
    indented, so they stay inside their section)."""
    lines = text.split("\n")
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    if len(nonblank) < 2:
        return []
    body = lines[nonblank[0] + 1:nonblank[-1]]  # without the header and the footer
    sections = []
    for line in body:
        if line.strip() and not line.startswith(" "):
            sections.append((line.strip(), []))
        elif sections:
            sections[-1][1].append(clean_line(line))
    # The body indent (7 columns in man's default layout) adds nothing.
    out = []
    for heading, sec in sections:
        indents = [len(x) - len(x.lstrip(" ")) for x in sec if x.strip()]
        cut = min(indents) if indents else 0
        out.append((heading, [x[cut:] for x in sec]))
    return out


def paragraphs(lines):
    """Blank-line separated paragraphs of a section, as text."""
    paras, cur = [], []
    for line in lines + [""]:
        if line.strip():
            cur.append(line)
        elif cur:
            paras.append("\n".join(cur))
            cur = []
    return paras


def split_long(para, limit):
    """A paragraph longer than `limit` bytes, cut at line ends (a single line
    longer than the limit at a space, or hard)."""
    pieces, cur = [], ""
    for line in para.split("\n"):
        while len(line.encode()) > limit:
            cut = line.rfind(" ", 0, limit // 2) if " " in line[:limit // 2] else limit // 2
            cut = cut if cut > 0 else limit // 2
            if cur:
                pieces.append(cur)
                cur = ""
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ")
        candidate = cur + "\n" + line if cur else line
        if len(candidate.encode()) > limit and cur:
            pieces.append(cur)
            cur = line
        else:
            cur = candidate
    if cur:
        pieces.append(cur)
    return pieces


def chunk_section(lines, limit):
    """Paragraphs merged while the merged text stays within `limit` bytes;
    longer paragraphs split."""
    chunks, cur = [], ""
    for para in paragraphs(lines):
        for piece in split_long(para, limit) if len(para.encode()) > limit else [para]:
            candidate = cur + "\n\n" + piece if cur else piece
            if cur and len(candidate.encode()) > limit:
                chunks.append(cur)
                cur = piece
            else:
                cur = candidate
    if cur:
        chunks.append(cur)
    return [textwrap.dedent(c) for c in chunks]


def name_description(name_lines):
    """The NAME line's description: the part after the first " - " (None if
    the NAME section has none)."""
    line = " ".join(x.strip() for x in name_lines if x.strip())
    for sep in (" - ", " \u2010 ", " \u2013 ", " \u2014 "):
        if sep in line:
            return re.sub(r"\s+", " ", line.split(sep, 1)[1]).strip()
    return None


def process(item):
    page, path = item
    return page, render(path)


def split_page_name(page):
    """"chmod.2" -> ("chmod", "2"); "sigevent.3type" -> ("sigevent", "3type")."""
    name, _, section = page.rpartition(".")
    return name, section


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n")


def build(out, jobs, limit):
    versions = package_versions()
    kept, skipped = page_files()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        rendered = dict(pool.map(process, kept, chunksize=8))
    chunks, ki_chunks, docs, descriptions, problems = [], [], [], {}, []
    for page, _ in kept:
        text = rendered[page]
        name, section = split_page_name(page)
        sections = parse_sections(text)
        n = 0
        body = []
        for heading, lines in sections:
            for chunk in chunk_section(lines, limit):
                record = {"id": "%s#%d" % (page, n), "text": chunk, "document_id": page,
                          "metadata": {"section": section, "heading": heading, "page": name}}
                chunks.append(record)
                if heading != "NAME":
                    ki_chunks.append(record)
                n += 1
            if heading != "NAME":
                body.append(heading + "\n" + "\n".join(paragraphs(lines)))
        name_lines = next((lines for heading, lines in sections if heading == "NAME"), None)
        description = name_description(name_lines) if name_lines else None
        if description is None:
            problems.append((page, "no NAME section" if name_lines is None else "NAME has no ' - '"))
            continue
        docs.append({"id": page, "text": "\n\n".join(body), "document_id": page,
                     "metadata": {"section": section, "page": name}})
        descriptions.setdefault(description, []).append(page)
    os.makedirs(os.path.join(out, "knownitem"), exist_ok=True)
    write_jsonl(os.path.join(out, "rendered.jsonl"), ({"page": p, "text": rendered[p]} for p, _ in kept))
    write_jsonl(os.path.join(out, "chunks.jsonl"), chunks)
    write_jsonl(os.path.join(out, "knownitem", "chunks.jsonl"), ki_chunks)
    write_jsonl(os.path.join(out, "knownitem", "docs.jsonl"), docs)
    queries = sorted((sorted(pages)[0], desc, sorted(pages)) for desc, pages in descriptions.items())
    with open(os.path.join(out, "knownitem", "queries.tsv"), "w", encoding="utf-8") as f:
        for qid, desc, _ in queries:
            f.write("%s\t%s\n" % (qid, desc.replace("\t", " ")))
    with open(os.path.join(out, "knownitem", "qrels.tsv"), "w", encoding="utf-8") as f:
        for qid, _, pages in queries:
            for page in pages:
                f.write("%s 0 %s 1\n" % (qid, page))
    manifest = {
        "tool_version": TOOL_VERSION, "packages": versions, "chunk_bytes": limit,
        "pages": len(kept), "chunks": len(chunks), "knownitem_docs": len(docs),
        "knownitem_chunks": len(ki_chunks), "queries": len(queries),
        "queries_with_several_relevant": sum(1 for q in queries if len(q[2]) > 1),
        "skipped": [{"path": p, "why": why} for p, why in skipped],
        "not_in_knownitem": [{"page": p, "why": why} for p, why in problems],
    }
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    return manifest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--jobs", type=int, default=2, help="rendering processes (default 2)")
    ap.add_argument("--chunk-bytes", type=int, default=1500, help="chunk size limit (default 1500)")
    ap.add_argument("--force", action="store_true", help="render even if the cache matches")
    args = ap.parse_args()
    manifest_path = os.path.join(args.out, "manifest.json")
    if not args.force and os.path.exists(manifest_path):
        with open(manifest_path, encoding="utf-8") as f:
            old = json.load(f)
        if (old.get("tool_version") == TOOL_VERSION and old.get("packages") == package_versions()
                and old.get("chunk_bytes") == args.chunk_bytes):
            print("manpages: %s is current (%d pages, %d queries); --force renders again"
                  % (args.out, old["pages"], old["queries"]), file=sys.stderr)
            return
    m = build(args.out, args.jobs, args.chunk_bytes)
    print("manpages: %d pages (%d skipped: symlinks and .so redirects), %d chunks, %d known-item docs, "
          "%d queries (%d with several relevant pages) -> %s"
          % (m["pages"], len(m["skipped"]), m["chunks"], m["knownitem_docs"], m["queries"],
             m["queries_with_several_relevant"], args.out), file=sys.stderr)


if __name__ == "__main__":
    main()
