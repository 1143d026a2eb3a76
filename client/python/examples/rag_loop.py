#!/usr/bin/python3
"""The ingest-and-retrieve loop of a retrieval-augmented generation (RAG) app.

    PYTHONPATH=OUT_DIR /usr/bin/python3 client/python/examples/rag_loop.py --addr 127.0.0.1:7420

(OUT_DIR holds the stubs from client/python/generate.sh; verity_client itself
is found next to this folder.)

It creates a collection, splits a few small made-up documents into
overlapping word windows ("chunks"), embeds and ingests them in batches,
asks three questions with metadata filters through the context service
(``retrieve``: a search whose result the server writes to its retrieval log
before returning it), stitches the retrieved chunks back into passages (the
context a language model would be given), has a stand-in "language model"
answer and reports the answer back (``record_answer``), revises one document
and shows that a read at the older version still sees the old text.
Everything is deterministic, so the output is the same on every run except
for the retrieval ids and log record numbers the server assigns.

The embedding is a stand-in for a real embedding model: a hashed bag of
words (each word, lower-cased and crudely stemmed, adds +1 or -1 to one of
64 dimensions chosen by a stable hash). It finds chunks that share words with
the question, which is enough to show the loop; a real application would
call a sentence-embedding model here and use its dimension.
"""

import argparse
import hashlib
import os
import re
import sys
import textwrap

import numpy as np

# Run from the source tree without installing: verity_client is in
# client/python, the parent of this folder.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import verity_client  # noqa: E402

DIM = 64
CHUNK_WORDS = 20  # words per chunk
STRIDE = 4  # words between chunk starts, so neighbouring chunks overlap
BATCH = 50  # chunks per upsert call; each call is one version

