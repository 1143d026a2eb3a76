#!/usr/bin/python3
"""The groundedness benchmark's cases (issue #25), built from real text.

Source text: Debian's own documents, installed as Debian packages
(scripts/setup.sh lists them): the Debian project history (debian-history)
and the Debian FAQ (debian-faq). Each numbered section is one document.
Antonyms come from WordNet 3.0 (wordnet-base): its '!' pointers.

Labels come from how each case is made (the FactCC approach): a source
sentence of a document is kept as it is or rewritten by a meaning-keeping
rule (faithful), or rewritten by a meaning-changing rule (unfaithful). Every
case is then given three times, with the document's text chunked three ways:
one chunk per sentence, one per paragraph ("passage"), or the whole section
as one chunk ("document"). docs/groundedness.md, "Benchmark", lists the kinds.

Deterministic: no set or dict iteration order reaches the output (sorted
everywhere), and every choice comes from random.Random seeded with a fixed
seed and the case's name. The split (train / test) is by document: a
document is in "test" when the first byte of SHA-256 of its name, mod 10,
is below 3 (about 30 %).

Usage:
  make_cases.py --out FILE [--per-kind N]  writes the cases as JSON lines
  make_cases.py --self-check               checks determinism (two runs with
      different PYTHONHASHSEED give the same bytes) and that every case's
      answer differs from its source the way its kind says; exits 1 if not.
Only the Python standard library; runs with /usr/bin/python3.
"""

import argparse
import gzip
import hashlib
import json
import os
import random
import re
import subprocess
import sys

CORPORA = [
    ("history", "/usr/share/doc/debian-history/docs/project-history.en.txt.gz"),
    ("faq", "/usr/share/doc/debian/FAQ/debian-faq.en.txt.gz"),
]
WORDNET = "/usr/share/wordnet"
# WordNet's data files are read by the scorer's lexicon generator.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "engine", "src",
                                "groundedness"))
import make_lexicon  # noqa: E402
SEED = 25
DEFAULT_PER_KIND = 120
CHUNKINGS = ["sentence", "passage", "document"]

FAITHFUL = ["copy", "deletion", "fusion", "number_words", "number_spacing", "number_scale",
            "initial_common_word"]
UNFAITHFUL = ["entity_swap", "number_change", "negation_added", "negation_removed", "antonym",
              "role_swap", "role_deletion", "cross_document"]
KINDS = FAITHFUL + UNFAITHFUL

# Words that start a sentence without being names (lower-cased when the
# sentence no longer starts with them).
COMMON_OPENERS = {
    "a", "after", "all", "an", "any", "as", "at", "before", "both", "by", "during", "each", "even", "every",
    "for", "from", "if", "in", "it", "its", "many", "more", "most", "much", "on", "one", "other", "some",
    "such", "that", "the", "their", "there", "these", "they", "this", "those", "to", "two", "we", "when",
    "while", "with", "you", "your",
}
STOP = {
    "a", "about", "also", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did",
    "do", "does", "for", "from", "had", "has", "have", "he", "her", "his", "i", "if", "in", "into", "is", "it",
    "its", "may", "more", "most", "of", "on", "or", "our", "she", "should", "so", "some", "such", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "too", "very",
    "was", "we", "were", "what", "when", "which", "while", "who", "will", "with", "would", "you", "your",
}
NEGATIONS = {"not", "never", "no", "none", "nor", "neither", "nothing", "nobody", "nowhere", "without"}
IRREGULAR = {"led", "wrote", "took", "made", "became", "began", "left", "ran", "built", "found", "gave",
             "came", "went", "said", "took", "chose", "held", "kept", "met", "sent", "spent", "won", "writes",
             "leads", "takes", "makes", "runs", "says", "works", "provides", "maintains", "uses", "holds"}
AUXILIARIES = ["is", "was", "are", "were", "has", "have", "had", "can", "could", "will", "would", "should",
               "does", "did", "must", "may"]
