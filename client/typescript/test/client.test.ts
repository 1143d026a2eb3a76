// End-to-end tests of the Client against a real verityd over HTTP/JSON:
// every method, the values' types both ways, reads at old versions and
// snapshots, text / sparse / hybrid search, the retrieval log's audit side,
// prompts and the answer cache.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { Client, VerityError } from "../src/index.js";
import type { RecordInput } from "../src/index.js";
import { Verityd } from "./verityd.js";

let server: Verityd;
let db: Client;

before(async () => {
  server = await Verityd.start();
  db = new Client({ baseUrl: server.baseUrl, timeoutMs: 30000 });
});

after(async () => {
  assert.equal(await server.stop(), 0, "verityd exits 0 on SIGTERM");
});

async function collect<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

const RECORDS: RecordInput[] = [
  {
    id: "a",
    vector: [1, 0, 0, 0],
    text: "The router resets when you hold the button for ten seconds.",
    documentId: "manual",
    metadata: { lang: "en", year: 2024, draft: false, score: 0.5, tags: ["net", "howto"], big: 2n ** 62n },
  },
  { id: "b", vector: [0, 1, 0, 0], text: "Bees need a calm apiary.", documentId: "bees", metadata: { lang: "en", year: 2019, draft: true } },
  { id: "c", vector: [0, 0, 1, 0], text: "Der Router hat einen Knopf.", documentId: "manual", metadata: { lang: "de", year: 2022 } },
  { id: "d", vector: new Float32Array([0.9, 0.1, 0, 0]), text: "Hold the reset button.", metadata: { lang: "en", year: 2023 } },
];

describe("collections", () => {
  it("creates, gets, lists, lists versions and drops a collection", async () => {
    const info = await db.createCollection("coll1", 3, { metric: "ip", m: 8, efConstruction: 100, defaultEf: 32, keepVersions: 7 });
    assert.equal(info.name, "coll1");
    assert.equal(info.dimension, 3);
    assert.equal(info.metric, "ip");
    assert.equal(info.m, 8);
    assert.equal(info.efConstruction, 100);
    assert.equal(info.defaultEf, 32);
    assert.equal(info.keepVersions, 7);
    assert.equal(info.headVersion, 0);
    assert.equal(info.textIndex, null);
    assert.deepEqual(info.sparseFields, {});
    assert.equal(typeof info.createdAtUs, "number");
    assert.ok(info.createdAtUs > 1.7e15, "Unix microseconds as a number");

    const got = await db.getCollection("coll1");
    assert.deepEqual(got, info);
    const names = (await db.listCollections()).map((c) => c.name);
    assert.ok(names.includes("coll1"));

    await db.upsert("coll1", [{ id: "x", vector: [1, 2, 3] }]);
    await db.upsert("coll1", [{ id: "y", vector: [3, 2, 1] }]);
    const versions = await db.listVersions("coll1");
    assert.deepEqual(versions.map((v) => [v.version, v.upserted]), [[0, 0], [1, 1], [2, 1]]);
    assert.ok(versions.every((v) => v.readable && typeof v.committedAtUs === "number"));

    await db.dropCollection("coll1");
    await assert.rejects(db.getCollection("coll1"), (e: VerityError) => e.code === "NOT_FOUND" && e.httpStatus === 404);
  });

  it("creates a text-only collection (dimension 0) with a text index and sparse fields, and changes its index", async () => {
    const info = await db.createCollection("notes", 0, {
      textIndex: { preset: "english", k1: 1.5, b: 0.5, fields: { title: 3 } },
      sparseFields: { splade: 1000, other: undefined },
    });
    assert.equal(info.dimension, 0);
    assert.equal(info.textIndex?.preset, "english");
    assert.equal(info.textIndex?.stemmer, "english");
    assert.equal(info.textIndex?.k1, 1.5);
    assert.equal(info.textIndex?.b, 0.5);
    assert.deepEqual(info.textIndex?.fields, { title: 3 });
    assert.equal(info.textIndex?.analyzerVersion, 1);
    assert.deepEqual(info.sparseFields, { splade: 1000, other: 2 ** 31 });

    const changed = await db.setTextIndex("notes", { preset: "english", k1: 1.2, fields: ["title"] });
    assert.equal(changed.textIndex?.analyzerVersion, 2);
    assert.equal(changed.textIndex?.k1, 1.2);
    assert.deepEqual(changed.textIndex?.fields, { title: 1 });
    await db.dropCollection("notes");
  });
});

