#!/usr/bin/python3
"""Runs the curl examples of docs/http.md against a real verityd.

    /usr/bin/python3 tests/http/curl_examples_test.py [--verityd PATH] [--doc PATH]

A block of docs/http.md runs when the line before its ```sh fence is
`<!-- curl-test -->` (every curl in it must pass --fail-with-body: a non-2xx
answer fails the test) or `<!-- curl-test error -->` (it shows error
answers: its curls must not fail on them). The `<!-- curl-check: CMD -->`
lines after a block are shell commands that read the block's standard
output on stdin and must exit 0 (jq -e, grep, ...).

Starts verityd (--verityd, else $VERITYD, else build/server/verityd) with
--listen 127.0.0.1:0 --http-listen 127.0.0.1:0 and a temporary data
directory, reads the bound HTTP address from its "start" log line, and runs
every block in order in one bash (set -euo pipefail) in a temporary working
directory, with VERITY_HTTP set to that address, so later blocks see the
variables and files of earlier ones. Also checks that every RPC of the
.proto files (proto/verity/v1/*.proto) is called by some runnable block, so
a new RPC needs its example. Stops verityd with SIGTERM and requires exit
code 0. Needs curl (7.82 or later, for --json) and jq. Exits non-zero on any
failure, naming the block and its line in docs/http.md. CTest runs it as
"http: the curl examples of docs/http.md" (tests/CMakeLists.txt).
"""

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

MARK = re.compile(r"^<!-- curl-test( error)? -->\s*$")
CHECK = re.compile(r"^<!-- curl-check: (.*) -->\s*$")


class Block:
    def __init__(self, line, code, error):
        self.line = line  # 1-based line of the ```sh fence
        self.code = code
        self.error = error
        self.checks = []  # (line, command)