# Adverbs whose deletion keeps a positive sentence true.
SAFE_ADVERBS = ["also", "really", "actually", "certainly", "clearly", "explicitly", "quickly", "formally",
                "indeed", "particularly", "especially", "significantly", "jointly", "directly", "eventually",
                "originally", "completely", "fully", "simply", "already", "recently", "finally"]
# Sentence-initial connectives that add no claim, none of them in the v2
# scorer's list of sentence openers (so v2 takes them for names).
INITIAL_WORDS = ["Historically", "Interestingly", "Incidentally", "Remarkably", "Naturally", "Broadly",
                 "Crucially", "Evidently"]
MONTHS = r"(January|February|March|April|May|June|July|August|September|October|November|December)"
SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"]
# Antonym sources too vague or too common to give a clear contradiction.
ANTONYM_SKIP = {"be", "have", "do", "one", "make", "get", "give", "take", "go", "come", "use", "see", "say",
                "can", "will", "may", "well", "also", "still", "even", "just", "only", "here", "there", "up",
                "down", "in", "out", "on", "off", "over", "under", "so", "all", "same", "own", "new", "long",
                "several", "many", "much", "few", "more", "most", "less", "least", "any", "some", "other", "far",
                "like", "very", "too", "first", "last", "next", "now", "then", "ever", "never", "always", "not",
                "no", "yes", "back", "forward", "early", "late", "right", "left", "main", "general", "old"}

WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d+(?:[.,]\d+)*")
NUMBER_RE = re.compile(r"(?<![\w.,/-])\d+(?:[.,]\d+)*(?![\w/-])(?![.,]\d)")
NAME_TOKEN = r"[A-Z][A-Za-z0-9]*(?:[-./][A-Z0-9][A-Za-z0-9]*)*(?![\w-])"
NAME_RE = re.compile(r"(?<![\w./-])" + NAME_TOKEN + r"(?: " + NAME_TOKEN + r")*")
NAME_STOP = {"I", "A", "An", "The", "This", "That", "These", "Those", "It", "In", "On", "At", "By", "For",
             "If", "As", "With", "See", "Chapter", "Section", "Note", "OK", "Yes", "No", "NOT", "January",
             "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"}


# ------------------------------------------------------------------ corpus

def read_documents():
    """[(doc_id, [paragraph text...])], paragraphs cleaned to prose."""
    docs = []
    for corpus, path in CORPORA:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            lines = f.read().replace("\u00a0", " ").split("\n")
        start = next(i for i, l in enumerate(lines) if l.startswith("Chapter 1."))
        heading, paras, block, in_heading = None, [], [], False
        def flush_block():
            if block:
                paras.append(" ".join(s.strip() for s in block))
                block.clear()
        def flush_doc():
            flush_block()
            kept = [p for p in (clean_paragraph(p) for p in paras) if p]
            if heading and kept:
                docs.append((corpus + ":" + heading, kept))
            paras.clear()
        for line in lines[start:]:
            if not line.strip():
                flush_block()
                in_heading = False
            elif not line[0].isspace():
                if in_heading:
                    heading += " " + line.strip()
                else:
                    flush_doc()
                    heading, in_heading = line.strip(), True
            else:
                in_heading = False
                block.append(line)
        flush_doc()
    return docs


def clean_paragraph(p):
    p = re.sub(r"\s*\(https?:[^)]*\)", "", p)
    p = re.sub(r"\^\[\d+\]\s*", "", p)
    p = re.sub(r"^[*+-] ", "", p.strip())
    p = re.sub(r"\s+", " ", p).strip()
    p = p.replace(" .", ".").replace(" ,", ",")
    if "http" in p or "@" in p or "`" in p or "$ " in p or "/etc/" in p or "# " in p:
        return None
    if not p.endswith(".") or len(p.split()) < 6:
        return None
    return p


SPLIT_RE = re.compile(r"(?<=[.!?])[\"”)]?\s+(?=[A-Z\"“(])")
ABBREV_END = re.compile(r"(\b(?:e\.g|i\.e|etc|Mr|Mrs|Dr|vs|cf|al|approx|St|No)\.|\b[A-Z]\.)$")