describe("records and search", () => {
  let v1 = 0;
  let v2 = 0;

  before(async () => {
    await db.createCollection("docs", 4, { metric: "cosine", textIndex: "english", sparseFields: ["kw"] });
    const w1 = await db.upsert("docs", RECORDS);
    assert.deepEqual(w1, { version: 1, applied: 4 });
    v1 = w1.version;
    const w2 = await db.upsert("docs", [
      { id: "a", vector: [1, 0, 0, 0], text: "The router resets after a firmware update.", metadata: { lang: "en", year: 2025 } },
      { id: "s", vector: [0, 0, 0, 1], text: "sparse only", sparse: { kw: { indices: [3, 17], values: [0.5, 2] } } },
    ]);
    v2 = w2.version;
    assert.equal(v2, 2);
  });

  it("reads records back with their types, at the head and at an older version", async () => {
    const old = await db.get("docs", "a", { at: v1 });
    assert.equal(old.text, RECORDS[0]!.text);
    assert.equal(old.documentId, "manual");
    assert.equal(old.rowVersion, 1);
    assert.deepEqual(old.vector, [1, 0, 0, 0]);
    assert.deepEqual(old.metadata, {
      big: 2n ** 62n, // beyond 2^53: a bigint, digits kept
      draft: false,
      lang: "en",
      score: 0.5,
      tags: ["net", "howto"],
      year: 2024,
    });
    const head = await db.get("docs", "a");
    assert.equal(head.text, "The router resets after a firmware update.");
    assert.equal(head.rowVersion, 2);
    const s = await db.get("docs", "s");
    assert.deepEqual(s.sparse, { kw: { indices: [3, 17], values: [0.5, 2] } });
    const d = await db.get("docs", "d");
    // A Float32Array travels as float32; the server prints floats as the shortest decimal that reads back the same.
    assert.deepEqual(d.vector, [0.9, 0.1, 0, 0]);
  });

  it("counts and scrolls every page of one version, with a filter", async () => {
    assert.equal(await db.count("docs"), 5);
    assert.equal(await db.count("docs", { at: 0 }), 0);
    assert.equal(await db.count("docs", { filter: 'lang = "en"' }), 3);
    const all = await collect(db.scroll("docs", { limit: 2 }));
    assert.deepEqual(all.map((r) => r.id), ["a", "b", "c", "d", "s"]);
    assert.equal(all[0]!.vector, null);
    const en = await collect(db.scroll("docs", { limit: 1, filter: 'lang = "en"', at: v1, withVectors: true }));
    assert.deepEqual(en.map((r) => r.id), ["a", "b", "d"]);
    assert.deepEqual(en[0]!.vector, [1, 0, 0, 0]);
  });

  it("searches by vector with a filter, at a version, with vectors, exact", async () => {
    const r = await db.search("docs", { vector: [1, 0.05, 0, 0], k: 3 });
    assert.equal(r.version, v2);
    assert.deepEqual(r.hits.map((h) => h.id), ["a", "d", "b"]);
    assert.equal(r.hits[0]!.legs, null);
    assert.equal(r.hits[0]!.text, "The router resets after a firmware update.");
    assert.equal(r.hits[0]!.vector, null);
    assert.ok(r.hits[0]!.distance < r.hits[1]!.distance);

    const filtered = await db.search("docs", { vector: [1, 0, 0, 0], k: 5, filter: 'year >= 2023 and lang = "en"', at: v1, withVectors: true, plan: "exact" });
    assert.equal(filtered.version, v1);
    assert.equal(filtered.exact, true);
    assert.deepEqual(filtered.hits.map((h) => h.id), ["a", "d"]);
    assert.equal(filtered.hits[0]!.text, RECORDS[0]!.text, "read at v1: the old text");
    assert.deepEqual(filtered.hits[0]!.vector, [1, 0, 0, 0]);

    const bare = await db.search("docs", { vector: [0, 1, 0, 0], k: 1, withPayload: false });
    assert.equal(bare.hits[0]!.id, "b");
    assert.equal(bare.hits[0]!.text, null);
    assert.equal(bare.hits[0]!.metadata, null);
  });

  it("searches by text, by sparse vector, and hybrid with both fusions", async () => {
    const text = await db.search("docs", { text: "resetting routers", k: 5 });
    assert.deepEqual(new Set(text.hits.map((h) => h.id)), new Set(["a", "c", "d"]), "router, reset (stemmed)");
    assert.ok(text.hits[0]!.score > 0);
    assert.equal(text.hits[0]!.legs, null);

    const sparse = await db.search("docs", { sparseField: "kw", sparse: { indices: [17], values: [1] }, k: 3 });
    assert.deepEqual(sparse.hits.map((h) => h.id), ["s"]);
    assert.equal(sparse.hits[0]!.score, 2);

    const rrf = await db.search("docs", { vector: [0, 1, 0, 0], text: "router reset", k: 4, fusion: "rrf", rrfK: 10 });
    assert.ok(rrf.hits.length >= 3);
    const b = rrf.hits.find((h) => h.id === "b")!;
    assert.equal(b.legs!.dense!.rank, 0, "b is the dense leg's best");
    assert.deepEqual(b.legs!.text, { rank: null, score: null }, "and not found by the text leg");
    const convex = await db.search("docs", {
      vector: [0, 1, 0, 0],
      text: "router reset",
      k: 2,
      fusion: "convex",
      weights: { dense: 0, text: 1 },
      legLimit: 10,
    });
    assert.ok(["a", "d"].includes(convex.hits[0]!.id), "text weighs everything");

    const atCreation = await db.search("docs", { text: "router", at: 0 });
    assert.deepEqual([atCreation.version, atCreation.hits.length], [0, 0]);
  });

  it("runs a batch search and a search stream (a refused query is yielded, not thrown)", async () => {
    const batch = await db.batchSearch("docs", [[1, 0, 0, 0], [0, 0, 1, 0]], { k: 1 });
    assert.deepEqual(batch.map((r) => r.hits[0]!.id), ["a", "c"]);
    const stream = await collect(db.searchStream("docs", [[0, 1, 0, 0], [1, 2], [0, 0, 1, 0]], { k: 1 }));
    assert.equal(stream.length, 3);
    assert.equal((stream[0] as { hits: { id: string }[] }).hits[0]!.id, "b");
    assert.ok(stream[1] instanceof VerityError);
    assert.equal((stream[1] as VerityError).code, "INVALID_ARGUMENT");
    assert.match((stream[1] as VerityError).message, /query\.vector: has 2 components/);
    assert.equal((stream[2] as { hits: { id: string }[] }).hits[0]!.id, "c");
  });

  it("deletes records (ids not live are ignored)", async () => {
    await db.upsert("docs", [{ id: "tmp", vector: [1, 1, 1, 1] }]);
    const del = await db.delete("docs", ["tmp", "never-was"]);
    assert.equal(del.applied, 1);
    const none = await db.delete("docs", ["never-was"]);
    assert.deepEqual(none, { version: del.version, applied: 0 });
    await assert.rejects(db.get("docs", "tmp"), (e: VerityError) => e.code === "NOT_FOUND");
  });
});

