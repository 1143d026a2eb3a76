// The monitoring methods (docs/monitoring.md) against a real verityd:
// annotations (stored when an answer is recorded, on the log record, on
// demand, recomputed, for a range), the monitor report (buckets, version
// markers, flagged answers, per-prompt cost, live drift), the reset of the
// reference, the server's errors and the arguments refused before any call.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { Client, VerityError } from "../src/index.js";
import { Verityd } from "./verityd.js";

let server: Verityd;
let db: Client;
const offline = new Client({ baseUrl: "http://127.0.0.1:1", timeoutMs: 5000 });

const GOOD = "The refund window is 30 days from the date of purchase.";
const TOXIC = "The refund window is 30 days, you stupid asshole.";
let toxicId = "";
let goodId = "";
let unanswered = "";
let startUs = 0;
let kbVersion = 0;

before(async () => {
  server = await Verityd.start();
  db = new Client({ baseUrl: server.baseUrl });
  await db.createCollection("kb", 3, { metric: "cosine" });
  await db.upsert("kb", [
    { id: "refund", vector: [1, 0, 0], text: GOOD },
    { id: "support", vector: [0, 1, 0], text: "Support is open Monday to Friday from 9am to 5pm." },
  ]);
  await db.createPrompt("qa", "Answer from the context.\n{{context}}\nQ: {{question}}");
  await db.createPrompt("qa", "Answer briefly.\n{{context}}\n{{question}}");
  startUs = Date.now() * 1000;
  const ask = async (prompt: string, answer: string) => {
    const r = await db.retrieve("kb", { vector: [1, 0.05, 0], queryText: "How long is the refund window?", k: 2, prompt });
    await db.recordAnswer(r.retrievalId, answer, { model: "m" });
    return r.retrievalId;
  };
  goodId = await ask("qa@1", GOOD);
  toxicId = await ask("qa@1", TOXIC);
  await ask("qa@1", GOOD);
  kbVersion = (await db.upsert("kb", [{ id: "refund-2", vector: [1, 0.01, 0], text: "Damaged items: refunds in 48 hours." }])).version;
  await ask("qa@2", GOOD);
  await ask("qa@2", GOOD);
  unanswered = (await db.retrieve("kb", { vector: [0, 1, 0], k: 1 })).retrievalId;
});

after(async () => {
  assert.equal(await server.stop(), 0, "verityd exits 0 on SIGTERM");
});