def split_sentences(paragraph):
    parts, out = SPLIT_RE.split(paragraph), []
    for part in parts:
        if out and ABBREV_END.search(out[-1]):
            out[-1] += " " + part
        else:
            out.append(part)
    return [s.strip() for s in out if s.strip()]


def words(text):
    return WORD_RE.findall(text)


def content(text):
    return [w.lower() for w in words(text) if w.lower() not in STOP and len(w) > 2]


def split_of(doc_id):
    return "test" if hashlib.sha256(doc_id.encode()).digest()[0] % 10 < 3 else "train"


def good_source(s):
    n = len(s.split())
    return 6 <= n <= 45 and s[:1].isupper() and not SPLIT_RE.search(s) and s.endswith(".") and ":" not in s[-3:] and "?" not in s and "“" not in s \
        and s.count('"') % 2 == 0 and s.count("(") == s.count(")")


# ------------------------------------------------------------------ wordnet

def load_antonyms():
    """{word: {pos: sorted antonyms}} from WordNet's '!' pointers (adj, adv,
    verb), read by the scorer's own lexicon generator."""
    pairs = {}
    for pos in ("adj", "adv", "verb"):
        synsets, pointers = make_lexicon.read_antonym_pointers(os.path.join(WORDNET, "data." + pos))
        for a, b in make_lexicon.antonym_pairs(synsets, pointers):
            if "_" in a or a == b:
                continue
            pairs.setdefault((a, pos), set()).add(b.replace("_", " "))
    out = {}
    for (word, pos), ants in sorted(pairs.items()):
        out.setdefault(word, {})[pos] = sorted(ants)
    return out


# ------------------------------------------------------------------ rules

def cap_first(s):
    return s[:1].upper() + s[1:]


# Words the corpus writes in lower case somewhere (set by build()): a
# sentence-initial word among them is not a name.
LOWER_VOCAB = set()
# WordNet's verb lemmas (set by build()).
VERBS = set()


def is_verb_form(w):
    return w in AUXILIARIES or w in IRREGULAR or any(
        w.endswith(suffix) and w[:len(w) - len(suffix)] in VERBS for suffix in ("s", "es", "d", "ed"))


def lower_first_if_common(s):
    first = re.match(r"[A-Za-z']*", s).group(0)
    common = first.lower() in COMMON_OPENERS or (first.lower() in LOWER_VOCAB and not first.isupper())
    return s[:1].lower() + s[1:] if common and first else s


def shape(name):
    return "".join("D" if any(ch.isdigit() for ch in w) else "U" if w.isupper() else "T" for w in name.split())


def names_in(sentence, initial=False):
    """Name spans (start, end, text) that do not open the sentence (with
    `initial`, also one that does when its first word is never written in
    lower case in the corpus)."""
    out = []
    for m in NAME_RE.finditer(sentence):
        text = m.group(0)
        start = m.start()
        toks = text.split(" ")
        while toks and toks[0] in NAME_STOP:
            start += len(toks[0]) + 1
            toks = toks[1:]
        opens = start == 0 and not (initial and toks and toks[0].lower() not in LOWER_VOCAB)
        if not toks or opens or (len(toks) == 1 and len(toks[0]) < 2):
            continue
        if all(w.lower() in LOWER_VOCAB for w in toks):  # "There", "Release": common words, capitalised
            continue
        text = " ".join(toks)
        out.append((start, start + len(text), text))
    return out


def number_words(s, rng):
    cands = [m for m in NUMBER_RE.finditer(s) if m.group(0).isdigit() and 2 <= int(m.group(0)) <= 20
             and not re.search(MONTHS + r" $|[(:]$", s[:m.start()]) and not s[m.end():m.end() + 1] in (")", ":")]
    word_cands = [m for m in re.finditer(r"\b(" + "|".join(SMALL[2:]) + r")\b(?!-)", s)]
    if cands:
        m = rng.choice(cands)
        return s[:m.start()] + SMALL[int(m.group(0))] + s[m.end():], m.group(0) + " -> " + SMALL[int(m.group(0))]
    if word_cands:
        m = rng.choice(word_cands)
        d = str(SMALL.index(m.group(0)))
        return s[:m.start()] + d + s[m.end():], m.group(0) + " -> " + d
    return None