describe("retrieval log: retrieve, answer, audit, replay", () => {
  before(async () => {
    await db.createCollection("rag", 4, { metric: "cosine", textIndex: "english" });
    await db.upsert("rag", [
      { id: "p1", vector: [1, 0, 0, 0], text: "Inflate road tyres to 80 psi.", documentId: "bike", metadata: { topic: "bike" } },
      { id: "p2", vector: [0, 1, 0, 0], text: "Clean the chain every few hundred kilometres.", documentId: "bike", metadata: { topic: "bike" } },
      { id: "p3", vector: [0, 0, 1, 0], text: "Bees swarm in spring.", documentId: "bees", metadata: { topic: "bees" } },
    ]);
  });

  it("retrieves, records the answer, audits it, and finds both in the log", async () => {
    const r = await db.retrieve("rag", {
      vector: [1, 0.1, 0, 0],
      k: 2,
      queryText: "What pressure for road tyres?",
      clientId: "ts-test",
      clientTraceId: "trace-1",
    });
    assert.match(r.retrievalId, /^rtv-[0-9a-f]{32}$/);
    assert.equal(r.version, 1);
    assert.deepEqual(r.chunks.map((c) => c.id), ["p1", "p2"]);
    assert.ok(r.chunks.every((c) => c.inContext && c.textSha256.length === 64));
    assert.equal(r.context, "Inflate road tyres to 80 psi.\n\nClean the chain every few hundred kilometres.");
    assert.ok(r.logSeq >= 1);

    const rec = await db.recordAnswer(r.retrievalId, "Inflate road tyres to 80 psi.", { model: "echo", promptTokens: 12, completionTokens: 7 });
    assert.equal(rec.kind, "answer");
    assert.equal(rec.retrievalId, r.retrievalId);
    assert.equal(rec.model, "echo");
    assert.equal(rec.promptTokens, 12);
    assert.equal(rec.hash.length, 64);
    await assert.rejects(db.recordAnswer(r.retrievalId, "again"), (e: VerityError) => e.code === "ALREADY_EXISTS" && e.httpStatus === 409);

    const got = await db.getRetrieval(r.retrievalId);
    assert.equal(got.retrieval.kind, "retrieval");
    assert.equal(got.retrieval.queryText, "What pressure for road tyres?");
    assert.equal(got.retrieval.clientId, "ts-test");
    assert.equal(got.retrieval.queryVector.length, 4);
    assert.equal(got.answer?.answer, "Inflate road tyres to 80 psi.");

    const audit = await db.audit(r.retrievalId);
    assert.equal(audit.answerRecorded, true);
    assert.equal(audit.g, 1);
    assert.equal(audit.scored, 1);
    assert.equal(audit.sentences[0]!.verdict, "supported");
    assert.equal(audit.sentences[0]!.chunkId, "p1");
    const given = await db.audit(r.retrievalId, { answer: "Bees swarm in spring.", threshold: 0 });
    assert.equal(given.answerRecorded, false);
    assert.equal(given.threshold, 0, "a threshold of 0 travels as 0");

    const page = await db.listLogPage({ collection: "rag", limit: 1 });
    assert.equal(page.records.length, 1);
    assert.ok(page.nextCursor > 0);
    const all = await collect(db.listLog({ collection: "rag", pageSize: 1 }));
    assert.deepEqual(all.map((x) => x.kind), ["retrieval", "answer"]);
    const answers = await collect(db.listLog({ kind: "answer", collection: "rag" }));
    assert.equal(answers.length, 1);
    const limited = await collect(db.listLog({ collection: "rag", limit: 1 }));
    assert.equal(limited.length, 1);

    const verify = await db.verifyLog();
    assert.equal(verify.ok, true);
    assert.ok(verify.records >= 2);
    assert.equal(verify.headHash.length, 64);

    const both = await db.answer((await db.retrieve("rag", { vector: [0, 0, 1, 0], k: 1 })).retrievalId, "Bees swarm in spring.");
    assert.equal(both.record.kind, "answer");
    assert.equal(both.audit.g, 1);

    const col = await db.auditCollection("rag");
    assert.equal(col.audited, 2);
    assert.equal(col.meanG, 1);
    assert.equal(col.audits.length, 2);
  });

  it("replays a retrieval in each mode, and counterfactually after an overwrite", async () => {
    const r = await db.retrieve("rag", { vector: [1, 0, 0, 0], k: 2 });
    const context = await db.replay(r.retrievalId);
    assert.equal(context.mode, "context");
    assert.equal(context.outcome, "identical");
    assert.equal(context.contextHashMatches, true);
    assert.deepEqual(context.chunks.map((c) => c.status), ["identical", "identical"]);
    const retrieval = await db.replay(r.retrievalId, { mode: "retrieval" });
    assert.equal(retrieval.mode, "retrieval");
    assert.equal(retrieval.recall, 1);

    await db.createSnapshot("rag", "before-edit");
    const w = await db.upsert("rag", [{ id: "p1", vector: [1, 0, 0, 0], text: "Inflate road tyres to 95 psi.", documentId: "bike" }]);
    const cf = await db.replay(r.retrievalId, { mode: "counterfactual" });
    assert.equal(cf.mode, "counterfactual");
    assert.equal(cf.version, w.version);
    assert.equal(cf.outcome, "differs");
    assert.deepEqual(cf.changed, ["p1"]);
    const atSnapshot = await db.replay(r.retrievalId, { mode: "counterfactual", at: "before-edit" });
    assert.equal(atSnapshot.outcome, "identical");
    await assert.rejects(db.replay(r.retrievalId, { mode: "context", at: 1 }), (e: VerityError) => e.code === "INVALID_ARGUMENT");

    // A retrieval at the snapshot reads the old text, and logs the snapshot by name.
    const old = await db.retrieve("rag", { vector: [1, 0, 0, 0], k: 1, at: "before-edit" });
    assert.equal(old.chunks[0]!.text, "Inflate road tyres to 80 psi.");
    assert.equal((await db.getRetrieval(old.retrievalId)).retrieval.snapshot, "before-edit");
    const head = await db.retrieve("rag", { vector: [1, 0, 0, 0], k: 1 });
    assert.equal(head.chunks[0]!.text, "Inflate road tyres to 95 psi.");
  });

  it("retrieves by text, hybrid, and by filter alone", async () => {
    const t = await db.retrieve("rag", { text: "chain cleaning", k: 1 });
    assert.equal(t.chunks[0]!.id, "p2");
    assert.equal((await db.getRetrieval(t.retrievalId)).retrieval.queryText, "chain cleaning", "the text is logged as the question");
    const h = await db.retrieve("rag", { vector: [0, 0, 1, 0], text: "chain", k: 2, fusion: "rrf" });
    assert.ok(h.chunks[0]!.legs !== null);
    const f = await db.retrieve("rag", { filter: 'document_id = "bike"' });
    assert.deepEqual(f.chunks.map((c) => c.id), ["p1", "p2"]);
    await assert.rejects(db.retrieve("rag", { filter: 'document_id = "none"' }), (e: VerityError) => e.code === "FAILED_PRECONDITION" && e.httpStatus === 400);
  });
});

