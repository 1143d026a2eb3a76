// Every failure is a VerityError, also those after the response's headers:
// a deadline that passes while the body is read (DEADLINE_EXCEEDED), a
// line of a streaming answer that is not JSON (INTERNAL naming the method).
//
// The calls go to a real verityd; the client's `fetch` option puts a thin
// relay in between that passes the server's real answer on and then
// misbehaves as a stalled connection or a broken proxy would: it holds the
// body's end back until the call's signal aborts (erroring the body with
// the signal's reason, as Node's fetch does), or it appends a line that
// is not JSON.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { Client, VerityError } from "../src/index.js";
import { Verityd } from "./verityd.js";

let server: Verityd;

before(async () => {
  server = await Verityd.start();
  const db = new Client({ baseUrl: server.baseUrl });
  await db.createCollection("f", 2);
  await db.upsert("f", [{ id: "a", vector: [1, 0] }]);
});

after(async () => {
  assert.equal(await server.stop(), 0, "verityd exits 0 on SIGTERM");
});

/** A fetch that relays the real answer, then does `atEnd` instead of ending the body. */
function relay(atEnd: (controller: ReadableStreamDefaultController<Uint8Array>, signal: AbortSignal | null) => void): typeof fetch {
  return async (input, init) => {
    const real = await fetch(input, init);
    const reader = real.body!.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (!done) controller.enqueue(value);
        else atEnd(controller, init?.signal ?? null);
      },
    });
    return new Response(body, { status: real.status, statusText: real.statusText, headers: real.headers });
  };
}

const stall = relay((controller, signal) => {
  if (!signal) return; // never ends
  if (signal.aborted) controller.error(signal.reason);
  else signal.addEventListener("abort", () => controller.error(signal.reason), { once: true });
});

const garbage = relay((controller) => {
  controller.enqueue(new TextEncoder().encode("{not json\n"));
  controller.close();
});

function isVerityError(code: string, messagePart: string) {
  return (e: unknown) => {
    assert.ok(e instanceof VerityError, `a VerityError, got ${String(e)} (${(e as Error)?.name})`);
    assert.equal(e.code, code);
    assert.ok(e.message.includes(messagePart), e.message);
    return true;
  };
}

describe("failures while the body is read", () => {
  it("a deadline passing while a unary answer's body is read is DEADLINE_EXCEEDED", async () => {
    const db = new Client({ baseUrl: server.baseUrl, timeoutMs: 300, fetch: stall });
    await assert.rejects(db.listCollections(), isVerityError("DEADLINE_EXCEEDED", "timeoutMs (300 ms)"));
  });

  it("a deadline passing while a stream is read is DEADLINE_EXCEEDED (SearchStream, Export)", async () => {
    const db = new Client({ baseUrl: server.baseUrl, timeoutMs: 300, fetch: stall });
    const seen: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const r of db.searchStream("f", [[1, 0]], { k: 1 })) seen.push(r);
      })(),
      isVerityError("DEADLINE_EXCEEDED", "timeoutMs (300 ms)"),
    );
    assert.equal(seen.length, 1, "the line that arrived before the stall was yielded");
    await assert.rejects(db.exportCollection("stalled", { collection: "f" }), isVerityError("DEADLINE_EXCEEDED", "timeoutMs"));
  });

  it("a streamed line that is not JSON is INTERNAL naming the method (SearchStream, Export)", async () => {
    const db = new Client({ baseUrl: server.baseUrl, fetch: garbage });
    await assert.rejects(
      (async () => {
        for await (const _ of db.searchStream("f", [[1, 0]], { k: 1 })) void _;
      })(),
      isVerityError("INTERNAL", "SearchService.SearchStream: a line of the server's answer is not JSON: {not json"),
    );
    await assert.rejects(
      db.exportCollection("garbled", { collection: "f" }),
      isVerityError("INTERNAL", "SnapshotService.Export: a line of the server's answer is not JSON"),
    );
  });
});