def number_spacing(s, rng):
    cands = [m for m in NUMBER_RE.finditer(s) if "," in m.group(0) or "." in m.group(0)
             or (m.group(0).isdigit() and int(m.group(0)) >= 1000 and not 1900 <= int(m.group(0)) <= 2099)]
    if not cands:
        return None
    m = rng.choice(cands)
    n = m.group(0)
    if "," in n:
        new = n.replace(",", ", ")
    elif "." in n:
        new = n.replace(".", ". ")
    else:
        new = "{:,}".format(int(n))
        if rng.random() < 0.5:
            new = new.replace(",", ", ")
    return s[:m.start()] + new + s[m.end():], n + " -> " + new


def number_scale(s, rng):
    cands = []
    for m in NUMBER_RE.finditer(s):
        n = m.group(0).replace(",", "")
        model = re.search(r"[A-Z]\w* $", s[:m.start()])  # "Motorola 68000": a name, not a quantity
        if n.isdigit() and int(n) >= 1000 and int(n) % 100 == 0 and not 1900 <= int(n) <= 2099 and not model:
            cands.append(m)
    for m in re.finditer(r"(\d+)%", s):
        cands.append(m)
    if not cands:
        return None
    m = rng.choice(cands)
    if m.group(0).endswith("%"):
        new = m.group(1) + " percent"
    else:
        v = int(m.group(0).replace(",", ""))
        unit, div = ("million", 1000000) if v >= 1000000 else ("thousand", 1000)
        q = v / div
        new = ("%d" % q if q == int(q) else ("%.1f" % q).rstrip("0")) + " " + unit
    return s[:m.start()] + new + s[m.end():], m.group(0) + " -> " + new


def number_change(s, rng):
    cands = list(NUMBER_RE.finditer(s))
    if not cands:
        return None
    m = rng.choice(cands)
    n = m.group(0)
    if "." in n:
        head, last = n[:-1], int(n[-1])
        new = head + str(last + 1 if last < 9 else last - 1)
    else:
        v = int(n.replace(",", ""))
        if 1900 <= v <= 2099:
            nv = v + rng.choice([-3, -2, -1, 1, 2, 3])
        elif v < 10:
            nv = v + rng.choice([1, 2, 3])
        else:
            nv = int(round(v * rng.choice([0.5, 0.7, 1.3, 1.5, 2.0])))
            if nv == v:
                nv = v + 1
        new = "{:,}".format(nv) if "," in n else str(nv)
    return s[:m.start()] + new + s[m.end():], n + " -> " + new


NEG_RE = re.compile(r"\b(not|never)\s+(?!only\b)|n't\b|\bcannot\b")


def negation_added(s, rng):
    if NEG_RE.search(s) or re.search(r"\b(no|not|never)\b", s, re.I):
        return None
    for aux in AUXILIARIES:
        m = re.search(r"\b" + aux + r"\b", s)
        if m:
            return s[:m.end()] + " not" + s[m.end():], aux + " -> " + aux + " not"
    return None


def negation_removed(s, rng):
    m = NEG_RE.search(s)
    if not m:
        return None
    tok = m.group(0)
    if tok == "cannot":
        rep = "can"
    elif tok == "n't":
        prefix = s[:m.start()]
        if prefix.endswith("wo"):
            return s[:m.start() - 2] + "will" + s[m.end():], "won't -> will"
        if prefix.endswith("ca"):
            return s[:m.start()] + "n" + s[m.end():], "can't -> can"
        rep = ""
    else:
        rep = ""
    return s[:m.start()] + rep + s[m.end():], tok.strip() + " -> " + (rep or "(removed)")