DOCUMENTS = {
    "bees": {
        "title": "Notes on keeping honey bees",
        "year": 2021,
        "draft": False,
        "tags": ["nature", "farming"],
        "text": """
Keeping honey bees starts with a calm apiary site that gets morning sun and shelter from the
wind. In spring the beekeeper should inspect each hive every seven to ten days, looking for
eggs, young larvae and a laying queen. Swarm cells along the bottom of the frames mean the
colony is preparing to swarm; give it more room by adding a super or split the colony. Feed
sugar syrup only when stores are low, because spring nectar usually arrives with the first
fruit blossom. Varroa mites are the most serious pest: count mites on a sticky board after
treatment and treat again in late summer when the count rises. Smoke calms the bees, but use
it sparingly and work slowly with the frames. In autumn reduce the entrance to keep out wasps
and leave at least twenty kilograms of honey for the winter. A strong colony clusters through
the cold months and needs no inspection until the weather warms. Record every inspection in a
notebook: the date, the temper of the colony, the brood pattern and the honey stores. Harvest
honey when most cells are capped with wax, and extract it at room temperature so it flows
freely.""",
    },
    "bicycle": {
        "title": "Bicycle maintenance handbook",
        "year": 2023,
        "draft": False,
        "tags": ["repair", "outdoors"],
        "text": """
Regular maintenance keeps a bicycle safe and quiet. Before every ride squeeze both brake levers
and check that the pads meet the rim or rotor firmly. Inflate road tyres to 80 psi and touring
tyres a little lower; check the pressure weekly with a gauge because tubes lose air slowly.
Clean the chain with a rag and degreaser every few hundred kilometres, then apply one drop of
lubricant to each roller and wipe off the excess. A chain that skips under load is worn:
measure it with a chain checker and replace it before it wears out the cassette. Gears that
hesitate usually need a small turn of the barrel adjuster on the rear derailleur. Tighten stem
and handlebar bolts to the torque printed beside them; a torque wrench prevents cracked carbon
parts. To fix a puncture, remove the wheel, lever off one side of the tyre, find the hole by
pumping air into the tube and listening, and patch it or fit a new tube. Run your fingers
inside the tyre to find the thorn or glass that caused it. Once a year replace brake cables
and inspect the wheel bearings for play.""",
    },
    "sourdough": {
        "title": "Sourdough bread at home",
        "year": 2022,
        "draft": False,
        "tags": ["cooking"],
        "text": """
Sourdough bread needs only flour, water, salt and an active starter. Feed the starter with
equal weights of flour and water and use it when it has doubled and smells pleasantly sour.
Mix the dough and let it rest for an hour before adding the salt; this rest, called the
autolyse, makes the gluten stretchy. During the bulk rise fold the dough every thirty minutes
for the first two hours. Let the dough rise until it has grown by about half, which takes four
to six hours in a warm kitchen. Shape it into a tight round loaf, place it in a floured basket
and prove it overnight in the fridge; the cold slows the yeast and deepens the flavour. Preheat
the oven with a heavy pot inside to two hundred and fifty degrees. Score the loaf with a razor
blade so steam can escape, then bake it covered for twenty minutes and uncovered for another
twenty five until the crust is deep brown. Let the bread cool for an hour before slicing, or
the crumb will be gummy. Keep the starter in the fridge between bakes and feed it once a
week.""",
    },
    "lighthouse": {
        "title": "A lighthouse keeper's year",
        "year": 2019,
        "draft": True,
        "tags": ["history", "sea"],
        "text": """
The lighthouse keeper lit the lamp at sunset and trimmed the wick every four hours through the
night. Paraffin was carried up one hundred and twelve steps in brass cans, and the lens was
polished each morning with a soft linen cloth. In fog the keeper wound the clockwork that
sounded the horn every thirty seconds, sometimes for two days without rest. Supply boats came
once a month when the sea allowed, bringing flour, coal, letters and newspapers weeks out of
date. The keeper kept a log of the weather, passing ships and every change in the light. In
winter storms waves broke over the gallery and salt crusted the windows of the lantern room.
The station was automated in the nineteen eighties, and the last keeper left the island with
his logbooks and a brass telescope. Today visitors climb the tower in summer and read the old
logs in a small museum beside the keeper's cottage. Draft note: check the dates of automation
and the number of steps against the archive.""",
    },
    "tomatoes": {
        "title": "Tomatoes on a balcony",
        "year": 2024,
        "draft": False,
        "tags": ["farming", "cooking"],
        "text": """
Sow tomato seeds indoors in early spring, six to eight weeks before the last frost, and keep the
seedlings on a bright windowsill. Move them outside when the nights stay above ten degrees,
first for a few hours a day so they harden off. Plant each one deep in a large pot with rich
compost and push a stake in beside it. Water in the morning at the base of the plant, never on
the leaves, and feed with a potash fertiliser once the first flowers open. Pinch out the side
shoots that grow between stem and leaf every week. Pick the fruit when it is fully coloured and
slightly soft, and make sauce from the last green ones in autumn.""",
    },
}

# The revision ingested after the first load: one sentence of the handbook
# changes, so only the chunks that overlap it are written again.
REVISION = ("bicycle", "Inflate road tyres to 80 psi", "Inflate road tyres to 95 psi")

QUESTIONS = [
    ("How often should the beekeeper inspect the hive in spring?", 'tags any ["farming"] and draft = false'),
    ("How many hours should the dough rise in a warm kitchen?", "year >= 2022 and draft = false"),
    ("What pressure should road tyres be inflated to?", 'doc = "bicycle"'),
]

STOPWORDS = set(
    """a an and are at be because before by can do does for from has have how i in into is it its
    me of on one or should so that the them then this to until use what when which with
    your""".split()
)


def tokens(text):
    """Lower-cased words without stopwords, with a crude plural stemming."""
    out = []
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if word in STOPWORDS:
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


def embed(text):
    """The stand-in embedding model: a hashed bag of words in DIM dimensions,
    L2-normalised. hashlib, not hash(): Python salts hash() per process."""
    v = np.zeros(DIM, dtype=np.float32)
    for word in tokens(text):
        h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        v[h % DIM] += 1.0 if (h >> 32) & 1 else -1.0
    norm = float(np.linalg.norm(v))
    if norm == 0.0:  # no content words: any fixed unit vector will do
        v[0], norm = 1.0, 1.0
    return v / norm