def extract_blocks(path):
    """The runnable blocks of the Markdown file at `path`, in order."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        m = MARK.match(lines[i])
        if not m:
            if CHECK.match(lines[i]):
                raise SystemExit(f"{path}:{i + 1}: curl-check not right after a curl-test block")
            i += 1
            continue
        if i + 1 >= len(lines) or lines[i + 1].strip() != "```sh":
            raise SystemExit(f"{path}:{i + 1}: curl-test must be followed by a ```sh block")
        start = i + 1
        end = start + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if end == len(lines):
            raise SystemExit(f"{path}:{start + 1}: unterminated ```sh block")
        block = Block(start + 1, "\n".join(lines[start + 1 : end]), bool(m.group(1)))
        i = end + 1
        while i < len(lines):
            c = CHECK.match(lines[i])
            if c:
                block.checks.append((i + 1, c.group(1)))
            elif lines[i].strip():
                break
            i += 1
        blocks.append(block)
    return blocks


def curl_commands(code):
    """The curl command lines of a block (continuation lines joined)."""
    joined = re.sub(r"\\\n", " ", code)
    return [line for line in joined.split("\n") if re.search(r"(^|[|$(\s])curl\s", line)]


def check_conventions(path, blocks):
    problems = []
    for b in blocks:
        for cmd in curl_commands(b.code):
            if b.error and "--fail-with-body" in cmd:
                problems.append(f"{path}:{b.line}: an error block's curl must not fail: {cmd.strip()}")
            if not b.error and "--fail-with-body" not in cmd:
                problems.append(f"{path}:{b.line}: curl without --fail-with-body: {cmd.strip()}")
    return problems


def proto_rpcs(proto_dir):
    """Service/Method of every rpc of package verity.v1."""
    rpcs = []
    for name in sorted(os.listdir(proto_dir)):
        if not name.endswith(".proto"):
            continue
        with open(os.path.join(proto_dir, name), encoding="utf-8") as f:
            text = re.sub(r"//[^\n]*", "", f.read())
        if not re.search(r"\bpackage\s+verity\.v1\s*;", text):
            continue
        service = None
        for m in re.finditer(r"\bservice\s+(\w+)\s*\{|\brpc\s+(\w+)\s*\(", text):
            if m.group(1):
                service = m.group(1)
            else:
                rpcs.append(f"{service}/{m.group(2)}")
    return rpcs


def bash_script(blocks, doc, http, workdir):
    out = [
        "set -euo pipefail",
        f"cd {shlex.quote(workdir)}",
        f"export VERITY_HTTP={shlex.quote(http)}",
        "__out=$(mktemp -d)",
        "__where=start",
        "__cur=/dev/null",
        # On a failure: what the block printed so far (curl --fail-with-body
        # printed the error body there), then where it failed.
        "trap '__rc=$?; cat \"$__cur\" >&2; echo \"curl_examples_test: FAILED at $__where (exit $__rc)\" >&2' ERR",
    ]
    rel = os.path.relpath(doc, REPO)
    for n, b in enumerate(blocks, 1):
        where = f"block {n} ({rel}:{b.line})"
        out.append(f"__where={shlex.quote(where)}")
        out.append(f"echo {shlex.quote('== ' + where)} >&2")
        out.append(f'__cur="$__out/{n}"')
        out.append("{")
        out.append(b.code)
        out.append(f'}} > "$__out/{n}"')
        out.append(f'cat "$__out/{n}"')
        out.append("__cur=/dev/null")
        for line, cmd in b.checks:
            cwhere = f"the check at {rel}:{line} of block {n}"
            out.append(f"__where={shlex.quote(cwhere)}")
            out.append(f'( {cmd} ) < "$__out/{n}" > /dev/null')
    out.append("echo '== every block ran and every check held' >&2")
    return "\n".join(out) + "\n"


def start_verityd(binary, workdir, timeout=30.0):
    log_path = os.path.join(workdir, "verityd.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [binary, "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--data", os.path.join(workdir, "data")],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"verityd exited with {proc.returncode} before it started:\n" + open(log_path).read())
        with open(log_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("event") == "start":
                    if not str(event.get("http", "")).startswith("http"):
                        proc.kill()
                        raise SystemExit(f"verityd's start line has no HTTP address: {line}")
                    return proc, event["http"], log_path
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("verityd did not start within 30 s:\n" + open(log_path).read())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--verityd", default=os.environ.get("VERITYD", os.path.join(REPO, "build", "server", "verityd")))
    parser.add_argument("--doc", default=os.path.join(REPO, "docs", "http.md"))
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    for tool in ("curl", "jq", "bash"):
        if shutil.which(tool) is None:
            raise SystemExit(f"curl_examples_test: needs {tool} (scripts/setup.sh installs it)")

    blocks = extract_blocks(args.doc)
    if len(blocks) < 10:
        raise SystemExit(f"{args.doc}: only {len(blocks)} runnable blocks found")
    problems = check_conventions(args.doc, blocks)
    runnable = "\n".join(b.code for b in blocks)
    for rpc in proto_rpcs(os.path.join(REPO, "proto", "verity", "v1")):
        if f"/v1/{rpc}\"" not in runnable and f"/v1/{rpc} " not in runnable:
            problems.append(f"{args.doc}: no runnable example calls /v1/{rpc}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1

    workdir = tempfile.mkdtemp(prefix="verity-curl-examples-")
    proc = None
    try:
        proc, http, log_path = start_verityd(args.verityd, workdir)
        print(f"curl_examples_test: verityd at {http}; {len(blocks)} blocks from {args.doc}", file=sys.stderr)
        script = bash_script(blocks, args.doc, http, os.path.join(workdir, "work"))
        os.makedirs(os.path.join(workdir, "work"))
        with open(os.path.join(workdir, "examples.sh"), "w", encoding="utf-8") as f:
            f.write(script)
        run = subprocess.run(["bash", os.path.join(workdir, "examples.sh")], timeout=600)
        ok = run.returncode == 0
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        proc = None
        if code != 0:
            print(f"curl_examples_test: verityd exited with {code}:\n" + open(log_path).read(), file=sys.stderr)
            ok = False
        print("curl_examples_test: " + ("PASS" if ok else "FAIL"), file=sys.stderr)
        return 0 if ok else 1
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        if args.keep:
            print(f"curl_examples_test: kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
