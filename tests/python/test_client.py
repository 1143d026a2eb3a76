#!/usr/bin/python3
"""End-to-end tests of the Python client (client/python/verity_client) and of
the RAG example (client/python/examples/rag_loop.py) against a real verityd.

    /usr/bin/python3 tests/python/test_client.py --verityd build/server/verityd --stubs DIR

DIR holds the modules made by client/python/generate.sh. Starts verityd on a
free loopback port with a temporary data directory, runs the tests with
unittest (standard library only), stops the server with SIGTERM and checks
that it exits 0. Exits non-zero if anything failed. CTest runs it as
"python: client and RAG example" (tests/CMakeLists.txt).
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CLIENT_DIR = os.path.join(REPO, "client", "python")
RAG_EXAMPLE = os.path.join(CLIENT_DIR, "examples", "rag_loop.py")

# Set by main() once --stubs is on sys.path.
ARGS = None
grpc = None
np = None
verity_client = None
SERVER = None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_events(path):
    """The JSON log lines of verityd, parsed; other lines are skipped."""
    events = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                events.append(json.loads(line))
            except ValueError:
                pass
    return events


class VerityServer:
    """A verityd child process on a free loopback port, logging to a file."""

    def __init__(self, binary, workdir, extra_args=()):
        self.binary = binary
        self.extra_args = list(extra_args)
        self.data_dir = os.path.join(workdir, "data")
        self.log_path = os.path.join(workdir, "verityd.log")
        self.proc = None
        self.addr = None

    def start(self, attempts=3, timeout=30.0):
        """Starts verityd and waits for its "start" log line. Retries on
        exit code 3 (the port was taken between choosing and binding it)."""
        for _ in range(attempts):
            self.addr = f"127.0.0.1:{free_port()}"
            log = open(self.log_path, "ab")
            offset = log.tell()
            self.proc = subprocess.Popen(
                [self.binary, "--listen", self.addr, "--data", self.data_dir] + self.extra_args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
            log.close()
            # Connect only once it says it listens, as tests/server does: a
            # refused connection would put the channel into reconnect backoff.
            deadline = time.monotonic() + timeout
            code = None
            while code is None:
                with open(self.log_path, "rb") as f:
                    f.seek(offset)
                    if b'"event":"start"' in f.read():
                        return
                code = self.proc.poll()
                if code is None and time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(f"verityd did not log a start line within {timeout}s:\n{self.log_tail()}")
                time.sleep(0.02)
            if code != 3:
                raise RuntimeError(f"verityd exited with code {code} at start:\n{self.log_tail()}")
        raise RuntimeError(f"verityd could not listen after {attempts} attempts:\n{self.log_tail()}")

    def terminate(self, timeout=30.0):
        """Sends SIGTERM and returns the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.running():
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"


def setUpModule():
    SERVER.start()


def tearDownModule():
    SERVER.kill()  # only if ShutdownTest did not run or failed


class ServerTestCase(unittest.TestCase):
    """Gives each test a client and a collection-name prefix of its own."""

    def setUp(self):
        self.db = verity_client.Client(SERVER.addr, timeout=30.0)
        self.addCleanup(self.db.close)
        self.prefix = self.id().rsplit(".", 2)[-2] + "." + self._testMethodName

    def name(self, suffix=""):
        return (self.prefix + suffix)[:128]

    def assertVerityError(self, code, fragment, fn, *args, **kwargs):
        """Calls fn and checks it raises VerityError with the code and a
        message containing fragment; returns the error."""
        with self.assertRaises(verity_client.VerityError) as cm:
            result = fn(*args, **kwargs)
            if hasattr(result, "__next__"):  # a generator raises when iterated
                list(result)
        err = cm.exception
        self.assertEqual(err.code, code, str(err))
        if fragment is not None:
            self.assertIn(fragment, err.message)
        return err


def record(id, vector, **kwargs):
    return dict(id=id, vector=vector, **kwargs)


class CollectionTest(ServerTestCase):
    def test_health(self):
        self.assertEqual(self.db.health(), "SERVING")
        self.assertVerityError("NOT_FOUND", None, self.db.health, "no.such.service")

    def test_create_get_list_drop(self):
        name = self.name()
        info = self.db.create_collection(name, 4)
        self.assertEqual(info["name"], name)
        self.assertEqual(info["dimension"], 4)
        self.assertEqual(info["metric"], "l2")
        self.assertEqual((info["m"], info["ef_construction"], info["default_ef"]), (16, 200, 64))
        self.assertEqual((info["head_version"], info["live_records"], info["graph_nodes"]), (0, 0, 0))
        self.assertGreater(info["created_at_us"], 1_600_000_000 * 10**6)
        self.assertEqual(self.db.get_collection(name), info)

        other = self.db.create_collection(self.name(".b"), 2, metric="cosine")
        listed = self.db.list_collections()
        names = [c["name"] for c in listed]
        self.assertEqual(names, sorted(names))
        self.assertIn(info, listed)
        self.assertIn(other, listed)

        self.assertIsNone(self.db.drop_collection(name))
        self.assertVerityError("NOT_FOUND", name, self.db.get_collection, name)
        self.assertVerityError("NOT_FOUND", name, self.db.drop_collection, name)
        self.assertNotIn(name, [c["name"] for c in self.db.list_collections()])
        self.db.drop_collection(other["name"])

    def test_create_with_options(self):
        info = self.db.create_collection(self.name(), 3, metric="IP", m=8, ef_construction=50, default_ef=20)
        self.assertEqual(
            (info["metric"], info["m"], info["ef_construction"], info["default_ef"]), ("ip", 8, 50, 20)
        )

    def test_create_errors(self):
        name = self.name()
        self.db.create_collection(name, 4)
        self.assertVerityError("ALREADY_EXISTS", name, self.db.create_collection, name, 4)
        self.assertVerityError("INVALID_ARGUMENT", "dimension", self.db.create_collection, self.name(".z"), 0)
        self.assertVerityError("INVALID_ARGUMENT", "--max-dimension", self.db.create_collection, self.name(".z"), 5000)
        self.assertVerityError("INVALID_ARGUMENT", "name", self.db.create_collection, "has space", 4)
        self.assertVerityError("INVALID_ARGUMENT", "m:", self.db.create_collection, self.name(".z"), 4, m=1)
        with self.assertRaisesRegex(ValueError, "metric"):
            self.db.create_collection(self.name(".z"), 4, metric="hamming")
        self.assertVerityError("NOT_FOUND", None, self.db.get_collection, self.name(".z"))

    def test_unknown_collection_is_not_found(self):
        missing = self.name(".missing")
        v = [0.0, 0.0]
        for fn, args in [
            (self.db.get_collection, (missing,)),
            (self.db.drop_collection, (missing,)),
            (self.db.list_versions, (missing,)),
            (self.db.upsert, (missing, [record("a", v)])),
            (self.db.delete, (missing, ["a"])),
            (self.db.get, (missing, "a")),
            (self.db.scroll, (missing,)),
            (self.db.count, (missing,)),
            (self.db.search, (missing, v)),
            (self.db.batch_search, (missing, [v])),
        ]:
            with self.subTest(fn=fn.__name__):
                self.assertVerityError("NOT_FOUND", missing, fn, *args)


class RecordTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.coll = self.name()
        self.db.create_collection(self.coll, 3)

    def test_upsert_get_delete(self):
        result = self.db.upsert(
            self.coll,
            [
                record("a", [1, 2, 3], text="alpha", document_id="doc1", metadata={"n": 1}),
                record("b", (0.5, 0.25, 0.125)),
            ],
        )
        self.assertIsInstance(result, verity_client.WriteResult)
        self.assertEqual(result, (1, 2))
        version, applied = result
        self.assertEqual((version, applied), (result.version, result.applied))

        a = self.db.get(self.coll, "a")
        self.assertEqual(
            a,
            {
                "id": "a",
                "vector": [1.0, 2.0, 3.0],
                "text": "alpha",
                "document_id": "doc1",
                "metadata": {"n": 1},
                "sparse": {},
                "row_version": 1,
            },
        )
        b = self.db.get(self.coll, "b")
        self.assertEqual((b["text"], b["document_id"], b["metadata"]), ("", "", {}))

        self.assertEqual(self.db.delete(self.coll, ["a", "never-written"]), (2, 1))
        self.assertEqual(self.db.delete(self.coll, ["a"]), (2, 0))  # not live any more: nothing written, no version
        self.assertVerityError("NOT_FOUND", '"a"', self.db.get, self.coll, "a")
        self.assertEqual(self.db.count(self.coll), 1)
        info = self.db.get_collection(self.coll)
        self.assertEqual((info["head_version"], info["live_records"]), (2, 1))

    def test_metadata_types_round_trip(self):
        # Values that come back as they were sent.
        same = {
            "s": "text ü",
            "empty_s": "",
            "i": 7,
            "zero": 0,
            "neg": -(2**63),
            "big": 2**63 - 1,
            "f": 0.25,
            "whole_f": 3.0,
            "t": True,
            "fls": False,
            "l": ["a", "b", "a"],
        }
        # (key, value sent, value read back): tuples and numpy scalars.
        converted = [
            ("tuple", ("x",), ["x"]),
            ("np_i", np.int32(-5), -5),
            ("np_f", np.float32(1.5), 1.5),
            ("np_b", np.bool_(True), True),
        ]
        metadata = {**same, **{key: sent for key, sent, _ in converted}}
        self.db.upsert(self.coll, [record("r", [0, 0, 1], metadata=metadata)])
        got = self.db.get(self.coll, "r")["metadata"]
        expected = {**same, **{key: back for key, _, back in converted}}
        self.assertEqual(got, expected)
        self.assertEqual(list(got), sorted(got))  # sorted keys, reproducible output
        for key, t in [("t", bool), ("fls", bool), ("np_b", bool), ("i", int), ("zero", int), ("np_i", int),
                       ("f", float), ("whole_f", float), ("np_f", float), ("l", list), ("s", str)]:
            self.assertIs(type(got[key]), t, key)

        # The server sees the same types: bool is not 1, an int equals a whole double.
        for text, n in [
            ("t = true", 1), ("t = 1", 0), ("fls = false", 1), ("i = 7", 1), ("i = 7.0", 1),
            ("whole_f = 3", 1), ('i = "7"', 0), ('l any ["b"]', 1), ("big > 0", 1), ("neg < 0", 1),
        ]:
            with self.subTest(filter=text):
                self.assertEqual(self.db.count(self.coll, filter=text), n)
        # The same values come back from scroll and search.
        self.assertEqual([r["metadata"] for r in self.db.scroll(self.coll)], [expected])
        self.assertEqual(self.db.search(self.coll, [0, 0, 1], k=1)[0]["metadata"], expected)

    def test_client_side_argument_errors(self):
        bad = [
            (TypeError, r'records\[0\]\.metadata\["d"\]: unsupported', [record("a", [0, 0, 0], metadata={"d": {}})]),
            (TypeError, r'records\[0\]\.metadata\["l"\]\[1\]', [record("a", [0, 0, 0], metadata={"l": ["x", 1]})]),
            (ValueError, r'metadata\["i"\]: 9223372036854775808 does not fit a 64-bit signed integer',
             [record("a", [0, 0, 0], metadata={"i": 2**63})]),
            (TypeError, r"metadata: keys must be str", [record("a", [0, 0, 0], metadata={1: "x"})]),
            (ValueError, r"records\[1\]\.id: missing", [record("a", [0, 0, 0]), {"vector": [0, 0, 0]}]),
            (ValueError, r"unknown key.*'meta'", [record("a", [0, 0, 0], meta={})]),
            (TypeError, r"records\[0\]\.vector\[1\]: expected a number", [record("a", [0, "x", 0])]),
            (TypeError, r"records\[0\]\.vector: expected", [record("a", "abc")]),
            (ValueError, r"records\[0\]\.vector: expected a 1-D", [record("a", np.zeros((3, 1)))]),
            (TypeError, r"records\[0\]\.text: expected str", [record("a", [0, 0, 0], text=5)]),
            (TypeError, r"one dict", record("a", [0, 0, 0])),
            # No order of their own, or not numbers: refused, not stored wrong.
            (TypeError, r"records\[0\]\.vector: expected a sequence.*got set", [record("a", {0.9, 0.1, 0.7})]),
            (TypeError, r"records\[0\]\.vector: expected a sequence.*got dict", [record("a", {0: 1, 1: 2, 2: 3})]),
            (TypeError, r"records\[0\]\.vector: .*dtype <U1", [record("a", np.array(["1", "2", "3"]))]),
            (TypeError, r"records\[0\]\.vector: .*dtype bool", [record("a", np.array([True, False, True]))]),
            (TypeError, r"records\[0\]\.vector: .*dtype complex", [record("a", np.array([1j, 2, 3]))]),
            (TypeError, r"records: expected a list of record dicts, got NoneType", None),
        ]
        for exc, pattern, records in bad:
            with self.subTest(pattern=pattern):
                with self.assertRaisesRegex(exc, pattern):
                    self.db.upsert(self.coll, records)
        with self.assertRaisesRegex(TypeError, "single str"):
            self.db.delete(self.coll, "a")
        with self.assertRaisesRegex(TypeError, r"ids\[1\]: expected str, got int"):
            self.db.delete(self.coll, ["a", 2])
        with self.assertRaisesRegex(ValueError, "at:"):
            self.db.get(self.coll, "a", at=-1)
        with self.assertRaisesRegex(ValueError, "at:"):
            self.db.get(self.coll, "a", at=2**64)
        # Arguments protobuf would refuse without naming them.
        calls = [
            (ValueError, r"^k: expected an integer in 1\.\.4294967295, got -1$", self.db.search, dict(k=-1)),
            (ValueError, r"^k: expected an integer in 1\.\.4294967295, got 0$", self.db.search, dict(k=0)),
            (TypeError, r"^k: expected an integer .*got str '5'$", self.db.search, dict(k="5")),
            (ValueError, r"^k: .*got 1099511627776$", self.db.search, dict(k=2**40)),
            (ValueError, r"^k: expected an integer in 1\.\.", self.db.retrieve, dict(k=0)),
            (TypeError, r"^query_text: expected str, got int$", self.db.retrieve, dict(query_text=5)),
            (ValueError, r"^query_text: not encodable as UTF-8", self.db.retrieve, dict(query_text="a\ud800")),
        ]
        for exc, pattern, fn, kwargs in calls:
            with self.subTest(pattern=pattern):
                with self.assertRaisesRegex(exc, pattern):
                    fn(self.coll, [0, 0, 0], **kwargs)
        with self.assertRaisesRegex(ValueError, r"^dimension: expected an integer in 0\.\."):
            self.db.create_collection(self.name(".neg"), -1)
        with self.assertRaisesRegex(ValueError, r"^limit: expected an integer in 1\.\.4294967295, got 0$"):
            next(self.db.scroll(self.coll, limit=0))
        for prompt in ("qa@0", "qa@4294967296"):
            with self.subTest(prompt=prompt):
                with self.assertRaisesRegex(ValueError, rf"^prompt: version in '{prompt}' must be 1\.\.4294967295$"):
                    self.db.get_prompt(prompt)
        with self.assertRaisesRegex(TypeError, r"labels: expected a list of str, got a single str"):
            self.db.create_prompt(self.name(".p"), "x {{q}}", labels="production")
        with self.assertRaisesRegex(TypeError, r"one vector; search_stream takes an iterable of vectors"):
            next(self.db.search_stream(self.coll, [0.0, 0.0, 0.0]))
        with self.assertRaisesRegex(ValueError, r"api_key: .*white space"):
            verity_client.Client(SERVER.addr, api_key="key\n")
        closed = verity_client.Client(SERVER.addr)
        closed.close()
        closed.close()  # harmless
        with self.assertRaisesRegex(ValueError, r"this Client is closed"):
            closed.count(self.coll)
        # Nothing reached the server.
        self.assertEqual(len(self.db.list_versions(self.coll)), 1)

    def test_numbers_that_do_not_fit_are_refused_not_narrowed(self):
        """An int metadata value outside int64 and a vector component outside
        the float32 range are refused naming the field; protobuf and numpy
        would have turned 1e39 into infinity, which the server then called
        "infinite"."""
        float_range = "is outside the float range ±3.4028235e38"
        bad = [
            (r'^records\[0\]\.metadata\["n"\]: 9223372036854775808 does not fit a 64-bit signed integer '
             r'\(-9223372036854775808 to 9223372036854775807\); pass it as a str to keep its digits$',
             [record("a", [0, 0, 0], metadata={"n": 2**63})]),
            (r'^records\[0\]\.metadata\["n"\]: -9223372036854775809 does not fit',
             [record("a", [0, 0, 0], metadata={"n": -(2**63) - 1})]),
            (r'^records\[0\]\.metadata\["n"\]: 18446744073709551615 does not fit',
             [record("a", [0, 0, 0], metadata={"n": np.uint64(2**64 - 1)})]),
            (rf"^records\[1\]\.vector\[2\]: 1e\+39 {float_range}$",
             [record("a", [0, 0, 0]), record("b", [0, 0, 1e39])]),
            (rf"^records\[0\]\.vector\[0\]: -3\.5e\+38 {float_range}$", [record("a", [-3.5e38, 0, 0])]),
            (rf"^records\[0\]\.vector\[1\]: 1{'0' * 39}\.\.\. {float_range}$", [record("a", [0, 10**400, 0])]),
            (rf"^records\[0\]\.vector\[2\]: 1e\+39 {float_range}$", [record("a", np.array([0, 0, 1e39]))]),
        ]
        for pattern, records in bad:
            with self.subTest(pattern=pattern):
                with self.assertRaisesRegex(ValueError, pattern):
                    self.db.upsert(self.coll, records)
        with self.assertRaisesRegex(ValueError, rf"^vector\[0\]: 1e\+39 {float_range}$"):
            self.db.search(self.coll, [1e39, 0, 0])
        with self.assertRaisesRegex(ValueError, rf"^vectors\[1\]\[2\]: -1e\+40 {float_range}$"):
            self.db.batch_search(self.coll, np.array([[0, 0, 0], [0, 0, -1e40]]))
        with self.assertRaisesRegex(ValueError, rf"^vectors\[1\]\[0\]: 1e\+39 {float_range}$"):
            self.db.batch_search(self.coll, [[0, 0, 0], [1e39, 0, 0]])
        with self.assertRaisesRegex(ValueError, rf"^vector\[1\]: 1e\+39 {float_range}$"):
            self.db.retrieve(self.coll, [0, 1e39, 0])
        self.assertEqual(self.db.count(self.coll), 0)
        self.assertEqual(len(self.db.list_versions(self.coll)), 1)  # nothing reached the server
        # The ends of the int64 range are kept. A component just above the
        # largest float32 rounds to it (list and numpy alike) rather than
        # being refused here or sent as infinite; the server then refuses it
        # by its own bound (±1e15). NaN is the server's too.
        self.db.upsert(self.coll, [record("ends", [0, 0, 0], metadata={"max": 2**63 - 1, "min": -(2**63)})])
        self.assertEqual(self.db.get(self.coll, "ends")["metadata"], {"max": 2**63 - 1, "min": -(2**63)})
        self.assertVerityError(
            "INVALID_ARGUMENT", "records[0].vector[0]: 3.40282347e+38 is outside the allowed ±1e15",
            self.db.upsert, self.coll, [record("big", [3.40282356e38, 0, 0])],
        )
        self.assertVerityError(
            "INVALID_ARGUMENT", "records[0].vector[1]: -3.40282347e+38 is outside the allowed ±1e15",
            self.db.upsert, self.coll, [record("np", np.array([0, -3.40282356e38, 0]))],
        )
        self.assertVerityError(
            "INVALID_ARGUMENT", "records[0].vector[1]: infinite", self.db.upsert, self.coll,
            [record("inf", [0, float("inf"), 0])],
        )

    def test_numpy_vectors(self):
        rows = np.arange(12, dtype=np.float64).reshape(4, 3)
        self.db.upsert(self.coll, [record(f"r{i}", rows[i]) for i in range(4)])
        self.db.upsert(self.coll, [record("f32", np.array([0.5, 0.5, 0.5], dtype=np.float32))])
        self.assertEqual(self.db.get(self.coll, "r2")["vector"], [6.0, 7.0, 8.0])
        self.assertEqual(self.db.get(self.coll, "f32")["vector"], [0.5, 0.5, 0.5])
        self.assertEqual(self.db.search(self.coll, rows[3], k=1)[0]["id"], "r3")

    def test_wrong_dimension_and_bad_values(self):
        err = self.assertVerityError(
            "INVALID_ARGUMENT",
            "records[1].vector",
            self.db.upsert,
            self.coll,
            [record("ok", [0, 0, 0]), record("short", [1, 2])],
        )
        self.assertIn("dimension is 3", err.message)
        self.assertVerityError(
            "INVALID_ARGUMENT", "records[0].vector[2]: NaN", self.db.upsert, self.coll,
            [record("nan", [0, 0, float("nan")])],
        )
        self.assertVerityError("INVALID_ARGUMENT", "records[0].id", self.db.upsert, self.coll, [record("", [0, 0, 0])])
        self.assertVerityError("INVALID_ARGUMENT", "records", self.db.upsert, self.coll, [])
        self.assertVerityError("INVALID_ARGUMENT", "vector", self.db.search, self.coll, [1, 2, 3, 4])
        # A refused batch writes nothing.
        self.assertEqual(self.db.count(self.coll), 0)
        self.assertEqual(len(self.db.list_versions(self.coll)), 1)

    def test_bad_filter(self):
        self.db.upsert(self.coll, [record("a", [0, 0, 0], metadata={"lang": "en"})])
        err = self.assertVerityError("INVALID_ARGUMENT", "column 8", self.db.count, self.coll, filter="lang = en")
        self.assertIn("filter", err.message)
        self.assertIn('strings are double-quoted: "en"', err.message)
        self.assertVerityError("INVALID_ARGUMENT", "column 9", self.db.scroll, self.coll, filter="year >= ")
        err = self.assertVerityError(
            "INVALID_ARGUMENT", "query.filter", self.db.search, self.coll, [0, 0, 0], filter="(a exists"
        )
        self.assertIn("column 10", err.message)
        self.assertVerityError("INVALID_ARGUMENT", "filter", self.db.count, self.coll, filter='year < "x"')
        with self.assertRaisesRegex(TypeError, "filter"):
            self.db.count(self.coll, filter={"lang": "en"})
        self.assertEqual(self.db.count(self.coll, filter='lang = "en"'), 1)

    def test_scroll_pages(self):
        n = 250
        self.db.upsert(
            self.coll,
            [record(f"id{i:04d}", [i, 0, 0], metadata={"even": i % 2 == 0, "i": i}) for i in range(n)],
        )
        calls = []
        scroll_rpc = self.db._records.Scroll

        def counting(request, **kwargs):
            calls.append((request.start_after, request.HasField("at")))
            return scroll_rpc(request, **kwargs)

        self.db._records.Scroll = counting

        rows = list(self.db.scroll(self.coll, limit=100))
        self.assertEqual([r["id"] for r in rows], [f"id{i:04d}" for i in range(n)])
        self.assertEqual(len(calls), 3)
        self.assertEqual(calls[0], ("", False))
        self.assertTrue(all(has_at for _, has_at in calls[1:]), calls)  # later pages pinned to one version
        self.assertTrue(all(r["vector"] is None for r in rows))

        calls.clear()
        evens = list(self.db.scroll(self.coll, limit=30, filter="even = true", with_vectors=True))
        self.assertEqual([r["metadata"]["i"] for r in evens], list(range(0, n, 2)))
        self.assertEqual(evens[3]["vector"], [6.0, 0.0, 0.0])
        self.assertEqual(len(calls), 5)

        # Writes made while a scroll is under way are not seen by it.
        it = self.db.scroll(self.coll, limit=100)
        first = [next(it) for _ in range(50)]
        self.db.upsert(self.coll, [record(f"zz{i}", [0, 0, 0]) for i in range(10)])
        self.db.delete(self.coll, ["id0200"])
        rest = list(it)
        self.assertEqual(len(first) + len(rest), n)
        self.assertIn("id0200", [r["id"] for r in rest])
        self.assertEqual(len(list(self.db.scroll(self.coll, limit=100))), n + 10 - 1)

        self.assertVerityError("INVALID_ARGUMENT", "limit", self.db.scroll, self.coll, limit=20000)