def inflect_like(surface, lemma, antonym):
    if surface == lemma:
        return antonym
    if " " in antonym:
        return None
    if surface == lemma + "d" and lemma.endswith("e"):
        return antonym + ("d" if antonym.endswith("e") else "ed")
    if surface == lemma + "ed":
        return antonym + ("d" if antonym.endswith("e") else "ed")
    if surface == lemma + "s":
        return antonym + "s"
    return None


def antonym(s, rng, antonyms):
    cands = []
    for m in re.finditer(r"(?<![\w'’-])[a-z]{3,}(?![\w'’-])", s):
        w = m.group(0)
        if w in STOP or w in ANTONYM_SKIP:
            continue
        entry = antonyms.get(w, {})
        # One part of speech per word: adjective, else adverb; verbs only
        # in their -ed form (a bare "free" or "work" is too often a noun).
        pos = "adj" if "adj" in entry else "adv" if "adv" in entry else None
        lemmas = [(w, pos)] if pos else [(w[:-1], "verb"), (w[:-2], "verb")] if w.endswith("ed") else []
        for lemma, pos in lemmas:
            if lemma in ANTONYM_SKIP:
                continue
            for ant in antonyms.get(lemma, {}).get(pos, []):
                if ant in ANTONYM_SKIP:
                    continue
                new = inflect_like(w, lemma, ant)
                if new and new != w:
                    cands.append((m.start(), m.end(), w, new))
    if not cands:
        return None
    a, b, w, new = rng.choice(sorted(set(cands)))
    return s[:a] + new + s[b:], w + " -> " + new


def entity_swap(s, rng, doc_entities):
    spans = names_in(s)
    if not spans:
        return None
    a, b, name = rng.choice(spans)
    n = len(name.split())
    pool = [e for e in doc_entities if shape(e) == shape(name) and e.lower() not in s.lower()
            and name.lower() not in e.lower()]
    if not pool:
        return None
    new = rng.choice(pool)
    return s[:a] + new + s[b:], name + " -> " + new


def role_pairs(s, initial=False):
    spans = names_in(s, initial)
    out = []
    for i in range(len(spans)):
        for j in range(i + 1, len(spans)):
            (a1, b1, n1), (a2, b2, n2) = spans[i], spans[j]
            between = s[b1:a2]
            if n1.lower() == n2.lower() or n1.lower() in n2.lower() or n2.lower() in n1.lower():
                continue
            out.append((a1, b1, n1, a2, b2, n2, between))
    return out


def role_swap(s, rng):
    if re.search(r"\b(between|and|or|both|either)\b", s) and not re.search(r"\bby\b", s):
        pass
    cands = [p for p in role_pairs(s)
             if not re.fullmatch(r"\s*(,|and|or|&|,\s*and|/|-)?\s*", p[6])
             and not re.search(r"\b(and|or|between|with)\s*$", p[6]) and len(p[6].split()) >= 1]
    if not cands:
        return None
    a1, b1, n1, a2, b2, n2, between = rng.choice(cands)
    return s[:a1] + n2 + between + n1 + s[b2:], n1 + " <-> " + n2


def has_predicate_word(text):
    return any(w.lower() not in STOP and w[:1].islower() and len(w) > 2 for w in words(text))


def role_deletion(s, rng):
    """Deletes from just after a name N1 to the end of a later subject (a
    name, or a determiner's noun phrase after a comma) whose verb follows,
    so that N1 becomes that verb's subject: "After X dazzled, Y takes his
    turn" -> "After X takes his turn"."""
    cands = []
    for a1, b1, n1, a2, b2, n2, between in role_pairs(s, initial=True):
        if len(between.split()) < 2 or not has_predicate_word(between):
            continue
        verb = re.match(r"\s+([a-z]+)", s[b2:])
        if len(content(s[:b1] + s[b2:])) >= 4 and verb and is_verb_form(verb.group(1)):
            cands.append((b1, b2))
    for a1, b1, n1 in names_in(s, initial=True):
        for m in re.finditer(r",\s+(?:the|this|that|these|those|his|her|its|their)((?:\s+[\w-]+){1,3}?)\s+([a-z]+)",
                             s[b1:]):
            np_words = m.group(1).split()
            if not is_verb_form(m.group(2)) or any(is_verb_form(w) for w in np_words):
                continue
            end = b1 + m.end(1)
            if has_predicate_word(s[b1:b1 + m.start()]) and len(content(s[:b1] + s[end:])) >= 4:
                cands.append((b1, end))
            break
    if not cands:
        return None
    b1, b2 = rng.choice(sorted(set(cands)))
    return s[:b1] + s[b2:], "deleted:" + s[b1:b2]