describe("snapshots", () => {
  it("creates, lists, gets, diffs, restores and deletes snapshots; gc and retention", async () => {
    await db.createCollection("snaps", 2);
    await db.upsert("snaps", [{ id: "a", vector: [1, 0] }, { id: "b", vector: [0, 1] }]);
    const s1 = await db.createSnapshot("snaps", "v1", { description: "first load" });
    assert.deepEqual([s1.name, s1.version, s1.records, s1.description], ["v1", 1, 2, "first load"]);
    await db.upsert("snaps", [{ id: "a", vector: [1, 1] }, { id: "c", vector: [1, 0] }]);
    await db.delete("snaps", ["b"]);
    const s0 = await db.createSnapshot("snaps", "empty", { at: 0 });
    assert.equal(s0.version, 0);
    assert.deepEqual((await db.listSnapshots("snaps")).map((s) => s.name), ["empty", "v1"]);
    assert.equal((await db.getSnapshot("snaps", "v1")).version, 1);

    const diff = await db.diff("snaps", { from: "v1", pageSize: 1 });
    assert.deepEqual([diff.from, diff.to, diff.added, diff.removed, diff.changed], [1, 3, 1, 1, 1]);
    assert.deepEqual(diff.entries.map((e) => [e.id, e.kind]), [["a", "changed"], ["b", "removed"], ["c", "added"]]);

    const restored = await db.restore("snaps", "v1");
    assert.equal(restored.restoredFrom, 1);
    assert.equal(restored.version, 4);
    assert.deepEqual((await collect(db.scroll("snaps"))).map((r) => r.id), ["a", "b"]);
    const versions = await db.listVersions("snaps");
    assert.equal(versions.at(-1)!.isRestore, true);
    assert.deepEqual(versions[1]!.snapshots, ["v1"]);

    await db.createCollection("snaps-copy", 2);
    const into = await db.restore("snaps", 1, { into: "snaps-copy" });
    assert.equal(into.upserted, 2);

    const retention = await db.setRetention("snaps", { keepVersions: 1, keepSeconds: 0 });
    assert.equal(retention.keepVersions, 1);
    assert.equal(retention.keepSeconds, 0);
    const gc = await db.gc("snaps");
    assert.equal(typeof gc.oldestRetained, "number");
    assert.equal(typeof gc.graphRebuilt, "boolean");

    // Export (streamed NDJSON: progress, then the result) and import.
    const progress: number[] = [];
    const exported = await db.exportCollection("snaps-v1", { collection: "snaps", at: "v1", onProgress: (p) => progress.push(p.bytesDone) });
    assert.equal(exported.name, "snaps-v1");
    assert.deepEqual(exported.collections, [{ name: "snaps", version: 1, records: 2 }]);
    assert.ok(exported.bytes > 0);
    await assert.rejects(db.exportCollection("snaps-v1", { collection: "snaps" }), (e: VerityError) => e.code === "ALREADY_EXISTS" && e.httpStatus === 409);
    const imported = await db.importCollection("snaps-v1", { asName: "snaps-imported", onProgress: (p) => progress.push(p.bytesDone) });
    assert.equal(imported.records, 2);
    assert.deepEqual(imported.collections.map((c) => [c.name, c.liveRecords]), [["snaps-imported", 2]]);
    assert.deepEqual((await collect(db.scroll("snaps-imported"))).map((r) => r.id), ["a", "b"]);
    const replaced = await db.importCollection("snaps-v1", { asName: "snaps-imported", replace: true });
    assert.equal(replaced.records, 2);
    await assert.rejects(db.importCollection("no-such-export"), (e: VerityError) => e.code === "NOT_FOUND" && e.httpStatus === 404);

    await db.deleteSnapshot("snaps", "empty");
    await assert.rejects(db.getSnapshot("snaps", "empty"), (e: VerityError) => e.code === "NOT_FOUND" && /empty/.test(e.message));
  });
});