class SearchTest(ServerTestCase):
    DIM = 8

    def setUp(self):
        super().setUp()
        self.coll = self.name()
        self.db.create_collection(self.coll, self.DIM)
        rng = np.random.default_rng(7)
        self.vectors = rng.standard_normal((300, self.DIM)).astype(np.float32)
        self.db.upsert(
            self.coll,
            [
                record(f"v{i:03d}", self.vectors[i], text=f"text {i}", document_id=f"d{i % 3}",
                       metadata={"group": i % 3, "tags": ["odd" if i % 2 else "even"]})
                for i in range(len(self.vectors))
            ],
        )
        self.query = rng.standard_normal(self.DIM).astype(np.float32)

    def exact(self, k, mask=None):
        d = ((self.vectors - self.query) ** 2).sum(axis=1)
        if mask is not None:
            d = np.where(mask, d, np.inf)
        order = np.argsort(d, kind="stable")[:k]
        return [f"v{i:03d}" for i in order], d[order]

    def test_search_finds_the_nearest(self):
        ids, dists = self.exact(10)
        for plan in (None, "exact", "graph"):
            with self.subTest(plan=plan):
                hits = self.db.search(self.coll, self.query, k=10, ef=100, plan=plan)
                self.assertIsInstance(hits, verity_client.SearchHits)
                self.assertEqual(hits.version, 1)
                self.assertEqual([h["id"] for h in hits], ids)
                for h, d in zip(hits, dists):
                    self.assertAlmostEqual(h["distance"], float(d), places=3)
                    self.assertEqual(h["row_version"], 1)
                self.assertEqual(hits.exact, plan == "exact" or (plan is None and hits.exact))
        hit = self.db.search(self.coll, self.query.tolist(), k=1)[0]
        self.assertEqual(
            set(hit), {"id", "row_version", "distance", "score", "legs", "text", "document_id", "metadata", "vector"}
        )
        self.assertEqual((hit["score"], hit["legs"]), (0.0, None))  # a dense-only search
        i = int(hit["id"][1:])
        self.assertEqual((hit["text"], hit["document_id"]), (f"text {i}", f"d{i % 3}"))
        self.assertEqual(hit["metadata"], {"group": i % 3, "tags": ["odd" if i % 2 else "even"]})
        self.assertIsNone(hit["vector"])

    def test_payload_options(self):
        hits = self.db.search(self.coll, self.query, k=3, with_payload=False, with_vectors=True)
        self.assertEqual(len(hits), 3)
        for h in hits:
            self.assertIsNone(h["text"])
            self.assertIsNone(h["metadata"])
            self.assertEqual(len(h["vector"]), self.DIM)
            np.testing.assert_allclose(h["vector"], self.vectors[int(h["id"][1:])], rtol=1e-6)

    def test_filtered_search(self):
        group = np.arange(len(self.vectors)) % 3
        ids, _ = self.exact(5, mask=group == 2)
        hits = self.db.search(self.coll, self.query, k=5, filter="group = 2")
        self.assertEqual([h["id"] for h in hits], ids)
        odd = np.arange(len(self.vectors)) % 2 == 1
        ids, _ = self.exact(5, mask=(group != 0) & odd)
        hits = self.db.search(self.coll, self.query, k=5, filter='group in [1, 2] and tags any ["odd"]')
        self.assertEqual([h["id"] for h in hits], ids)
        self.assertEqual(self.db.search(self.coll, self.query, filter="group = 9"), [])

    def test_batch_search(self):
        queries = np.stack([self.query, self.vectors[5], self.vectors[17]])
        results = self.db.batch_search(self.coll, queries, k=4, filter="group >= 0")
        self.assertEqual(len(results), 3)
        for q, hits in zip(queries, results):
            self.assertEqual(
                [h["id"] for h in hits], [h["id"] for h in self.db.search(self.coll, q, k=4, filter="group >= 0")]
            )
        self.assertEqual(results[1][0]["id"], "v005")
        self.assertEqual(results[2][0]["id"], "v017")
        as_lists = self.db.batch_search(self.coll, queries.tolist(), k=4, with_payload=False)
        self.assertEqual([[h["id"] for h in r] for r in as_lists], [[h["id"] for h in r] for r in results])
        self.assertVerityError("INVALID_ARGUMENT", "queries", self.db.batch_search, self.coll, [])
        self.assertVerityError("INVALID_ARGUMENT", "queries[0].k", self.db.batch_search, self.coll, queries, k=5000)
        with self.assertRaisesRegex(ValueError, "2-D"):
            self.db.batch_search(self.coll, self.query)

    def test_search_stream(self):
        queries = [self.query, self.vectors[5], self.vectors[17].tolist()]
        answers = list(self.db.search_stream(self.coll, queries, k=4, filter="group >= 0"))
        self.assertEqual(len(answers), 3)
        for q, hits in zip(queries, answers):
            self.assertIsInstance(hits, verity_client.SearchHits)
            self.assertEqual(hits.version, 1)
            unary = self.db.search(self.coll, q, k=4, filter="group >= 0")
            self.assertEqual([(h["id"], h["text"]) for h in hits], [(h["id"], h["text"]) for h in unary])
        self.assertEqual(answers[1][0]["id"], "v005")

        # A refused query is yielded as a VerityError, and the stream goes on;
        # the vectors may come from a generator.
        def mixed():
            yield self.vectors[3]
            yield [1.0, 2.0]  # the wrong dimension
            yield self.vectors[4]

        answers = list(self.db.search_stream(self.coll, mixed(), k=1))
        self.assertEqual(answers[0][0]["id"], "v003")
        self.assertIsInstance(answers[1], verity_client.VerityError)
        self.assertEqual(answers[1].code, "INVALID_ARGUMENT")
        self.assertIn("query.vector", answers[1].message)
        self.assertEqual(answers[2][0]["id"], "v004")
        missing = list(self.db.search_stream("no_such_collection", [self.query]))
        self.assertEqual(missing[0].code, "NOT_FOUND")

        # A vector that is not a vector: the answers before it, then ValueError.
        got = []
        with self.assertRaisesRegex(TypeError, r"vectors\[1\]"):
            for item in self.db.search_stream(self.coll, [self.vectors[8], "not a vector"], k=1):
                got.append(item)
        self.assertEqual([hits[0]["id"] for hits in got], ["v008"])

        # Stopping early ends the stream; the server goes on serving.
        def endless():
            while True:
                yield self.query

        for hits in self.db.search_stream(self.coll, endless(), k=1):
            break
        self.assertEqual(len(hits), 1)
        self.assertEqual(self.db.search(self.coll, self.vectors[9], k=1)[0]["id"], "v009")

    def test_k_limit(self):
        self.assertVerityError("INVALID_ARGUMENT", "--max-k", self.db.search, self.coll, self.query, k=5000)