def deletion(s, rng):
    if NEG_RE.search(s) or re.search(r"\b(no|only|nor|without)\b", s):
        return None
    options = []
    for m in re.finditer(r"\s*\([^()]*\)", s):
        options.append((m.start(), m.end()))
    for adv in SAFE_ADVERBS:
        for m in re.finditer(r"\s\b" + adv + r"\b,?", s):
            options.append((m.start(), m.end()))
    m = re.match(r"(In|By|During|On|At|Since|Around|After) [^,]{3,40}, ", s)
    if m:
        options.append((0, m.end()))
    if not options:
        return None
    a, b = rng.choice(sorted(options))
    out = s[:a] + s[b:]
    out = cap_first(out.lstrip())
    if len(content(out)) < 3:
        return None
    return out, "deleted:" + s[a:b].strip()


def initial_common_word(s, rng):
    w = rng.choice(INITIAL_WORDS)
    return w + ", " + lower_first_if_common(s), "prefix:" + w


def fusion(s1, s2):
    if not (good_source(s1) and good_source(s2)) or len((s1 + s2).split()) > 60:
        return None
    first = re.match(r"[A-Za-z]*", s2).group(0)
    if first in ("And", "But", "Or", "So", "Yet", "Also", "However", "Then", "Thus", "Therefore"):
        return s1[:-1] + "; " + s2[:1].lower() + s2[1:], "fused with next sentence (;)"
    return s1[:-1] + ", and " + lower_first_if_common(s2), "fused with next sentence"


# ------------------------------------------------------------------ cases

def build(per_kind=DEFAULT_PER_KIND):
    docs = read_documents()
    antonyms = load_antonyms()
    LOWER_VOCAB.clear()
    LOWER_VOCAB.update(w for _, paras in docs for p in paras for w in re.findall(r"(?<![\w./-])[a-z]+(?![\w./-])", p))
    VERBS.clear()
    with open(os.path.join(WORDNET, "index.verb"), encoding="latin-1") as f:
        VERBS.update(l.split(" ", 1)[0] for l in f if not l.startswith(" ") and "_" not in l.split(" ", 1)[0])
    doc_info = []
    for doc_id, paras in docs:
        sents = [split_sentences(p) for p in paras]
        entities = sorted({n for p in sents for s in p for _, _, n in names_in(s)})
        vocab = set(content(" ".join(paras)))
        doc_info.append({"id": doc_id, "paras": paras, "sents": sents, "entities": entities, "vocab": vocab,
                         "split": split_of(doc_id)})
    cands = {k: [] for k in KINDS}
    for d in doc_info:
        for pi, para in enumerate(d["sents"]):
            for si, s in enumerate(para):
                if not good_source(s):
                    continue
                key = "%s#%d.%d" % (d["id"], pi, si)
                def add(kind, result, source=s):
                    if result and result[0] != source:
                        cands[kind].append((d["id"], key, source, result[0], result[1]))
                cands["copy"].append((d["id"], key, s, s, "verbatim"))
                rng = random.Random("%d/%s" % (SEED, key))
                add("deletion", deletion(s, rng))
                if si + 1 < len(para):
                    add("fusion", fusion(s, para[si + 1]), s + " " + para[si + 1])
                add("number_words", number_words(s, rng))
                add("number_spacing", number_spacing(s, rng))
                add("number_scale", number_scale(s, rng))
                add("initial_common_word", initial_common_word(s, rng))
                add("entity_swap", entity_swap(s, rng, d["entities"]))
                add("number_change", number_change(s, rng))
                add("negation_added", negation_added(s, rng))
                add("negation_removed", negation_removed(s, rng))
                add("antonym", antonym(s, rng, antonyms))
                add("role_swap", role_swap(s, rng))
                add("role_deletion", role_deletion(s, rng))
    cands["cross_document"] = cross_document(doc_info)
    by_id = {d["id"]: d for d in doc_info}
    cases = []
    for kind in KINDS:
        pool = sorted(cands[kind])
        random.Random("%d/%s" % (SEED, kind)).shuffle(pool)
        for n, (doc_id, key, source, answer, detail) in enumerate(sorted(pool[:per_kind])):
            d = by_id[doc_id]
            for chunking in CHUNKINGS:
                cases.append({
                    "id": "%s-%03d-%s" % (kind, n, chunking), "document": doc_id, "source_key": key,
                    "split": d["split"], "chunking": chunking, "kind": kind,
                    "label": "faithful" if kind in FAITHFUL else "unfaithful",
                    "answer": answer, "source": source, "detail": detail,
                    "chunks": chunks_of(d, chunking),
                })
    return cases, {k: len(v) for k, v in cands.items()}