describe("prompts", () => {
  it("creates versions, moves labels, renders, diffs, and a retrieval logs the exact version", async () => {
    const p1 = await db.createPrompt("qa", "Answer from {{context}}: {{question}}", { labels: ["production"], author: "ts", message: "first" });
    assert.deepEqual([p1.version, p1.labels, p1.variables], [1, ["production"], ["context", "question"]]);
    const p2 = await db.createPrompt("qa", "Use only {{context}}.\nQ: {{question}}", { configJson: '{"temperature":0}', labels: ["staging"] });
    assert.equal(p2.version, 2);
    assert.equal((await db.getPrompt("qa")).version, 1, "the production label");
    assert.equal((await db.getPrompt("qa@2")).configJson, '{"temperature":0}');
    assert.equal((await db.getPrompt("qa@staging")).version, 2);
    assert.deepEqual(await db.listPrompts(), [{ name: "qa", latestVersion: 2, labels: { production: 1, staging: 2 } }]);
    assert.deepEqual((await db.listPromptVersions("qa")).map((p) => p.version), [1, 2]);
    const move = await db.setPromptLabel("qa", "production", 2, { actor: "ts-test" });
    assert.deepEqual([move.version, move.previousVersion, move.actor], [2, 1, "ts-test"]);
    const history = await db.promptLabelHistory("qa", "production");
    assert.deepEqual(history.map((m) => m.version), [1, 2]);
    assert.equal((await db.promptLabelHistory("qa")).length, 3);
    const rendered = await db.renderPrompt("qa@1", { context: "C", question: "Q?" });
    assert.deepEqual(rendered, { text: "Answer from C: Q?", version: 1 });
    await assert.rejects(db.renderPrompt("qa@1", { context: "C" }), (e: VerityError) => e.code === "INVALID_ARGUMENT" && /question/.test(e.message));
    const diff = await db.diffPrompt("qa", 1, 2);
    assert.equal(diff.configChanged, true);
    assert.match(diff.templateDiff, /^-Answer from/m);

    await db.createCollection("ptest", 2);
    await db.upsert("ptest", [{ id: "x", vector: [1, 0], text: "x" }]);
    const r = await db.retrieve("ptest", { vector: [1, 0], k: 1, prompt: "qa" });
    assert.equal(r.prompt, "qa@2");
  });
});

