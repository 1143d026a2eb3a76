// Errors: arguments the client refuses before any call (VerityError
// INVALID_ARGUMENT, httpStatus null, the message naming the argument), the
// server's errors mapped from its JSON error body (code, HTTP status,
// message naming the field), an unreachable server, and API keys.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { Client, VerityError } from "../src/index.js";
import { Verityd } from "./verityd.js";

let server: Verityd;
let db: Client;
// Nothing listens on port 1: a call that was made would fail UNAVAILABLE, so
// INVALID_ARGUMENT with no HTTP status from this client proves the client
// refused the argument itself, before any call.
const offline = new Client({ baseUrl: "http://127.0.0.1:1", timeoutMs: 5000 });

before(async () => {
  server = await Verityd.start();
  db = new Client({ baseUrl: server.baseUrl });
  await db.createCollection("e", 3);
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

/** Asserts `promise` rejects with a VerityError refused before any call, whose message matches `message`. */
async function refused(promise: Promise<unknown> | (() => unknown), message: RegExp): Promise<void> {
  const run = typeof promise === "function" ? Promise.resolve().then(promise) : promise;
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof VerityError, `a VerityError, got ${String(e)}`);
    assert.equal(e.code, "INVALID_ARGUMENT");
    assert.equal(e.httpStatus, null);
    assert.equal(e.method, null);
    assert.match(e.message, message);
    return true;
  });
}