class VersionTest(ServerTestCase):
    def test_reads_at_older_versions(self):
        coll = self.name()
        self.db.create_collection(coll, 2)
        v1, _ = self.db.upsert(coll, [record("a", [1, 0], text="a1"), record("b", [0, 1], text="b1")])
        v2, _ = self.db.upsert(coll, [record("a", [1, 0.1], text="a2", metadata={"rev": 2})])
        v3, _ = self.db.delete(coll, ["b"])
        self.assertEqual((v1, v2, v3), (1, 2, 3))

        self.assertEqual(self.db.get(coll, "a", at=1)["text"], "a1")
        self.assertEqual(self.db.get(coll, "a", at=1)["row_version"], 1)
        self.assertEqual(self.db.get(coll, "a")["text"], "a2")
        self.assertEqual(self.db.get(coll, "a")["row_version"], 2)
        self.assertEqual(self.db.get(coll, "b", at=2)["text"], "b1")
        self.assertVerityError("NOT_FOUND", '"b"', self.db.get, coll, "b", at=3)
        self.assertVerityError("NOT_FOUND", '"a"', self.db.get, coll, "a", at=0)  # 0 = empty, not "head"

        self.assertEqual([self.db.count(coll, at=v) for v in range(4)], [0, 2, 2, 1])
        self.assertEqual(self.db.count(coll, at=1, filter="rev exists"), 0)
        self.assertEqual(self.db.count(coll, filter="rev exists"), 1)
        self.assertEqual([r["text"] for r in self.db.scroll(coll, at=1)], ["a1", "b1"])
        self.assertEqual([r["text"] for r in self.db.scroll(coll, at=0)], [])

        hits = self.db.search(coll, [0, 1], k=2, at=2)
        self.assertEqual(hits.version, 2)
        self.assertEqual([(h["id"], h["text"]) for h in hits], [("b", "b1"), ("a", "a2")])
        self.assertEqual([h["id"] for h in self.db.search(coll, [0, 1], k=2)], ["a"])
        self.assertEqual([h["text"] for h in self.db.batch_search(coll, [[1, 0]], k=1, at=1)[0]], ["a1"])

        err = self.assertVerityError("INVALID_ARGUMENT", "at", self.db.count, coll, at=99)
        self.assertIn("99", err.message)

        versions = self.db.list_versions(coll)
        self.assertEqual(
            [(v["version"], v["upserted"], v["deleted"]) for v in versions],
            [(0, 0, 0), (1, 2, 0), (2, 1, 0), (3, 0, 1)],
        )
        stamps = [v["committed_at_us"] for v in versions]
        self.assertEqual(stamps, sorted(stamps))

    def test_list_versions_pages(self):
        # More versions than one page (1000) holds: list_versions reads every page.
        coll = self.name()
        self.db.create_collection(coll, 2)
        for i in range(1002):
            self.db.upsert(coll, [record(f"r{i % 7}", [i, 1])])
        self.assertEqual([v["version"] for v in self.db.list_versions(coll)], list(range(1003)))


class ContextTest(ServerTestCase):
    def test_retrieve_and_record_answer(self):
        coll = self.name()
        self.db.create_collection(coll, 2)
        self.db.upsert(coll, [record("a", [1, 0], text="alpha text"), record("b", [0, 1], text="beta text")])
        r = self.db.retrieve(coll, [1, 0.1], k=2, query_text="alpha?", prompt="qa@1", client_trace_id="t-1")
        self.assertRegex(r["retrieval_id"], r"^rtv-[0-9a-f]{32}$")
        self.assertEqual(r["version"], 1)
        self.assertEqual([c["id"] for c in r["chunks"]], ["a", "b"])
        self.assertEqual(r["chunks"][0]["text"], "alpha text")
        self.assertEqual(r["chunks"][0]["row_version"], 1)
        self.assertEqual(len(r["chunks"][0]["text_sha256"]), 64)
        self.assertTrue(all(c["in_context"] for c in r["chunks"]))
        self.assertEqual(r["context"], "alpha text\n\nbeta text")
        self.assertEqual(len(r["context_sha256"]), 64)

        # A token budget keeps the best chunk only (each text is 3 tokens).
        budgeted = self.db.retrieve(coll, [1, 0], k=2, token_budget=4, at=1)
        self.assertEqual([c["in_context"] for c in budgeted["chunks"]], [True, False])
        self.assertEqual(budgeted["context"], "alpha text")
        self.assertNotEqual(budgeted["retrieval_id"], r["retrieval_id"])
        self.assertGreater(budgeted["log_seq"], r["log_seq"])

        # The answer is recorded as a new, chained log record.
        a = self.db.record_answer(r["retrieval_id"], "alpha text", model="echo", prompt_tokens=6,
                                  completion_tokens=3)
        self.assertEqual(a["retrieval_id"], r["retrieval_id"])
        self.assertEqual((a["answer"], a["model"], a["prompt_tokens"], a["completion_tokens"]),
                         ("alpha text", "echo", 6, 3))
        self.assertEqual(a["collection"], coll)
        self.assertGreater(a["seq"], budgeted["log_seq"])
        self.assertEqual(len(a["hash"]), 64)
        self.assertEqual(len(a["prev_hash"]), 64)
        self.assertVerityError("ALREADY_EXISTS", r["retrieval_id"], self.db.record_answer, r["retrieval_id"], "again")

        # A new head; reading an older version; errors (a snapshot name that does not exist).
        self.db.upsert(coll, [record("c", [1, 0.05], text="gamma")])
        self.assertEqual(self.db.retrieve(coll, [1, 0.05], k=1)["chunks"][0]["id"], "c")
        self.assertEqual(self.db.retrieve(coll, [1, 0.05], k=1, at=1)["chunks"][0]["id"], "a")
        self.assertVerityError("NOT_FOUND", "ghost", self.db.retrieve, coll, [1, 0], at="ghost")
        self.assertVerityError("NOT_FOUND", "rtv-", self.db.record_answer, "rtv-" + "0" * 32, "text")
        self.assertVerityError("INVALID_ARGUMENT", "answer", self.db.record_answer, budgeted["retrieval_id"], "")
        self.assertVerityError("INVALID_ARGUMENT", "filter", self.db.retrieve, coll, [1, 0], filter="x =")
        self.assertVerityError("INVALID_ARGUMENT", "--max-k", self.db.retrieve, coll, [1, 0], k=5000)
        with self.assertRaises(TypeError):
            self.db.record_answer(budgeted["retrieval_id"], b"bytes")