def chunk(doc_id, doc, text=None):
    """Overlapping windows of CHUNK_WORDS words, every STRIDE words; the last
    window ends at the last word. Each chunk is a record dict."""
    words = (text or doc["text"]).split()
    starts = list(range(0, max(len(words) - CHUNK_WORDS, 0) + 1, STRIDE))
    if starts[-1] + CHUNK_WORDS < len(words):
        starts.append(len(words) - CHUNK_WORDS)
    records = []
    for i, start in enumerate(starts):
        piece = " ".join(words[start : start + CHUNK_WORDS])
        records.append(
            {
                "id": f"{doc_id}#{i:03d}",
                "vector": embed(piece),
                "text": piece,
                "document_id": doc_id,
                "metadata": {
                    "doc": doc_id,
                    "title": doc["title"],
                    "year": doc["year"],
                    "draft": doc["draft"],
                    "tags": doc["tags"],
                    "chunk": i,
                    "start_word": start,
                },
            }
        )
    return records


def assemble_context(hits, start_words):
    """Stitches the hits back into passages: overlapping windows of the same
    document become one passage, using where each chunk starts in its
    document (``start_words``: chunk id -> first word, the application's own
    chunk table). Returns (document_id, first_word, last_word, text) in the
    order of each document's best hit."""
    words_by_doc = {}
    for hit in hits:
        words = words_by_doc.setdefault(hit["document_id"], {})
        for i, word in enumerate(hit["text"].split()):
            words[start_words[hit["id"]] + i] = word
    passages = []
    for doc_id, words in words_by_doc.items():
        run = []
        for pos in sorted(words):
            if run and pos != run[-1] + 1:
                passages.append((doc_id, run[0], run[-1], " ".join(words[p] for p in run)))
                run = []
            run.append(pos)
        passages.append((doc_id, run[0], run[-1], " ".join(words[p] for p in run)))
    return passages


def print_hits(hits):
    for rank, hit in enumerate(hits, 1):
        print(f"  {rank}. {hit['id']}  distance {hit['distance']:.4f}  (row version {hit['row_version']})")


def print_context(passages):
    print("context:")
    for doc_id, first, last, text in passages:
        print(textwrap.fill(text, width=96, initial_indent=f"  [{doc_id} words {first}-{last}] ",
                            subsequent_indent="    "))


# The prompt the application sends to its model, versioned in Verity's
# prompt registry: a retrieval that names it is logged with the exact version
# its production label pointed at, so an audit shows which prompt produced
# which answer (docs/prompts.md).
PROMPT_NAME = "rag-demo"
PROMPT_TEMPLATE = (
    "Answer the question using only the context below. If the context does not "
    "contain the answer, say so.\n\nContext:\n{{context}}\n\nQuestion: {{question}}\nAnswer:"
)


def fake_llm(question, retrieval):
    """The stand-in language model: "answers" with the text of the best
    chunk in the context. A real application would send the question and
    retrieval["context"] to a model here."""
    in_context = [c for c in retrieval["chunks"] if c["in_context"]]
    return in_context[0]["text"] if in_context else "I don't know."


