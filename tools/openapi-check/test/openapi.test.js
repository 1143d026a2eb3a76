// Checks the OpenAPI document verity_openapi_gen writes at build time
// (build/server/openapi.json, or the file in env OPENAPI_JSON):
//  - it is a valid OpenAPI 3.1 document (the OpenAPI Initiative's JSON
//    Schemas, through @seriousme/openapi-schema-validator), every $ref
//    resolves, and every schema compiles as JSON Schema 2020-12;
//  - every RPC of every verity.v1 service, read from the .proto sources,
//    has its `POST /v1/<Service>/<Method>` with the permission and streaming
//    the .proto declares, and there is no path for an RPC that does not
//    exist;
//  - the schemas follow protobuf's canonical JSON mapping (samples).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Validator } from "@seriousme/openapi-schema-validator";
import { parseRpcs } from "../protos.js";
import { schemaValidator } from "../schemas.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const docPath = process.env.OPENAPI_JSON
  ? resolve(process.env.OPENAPI_JSON)
  : join(root, "build/server/openapi.json");
const doc = JSON.parse(readFileSync(docPath, "utf8"));
const rpcs = parseRpcs(join(root, "proto/verity/v1"));

test("the document is valid OpenAPI 3.1", async () => {
  assert.equal(doc.openapi, "3.1.0");
  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc));
  assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
  assert.equal(validator.version, "3.1");
});

test("every $ref resolves", () => {
  const missing = [];
  const walk = (node, where) => {
    if (Array.isArray(node)) return node.forEach((v, i) => walk(v, `${where}/${i}`));
    if (node === null || typeof node !== "object") return;
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") {
        let target = doc;
        for (const part of v.replace(/^#\//, "").split("/")) target = target?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
        if (target === undefined) missing.push(`${where}: ${v}`);
      } else {
        walk(v, `${where}/${k}`);
      }
    }
  };
  walk(doc, "#");
  assert.deepEqual(missing, []);
});

test("every schema compiles as JSON Schema 2020-12", () => {
  const compile = schemaValidator(doc);
  for (const name of Object.keys(doc.components.schemas)) {
    assert.doesNotThrow(() => compile(name), `components/schemas/${name}`);
  }
});

test("the .proto files declare the RPCs this test knows how to read", () => {
  // A guard on the parser itself: the services of this API and a few RPCs.
  const names = new Set(rpcs.map((r) => `${r.service}/${r.method}`));
  for (const n of ["CollectionService/CreateCollection", "SearchService/SearchStream", "SnapshotService/Export", "LogService/Replay"]) {
    assert.ok(names.has(n), n);
  }
  assert.ok(rpcs.length >= 40, `only ${rpcs.length} RPCs parsed`);
});

test("every RPC of verity.v1 has its path, permission and streaming", () => {
  for (const rpc of rpcs) {
    const path = `/v1/${rpc.service}/${rpc.method}`;
    const op = doc.paths[path]?.post;
    assert.ok(op, `no POST ${path} in ${docPath} for rpc ${rpc.method} of ${rpc.file}`);
    assert.equal(op.operationId, `${rpc.service}_${rpc.method}`, path);
    assert.deepEqual(op.tags, [rpc.service], path);
    assert.ok(rpc.permission, `${rpc.file}: rpc ${rpc.method} declares no required_permission`);
    assert.equal(op["x-verity-permission"], rpc.permission, path);
    assert.match(op.description, new RegExp(`\`${rpc.permission}\``), path);
    const streaming =
      rpc.clientStreaming && rpc.serverStreaming ? "bidi" : rpc.serverStreaming ? "server" : rpc.clientStreaming ? "client" : undefined;
    assert.equal(op["x-verity-streaming"], streaming, path);
    const responseTypes = Object.keys(op.responses["200"].content);
    assert.deepEqual(responseTypes, [rpc.serverStreaming ? "application/x-ndjson" : "application/json"], path);
    const requestTypes = Object.keys(op.requestBody.content);
    assert.deepEqual(requestTypes, [rpc.clientStreaming ? "application/x-ndjson" : "application/json"], path);
    assert.equal(op.responses.default.content["application/json"].schema.$ref, "#/components/schemas/Error", path);
  }
});

test("no path for an RPC the .proto files do not declare", () => {
  const declared = new Set(rpcs.map((r) => `/v1/${r.service}/${r.method}`));
  const extra = Object.keys(doc.paths).filter((p) => p.startsWith("/v1/") && !declared.has(p));
  assert.deepEqual(extra, []);
  for (const p of ["/openapi.json", "/metrics"]) assert.ok(doc.paths[p]?.get, `GET ${p}`);
});

test("schemas follow protobuf's canonical JSON mapping", () => {
  const compile = schemaValidator(doc);
  const search = compile("verity.v1.SearchRequest");
  const ok = {
    collection: "docs",
    query: { vector: [0.1, 0.2], k: 3, at: { version: "12" }, plan: "SEARCH_PLAN_EXACT", withPayload: true },
  };
  assert.ok(search(ok), JSON.stringify(search.errors));
  // 64-bit integers are strings; enums are names; repeated fields arrays.
  assert.equal(search({ query: { at: { version: 12 } } }), false);
  assert.equal(search({ query: { plan: "EXACT" } }), false);
  assert.equal(search({ query: { vector: 0.1 } }), false);

  const record = doc.components.schemas["verity.v1.Record"].properties;
  assert.ok(record.documentId, "lowerCamelCase json name documentId");
  assert.equal(record.document_id, undefined);
  assert.equal(record.metadata.type, "object");
  assert.equal(record.metadata.additionalProperties.$ref, "#/components/schemas/verity.v1.MetadataValue");
  const upsert = compile("verity.v1.UpsertRequest");
  assert.ok(upsert({ collection: "docs", records: [{ id: "a", vector: [1, 2], metadata: { lang: { stringValue: "en" }, n: { intValue: "-3" } } }] }), JSON.stringify(upsert.errors));
  assert.equal(upsert({ records: [{ metadata: { n: { intValue: -3 } } }] }), false);

  // Error bodies.
  const error = compile("Error");
  assert.ok(error({ code: 5, status: "NOT_FOUND", message: "collection docs" }));
  assert.equal(error({ code: 5, message: "no status" }), false);
});