class AuditTest(ServerTestCase):
    """The audit side of the log (#25): get_retrieval, list_log (paged like
    `verity log list`), verify_log, replay and audit, against the real
    verityd."""

    def setUp(self):
        super().setUp()
        self.coll = self.name()
        self.db.create_collection(self.coll, 2)
        self.db.upsert(self.coll, [record("a", [1, 0], text="Alpha ships in 2020.", document_id="d1"),
                                   record("b", [0, 1], text="Beta ships in 2021.", document_id="d2")])
        self.r = self.db.retrieve(self.coll, [1, 0.1], k=2, query_text="When does alpha ship?")
        self.db.record_answer(self.r["retrieval_id"], "Alpha ships in 2020. Gamma ships in 1999.", model="m")

    def test_get_retrieval_and_list_log_pages(self):
        rid = self.r["retrieval_id"]
        got = self.db.get_retrieval(rid)
        retrieval, answer = got["retrieval"], got["answer"]
        self.assertEqual((retrieval["kind"], retrieval["retrieval_id"], retrieval["collection"]),
                         ("retrieval", rid, self.coll))
        self.assertEqual(retrieval["query_text"], "When does alpha ship?")
        self.assertEqual(len(retrieval["query_vector"]), 2)
        self.assertEqual([c["id"] for c in retrieval["chunks"]], ["a", "b"])
        self.assertEqual(retrieval["chunks"][0]["document_id"], "d1")
        self.assertEqual(retrieval["context_sha256"], self.r["context_sha256"])
        self.assertEqual((answer["kind"], answer["model"]), ("answer", "m"))
        self.assertEqual(answer["prev_hash"], retrieval["hash"])
        unanswered = self.db.retrieve(self.coll, [0, 1], k=1)
        self.assertIsNone(self.db.get_retrieval(unanswered["retrieval_id"])["answer"])
        self.assertVerityError("NOT_FOUND", "rtv-", self.db.get_retrieval, "rtv-" + "0" * 32)

        # Every record of the collection, one per page: the same as one big page.
        every = list(self.db.list_log(collection=self.coll))
        self.assertEqual([r["kind"] for r in every], ["retrieval", "answer", "retrieval"])
        self.assertEqual(list(self.db.list_log(collection=self.coll, page_size=1)), every)
        self.assertEqual([r["seq"] for r in self.db.list_log(collection=self.coll, limit=2)],
                         [r["seq"] for r in every[:2]])
        self.assertEqual([r["retrieval_id"] for r in self.db.list_log(collection=self.coll, kind="answer")], [rid])
        self.assertEqual(list(self.db.list_log(collection=self.coll, until_us=1)), [])
        # The cursor by hand, as `verity log list` follows it.
        page = self.db.list_log_page(collection=self.coll, limit=2)
        self.assertEqual(page["records"], every[:2])
        self.assertNotEqual(page["next_cursor"], 0)
        rest = self.db.list_log_page(collection=self.coll, start_after=page["next_cursor"], limit=2)
        self.assertEqual((rest["records"], rest["next_cursor"]), (every[2:], 0))
        self.assertIsNone(every[0]["query_vector"] or None)  # only with_vectors returns vectors
        self.assertEqual(len(next(self.db.list_log(collection=self.coll, with_vectors=True))["query_vector"]), 2)
        self.assertVerityError("INVALID_ARGUMENT", "limit", self.db.list_log_page, limit=20000)
        with self.assertRaises(ValueError):
            self.db.list_log_page(limit=0)
        with self.assertRaises(ValueError):
            list(self.db.list_log(kind="answers"))

        verified = self.db.verify_log()
        self.assertTrue(verified["ok"], verified)
        self.assertGreaterEqual(verified["last_seq"], every[-1]["seq"])
        self.assertEqual(len(verified["head_hash"]), 64)

    def test_replay(self):
        rid = self.r["retrieval_id"]
        context = self.db.replay(rid)
        self.assertEqual((context["mode"], context["outcome"]), ("context", "identical"))
        self.assertTrue(context["context_hash_matches"])
        self.assertEqual([(c["id"], c["status"]) for c in context["chunks"]], [("a", "identical"), ("b", "identical")])
        retrieval = self.db.replay(rid, mode="retrieval")
        self.assertEqual((retrieval["outcome"], retrieval["recall"]), ("identical", 1.0))
        self.db.upsert(self.coll, [record("c", [1, 0.1], text="Gamma ships in 1999.")])
        counterfactual = self.db.replay(rid, mode="counterfactual")
        self.assertEqual((counterfactual["outcome"], counterfactual["version"]), ("differs", 2))
        self.assertEqual(counterfactual["added"], ["c"])
        self.assertEqual(self.db.replay(rid, mode="counterfactual", at=1)["outcome"], "identical")
        self.assertVerityError("INVALID_ARGUMENT", "at", self.db.replay, rid, mode="context", at=1)
        self.assertVerityError("NOT_FOUND", "rtv-", self.db.replay, "rtv-" + "0" * 32)
        with self.assertRaises(ValueError):
            self.db.replay(rid, mode="sideways")

    def test_audit_and_zero_means_zero(self):
        rid = self.r["retrieval_id"]
        a = self.db.audit(rid)
        self.assertEqual((a["retrieval_id"], a["collection"], a["answer_recorded"]), (rid, self.coll, True))
        self.assertAlmostEqual(a["threshold"], 0.6)
        self.assertEqual((a["g"], a["scored"], a["supported"]), (0.5, 2, 1))
        self.assertEqual([s["verdict"] for s in a["sentences"]], ["supported", "unsupported"])
        self.assertEqual(a["sentences"][0]["chunk_id"], "a")
        self.assertEqual([c["id"] for c in a["chunks"]], ["a", "b"])
        # threshold=0 is 0, not the default.
        self.assertEqual(self.db.audit(rid, threshold=0)["threshold"], 0.0)
        given = self.db.audit(rid, answer="Beta ships in 2021.", threshold=0.9)
        self.assertEqual((given["answer_recorded"], given["g"], given["threshold"]), (False, 1.0, 0.9))
        self.assertVerityError("INVALID_ARGUMENT", "threshold", self.db.audit, rid, threshold=1.5)
        self.assertVerityError("NOT_FOUND", "rtv-", self.db.audit, "rtv-" + "0" * 32)
        with self.assertRaises(TypeError):
            self.db.audit(rid, threshold="high")

    def test_retrieve_by_document_filter_alone(self):
        self.db.upsert(self.coll, [record("a0", [5, 5], text="Alpha is tested.", document_id="d1")])
        # document_id is a record field filters read; no vector: the whole document, in document order.
        whole = self.db.retrieve(self.coll, filter='document_id = "d1"', query_text="sources of alpha")
        self.assertEqual([c["id"] for c in whole["chunks"]], ["a", "a0"])  # id order within the document
        self.assertEqual([c["distance"] for c in whole["chunks"]], [0.0, 0.0])
        self.assertEqual(whole["context"], "Alpha ships in 2020.\n\nAlpha is tested.")
        self.assertTrue(whole["exact"])
        logged = self.db.get_retrieval(whole["retrieval_id"])["retrieval"]
        self.assertEqual((logged["query_vector"], logged["filter"]), ([], 'document_id = "d1"'))
        self.assertEqual(self.db.replay(whole["retrieval_id"], mode="retrieval")["outcome"], "identical")
        self.assertEqual(self.db.count(self.coll, filter='id in ["a", "b"]'), 2)
        self.assertVerityError("FAILED_PRECONDITION", "more than 1 records", self.db.retrieve, self.coll,
                               filter='document_id = "d1"', k=1)
        # A filter that matches nothing: refused, nothing logged.
        before = list(self.db.list_log(collection=self.coll))
        self.assertVerityError("FAILED_PRECONDITION", "the filter matched no record", self.db.retrieve, self.coll,
                               [1, 0], filter='document_id = "nowhere"')
        self.assertEqual(list(self.db.list_log(collection=self.coll)), before)
        self.assertVerityError("INVALID_ARGUMENT", "vector", self.db.retrieve, self.coll)

    def test_cache_min_similarity_zero_means_zero(self):
        self.db.cache_store(self.r["retrieval_id"], model="m")
        far = [0.3, 1]  # cosine similarity about 0.39 to the cached question's [1, 0.1]
        question = "When is alpha shipping?"
        self.assertEqual(self.db.cache_lookup(self.coll, far, question, model="m")["match"], "miss")
        hit = self.db.cache_lookup(self.coll, far, question, model="m", min_similarity=0)
        self.assertEqual(hit["match"], "semantic")
        self.assertLess(hit["similarity"], 0.5)


