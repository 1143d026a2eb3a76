// The generated OpenAPI document against the real server: starts verityd
// (env VERITYD, default build/server/verityd) with --http-listen on a free
// loopback port and a temporary data directory, calls every RPC of
// verity.v1 over HTTP, and validates each answer against the document:
//  - a 200 body against the operation's 200 schema, closed (no field the
//    schema does not name), every line of an NDJSON stream included;
//  - error bodies against components/schemas/Error, with the HTTP status
//    the document gives their gRPC code;
//  - GET /openapi.json serves the same document as the build wrote.
// So the schemas describe what the gateway really prints (lowerCamelCase
// names, 64-bit integers as strings, enum names), not only what the
// generator meant.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createInterface } from "node:readline";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseRpcs } from "../protos.js";
import { schemaValidator } from "../schemas.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const docPath = process.env.OPENAPI_JSON ? resolve(process.env.OPENAPI_JSON) : join(root, "build/server/openapi.json");
const docText = readFileSync(docPath, "utf8");
const doc = JSON.parse(docText);
const verityd = process.env.VERITYD ? resolve(process.env.VERITYD) : join(root, "build/server/verityd");
const validator = schemaValidator(doc, { closed: true });
const errorSchema = validator("Error");

let server;
let dataDir;
let base;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "verity-openapi-"));
  server = spawn(verityd, ["--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--data", join(dataDir, "data")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const lines = createInterface({ input: server.stderr });
  base = await new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error("verityd did not start within 30 s")), 30000);
    server.once("exit", (code) => reject(new Error(`verityd exited with ${code} before it started`)));
    lines.on("line", (line) => {
      try {
        const event = JSON.parse(line);
        if (event.event === "start") {
          clearTimeout(timer);
          resolvePromise(event.http);
        }
      } catch {
        // not a JSON log line
      }
    });
  });
});

after(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once("exit", r));
    server.kill("SIGTERM");
    const code = await exited;
    assert.equal(code, 0, "verityd's exit code after SIGTERM");
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const called = new Set();

// The 200 schema of an operation, compiled once.
const compiled = new Map();
function responseValidator(path) {
  if (!compiled.has(path)) {
    const op = doc.paths[path]?.post;
    assert.ok(op, `no POST ${path} in the document`);
    const [type, media] = Object.entries(op.responses["200"].content)[0];
    compiled.set(path, { type, validate: validator.compile(media.schema) });
  }
  return compiled.get(path);
}

function check(validate, value, what) {
  assert.ok(validate(value), `${what}: ${JSON.stringify(validate.errors, null, 2)}\n${JSON.stringify(value)}`);
}

// POSTs `body` (an object, or NDJSON text for a client stream) to an RPC and
// validates the answer; returns the parsed body (an array for NDJSON).
async function call(path, body, { expectStatus = 200 } = {}) {
  called.add(path);
  const { type, validate } = responseValidator(path);
  const op = doc.paths[path].post;
  const ndjsonRequest = Object.keys(op.requestBody.content)[0] === "application/x-ndjson";
  const res = await fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": ndjsonRequest ? "application/x-ndjson" : "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  if (expectStatus !== 200 || res.status !== 200) {
    assert.equal(res.status, expectStatus, `${path}: ${text}`);
    const error = JSON.parse(text);
    check(errorSchema, error, `${path} error body`);
    // The document's response for this status names the error's code.
    const documented = doc.components.responses[`Http${res.status}`];
    assert.ok(documented, `${path}: HTTP ${res.status} is not a documented error status`);
    assert.match(documented.description, new RegExp(`\\b${error.status}\\b`), `${path}: ${error.status} under ${res.status}`);
    return error;
  }
  assert.equal(res.headers.get("content-type")?.split(";")[0], type, `${path}: content type`);
  if (type === "application/x-ndjson") {
    const lines = text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
    lines.forEach((line, i) => check(validate, line, `${path} line ${i + 1}`));
    return lines;
  }
  const value = JSON.parse(text);
  check(validate, value, path);
  return value;
}

const v1 = (rpc) => `/v1/${rpc}`;