/** Asserts `promise` rejects with the server's error: code, HTTP status, message. */
async function serverError(promise: Promise<unknown>, code: string, httpStatus: number, message: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof VerityError, `a VerityError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.httpStatus, httpStatus);
    assert.match(e.message, message);
    assert.ok(e.method, "names the RPC");
    return true;
  });
}

describe("arguments refused before any call", () => {
  it("records", async () => {
    await refused(offline.upsert("e", { id: "a", vector: [1, 2, 3] } as never), /^records: .*one object \(wrap it in an array\)/);
    await refused(offline.upsert("e", [{ id: "a", vector: [1, 2, 3] }, { id: 7, vector: [1, 2, 3] } as never]), /^records\[1\]\.id: expected a string, got number 7/);
    await refused(offline.upsert("e", [{ vector: [1, 2, 3] } as never]), /^records\[0\]\.id: missing/);
    await refused(offline.upsert("e", [{ id: "a", document_id: "x" } as never]), /^records\[0\]: unknown key\(s\) "document_id"/);
    await refused(offline.upsert("e", [{ id: "a", vector: [1, 2, 1e39] }]), /^records\[0\]\.vector\[2\]: 1e\+39 is outside the float range ±3\.4028235e38/);
    await refused(offline.upsert("e", [{ id: "a", vector: [1, true, 3] as never }]), /^records\[0\]\.vector\[1\]: expected a number, got boolean true/);
    await refused(offline.upsert("e", [{ id: "a", vector: new Set([1, 2, 3]) as never }]), /^records\[0\]\.vector: expected an array of numbers or a typed array, got Set/);
    await refused(offline.upsert("e", [{ id: "a", vector: "1,2,3" as never }]), /^records\[0\]\.vector: expected an array/);
    await refused(offline.upsert("e", [{ id: "a", metadata: { x: { nested: 1 } as never } }]), /^records\[0\]\.metadata\["x"\]: unsupported metadata type/);
    await refused(offline.upsert("e", [{ id: "a", metadata: { tags: ["a", 2] as never } }]), /^records\[0\]\.metadata\["tags"\]\[1\]: list items must be strings/);
    await refused(offline.upsert("e", [{ id: "a", metadata: { n: 2 ** 60 } }]), /^records\[0\]\.metadata\["n"\]: 1152921504606847000 is an integer beyond 2\^53.*pass a bigint/);
    await refused(offline.upsert("e", [{ id: "a", metadata: { n: 2n ** 63n } }]), /^records\[0\]\.metadata\["n"\]: 9223372036854775808 does not fit a 64-bit signed integer/);
    await refused(offline.upsert("e", [{ id: "a", sparse: { kw: { indices: [-1], values: [1] } } }]), /^records\[0\]\.sparse\["kw"\]\.indices\[0\]: expected an integer in 0\.\.4294967295, got -1/);
    await refused(offline.upsert("e", [{ id: "a", sparse: { kw: { indices: [1] } as never } }]), /^records\[0\]\.sparse\["kw"\]\.values: missing/);
    await refused(offline.upsert("e", [{ id: "a", text: "bad \ud800 surrogate" }]), /^records\[0\]\.text: not encodable as UTF-8 \(a lone surrogate at index 4\)/);
    await refused(offline.delete("e", "a" as never), /^ids: expected an array of strings, got a single string \(wrap it in an array\)/);
  });

  it("searches and retrievals", async () => {
    await refused(offline.search("e", { vector: [1, 2, 3], k: 0 }), /^k: expected an integer in 1\.\.4294967295, got 0/);
    await refused(offline.search("e", { vector: [1, 2, 3], k: 1.5 }), /^k: expected an integer in 1\.\.4294967295, got number 1\.5/);
    await refused(offline.search("e", { vector: [1, 2, 3], ef: -1 }), /^ef: /);
    await refused(offline.search("e", { vector: [1, 2, 3], text: "x", fusion: "max" as never }), /^fusion: string "max" is not one of rrf, convex/);
    await refused(offline.search("e", { vector: [1, 2, 3], text: "x", weights: { bm25: 1 } as never }), /^weights: unknown leg\(s\) "bm25"/);
    await refused(offline.search("e", { vector: [1, 2, 3], text: "x", weights: { text: "1" as never } }), /^weights\["text"\]: expected a number/);
    await refused(offline.search("e", { sparseField: "kw" }), /^sparseField and sparse go together/);
    await refused(offline.search("e", { vector: [1, 2, 3], plan: "fast" as never }), /^plan: string "fast" is not one of auto, exact, graph/);
    await refused(offline.search("e", { vector: [1, 2, 3], at: -1 }), /^at: expected a version number >= 0, a snapshot name or undefined, got number -1/);
    await refused(offline.search("e", { vector: [1, 2, 3], at: "" }), /^at: empty snapshot name/);
    await refused(offline.search("e", { vector: [1, 2, 3], filter: { lang: "en" } as never }), /^filter: expected the text syntax of docs\/filters\.md/);
    await refused(offline.retrieve("e", { vector: [1, 2, 3], tokenBudget: -5 }), /^tokenBudget: /);
    await refused(offline.retrieve(7 as never, { vector: [1, 2, 3] }), /^collection: expected a string/);
    await refused(offline.batchSearch("e", [[1, 2, 3], [1, "x", 3]] as never), /^vectors\[1\]\[1\]: expected a number/);
    await refused(offline.cacheLookup("e", { vector: [1, 2, 3], minSimilarity: "high" as never }), /^minSimilarity: expected a number/);
  });

  it("collections, log, prompts, snapshots", async () => {
    await refused(offline.createCollection("x", 3, { metric: "hamming" as never }), /^metric: string "hamming" is not one of l2, ip, cosine/);
    await refused(offline.createCollection("x", -1), /^dimension: expected an integer in 0\.\.4294967295, got -1/);
    await refused(offline.createCollection("x", 3, { textIndex: "klingon" as never }), /^textIndex\.preset: string "klingon" is not one of standard, english/);
    await refused(offline.createCollection("x", 3, { textIndex: { preset: "english", k: 1 } as never }), /^textIndex: unknown key\(s\) "k"/);
    await refused(offline.createCollection("x", 3, { textIndex: { fields: { title: 17 } } }), /^textIndex\.fields\["title"\]: expected an integer in 1\.\.16, got 17/);
    await refused(offline.createCollection("x", 0, { sparseFields: "splade" as never }), /^sparseFields: .*single string \(wrap it in an array\)/);
    await refused(offline.replay("rtv-x", { mode: "bogus" as never }), /^mode: expected "context", "retrieval" or "counterfactual", got "bogus"/);
    await refused(offline.listLogPage({ limit: 0 }), /^limit: expected an integer in 1\.\.4294967295, got 0/);
    await refused(offline.listLogPage({ kind: "bogus" as never }), /^kind: expected "retrieval", "answer", "cache_hit" or undefined/);
    await refused(offline.listLog({ pageSize: 10001 }).next(), /^pageSize: expected an integer in 1\.\.10000, got 10001/);
    await refused(offline.recordAnswer("rtv-x", 42 as never), /^answer: expected a string, got number 42/);
    await refused(offline.audit("rtv-x", { threshold: "0.5" as never }), /^threshold: expected a number/);
    await refused(offline.createPrompt("qa", "t", { labels: "production" as never }), /^labels: expected an array of strings, got a single string/);
    await refused(offline.getPrompt("qa@0"), /^prompt: version in "qa@0" must be 1\.\.4294967295/);
    await refused(offline.renderPrompt("qa", { x: 1 } as never), /^variables\["x"\]: expected a string, got number 1/);
    await refused(offline.restore("e", undefined as never), /^at: required/);
    await refused(offline.diff("e", { from: -2 }), /^from: expected a version number/);
    await refused(() => new Client({ baseUrl: "127.0.0.1:7420" }), /^baseUrl: expected an http:\/\/ or https:\/\/ URL/);
    await refused(() => new Client({ baseUrl: "http://x", apiKey: "key\n" }), /^apiKey: .*trim it/);
    await refused(() => new Client({ baseUrl: "http://x", timeoutMs: 0 }), /^timeoutMs: /);
  });

  it("refuses Object.prototype's names (constructor, toString, __proto__) in every name table, naming the field", async () => {
    for (const bad of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      await refused(offline.createCollection("x", 3, { metric: bad as never }), new RegExp(`^metric: string "${bad}" is not one of l2, ip, cosine`));
      await refused(offline.search("e", { vector: [1, 2, 3], plan: bad as never }), new RegExp(`^plan: string "${bad}" is not one of auto, exact, graph`));
      await refused(offline.search("e", { vector: [1, 2, 3], text: "t", fusion: bad as never }), new RegExp(`^fusion: string "${bad}" is not one of rrf, convex`));
      await refused(offline.listLogPage({ kind: bad as never }), new RegExp(`^kind: expected "retrieval", "answer", "cache_hit" or undefined, got "${bad}"`));
      await refused(offline.replay("rtv-x", { mode: bad as never }), new RegExp(`^mode: expected "context", "retrieval" or "counterfactual", got "${bad}"`));
    }
  });

  it("refuses a timeoutMs above 86400000, the most X-Verity-Timeout-Ms takes; the limit itself works", async () => {
    await refused(() => new Client({ baseUrl: "http://x", timeoutMs: 86400001 }), /^timeoutMs: expected an integer number of milliseconds in \[1, 86400000\]/);
    await refused(() => new Client({ baseUrl: "http://x", timeoutMs: 1e12 }), /^timeoutMs: .*86400000.*got 1000000000000/);
    const patient = new Client({ baseUrl: server.baseUrl, timeoutMs: 86400000 });
    assert.ok((await patient.listCollections()).some((c) => c.name === "e"));
  });
});

describe("server errors", () => {
  it("maps the JSON error body: code, HTTP status, the message naming the field", async () => {
    await serverError(db.getCollection("missing"), "NOT_FOUND", 404, /collection "missing" does not exist/);
    await serverError(db.upsert("missing", [{ id: "a", vector: [1, 2, 3] }]), "NOT_FOUND", 404, /missing/);
    await serverError(db.upsert("e", [{ id: "a", vector: [1, 2] }]), "INVALID_ARGUMENT", 400, /^records\[0\]\.vector: has 2 components; the collection's dimension is 3/);
    await serverError(db.upsert("e", [{ id: "a", vector: [1, NaN, 3] }]), "INVALID_ARGUMENT", 400, /^records\[0\]\.vector\[1\]: NaN/);
    await serverError(db.createCollection("e", 3), "ALREADY_EXISTS", 409, /e/);
    await serverError(db.createCollection("bad name!", 3), "INVALID_ARGUMENT", 400, /^config\.name: /);
    await serverError(db.createCollection("t", 3, { textIndex: { k1: 5 } }), "INVALID_ARGUMENT", 400, /^config\.text_index\.k1: /);
    await serverError(db.search("e", { text: "hello" }), "FAILED_PRECONDITION", 400, /^query\.text: /);
    await serverError(db.search("e", { vector: [1, 2, 3], filter: "lang = en" }), "INVALID_ARGUMENT", 400, /^query\.filter: column 8: /);
    await serverError(db.search("e", { vector: [1, 2, 3], at: 99 }), "INVALID_ARGUMENT", 400, /99/);
    await serverError(db.getRetrieval("rtv-00000000000000000000000000000000"), "NOT_FOUND", 404, /rtv-0/);
    await serverError(db.getPrompt("nope"), "NOT_FOUND", 404, /nope/);
    const e = await db.getCollection("missing").catch((x: VerityError) => x);
    assert.equal((e as VerityError).method, "CollectionService.GetCollection");
    assert.equal((e as VerityError).codeNumber, 5);
  });

  it("an unreachable server is UNAVAILABLE, with no HTTP status", async () => {
    await assert.rejects(offline.listCollections(), (e: unknown) => {
      assert.ok(e instanceof VerityError);
      assert.equal(e.code, "UNAVAILABLE");
      assert.equal(e.httpStatus, null);
      assert.equal(e.method, "CollectionService.ListCollections");
      assert.match(e.message, /cannot reach http:\/\/127\.0\.0\.1:1/);
      return true;
    });
  });
});

describe("API keys", () => {
  let keyed: Verityd;
  let dir: string;
  const writerKey = "writer-key-0123456789";
  const readerKey = "reader-key-0123456789";

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "verity-ts-keys-"));
    const sha = (k: string) => createHash("sha256").update(k).digest("hex");
    const keys = path.join(dir, "keys");
    writeFileSync(keys, `ingest writer ${sha(writerKey)}\nfrontend reader ${sha(readerKey)}\n`);
    keyed = await Verityd.start(["--keys", keys]);
  });

  after(async () => {
    assert.equal(await keyed.stop(), 0);
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends the key as Authorization: Bearer; no key is 401, a role without the permission 403", async () => {
    const writer = new Client({ baseUrl: keyed.baseUrl, apiKey: writerKey });
    const reader = new Client({ baseUrl: keyed.baseUrl, apiKey: readerKey });
    const anonymous = new Client({ baseUrl: keyed.baseUrl });
    const wrong = new Client({ baseUrl: keyed.baseUrl, apiKey: "not-a-key" });
    await writer.createCollection("k", 2);
    await writer.upsert("k", [{ id: "a", vector: [1, 0] }]);
    assert.equal((await reader.search("k", { vector: [1, 0], k: 1 })).hits[0]!.id, "a");
    await serverError(anonymous.listCollections(), "UNAUTHENTICATED", 401, /./);
    await serverError(wrong.listCollections(), "UNAUTHENTICATED", 401, /./);
    await serverError(reader.upsert("k", [{ id: "b", vector: [0, 1] }]), "PERMISSION_DENIED", 403, /./);
    await serverError(writer.dropCollection("k"), "PERMISSION_DENIED", 403, /./);
  });
});

describe("the listener's own refusals", () => {
  let small: Verityd;

  before(async () => {
    small = await Verityd.start(["--max-message-bytes", "65536"]);
  });

  after(async () => {
    assert.equal(await small.stop(), 0);
  });

  it("a body past --max-message-bytes (the listener's plain-text 413) is RESOURCE_EXHAUSTED", async () => {
    const client = new Client({ baseUrl: small.baseUrl });
    await client.createCollection("m", 2);
    await assert.rejects(client.upsert("m", [{ id: "a", vector: [1, 0], text: "x".repeat(70000) }]), (e: unknown) => {
      assert.ok(e instanceof VerityError);
      assert.equal(e.code, "RESOURCE_EXHAUSTED");
      assert.equal(e.httpStatus, 413);
      assert.match(e.message, /request body too large/);
      return true;
    });
    assert.equal((await client.upsert("m", [{ id: "a", vector: [1, 0], text: "x".repeat(60000) }])).applied, 1);
  });
});