class MonitorTest(ServerTestCase):
    """The monitoring calls (#28; docs/monitoring.md): annotate,
    annotate_log, monitor_report, reset_monitor_reference."""

    def setUp(self):
        super().setUp()
        self.coll = self.name()
        self.db.create_collection(self.coll, 2)
        self.db.upsert(self.coll, [record("a", [1, 0], text="Alpha ships in 2020."),
                                   record("b", [0, 1], text="Beta ships in 2021.")])
        self.toxic = self.db.retrieve(self.coll, [1, 0.1], k=2, query_text="When does alpha ship?", prompt="qa@1")
        self.db.record_answer(self.toxic["retrieval_id"], "Alpha fucking ships in 2020.", model="m")
        self.grounded = self.db.retrieve(self.coll, [0.1, 1], k=2, query_text="When does beta ship?", prompt="qa@1")
        self.db.record_answer(self.grounded["retrieval_id"], "Beta ships in 2021.", model="m", completion_tokens=5)

    def test_annotate_and_log_records(self):
        a = self.db.annotate(self.toxic["retrieval_id"])
        self.assertEqual((a["retrieval_id"], a["collection"], a["toxic"]), (self.toxic["retrieval_id"], self.coll, True))
        self.assertIn("toxicity", a["flags"])
        self.assertTrue(a["toxicity_matches"])
        g = self.db.annotate(self.grounded["retrieval_id"], recompute=True)
        self.assertEqual((g["toxic"], g["on_demand"], g["answer_tokens"]), (False, True, 5))
        answer = self.db.get_retrieval(self.toxic["retrieval_id"])["answer"]
        self.assertTrue(answer["annotation"]["toxic"])
        done = self.db.annotate_log(collection=self.coll)
        self.assertEqual((done["annotated"], done["existing"]), (0, 2))
        self.assertVerityError("NOT_FOUND", "rtv-", self.db.annotate, "rtv-" + "0" * 32)

    def test_monitor_report_and_reset(self):
        r = self.db.monitor_report(self.coll)
        self.assertEqual((r["collection"], r["totals"]["retrievals"], r["totals"]["answers"]), (self.coll, 2, 2))
        self.assertEqual(r["totals"]["toxic"], 1)
        flagged = {f["retrieval_id"]: f["flags"] for f in r["flagged"]}
        self.assertIn("toxicity", flagged[self.toxic["retrieval_id"]])
        # low_g=0 is 0, not the default: no answer has G below 0.
        self.assertEqual(self.db.monitor_report(self.coll, low_g=0)["totals"]["low_g"], 0)
        self.assertEqual(self.db.monitor_report(self.coll, max_flagged=0)["flagged"], [])
        self.assertVerityError("INVALID_ARGUMENT", "low_g", self.db.monitor_report, self.coll, low_g=2)
        self.assertVerityError("INVALID_ARGUMENT", "bucket_seconds", self.db.monitor_report, self.coll,
                               bucket_seconds=-1)
        self.assertVerityError("NOT_FOUND", None, self.db.monitor_report, self.name("-missing"))
        self.db.reset_monitor_reference(self.coll)
        self.assertVerityError("NOT_FOUND", None, self.db.reset_monitor_reference, self.name("-missing"))
        with self.assertRaises(TypeError):
            self.db.monitor_report(self.coll, low_g="high")


class PromptTest(ServerTestCase):
    def test_versions_labels_rollback_render(self):
        name = self.name()
        v1 = self.db.create_prompt(name, "Q: {{question}}\nC: {{context}}", config_json='{"t": 0}', author="ana",
                                   labels=["production"])
        self.assertEqual((v1["version"], v1["variables"], v1["labels"]), (1, ["question", "context"], ["production"]))
        v2 = self.db.create_prompt(name, "Question: {{question}}\nContext: {{context}}", message="clearer")
        self.assertEqual(v2["version"], 2)
        self.db.set_prompt_label(name, "production", 2, actor="ops")
        self.assertEqual(self.db.get_prompt(name)["version"], 2)
        move = self.db.set_prompt_label(name, "production", 1, actor="ops")  # rollback
        self.assertEqual((move["previous_version"], move["version"]), (2, 1))
        self.assertEqual(self.db.get_prompt(name)["version"], 1)
        self.assertEqual(self.db.get_prompt(f"{name}@2")["message"], "clearer")
        self.assertEqual([m["version"] for m in self.db.prompt_label_history(name, "production")], [1, 2, 1])
        text, version = self.db.render_prompt(name, {"question": "why", "context": "because"})
        self.assertEqual((text, version), ("Q: why\nC: because", 1))
        listed = [p for p in self.db.list_prompts() if p["name"] == name]
        self.assertEqual(listed, [{"name": name, "latest_version": 2, "labels": {"production": 1}}])

        coll = self.name() + "_c"
        self.db.create_collection(coll, 2)
        self.db.upsert(coll, [record("a", [1, 0], text="alpha")])
        self.assertEqual(self.db.retrieve(coll, [1, 0], k=1, prompt=name)["prompt"], f"{name}@1")

        self.assertVerityError("NOT_FOUND", "canary", self.db.get_prompt, f"{name}@canary")
        self.assertVerityError("NOT_FOUND", "no version 7", self.db.get_prompt, f"{name}@7")
        self.assertVerityError("INVALID_ARGUMENT", "byte", self.db.create_prompt, name, "broken {{")
        self.assertVerityError("INVALID_ARGUMENT", "context", self.db.render_prompt, name, {"question": "q"})
        self.assertEqual(len(self.db.prompt_label_history(name)), 3)
        self.assertEqual([p["version"] for p in self.db.list_prompt_versions(name)], [1, 2])
        self.assertVerityError("NOT_FOUND", "does not exist", self.db.list_prompt_versions, name + "_absent")

    def test_list_prompt_versions_reads_every_page(self):
        name = self.name()
        for i in range(1, 106):  # the server sends 100 a page
            self.db.create_prompt(name, f"v{i} {{{{q}}}}")
        versions = self.db.list_prompt_versions(name)
        self.assertEqual([p["version"] for p in versions], list(range(1, 106)))
        self.assertEqual(versions[104]["template"], "v105 {{q}}")


class CacheTest(ServerTestCase):
    def test_store_lookup_refuse_fence(self):
        coll = self.name()
        self.db.create_collection(coll, 2)
        self.db.upsert(coll, [record("a", [1, 0], text="Revenue in 2020 was 12 million.")])
        r = self.db.retrieve(coll, [1, 0.1], k=1, query_text="What was the revenue in 2020?")
        self.assertVerityError("FAILED_PRECONDITION", "no recorded answer", self.db.cache_store, r["retrieval_id"])
        self.db.record_answer(r["retrieval_id"], "12 million.")
        self.db.cache_store(r["retrieval_id"], model="m")
        hit = self.db.cache_lookup(coll, [1, 0.1], "What was the revenue in 2020?", model="m")
        self.assertEqual((hit["match"], hit["answer"], hit["source_retrieval_id"]),
                         ("exact", "12 million.", r["retrieval_id"]))
        # The hit is logged as a record of its own, with an id of its own.
        self.assertTrue(hit["retrieval_id"].startswith("rtv-"))
        self.assertNotEqual(hit["retrieval_id"], r["retrieval_id"])
        self.assertEqual(hit["context_sha256"], r["context_sha256"])
        self.assertEqual(self.db.cache_lookup(coll, [1, 0.11], "How much revenue in 2020?", model="m")["match"],
                         "semantic")
        refused = self.db.cache_lookup(coll, [1, 0.11], "How much revenue in 2019?", model="m")
        self.assertEqual((refused["match"], refused["refused"], refused["retrieval_id"]), ("miss", 1, ""))
        self.assertEqual(self.db.cache_lookup(coll, [1, 0.1], "What was the revenue in 2020?", model="other")["match"],
                         "miss")
        self.db.upsert(coll, [record("b", [0, 1], text="unrelated")])  # a write: the head moves
        self.assertEqual(self.db.cache_lookup(coll, [1, 0.1], "What was the revenue in 2020?", model="m")["match"],
                         "miss")
        self.assertEqual(self.db.cache_lookup(coll, [1, 0.1], "What was the revenue in 2020?", model="m",
                                              at=1)["match"], "exact")
        self.assertVerityError("NOT_FOUND", "rtv-", self.db.cache_store, "rtv-" + "0" * 32, "x")
        stats = self.db.cache_stats()
        self.assertGreaterEqual(stats["entries"], 1)
        self.assertGreaterEqual(stats["refused_false_hits"], 1)


NOTES = [
    ("n1", "The quick brown fox jumps over the lazy dog"),
    ("n2", "Foxes are running through the forest at night"),
    ("n3", "A lazy afternoon with green tea and biscuits"),
    ("n4", "Routers need a reset when the network fails"),
    ("n5", "How to reset the password of your router"),
    ("n6", "Tea ceremonies of Japan and their history"),
]