test("every RPC's answer matches its schema in the document", async () => {
  await call(v1("CollectionService/CreateCollection"), {
    config: {
      name: "docs", dimension: 4, metric: "METRIC_COSINE",
      textIndex: { analyzer: { preset: "english" } },
      sparseFields: [{ name: "splade", dimension: 1000 }],
    },
  });
  await call(v1("CollectionService/GetCollection"), { name: "docs" });
  await call(v1("CollectionService/ListCollections"), {});
  const written = await call(v1("RecordService/Upsert"), {
    collection: "docs",
    records: [
      { id: "a1", vector: [0.9, 0.1, 0, 0], text: "To reset the router, hold the reset button for ten seconds.",
        documentId: "manual",
        metadata: { lang: { stringValue: "en" }, year: { intValue: "2024" }, score: { doubleValue: 0.5 },
                    draft: { boolValue: false }, tags: { listValue: { values: ["a", "b"] } } },
        sparse: { splade: { indices: [17, 912], values: [0.4, 1.3] } } },
      { id: "a2", vector: [0.1, 0.9, 0, 0], text: "The router supports WPA3 encryption.", documentId: "manual" },
      { id: "a3", vector: [0, 0.1, 0.9, 0.1], text: "Firmware updates install overnight." },
    ],
  });
  assert.equal(written.version, "1");
  await call(v1("RecordService/Get"), { collection: "docs", id: "a1" });
  await call(v1("RecordService/Count"), { collection: "docs", filter: 'lang = "en"' });
  await call(v1("RecordService/Scroll"), { collection: "docs", limit: 2, withVectors: true });
  await call(v1("SearchService/Search"), {
    collection: "docs",
    query: { vector: [1, 0, 0, 0], text: "reset router", sparseField: "splade", sparse: { indices: [17], values: [1] },
             k: 3, withPayload: true, withVectors: true, fusion: { method: "FUSION_METHOD_CONVEX" } },
  });
  await call(v1("SearchService/BatchSearch"), { collection: "docs", queries: [{ vector: [1, 0, 0, 0] }, { text: "firmware" }] });
  const stream = await call(
    v1("SearchService/SearchStream"),
    ['{"collection": "docs", "query": {"vector": [1, 0, 0, 0], "k": 1}}', '{"collection": "nope", "query": {"vector": [1, 0, 0, 0], "k": 1}}'].join("\n"),
  );
  assert.deepEqual(stream.map((l) => l.code), [0, 5]);
  await call(v1("SnapshotService/CreateSnapshot"), { collection: "docs", name: "s1", description: "first" });
  await call(v1("RecordService/Delete"), { collection: "docs", ids: ["a2"] });
  await call(v1("CollectionService/ListVersions"), { collection: "docs" });
  await call(v1("SnapshotService/GetSnapshot"), { collection: "docs", name: "s1" });
  await call(v1("SnapshotService/ListSnapshots"), { collection: "docs" });
  await call(v1("SnapshotService/Diff"), { collection: "docs", from: { snapshot: "s1" }, to: { version: "2" } });
  await call(v1("SnapshotService/Restore"), { collection: "docs", at: { snapshot: "s1" } });
  await call(v1("SnapshotService/SetRetention"), { collection: "docs", keepVersions: 50 });
  await call(v1("SnapshotService/Gc"), { collection: "docs" });
  await call(v1("SnapshotService/DeleteSnapshot"), { collection: "docs", name: "s1" });
  await call(v1("CollectionService/SetTextIndex"), {
    collection: "docs", textIndex: { analyzer: { preset: "standard" }, fields: [{ name: "lang", weight: 2 }] },
  });
  const exported = await call(v1("SnapshotService/Export"), { collection: "docs", name: "e1" });
  assert.ok(exported.at(-1).result, "the export's last line is its result");
  const imported = await call(v1("SnapshotService/Import"), { name: "e1", asName: "docs-copy" });
  assert.ok(imported.at(-1).result, "the import's last line is its result");

  await call(v1("PromptService/CreatePromptVersion"), {
    name: "p", template: "Context: {{context}} Q: {{question}}", configJson: '{"t": 1}', labels: ["production"],
  });
  await call(v1("PromptService/CreatePromptVersion"), { name: "p", template: "{{context}} / {{question}}" });
  await call(v1("PromptService/GetPrompt"), { prompt: { name: "p" } });
  await call(v1("PromptService/ListPrompts"), {});
  await call(v1("PromptService/ListPromptVersions"), { name: "p" });
  await call(v1("PromptService/DiffPrompt"), { name: "p", fromVersion: 1, toVersion: 2 });
  await call(v1("PromptService/SetPromptLabel"), { name: "p", label: "production", version: 2 });
  await call(v1("PromptService/GetLabelHistory"), { name: "p" });
  await call(v1("PromptService/RenderPrompt"), { prompt: { name: "p", version: 1 }, variables: { context: "c", question: "q" } });

  const retrieved = await call(v1("ContextService/Retrieve"), {
    collection: "docs", vector: [1, 0, 0, 0], k: 2, queryText: "how do I reset the router?", prompt: "p",
  });
  const id = retrieved.retrievalId;
  await call(v1("ContextService/RecordAnswer"), { retrievalId: id, answer: "Hold the reset button for ten seconds.", model: "m" });
  await call(v1("LogService/GetRetrieval"), { retrievalId: id });
  await call(v1("LogService/ListLog"), { withVectors: true });
  await call(v1("LogService/VerifyLog"), {});
  await call(v1("LogService/Replay"), { retrievalId: id });
  await call(v1("LogService/Replay"), { retrievalId: id, mode: "REPLAY_MODE_RETRIEVAL" });
  await call(v1("LogService/Replay"), { retrievalId: id, mode: "REPLAY_MODE_COUNTERFACTUAL", at: { version: "2" } });
  await call(v1("LogService/Audit"), { retrievalId: id });
  await call(v1("LogService/AuditCollection"), { collection: "docs" });
  await call(v1("MonitorService/Annotate"), { retrievalId: id });
  await call(v1("MonitorService/Annotate"), { retrievalId: id, recompute: true });
  await call(v1("MonitorService/AnnotateLog"), { collection: "docs" });
  await call(v1("MonitorService/GetMonitorReport"), { collection: "docs", bucketSeconds: "3600", lowG: 0.5 });
  await call(v1("MonitorService/ResetMonitorReference"), { collection: "docs" });
  await call(v1("CacheService/CacheStore"), { retrievalId: id, model: "m" });
  const hit = await call(v1("CacheService/CacheLookup"), {
    collection: "docs", vector: [1, 0, 0, 0], queryText: "how do I reset the router?", prompt: "p", model: "m",
  });
  assert.equal(hit.match, "CACHE_MATCH_EXACT");
  await call(v1("CacheService/GetCacheStats"), {});
  await call(v1("CacheService/ClearCache"), {});
  await call(v1("CollectionService/DropCollection"), { name: "docs-copy" });

  // Every RPC of the .proto files was called (a new RPC needs a call here).
  const missing = parseRpcs(join(root, "proto/verity/v1"))
    .map((r) => `/v1/${r.service}/${r.method}`)
    .filter((p) => !called.has(p));
  assert.deepEqual(missing, []);
});

test("error answers match the Error schema and the documented status", async () => {
  await call(v1("CollectionService/GetCollection"), { name: "nope" }, { expectStatus: 404 });
  await call(v1("CollectionService/CreateCollection"), { config: { name: "docs", dimension: 4 } }, { expectStatus: 409 });
  await call(v1("SearchService/Search"), { collection: "docs", query: { k: "ten" } }, { expectStatus: 400 });
  await call(v1("SnapshotService/Export"), { collection: "nope", name: "e2" }, { expectStatus: 404 });
});

test("GET /openapi.json serves the document the build wrote", async () => {
  const res = await fetch(`${base}/openapi.json`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type")?.split(";")[0], "application/json");
  const served = await res.text();
  assert.ok(served === docText, `GET /openapi.json (${served.length} bytes) differs from ${docPath} (${docText.length} bytes)`);
});