describe("answer cache", () => {
  it("stores an answer, looks it up (hit and miss), reports and clears", async () => {
    await db.createCollection("cached", 2, { metric: "cosine" });
    await db.upsert("cached", [{ id: "x", vector: [1, 0], text: "The office opens at nine." }]);
    const r = await db.retrieve("cached", { vector: [1, 0], k: 1, queryText: "When does the office open?" });
    await db.recordAnswer(r.retrievalId, "The office opens at nine.");
    await db.cacheStore(r.retrievalId, { model: "echo" });
    const hit = await db.cacheLookup("cached", { vector: [1, 0], queryText: "When does the office open?", model: "echo" });
    assert.equal(hit.match, "exact");
    assert.equal(hit.answer, "The office opens at nine.");
    assert.equal(hit.sourceRetrievalId, r.retrievalId);
    assert.match(hit.retrievalId, /^rtv-/);
    const hitRecord = (await db.getRetrieval(hit.retrievalId)).retrieval;
    assert.equal(hitRecord.kind, "cache_hit");
    assert.equal(hitRecord.cacheMatch, "exact");
    const miss = await db.cacheLookup("cached", { vector: [0, 1], queryText: "Who runs it?", model: "echo", minSimilarity: 0.99, at: 1 });
    assert.equal(miss.match, "miss");
    const stats = await db.cacheStats();
    assert.equal(stats.entries, 1);
    assert.equal(stats.exactHits, 1);
    assert.equal(stats.misses, 1);
    await db.cacheClear();
    assert.equal((await db.cacheStats()).entries, 0);
  });
});

describe("deadlines", () => {
  it("timeoutMs is each call's deadline: a call that cannot finish in it is DEADLINE_EXCEEDED", async () => {
    await db.createCollection("slow", 64);
    const records = Array.from({ length: 2000 }, (_, i) => ({ id: `r${i}`, vector: Array.from({ length: 64 }, (_, j) => (i * 64 + j) % 7) }));
    const hurried = new Client({ baseUrl: server.baseUrl, timeoutMs: 1 });
    await assert.rejects(hurried.upsert("slow", records), (e: VerityError) => e.code === "DEADLINE_EXCEEDED");
  });
});