class TextSearchTest(ServerTestCase):
    """Full-text (BM25), sparse and hybrid search and retrieval (#26)."""

    def text_collection(self, suffix=""):
        name = self.name(suffix)
        info = self.db.create_collection(name, 0, text_index="english")
        self.db.upsert(name, [{"id": i, "text": t, "document_id": "notes"} for i, t in NOTES])
        return name, info

    def hybrid_collection(self):
        name = self.name(".hy")
        self.db.create_collection(name, 2, text_index={"preset": "standard", "k1": 1.5, "b": 0.5},
                                  sparse_fields={"splade": 1000, "other": None})
        self.db.upsert(name, [
            {"id": id, "vector": [i, 1], "text": text,
             "sparse": {"splade": {"indices": [i, 100 + i], "values": [1, 0.5]}}}
            for i, (id, text) in enumerate(NOTES)
        ])
        return name

    def test_text_only_collection(self):
        name, info = self.text_collection()
        self.assertEqual(info["dimension"], 0)
        self.assertEqual(info["text_index"]["preset"], "english")
        self.assertEqual((info["text_index"]["stopwords"], info["text_index"]["stemmer"]), ("english", "english"))
        self.assertAlmostEqual(info["text_index"]["k1"], 1.2, places=5)
        self.assertGreaterEqual(info["text_index"]["analyzer_version"], 1)
        self.assertEqual(info["sparse_fields"], {})
        self.assertEqual(self.db.get_collection(name)["text_index"], info["text_index"])

        hits = self.db.search(name, text="running foxes")
        self.assertEqual([h["id"] for h in hits], ["n2", "n1"])
        self.assertGreater(hits[0]["score"], hits[1]["score"])
        for h in hits:
            self.assertIsNone(h["legs"])
            self.assertIn("fox", h["text"].lower())
        hits = self.db.search(name, text="reset the router", k=2, filter='id = "n5"')
        self.assertEqual([h["id"] for h in hits], ["n5"])
        self.assertEqual(self.db.get(name, "n1")["vector"], [])

    def test_set_text_index(self):
        name = self.name(".set")
        self.db.create_collection(name, 0, text_index="standard")
        self.db.upsert(name, [{"id": i, "text": t} for i, t in NOTES])
        self.assertEqual([h["id"] for h in self.db.search(name, text="fox")], ["n1"])  # no stemming: not "foxes"
        info = self.db.set_text_index(name, {"preset": "english", "k1": 1.5})
        self.assertEqual(info["text_index"]["analyzer_version"], 2)
        self.assertEqual(info["text_index"]["stemmer"], "english")
        self.assertEqual(sorted(h["id"] for h in self.db.search(name, text="fox")), ["n1", "n2"])
        self.assertVerityError("INVALID_ARGUMENT", "text_index.k1", self.db.set_text_index, name,
                               {"preset": "english", "k1": 5})
        with self.assertRaises(ValueError):
            self.db.set_text_index(name, "klingon")
        # BM25F: a metadata field beside the text, weighted.
        self.db.upsert(name, [{"id": "t1", "text": "notes", "metadata": {"title": "router manual"}}])
        self.assertNotIn("t1", [h["id"] for h in self.db.search(name, text="router manual")])
        info = self.db.set_text_index(name, {"preset": "english", "fields": {"title": 3}})
        self.assertEqual(info["text_index"]["fields"], {"title": 3})
        self.assertEqual(info["text_index"]["analyzer_version"], 3)
        self.assertEqual(self.db.search(name, text="router manual")[0]["id"], "t1")

    def test_hybrid_and_sparse(self):
        name = self.hybrid_collection()
        info = self.db.get_collection(name)
        self.assertEqual(info["sparse_fields"], {"splade": 1000, "other": 2**31})
        self.assertAlmostEqual(info["text_index"]["k1"], 1.5, places=5)
        self.assertEqual(self.db.get(name, "n3")["sparse"], {"splade": {"indices": [2, 102], "values": [1.0, 0.5]}})

        hits = self.db.search(name, vector=[5, 1], text="fox", k=6)
        self.assertEqual(len(hits), 6)
        scores = [h["score"] for h in hits]
        self.assertEqual(scores, sorted(scores, reverse=True))
        for h in hits:
            self.assertEqual(set(h["legs"]), {"dense", "text"})
        by_id = {h["id"]: h for h in hits}
        self.assertEqual(by_id["n6"]["legs"]["dense"]["rank"], 0)
        self.assertEqual(by_id["n6"]["legs"]["text"], {"rank": None, "score": None})
        self.assertEqual(by_id["n1"]["legs"]["text"]["rank"], 0)

        hits = self.db.search(name, vector=[5, 1], text="fox", sparse_field="splade",
                              sparse={"indices": [3], "values": [2]}, fusion="convex",
                              weights={"dense": 0.5, "sparse": 2}, rrf_k=10, leg_limit=20, k=6)
        for h in hits:
            self.assertEqual(set(h["legs"]), {"dense", "text", "sparse"})
        n4 = next(h for h in hits if h["id"] == "n4")
        self.assertEqual(n4["legs"]["sparse"]["rank"], 0)
        self.assertAlmostEqual(n4["legs"]["sparse"]["score"], 2.0, places=5)

        hits = self.db.search(name, sparse_field="splade", sparse={"indices": [1, 101, 104], "values": [1, 2, 6]})
        self.assertEqual([h["id"] for h in hits], ["n5", "n2"])
        self.assertAlmostEqual(hits[0]["score"], 3.0, places=5)

    def test_retrieve_by_text_and_replay(self):
        name, _ = self.text_collection()
        r = self.db.retrieve(name, text="how do I reset my router?", k=2)
        self.assertEqual({c["id"] for c in r["chunks"]}, {"n4", "n5"})
        self.assertGreaterEqual(r["chunks"][0]["score"], r["chunks"][1]["score"])
        self.assertGreater(r["chunks"][1]["score"], 0)
        self.assertIsNone(r["chunks"][0]["legs"])
        logged = self.db.get_retrieval(r["retrieval_id"])
        self.assertEqual(logged["retrieval"]["query_text"], "how do I reset my router?")
        self.assertEqual(self.db.replay(r["retrieval_id"])["outcome"], "identical")
        replayed = self.db.replay(r["retrieval_id"], mode="retrieval")
        self.assertEqual((replayed["outcome"], replayed["recall"]), ("identical", 1.0))

        hybrid = self.hybrid_collection()
        r = self.db.retrieve(hybrid, vector=[5, 1], text="fox", k=3)
        self.assertEqual(len(r["chunks"]), 3)
        for c in r["chunks"]:
            self.assertIn("text", c["legs"])

    def test_client_side_argument_errors(self):
        name = self.name()
        bad = [
            (ValueError, r"text_index\.preset: 'klingon' is not one of standard, english",
             lambda: self.db.create_collection(name, 0, text_index="klingon")),
            (ValueError, r"text_index: unknown key.*'stem'",
             lambda: self.db.create_collection(name, 0, text_index={"preset": "english", "stem": "x"})),
            (TypeError, r"text_index: expected a preset name", lambda: self.db.create_collection(name, 0, text_index=1)),
            (TypeError, r"sparse_fields: .*single str", lambda: self.db.create_collection(name, 0, sparse_fields="s")),
            (ValueError, r"fusion: 'max' is not one of rrf, convex",
             lambda: self.db.search(name, text="x", vector=[1], fusion="max")),
            (ValueError, r"weights: unknown leg.*'bm25'", lambda: self.db.search(name, text="x", weights={"bm25": 1})),
            (TypeError, r'weights\["text"\]: expected a number', lambda: self.db.search(name, text="x",
                                                                                        weights={"text": "1"})),
            (ValueError, r"rrf_k: expected an integer in 1\.\.", lambda: self.db.search(name, text="x", rrf_k=0)),
            (ValueError, r"sparse_field and sparse go together",
             lambda: self.db.search(name, sparse={"indices": [1], "values": [1]})),
            (ValueError, r"sparse\.indices\[0\]: expected an integer",
             lambda: self.db.search(name, sparse_field="s", sparse={"indices": [-1], "values": [1]})),
            (ValueError, r"sparse\.values: missing", lambda: self.db.search(name, sparse_field="s",
                                                                             sparse={"indices": [1]})),
            (TypeError, r'records\[0\]\.sparse\["s"\]: expected a dict',
             lambda: self.db.upsert(name, [{"id": "a", "sparse": {"s": [1, 2]}}])),
            (TypeError, r"text: expected str", lambda: self.db.retrieve(name, text=5)),
        ]
        for exc, pattern, call in bad:
            with self.subTest(pattern=pattern):
                with self.assertRaisesRegex(exc, pattern):
                    call()

    def test_server_errors_name_the_field(self):
        plain = self.name(".plain")
        self.db.create_collection(plain, 2)
        hybrid = self.hybrid_collection()
        self.assertVerityError("FAILED_PRECONDITION", "query.text: the collection", self.db.search, plain, text="fox")
        self.assertVerityError("INVALID_ARGUMENT", "query.vector: empty", self.db.search, hybrid)
        self.assertVerityError("INVALID_ARGUMENT", "query.sparse.indices[0]", self.db.search, hybrid,
                               sparse_field="splade", sparse={"indices": [1000], "values": [1]})
        self.assertVerityError("INVALID_ARGUMENT", 'records[0].sparse["splade"].indices[1]', self.db.upsert, hybrid,
                               [{"id": "x", "vector": [0, 0], "sparse": {"splade": {"indices": [5, 2],
                                                                                    "values": [1, 1]}}}])
        self.assertVerityError("INVALID_ARGUMENT", "config.dimension", self.db.create_collection, self.name(".z"), 0)
        self.assertVerityError("INVALID_ARGUMENT", "config.text_index.b", self.db.create_collection, self.name(".z"),
                               0, text_index={"preset": "english", "b": 2})
        self.assertVerityError("INVALID_ARGUMENT", "vector: empty", self.db.retrieve, hybrid)
        self.assertVerityError("FAILED_PRECONDITION", "text: the collection", self.db.retrieve, plain, text="fox")


class ErrorTest(ServerTestCase):
    def test_error_carries_code_message_and_cause(self):
        missing = self.name(".missing")
        with self.assertRaises(verity_client.VerityError) as cm:
            self.db.get_collection(missing)
        err = cm.exception
        self.assertIsInstance(err, Exception)
        self.assertEqual(err.code, "NOT_FOUND")
        self.assertIs(err.status_code, grpc.StatusCode.NOT_FOUND)
        self.assertEqual(err.method, "CollectionService.GetCollection")
        self.assertEqual(str(err), f"NOT_FOUND: {err.message} (CollectionService.GetCollection)")
        self.assertIn(missing, str(err))
        self.assertIsInstance(err.__cause__, grpc.RpcError)

    def test_unreachable_server(self):
        with verity_client.Client(f"127.0.0.1:{free_port()}", timeout=5.0) as db:
            with self.assertRaises(verity_client.VerityError) as cm:
                db.list_collections()
        self.assertIn(cm.exception.code, ("UNAVAILABLE", "DEADLINE_EXCEEDED"))