def cross_document(doc_info):
    """A sentence of another document (same split) sharing most of its
    content words with this document, that no sentence of this document
    nearly repeats."""
    out = []
    all_sents = [(d["id"], d["split"], s) for d in doc_info for p in d["sents"] for s in p if good_source(s)]
    for d in doc_info:
        own = [set(content(s)) for p in d["sents"] for s in p]
        best = []
        for other_id, split, s in all_sents:
            if other_id == d["id"] or split != d["split"]:
                continue
            c = set(content(s))
            if len(c) < 4:
                continue
            overlap = len(c & d["vocab"]) / len(c)
            if overlap < 0.6 or any(len(c & o) / len(c) >= 0.7 for o in own):
                continue
            best.append((-overlap, other_id, s))
        for neg, other_id, s in sorted(best)[:3]:
            out.append((d["id"], d["id"] + "<-" + other_id, s, s, "from %s (overlap %.2f)" % (other_id, -neg)))
    return out


def chunks_of(d, chunking):
    if chunking == "document":
        return [{"id": "doc", "text": "\n\n".join(d["paras"])}]
    if chunking == "passage":
        return [{"id": "p%d" % i, "text": p} for i, p in enumerate(d["paras"])]
    flat = [s for p in d["sents"] for s in p]
    return [{"id": "s%d" % i, "text": s} for i, s in enumerate(flat)]


def dump(cases):
    return "".join(json.dumps(c, ensure_ascii=False, sort_keys=True) + "\n" for c in cases)


# ------------------------------------------------------------------ self-check

def numbers(text):
    return sorted(NUMBER_RE.findall(text))