async function serverError(promise: Promise<unknown>, code: string, httpStatus: number, message: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof VerityError, `a VerityError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.httpStatus, httpStatus);
    assert.match(e.message, message);
    return true;
  });
}

describe("annotations", () => {
  it("an answer's annotation is on its log record, with the toxicity match and its span", async () => {
    const { answer } = await db.getRetrieval(toxicId);
    const a = answer!.annotation;
    assert.ok(a, "annotated when recorded");
    assert.equal(a.retrievalId, toxicId);
    assert.equal(a.collection, "kb");
    assert.equal(a.prompt, "qa@1");
    assert.equal(a.onDemand, false);
    assert.equal(a.toxic, true);
    assert.ok(a.flags.includes("toxicity"), String(a.flags));
    const match = a.toxicityMatches.find((m) => m.term === "asshole");
    assert.ok(match, JSON.stringify(a.toxicityMatches));
    assert.ok(match.languages.includes("en"));
    assert.equal(Buffer.from(TOXIC).subarray(match.begin, match.end).toString(), "asshole");
    assert.equal(typeof a.g, "number");
    assert.equal(typeof a.recordSeq, "number");
    assert.equal(a.recordSeq, answer!.seq);
    assert.ok(a.contextTokens > 0 && a.answerTokens > 0 && a.promptTokens > 0, JSON.stringify(a));
    assert.deepEqual(a.queryToxicityMatches, [], "queries are not flagged unless verityd is told to");
    // A retrieval record carries none.
    assert.equal((await db.getRetrieval(toxicId)).retrieval.annotation, null);
  });

  it("annotate returns the stored annotation, and recomputes it on demand", async () => {
    const stored = await db.annotate(goodId);
    assert.equal(stored.retrievalId, goodId);
    assert.equal(stored.toxic, false);
    assert.ok(!stored.flags.includes("toxicity"));
    assert.equal(stored.groundednessScored, true);
    assert.ok(stored.g > 0.6, `a grounded answer: G ${stored.g}`);
    const again = await db.annotate(goodId, { recompute: true });
    assert.equal(again.onDemand, true);
    assert.equal(again.g, stored.g);
    assert.ok(again.annotatedUs >= stored.annotatedUs);
  });

  it("annotate: NOT_FOUND for an unknown retrieval, FAILED_PRECONDITION without an answer", async () => {
    await serverError(db.annotate("rtv-nope"), "NOT_FOUND", 404, /./);
    await serverError(db.annotate(unanswered), "FAILED_PRECONDITION", 400, /./);
  });

  it("annotateLog counts the answers that have one, and recomputes them all", async () => {
    const kept = await db.annotateLog({ collection: "kb" });
    assert.equal(kept.annotated, 0);
    assert.equal(kept.existing, 5);
    assert.equal(kept.failed, 0);
    assert.equal(kept.truncated, false);
    assert.ok(kept.examined >= 11, `retrievals and answers read: ${kept.examined}`);
    const all = await db.annotateLog({ collection: "kb", sinceUs: startUs, recompute: true });
    assert.equal(all.annotated, 5);
    await serverError(db.annotateLog({ collection: "nope" }), "NOT_FOUND", 404, /nope/);
  });
});

describe("the monitor report", () => {
  it("buckets the signals, marks the prompt and KB changes, and lists the flagged answer", async () => {
    const r = await db.monitorReport("kb", { sinceUs: startUs - 1_000_000, bucketSeconds: 1, lowG: 0.6, idsPerBucket: 20 });
    assert.equal(r.collection, "kb");
    assert.equal(r.bucketUs, 1_000_000);
    assert.equal(r.totals.retrievals, 6);
    assert.equal(r.totals.answers, 5);
    assert.equal(r.totals.toxic, 1);
    assert.equal(r.buckets.reduce((n, b) => n + b.retrievals, 0), 6);
    assert.ok(r.buckets.every((b) => typeof b.startUs === "number" && b.startUs >= r.sinceUs));
    const ids = r.buckets.flatMap((b) => b.retrievalIds);
    assert.ok(ids.includes(toxicId));
    const prompts = r.markers.filter((m) => m.kind === "prompt").map((m) => [m.value, m.previous]);
    assert.deepEqual(prompts, [["qa@1", ""], ["qa@2", "qa@1"]]);
    const kb = r.markers.filter((m) => m.kind === "kb_version").map((m) => m.value);
    assert.deepEqual(kb.slice(-1), [String(kbVersion)]);
    assert.equal(r.flaggedTotal >= 1, true);
    const flagged = r.flagged.find((f) => f.retrievalId === toxicId);
    assert.ok(flagged, JSON.stringify(r.flagged));
    assert.ok(flagged.flags.includes("toxicity"));
    assert.deepEqual(flagged.toxicityTerms, ["asshole"]);
    assert.equal(flagged.prompt, "qa@1");
    assert.deepEqual(
      r.prompts.filter((p) => p.answers > 0).map((p) => [p.prompt, p.answers]).sort(),
      [["qa@1", 3], ["qa@2", 2]],
    );
    // The dense leg is live (its weakness reference fills at once; its drift
    // tracker observes once the background trainer has its centroids).
    assert.deepEqual(r.live.map((l) => l.leg), ["dense"]);
    assert.equal(typeof r.live[0]!.observations, "number");
  });

  it("refuses a bad range or bucket naming the field, and an unknown collection", async () => {
    await serverError(db.monitorReport("nope"), "NOT_FOUND", 404, /nope/);
    await serverError(db.monitorReport("kb", { sinceUs: 2_000_000, untilUs: 1_000_000 }), "INVALID_ARGUMENT", 400, /until/);
    await serverError(db.monitorReport("kb", { sinceUs: 1, untilUs: 10_000_000_000, bucketSeconds: 1 }), "INVALID_ARGUMENT", 400, /bucket/);
    await serverError(db.monitorReport("kb", { lowG: 1.5 }), "INVALID_ARGUMENT", 400, /low_?g/i);
  });

  it("resetMonitorReference forgets the live drift state", async () => {
    assert.equal((await db.monitorReport("kb")).live.length, 1);
    await db.resetMonitorReference("kb");
    const r = await db.monitorReport("kb");
    assert.deepEqual(r.live, []);
    await serverError(db.resetMonitorReference("nope"), "NOT_FOUND", 404, /nope/);
  });
});

describe("arguments refused before any call", () => {
  async function refused(promise: Promise<unknown>, message: RegExp): Promise<void> {
    await assert.rejects(promise, (e: unknown) => {
      assert.ok(e instanceof VerityError, `a VerityError, got ${String(e)}`);
      assert.equal(e.code, "INVALID_ARGUMENT");
      assert.equal(e.httpStatus, null);
      assert.match(e.message, message);
      return true;
    });
  }

  it("names the argument", async () => {
    await refused(offline.annotate(42 as never), /^retrievalId: expected a string, got number 42/);
    await refused(offline.annotate("rtv-x", { recompute: "yes" as never }), /^recompute: expected a boolean/);
    await refused(offline.annotate("rtv-x", "recompute" as never), /^options: expected an object, got string/);
    await refused(offline.annotateLog({ sinceUs: -1 }), /^sinceUs: expected an integer in 0\.\.9223372036854775807, got -1/);
    await refused(offline.annotateLog({ maxRecords: 1.5 }), /^maxRecords: expected an integer/);
    await refused(offline.annotateLog({ collection: 7 as never }), /^collection: expected a string/);
    await refused(offline.monitorReport(undefined as never), /^collection: expected a string/);
    await refused(offline.monitorReport("kb", { untilUs: 2n ** 63n }), /^untilUs: expected an integer in 0\.\.9223372036854775807/);
    await refused(offline.monitorReport("kb", { bucketSeconds: -60 }), /^bucketSeconds: expected an integer in 0\.\./);
    await refused(offline.monitorReport("kb", { lowG: "0.5" as never }), /^lowG: expected a number, got string/);
    await refused(offline.monitorReport("kb", { maxFlagged: 2 ** 32 }), /^maxFlagged: expected an integer in 0\.\.4294967295/);
    await refused(offline.monitorReport("kb", { idsPerBucket: 0.5 }), /^idsPerBucket: expected an integer/);
    await refused(offline.resetMonitorReference(["kb"] as never), /^collection: expected a string, got array/);
  });
});

describe("monitoring with API keys", () => {
  let keyed: Verityd;
  let dir: string;
  const readerKey = "reader-key-0123456789";
  const auditorKey = "auditor-key-0123456789";
  const adminKey = "admin-key-0123456789";

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "verity-ts-monitor-keys-"));
    const sha = (k: string) => createHash("sha256").update(k).digest("hex");
    writeFileSync(
      path.join(dir, "keys"),
      `frontend reader ${sha(readerKey)}\ncompliance auditor ${sha(auditorKey)}\nops admin ${sha(adminKey)}\n`,
    );
    keyed = await Verityd.start(["--keys", path.join(dir, "keys")]);
  });

  after(async () => {
    assert.equal(await keyed.stop(), 0);
    rmSync(dir, { recursive: true, force: true });
  });

  it("the report needs the auditor role (it reads the log); resetting the reference and annotating a range need admin", async () => {
    const admin = new Client({ baseUrl: keyed.baseUrl, apiKey: adminKey });
    const auditor = new Client({ baseUrl: keyed.baseUrl, apiKey: auditorKey });
    const reader = new Client({ baseUrl: keyed.baseUrl, apiKey: readerKey });
    await admin.createCollection("k", 2);
    assert.equal((await auditor.monitorReport("k")).collection, "k");
    await serverError(reader.monitorReport("k"), "PERMISSION_DENIED", 403, /./);
    await serverError(reader.annotate("rtv-x"), "PERMISSION_DENIED", 403, /./);
    await serverError(auditor.resetMonitorReference("k"), "PERMISSION_DENIED", 403, /./);
    await serverError(auditor.annotateLog({ collection: "k" }), "PERMISSION_DENIED", 403, /./);
    await admin.resetMonitorReference("k");
    assert.equal((await admin.annotateLog({ collection: "k" })).examined, 0);
  });
});
