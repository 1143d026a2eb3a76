#!/usr/bin/python3
"""What one oversized BatchSearch costs verityd: time, peak and resident memory.

    /usr/bin/python3 bench/batch_memory.py --verityd build/server/verityd --stubs build/python-stubs

Starts verityd on a free loopback port with a temporary data directory, loads
1,000 records (dimension 4) and sends, as a reader would, BatchSearch calls of
10,000 queries with k = 1,000 (10 million hits asked for by a request of about
half a megabyte), one after another. Prints, as JSON lines, each call's status
and seconds, then verityd's peak resident memory (VmHWM) and resident memory
(VmRSS) after the calls, and the same after a payload-less batch that fits.
Issue #23, item 2: before the fix each such call built every hit (~15 s and
gigabytes); now it is refused before any query runs.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_kib(pid):
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                fields[name] = int(value.split()[0])
    return fields


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verityd", required=True)
    parser.add_argument("--stubs", required=True)
    parser.add_argument("--calls", type=int, default=2)
    parser.add_argument("--queries", type=int, default=10000)
    parser.add_argument("--k", type=int, default=1000)
    args = parser.parse_args()
    sys.path.insert(0, args.stubs)
    import grpc  # noqa: E402 (after the stubs' path)
    from verity.v1 import collections_pb2, collections_pb2_grpc, common_pb2, records_pb2, records_pb2_grpc  # noqa: E402
    from verity.v1 import search_pb2, search_pb2_grpc  # noqa: E402

    work = tempfile.mkdtemp(prefix="verity-batch-memory-")
    addr = f"127.0.0.1:{free_port()}"
    log = open(os.path.join(work, "verityd.log"), "wb")
    proc = subprocess.Popen([args.verityd, "--listen", addr, "--data", os.path.join(work, "data")],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        channel = grpc.insecure_channel(addr, options=[("grpc.max_receive_message_length", 1 << 30),
                                                       ("grpc.max_send_message_length", 1 << 30)])
        grpc.channel_ready_future(channel).result(timeout=30)
        collections = collections_pb2_grpc.CollectionServiceStub(channel)
        records = records_pb2_grpc.RecordServiceStub(channel)
        search = search_pb2_grpc.SearchServiceStub(channel)
        collections.CreateCollection(collections_pb2.CreateCollectionRequest(
            config=common_pb2.CollectionConfig(name="small", dimension=4)))
        upsert = records_pb2.UpsertRequest(collection="small")
        for i in range(1000):
            upsert.records.add(id=f"r{i}", vector=[float(i), float(i % 7), 1.0, 0.0])
        records.Upsert(upsert)
        print(json.dumps({"event": "loaded", **memory_kib(proc.pid)}), flush=True)

        def batch(n, k):
            request = search_pb2.BatchSearchRequest(collection="small")
            for q in range(n):
                request.queries.add(vector=[float((q + d) % 13) for d in range(4)], k=k, with_payload=False)
            return request

        big = batch(args.queries, args.k)
        for call in range(args.calls):
            start = time.monotonic()
            try:
                search.BatchSearch(big, timeout=120)
                code, message = "OK", ""
            except grpc.RpcError as e:
                code, message = e.code().name, e.details()
            print(json.dumps({"event": "oversized_batch", "call": call, "queries": args.queries, "k": args.k,
                              "code": code, "seconds": round(time.monotonic() - start, 3),
                              "message": message[:160], **memory_kib(proc.pid)}), flush=True)
        start = time.monotonic()
        fits = search.BatchSearch(batch(1000, 100), timeout=120)
        print(json.dumps({"event": "fitting_batch", "queries": 1000, "k": 100,
                          "hits": sum(len(r.hits) for r in fits.results),
                          "seconds": round(time.monotonic() - start, 3), **memory_kib(proc.pid)}), flush=True)
        time.sleep(1)
        print(json.dumps({"event": "after", **memory_kib(proc.pid)}), flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()


if __name__ == "__main__":
    main()