class RagExampleTest(ServerTestCase):
    def run_example(self, collection):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([ARGS.stubs, CLIENT_DIR]), PYTHONDONTWRITEBYTECODE="1")
        return subprocess.run(
            [sys.executable, RAG_EXAMPLE, "--addr", SERVER.addr, "--collection", collection, "--keep"],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def test_rag_loop(self):
        coll = self.name()
        run = self.run_example(coll)
        self.assertEqual(run.returncode, 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}")
        out = run.stdout
        m = re.search(r"^ingested (\d+) chunks from 5 documents in (\d+) batches; head version (\d+)$", out, re.M)
        self.assertIsNotNone(m, out)
        chunks, batches, loaded = map(int, m.groups())
        self.assertGreaterEqual(chunks, 150)
        self.assertEqual(batches, loaded)  # one version per batch
        self.assertIn(f"count: all={chunks} ", out)

        # Each question's best chunk comes from the document that answers it,
        # and the filter kept the others out.
        sections = re.split(r"^(?=Q\d: )", out, flags=re.M)[1:]
        self.assertEqual(len(sections), 3, out)
        for section, doc in zip(sections, ["bees", "sourdough", "bicycle"]):
            self.assertRegex(section, rf"top hit: {doc}#\d+ ")
            self.assertIn("context:", section)
            self.assertNotIn("lighthouse#", section)  # a draft; every filter excludes it
        self.assertIn("four to six hours", sections[1])
        self.assertIn("80 psi", sections[2])
        # Each question went through the context service and its answer was recorded.
        retrieval_ids = []
        for section in sections:
            m = re.search(r"^retrieval (rtv-[0-9a-f]{32}) at version (\d+), context sha256 [0-9a-f]{16}$", section, re.M)
            self.assertIsNotNone(m, section)
            self.assertEqual(int(m.group(2)), loaded)
            retrieval_ids.append(m.group(1))
            self.assertRegex(section, r"(?m)^answer recorded: log record \d+$")
            # The registered prompt, logged as the exact version its label named.
            self.assertRegex(section, r"(?m)^prompt: rag-demo@1 \(rendered: \d+ characters\)$")
        self.assertEqual(len(set(retrieval_ids)), 3)

        # The revision and the read at the version before it.
        m = re.search(r"^revised bicycle: (\d+) changed chunks upserted -> version (\d+)$", out, re.M)
        self.assertIsNotNone(m, out)
        changed, revised = map(int, m.groups())
        self.assertEqual(revised, loaded + 1)
        self.assertGreater(changed, 0)
        self.assertRegex(out, rf"(?m)^at head \(version {revised}\): read version {revised}, .*answer: 95 psi$")
        self.assertRegex(
            out, rf"(?m)^at version {loaded}, before the revision: read version {loaded}, .*answer: 80 psi$"
        )
        self.assertRegex(out, rf"(?m)^get bicycle#\d+ at version {loaded}: '.*80 psi.*'$")
        self.assertRegex(out, r"(?m)^get bicycle#\d+ at head: '.*95 psi.*'$")
        self.assertEqual(out.splitlines()[-1], "done")

        # What it left in the server agrees with what it printed.
        info = self.db.get_collection(coll)
        self.assertEqual((info["dimension"], info["metric"]), (64, "cosine"))
        self.assertEqual((info["head_version"], info["live_records"]), (revised, chunks))
        self.assertEqual(self.db.count(coll, filter='doc = "bicycle" and draft = false'),
                         self.db.count(coll, at=loaded, filter='doc = "bicycle"'))

        # Deterministic: a second run (which recreates the collection) prints
        # the same, but for the retrieval ids and log record numbers.
        again = self.run_example(coll)
        self.assertEqual(again.returncode, 0, again.stderr)

        def masked(text):
            return re.sub(r"log record \d+", "log record N", re.sub(r"rtv-[0-9a-f]{32}", "rtv-X", text))

        self.assertEqual(masked(again.stdout), masked(out))
        self.db.drop_collection(coll)


class SecurityTest(unittest.TestCase):
    """API keys and mTLS (docs/security.md) with a server of its own."""

    API_KEY = "py-writer-3c1f77a0"

    @classmethod
    def setUpClass(cls):
        import hashlib

        cls.workdir = tempfile.mkdtemp(prefix="verity-python-security-")
        d = cls.workdir
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

        def openssl(*args):
            subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

        openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Verity test CA")
        openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
        with open(os.path.join(d, "san.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
        openssl("req", *ec, "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=python client")
        openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "client.pem", "-days", "2")
        with open(os.path.join(d, "keys"), "w") as f:
            f.write(f"python writer {hashlib.sha256(cls.API_KEY.encode()).hexdigest()}\n")
        cls.server = VerityServer(
            ARGS.verityd,
            d,
            ["--keys", os.path.join(d, "keys"), "--tls-cert", os.path.join(d, "server.pem"),
             "--tls-key", os.path.join(d, "server.key"), "--tls-client-ca", os.path.join(d, "ca.pem")],
        )
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def client(self, api_key=None, cert=True):
        d = self.workdir
        return verity_client.Client(
            self.server.addr,
            timeout=10.0,
            api_key=api_key,
            tls_ca=os.path.join(d, "ca.pem"),
            tls_cert=os.path.join(d, "client.pem") if cert else None,
            tls_key=os.path.join(d, "client.key") if cert else None,
        )

    def test_key_and_client_certificate(self):
        with self.client(api_key=self.API_KEY) as db:
            self.assertEqual(db.health(), "SERVING")
            db.create_collection("secure", 2)
            db.upsert("secure", [record("a", [1.0, 0.0], text="alpha")])
            self.assertEqual(db.search("secure", [1.0, 0.0], k=1)[0]["id"], "a")
            # A writer may not drop: PERMISSION_DENIED names the permission.
            with self.assertRaises(verity_client.VerityError) as cm:
                db.drop_collection("secure")
            self.assertEqual(cm.exception.code, "PERMISSION_DENIED")
            self.assertIn("PERMISSION_ADMIN", cm.exception.message)

    def test_refusals(self):
        with self.client(api_key=None) as db:
            with self.assertRaises(verity_client.VerityError) as cm:
                db.list_collections()
            self.assertEqual(cm.exception.code, "UNAUTHENTICATED")
        with self.client(api_key="not-the-key") as db:
            with self.assertRaises(verity_client.VerityError) as cm:
                db.list_collections()
            self.assertEqual(cm.exception.code, "UNAUTHENTICATED")
        # No client certificate, or no TLS at all: the connection is refused.
        with self.client(api_key=self.API_KEY, cert=False) as db:
            with self.assertRaises(verity_client.VerityError) as cm:
                db.list_collections()
            self.assertEqual(cm.exception.code, "UNAVAILABLE")
        with verity_client.Client(self.server.addr, timeout=10.0, api_key=self.API_KEY) as db:
            with self.assertRaises(verity_client.VerityError) as cm:
                db.list_collections()
            self.assertEqual(cm.exception.code, "UNAVAILABLE")
        with self.assertRaises(ValueError):
            verity_client.Client(self.server.addr, tls_cert=os.path.join(self.workdir, "client.pem"))


class ShutdownTest(unittest.TestCase):
    """Runs last: SIGTERM must stop the server cleanly with exit code 0."""

    def test_sigterm_exits_zero(self):
        self.assertTrue(SERVER.running(), "verityd died during the tests:\n" + SERVER.log_tail())
        self.assertEqual(SERVER.terminate(), 0, SERVER.log_tail())
        events = [e.get("event") for e in log_events(SERVER.log_path)]
        self.assertIn("stopping", events)
        self.assertEqual(events[-1], "stop")
        errors = [e for e in log_events(SERVER.log_path) if e.get("level") == "error"]
        self.assertEqual(errors, [])


TEST_CASES = [CollectionTest, RecordTest, SearchTest, VersionTest, ContextTest, AuditTest, MonitorTest, PromptTest,
              CacheTest, TextSearchTest, ErrorTest, RagExampleTest, SecurityTest, ShutdownTest]


def main():
    global ARGS, grpc, np, verity_client, SERVER
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verityd", required=True, help="path of the verityd binary")
    parser.add_argument("--stubs", required=True, help="directory written by client/python/generate.sh")
    parser.add_argument("-v", "--verbosity", type=int, default=2, help="unittest verbosity (default %(default)s)")
    ARGS = parser.parse_args()
    ARGS.verityd = os.path.abspath(ARGS.verityd)
    ARGS.stubs = os.path.abspath(ARGS.stubs)

    # No __pycache__ in the source tree (the stubs' directory is the build's).
    sys.dont_write_bytecode = True
    sys.path[:0] = [ARGS.stubs, CLIENT_DIR]
    import grpc as grpc_module
    import numpy as numpy_module
    import verity_client as client_module

    grpc, np, verity_client = grpc_module, numpy_module, client_module

    workdir = tempfile.mkdtemp(prefix="verity-python-test-")
    SERVER = VerityServer(ARGS.verityd, workdir)
    suite = unittest.TestSuite()
    for case in TEST_CASES:  # in this order: ShutdownTest must be last
        suite.addTests(unittest.defaultTestLoader.loadTestsFromTestCase(case))
    try:
        result = unittest.TextTestRunner(verbosity=ARGS.verbosity).run(suite)
        if not result.wasSuccessful():
            print(f"--- verityd log ({SERVER.log_path}), last lines:\n{SERVER.log_tail()}", file=sys.stderr)
    finally:
        SERVER.kill()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