def check_case(c, antonyms):
    """'' when the case's answer differs from its source as its kind says."""
    a, s, kind = c["answer"], c["source"], c["kind"]
    wa, ws = words(a), words(s)
    negs = lambda t: len(re.findall(r"\b(not|never)\b|n't\b|\bcannot\b", t))
    if kind == "copy":
        return "" if a == s else "copy differs"
    if kind in ("cross_document",):
        other = c["detail"].split(" ")[1]
        own = " ".join(ch["text"] for ch in c["chunks"])
        return "" if other != c["document"] and a not in own else "not from another document"
    if a == s:
        return "answer equals source"
    if kind == "deletion":
        la, ls = [w.lower() for w in wa], [w.lower() for w in ws]
        return "" if len(la) < len(ls) and is_subsequence(la, ls) else "not a deletion"
    if kind == "fusion":
        return "" if len(SPLIT_RE.split(a)) == 1 and set(content(a)) == set(content(s)) else "not a fusion"
    if kind == "number_words":
        return "" if numbers(a) != numbers(s) and len(wa) == len(ws) else "no number respelt"
    if kind in ("number_spacing", "number_scale"):
        strip = lambda t: re.sub(r"[\s,]", "", t)
        return "" if numbers(a) != numbers(s) or strip(a) != strip(s) else "no number respelt"
    if kind == "initial_common_word":
        return "" if a.split(",")[0] in INITIAL_WORDS and a.endswith(s[1:]) else "no initial word"
    if kind == "number_change":
        return "" if numbers(a) != numbers(s) and len(numbers(a)) == len(numbers(s)) else "no number changed"
    if kind == "negation_added":
        return "" if negs(a) == negs(s) + 1 else "no negation added"
    if kind == "negation_removed":
        return "" if negs(a) == negs(s) - 1 else "no negation removed"
    if kind == "antonym":
        old, new = c["detail"].split(" -> ")
        is_antonym = any(inflect_like(old, lemma, ant) == new for lemma in (old, old[:-1], old[:-2])
                         for ants in antonyms.get(lemma, {}).values() for ant in ants)
        replaced = any(a == s[:m.start()] + new + s[m.end():] for m in re.finditer(r"\b%s\b" % old, s))
        return "" if is_antonym and replaced else "no antonym"
    if kind == "entity_swap":
        old, new = c["detail"].split(" -> ")
        own = " ".join(ch["text"] for ch in c["chunks"])
        return "" if old in s and new in a and new not in s and new in own else "no entity swapped"
    if kind == "role_swap":
        n1, n2 = c["detail"].split(" <-> ")
        for p1 in (m.start() for m in re.finditer(re.escape(n1), s)):
            for p2 in (m.start() for m in re.finditer(re.escape(n2), s)):
                if p2 >= p1 + len(n1) and a == s[:p1] + n2 + s[p1 + len(n1):p2] + n1 + s[p2 + len(n2):]:
                    return ""
        return "no roles swapped"
    if kind == "role_deletion":
        gone = c["detail"][len("deleted:"):]
        cut = any(a == s[:i] + s[i + len(gone):] for i in (m.start() for m in re.finditer(re.escape(gone), s)))
        return "" if cut and has_predicate_word(gone) and names_in(a, True) else "no role deletion"
    return "unknown kind"


def is_subsequence(small, big):
    it = iter(big)
    return all(w in it for w in small)


def self_check():
    script = os.path.abspath(__file__)
    outs = []
    for hashseed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hashseed)
        outs.append(subprocess.run([sys.executable, script, "--out", "-"], env=env, check=True,
                                   capture_output=True).stdout)
    failures = []
    if outs[0] != outs[1]:
        failures.append("two runs differ (PYTHONHASHSEED 1 vs 2)")
    cases = [json.loads(l) for l in outs[0].decode().splitlines()]
    antonyms = load_antonyms()
    counts = {}
    for c in cases:
        counts[c["kind"]] = counts.get(c["kind"], 0) + 1
        why = check_case(c, antonyms)
        if why:
            failures.append("%s: %s: %r from %r" % (c["id"], why, c["answer"], c["source"]))
    for kind in KINDS:
        if counts.get(kind, 0) < 30:
            failures.append("kind %s has %d cases (< 30)" % (kind, counts.get(kind, 0)))
    splits = {c["split"] for c in cases}
    if splits != {"train", "test"}:
        failures.append("splits: %s" % sorted(splits))
    for f in failures[:40]:
        print("self-check: FAIL " + f)
    print("self-check: %d cases, %d kinds, %d failures" % (len(cases), len(counts), len(failures)))
    print("%d passed, %d failed" % (len(cases) - len(failures), len(failures)))
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="where the JSON lines go ('-': standard output)")
    ap.add_argument("--per-kind", type=int, default=DEFAULT_PER_KIND,
                    help="source sentences per kind (each gives 3 cases)")
    ap.add_argument("--self-check", action="store_true")
    args = ap.parse_args()
    if args.self_check:
        return self_check()
    if not args.out:
        ap.error("--out is required")
    cases, available = build(args.per_kind)
    text = dump(cases)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
        print("make_cases: %d cases -> %s; candidates per kind: %s" % (
            len(cases), args.out, json.dumps(available, sort_keys=True)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