def ask(db, collection, question, filter, k, start_words, at=None):
    """Embeds the question and retrieves the top k chunks that pass the
    filter through the context service, which logs the retrieval. Returns
    (retrieval, passages)."""
    retrieval = db.retrieve(
        collection, embed(question), k=k, query_text=question, filter=filter, at=at, prompt=PROMPT_NAME
    )
    return retrieval, assemble_context(retrieval["chunks"], start_words)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addr", default="127.0.0.1:7420", help="verityd address (default %(default)s)")
    parser.add_argument("--collection", default="rag_demo", help="collection to (re)create (default %(default)s)")
    parser.add_argument("--k", type=int, default=4, help="chunks retrieved per question (default %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the collection at the end instead of dropping it")
    args = parser.parse_args()

    with verity_client.Client(args.addr, timeout=30.0) as db:
        print(f"verity RAG example: server {args.addr} is {db.health()}")

        # Start from scratch so that every run prints the same versions.
        try:
            db.drop_collection(args.collection)
        except verity_client.VerityError as e:
            if e.code != "NOT_FOUND":
                raise
        info = db.create_collection(args.collection, dimension=DIM, metric="cosine")
        print(f"collection {info['name']}: dimension {info['dimension']}, metric {info['metric']}")

        # ----- ingest --------------------------------------------------------
        chunks = [c for doc_id, doc in DOCUMENTS.items() for c in chunk(doc_id, doc)]
        batches = [chunks[i : i + BATCH] for i in range(0, len(chunks), BATCH)]
        for n, batch in enumerate(batches, 1):
            version, applied = db.upsert(args.collection, batch)
            print(f"batch {n}: {applied} chunks -> version {version}")
        loaded = version
        print(f"ingested {len(chunks)} chunks from {len(DOCUMENTS)} documents in {len(batches)} batches; "
              f"head version {loaded}")
        print(f"count: all={db.count(args.collection)} "
              f"draft={db.count(args.collection, filter='draft = true')} "
              f"since_2022={db.count(args.collection, filter='year >= 2022')}")

        start_words = {c["id"]: c["metadata"]["start_word"] for c in chunks}

        # ----- the prompt: registered once, then read by its label ------------
        try:
            prompt = db.get_prompt(PROMPT_NAME)
        except verity_client.VerityError as e:
            if e.code != "NOT_FOUND":
                raise
            prompt = db.create_prompt(PROMPT_NAME, PROMPT_TEMPLATE, author="rag_loop.py",
                                      message="first version", labels=["production"])
        print(f"prompt {PROMPT_NAME}@{prompt['version']} (production): variables {', '.join(prompt['variables'])}")

        # ----- questions: retrieve, answer, record the answer ------------------
        for n, (question, filter) in enumerate(QUESTIONS, 1):
            retrieval, passages = ask(db, args.collection, question, filter, args.k, start_words)
            hits = retrieval["chunks"]
            print()
            print(f"Q{n}: {question}")
            print(f"filter: {filter}")
            print(f"retrieval {retrieval['retrieval_id']} at version {retrieval['version']}, "
                  f"context sha256 {retrieval['context_sha256'][:16]}")
            print(f"top hit: {hits[0]['id']} ({DOCUMENTS[hits[0]['document_id']]['title']})")
            print_hits(hits)
            print_context(passages)
            text, _ = db.render_prompt(retrieval["prompt"], {"context": retrieval["context"], "question": question})
            print(f"prompt: {retrieval['prompt']} (rendered: {len(text)} characters)")
            answer = fake_llm(question, retrieval)
            record = db.record_answer(retrieval["retrieval_id"], answer, model="fake-llm (top chunk)",
                                      prompt_tokens=retrieval["context_tokens"],
                                      completion_tokens=(len(answer) + 3) // 4)
            print(f"answer: {textwrap.shorten(answer, width=80)}")
            print(f"answer recorded: log record {record['seq']}")

        # ----- a revision, and reading the past --------------------------------
        doc_id, old, new = REVISION
        doc = DOCUMENTS[doc_id]
        revised = chunk(doc_id, doc, doc["text"].replace(old, new))
        before = {c["id"]: c["text"] for c in chunks if c["document_id"] == doc_id}
        changed = [c for c in revised if before.get(c["id"]) != c["text"]]
        version, applied = db.upsert(args.collection, changed)
        print()
        print(f"revised {doc_id}: {applied} changed chunks upserted -> version {version}")

        question, filter = QUESTIONS[2]
        for label, at in ((f"head (version {version})", None), (f"version {loaded}, before the revision", loaded)):
            retrieval, passages = ask(db, args.collection, question, filter, args.k, start_words, at=at)
            hits = retrieval["chunks"]
            answer = re.search(r"\b(\d+) psi\b", " ".join(p[3] for p in passages))
            print(f"at {label}: read version {retrieval['version']}, top hit {hits[0]['id']} "
                  f"row version {hits[0]['row_version']}, answer: {answer.group(0) if answer else 'not found'}")
        first_changed = changed[0]["id"]
        print(f"get {first_changed} at version {loaded}: {db.get(args.collection, first_changed, at=loaded)['text']!r}")
        print(f"get {first_changed} at head: {db.get(args.collection, first_changed)['text']!r}")
        old_rows = sum(1 for _ in db.scroll(args.collection, at=loaded, filter=f'doc = "{doc_id}"', limit=16))
        print(f"scroll at version {loaded}: {old_rows} {doc_id} chunks; "
              f"versions: {[v['version'] for v in db.list_versions(args.collection)]}")

        if not args.keep:
            db.drop_collection(args.collection)
        print("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
