#!/usr/bin/env python3
"""Generates the groundedness scorer's lexicon (groundedness/lexicon.h) at
build time from two Debian packages, into a C++ source file:

  - known words: every all-lower-case ASCII entry of wamerican's
    /usr/share/dict/american-english (no possessives) that is not also
    listed capitalised ("bob" is out: "Bob" is listed): a capitalised word
    opening a sentence is a name only if it is not one of them (or is
    capitalised elsewhere in the answer or the context);
  - antonyms: WordNet 3.0's '!' pointers (wordnet-base, data.adj,
    data.adv and data.verb), single words, both directions;
  - verbs: WordNet's verb lemmas and the past forms of verb.exc, for the
    role check's past-tense verbs.

Deterministic: the output is sorted, and the inputs are pinned by SHA-256.
A different input (a newer package) stops the build: the lexicon is part of
the scorer's rules, so a new list needs a new scorer version
(kGroundednessScorerVersion) and new pins below.

usage: make_lexicon.py --out FILE [--dict FILE] [--wordnet DIR]
"""
import argparse
import hashlib
import os
import re
import sys

PINS = {
    "american-english": "9f513f1ceadb6a01c5485b7dbdfd5118dc66cd70b59cae2851292112d4066a32",
    "data.adj": "c89120dfc1f046ddff4a631bf9b7e9fa1a36b5e86565a23bf82dbe14f30b88a7",
    "data.adv": "444a63bf3955080ab7524f5079cfc07ff9bc682cb98bdb1db73b0fb9829f1139",
    "data.verb": "adcf43e35b581e8036d8b5a52d63d9cd3d3b4870b2720d3c03c799df44777bc2",
    "verb.exc": "dbbcf9a601b2d77e934e413b91d90e88ec7f933a8b77cfc00602a923b891b42c",
}


def check(path):
    if not os.path.exists(path):
        sys.exit("make_lexicon.py: %s is missing: install wamerican and wordnet-base (bash scripts/setup.sh)" % path)
    name = os.path.basename(path)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if name in PINS and digest != PINS[name]:
        sys.exit("make_lexicon.py: %s has SHA-256 %s, expected %s: a different package version changes the "
                 "scorer's rules; update the pin and bump kGroundednessScorerVersion" % (path, digest, PINS[name]))


def known_words(path):
    """All-lower-case entries whose capitalised form is not an entry too:
    "naturally" is known, "bob" and "will" are not ("Bob", "Will" are
    names in the list)."""
    lower, capitalised = set(), set()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            w = line.strip()
            if re.fullmatch(r"[a-z]+", w):
                lower.add(w)
            elif re.fullmatch(r"[A-Z][a-z]*", w):
                capitalised.add(w.lower())
    return sorted(lower - capitalised)


def read_antonym_pointers(path):
    """One WordNet data file: ({synset offset: lemmas}, [(source lemma,
    target offset, target word number)]) for its '!' (antonym) pointers.
    Lemmas are lower-cased, without their "(a)"-style markers. Also used by
    the groundedness benchmark's generator (bench/groundedness/make_cases.py)."""
    synsets, pointers = {}, []
    with open(path, encoding="latin-1") as f:
        for line in f:
            if line.startswith("  "):
                continue
            fields = line.split(" | ")[0].split()
            offset, n = fields[0], int(fields[3], 16)
            lemmas = [re.sub(r"\(.*\)$", "", fields[4 + 2 * i]).lower() for i in range(n)]
            synsets[offset] = lemmas
            i = 4 + 2 * n
            for k in range(int(fields[i])):
                sym, target, _, st = fields[i + 1 + 4 * k: i + 5 + 4 * k]
                src = int(st[:2], 16)
                if sym == "!" and src != 0:
                    pointers.append((lemmas[src - 1], target, int(st[2:], 16)))
    return synsets, pointers


def antonym_pairs(synsets, pointers):
    """(word, antonym) for each pointer whose target is a word of a known synset."""
    for a, target, dst in pointers:
        if dst != 0 and target in synsets:
            yield a, synsets[target][dst - 1]


def wordnet(dirname):
    pairs, verbs = set(), set()
    for pos in ("adj", "adv", "verb"):
        path = os.path.join(dirname, "data." + pos)
        check(path)
        synsets, pointers = read_antonym_pointers(path)
        if pos == "verb":
            for lemmas in synsets.values():
                verbs.update(l for l in lemmas if re.fullmatch(r"[a-z]+", l))
        for a, b in antonym_pairs(synsets, pointers):
            if a != b and re.fullmatch(r"[a-z]+", a) and re.fullmatch(r"[a-z]+", b):
                pairs.add((a, b))
                pairs.add((b, a))
    exc = os.path.join(dirname, "verb.exc")
    check(exc)
    past = set()
    with open(exc, encoding="latin-1") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and re.fullmatch(r"[a-z]+", parts[0]) and parts[1] in verbs:
                past.add(parts[0])
    return sorted(pairs), sorted(verbs), sorted(past)


def literal(name, items):
    """A '\\n'-joined, '\\n'-terminated list as adjacent string literals."""
    out = ["constexpr char %s[] =" % name]
    line = ""
    for item in items:
        piece = item + "\\n"
        if len(line) + len(piece) > 100:
            out.append('    "%s"' % line)
            line = ""
        line += piece
    out.append('    "%s";' % line)
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--dict", default="/usr/share/dict/american-english")
    ap.add_argument("--wordnet", default="/usr/share/wordnet")
    args = ap.parse_args()
    check(args.dict)
    words = known_words(args.dict)
    pairs, verbs, past = wordnet(args.wordnet)
    text = "\n\n".join([
        "// Generated by engine/src/groundedness/make_lexicon.py from wamerican and\n"
        "// wordnet-base (pinned by SHA-256). Do not edit.\n"
        '#include "groundedness/lexicon.h"\n\nnamespace verity::groundedness_lexicon {\nnamespace {',
        literal("kKnown", words),
        literal("kAntonyms", [a + " " + b for a, b in pairs]),
        literal("kVerbs", verbs),
        literal("kIrregularPast", past),
        "}  // namespace\n\n"
        "std::string_view KnownWordsData() { return {kKnown, sizeof(kKnown) - 1}; }\n"
        "std::string_view AntonymData() { return {kAntonyms, sizeof(kAntonyms) - 1}; }\n"
        "std::string_view VerbData() { return {kVerbs, sizeof(kVerbs) - 1}; }\n"
        "std::string_view IrregularPastData() { return {kIrregularPast, sizeof(kIrregularPast) - 1}; }\n\n"
        "}  // namespace verity::groundedness_lexicon\n",
    ])
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(text)
    os.replace(tmp, args.out)
    print("make_lexicon.py: %d known words, %d antonym pairs, %d verbs, %d irregular past forms"
          % (len(words), len(pairs) // 2, len(verbs), len(past)), file=sys.stderr)


if __name__ == "__main__":
    main()
