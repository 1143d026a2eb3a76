#!/usr/bin/python3
"""How long verityd takes to start again after kill -9, against a clean stop.

    /usr/bin/python3 bench/crash_restart.py --verityd build/server/verityd --stubs build/python-stubs

Loads the 60,000 Fashion-MNIST training images (Debian's dataset-fashion-mnist)
into a fresh verityd in batches of 1,000, waits --settle seconds (the
background graph checkpoints, DatabaseOptions::graph_checkpoint_*, run then),
kills it with SIGKILL and starts it again; then stops that one cleanly
(SIGTERM) and starts it a third time. Prints, as JSON lines, each start's
open time (verityd's own "open_ms" in its start line) and the engine's graph
lines (loaded / caught up / rebuilt). Issue #23, item 9.
"""

import argparse
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

IMAGES = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def images(limit):
    with gzip.open(IMAGES, "rb") as f:
        data = f.read()
    count, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    dim = rows * cols
    count = min(count, limit)
    return [list(data[16 + i * dim:16 + (i + 1) * dim]) for i in range(count)], dim


def start(binary, data_dir, log_path):
    addr = f"127.0.0.1:{free_port()}"
    log = open(log_path, "ab")
    offset = log.tell()
    proc = subprocess.Popen([binary, "--listen", addr, "--data", data_dir], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        with open(log_path, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
        for line in text.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "start":
                graph = [e.get("message") for e in map(_json, text.splitlines())
                         if e and e.get("event") == "engine" and "graph" in e.get("message", "")]
                return proc, addr, int(event.get("open_ms", -1)), graph
        if proc.poll() is not None:
            raise SystemExit(f"verityd exited with {proc.returncode}; see {log_path}")
        time.sleep(0.05)
    raise SystemExit("verityd did not start")


def _json(line):
    try:
        return json.loads(line)
    except ValueError:
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verityd", required=True)
    parser.add_argument("--stubs", required=True)
    parser.add_argument("--records", type=int, default=60000)
    parser.add_argument("--settle", type=float, default=10.0)
    args = parser.parse_args()
    sys.path.insert(0, args.stubs)
    import grpc  # noqa: E402
    from verity.v1 import collections_pb2, collections_pb2_grpc, common_pb2, records_pb2, records_pb2_grpc  # noqa

    vectors, dim = images(args.records)
    work = tempfile.mkdtemp(prefix="verity-crash-restart-")
    data_dir = os.path.join(work, "data")
    log_path = os.path.join(work, "verityd.log")
    proc, addr, open_ms, _ = start(args.verityd, data_dir, log_path)
    channel = grpc.insecure_channel(addr, options=[("grpc.max_send_message_length", 1 << 28)])
    collections_pb2_grpc.CollectionServiceStub(channel).CreateCollection(
        collections_pb2.CreateCollectionRequest(config=common_pb2.CollectionConfig(name="fm", dimension=dim)))
    records = records_pb2_grpc.RecordServiceStub(channel)
    began = time.monotonic()
    for first in range(0, len(vectors), 1000):
        request = records_pb2.UpsertRequest(collection="fm")
        for i in range(first, min(first + 1000, len(vectors))):
            request.records.add(id=str(i), vector=vectors[i])
        records.Upsert(request, timeout=600)
    print(json.dumps({"event": "loaded", "records": len(vectors), "seconds": round(time.monotonic() - began, 1)}),
          flush=True)
    time.sleep(args.settle)
    channel.close()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc, addr, open_ms, graph = start(args.verityd, data_dir, log_path)
    print(json.dumps({"event": "start_after_kill", "open_ms": open_ms, "graph": graph}), flush=True)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=600)
    proc, addr, open_ms, graph = start(args.verityd, data_dir, log_path)
    print(json.dumps({"event": "start_after_clean_stop", "open_ms": open_ms, "graph": graph}), flush=True)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=600)


if __name__ == "__main__":
    main()
