// Conversions between the client's values and the wire messages, in one
// place, mirroring the Python client's _convert.py.
//
// Client-side problems (a wrong type, an unknown record key, a number the
// wire type cannot hold) throw VerityError INVALID_ARGUMENT naming the
// field the way the server does (`records[3].vector[2]`), before any call;
// everything the server can check (dimension, finiteness, limits) is left
// to it, so there is one source of truth for the rules. A number is never
// narrowed silently: a metadata int must fit int64, and a vector component
// must fit a float32.

import { VerityError, argumentError } from "./errors.js";
import { annotationOut } from "./monitor.js";
import type * as t from "./types.js";
import type * as w from "./wire.js";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
export const UINT32_MAX = 0xffffffff;
const UINT64_MAX = 2n ** 64n - 1n;
const FLOAT_RANGE = "the float range ±3.4028235e38";

// ----- argument checks ------------------------------------------------------------

/** How a value is named in an error: its type, and the value when short. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "string") return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "..." : value)}`;
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") {
    const text = String(value);
    return `${typeof value} ${text.length > 40 ? text.slice(0, 40) + "..." : text}`;
  }
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return typeof value;
}

function isPlainObject(value: unknown): value is { [key: string]: unknown } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A string argument (undefined/null: ""), checked to be well-formed UTF-16 (so encodable as UTF-8). */
export function text(value: unknown, field: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw argumentError(`${field}: expected a string, got ${describe(value)}`);
  const lone = /\p{Surrogate}/u.exec(value);
  if (lone) {
    throw argumentError(`${field}: not encodable as UTF-8 (a lone surrogate at index ${lone.index})`);
  }
  return value;
}

/** A required, non-empty string (a collection, an id, a retrieval id). */
export function name(value: unknown, field: string): string {
  if (typeof value !== "string") throw argumentError(`${field}: expected a string, got ${describe(value)}`);
  return text(value, field);
}

/** A list of strings (a single string is refused: it is not a list of its characters). */
export function textList(values: unknown, field: string): string[] {
  if (typeof values === "string") {
    throw argumentError(`${field}: expected an array of strings, got a single string (wrap it in an array)`);
  }
  if (!Array.isArray(values)) throw argumentError(`${field}: expected an array of strings, got ${describe(values)}`);
  return values.map((v, i) => name(v, `${field}[${i}]`));
}

/**
 * An integer argument in [min, max]: a number that is an integer, or a
 * bigint. Refused naming `field`: another type (boolean included), a
 * fraction, a value out of range.
 */
export function integer(value: unknown, field: string, min: number | bigint, max: number | bigint): number {
  const big = bigInteger(value, field, BigInt(min), BigInt(max));
  return Number(big);
}

function bigInteger(value: unknown, field: string, min: bigint, max: bigint): bigint {
  let big: bigint;
  if (typeof value === "bigint") {
    big = value;
  } else if (typeof value === "number" && Number.isInteger(value)) {
    if (!Number.isSafeInteger(value)) {
      throw argumentError(`${field}: ${value} is not a safe integer (beyond 2^53 a number has lost digits: pass a bigint)`);
    }
    big = BigInt(value);
  } else {
    throw argumentError(`${field}: expected an integer in ${min}..${max}, got ${describe(value)}`);
  }
  if (big < min || big > max) throw argumentError(`${field}: expected an integer in ${min}..${max}, got ${big}`);
  return big;
}

/** A count the wire carries as uint32; undefined means 0 (when 0 is allowed). */
export function uint32(value: unknown, field: string, min = 0): number {
  if (value === undefined && min === 0) return 0;
  return integer(value, field, min, UINT32_MAX);
}

/** A uint64 argument as the wire's decimal string. */
export function uint64(value: unknown, field: string): string {
  return bigInteger(value, field, 0n, UINT64_MAX).toString();
}

/** An int64 argument in [min, INT64_MAX] as the wire's decimal string. */
export function int64(value: unknown, field: string, min: bigint = INT64_MIN): string {
  return bigInteger(value, field, min, INT64_MAX).toString();
}

/** A float argument; its range is the server's to check. */
export function fraction(value: unknown, field: string): number {
  if (typeof value !== "number") throw argumentError(`${field}: expected a number, got ${describe(value)}`);
  return value;
}

export function bool(value: unknown, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw argumentError(`${field}: expected a boolean, got ${describe(value)}`);
  return value;
}

/** A JSON float: NaN and the infinities as the strings protobuf's JSON mapping reads. */
function jsonFloat(x: number): w.JsonFloat {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  return x;
}

/**
 * One vector component as it goes on the wire: rounded to float32 (as
 * protobuf would), a finite value that float32 rounding would make infinite
 * refused naming `field`; NaN and the infinities pass, for the server to
 * refuse as not finite.
 */
function component(x: unknown, field: string): w.JsonFloat {
  if (typeof x !== "number") throw argumentError(`${field}: expected a number, got ${describe(x)}`);
  if (!Number.isFinite(x)) return jsonFloat(x);
  const f = Math.fround(x);
  if (!Number.isFinite(f)) throw argumentError(`${field}: ${x} is outside ${FLOAT_RANGE}`);
  return f;
}

/**
 * A vector from an array or a typed array of numbers. Refused: a string, a
 * Set or Map (no order of their own), anything else that is not an array,
 * an item that is not a number (a boolean included).
 */
export function vector(value: unknown, field: string): w.JsonFloat[] {
  if (Array.isArray(value)) return value.map((x, i) => component(x, `${field}[${i}]`));
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    if (value instanceof BigInt64Array || value instanceof BigUint64Array) {
      throw argumentError(`${field}: expected an array of numbers, got ${describe(value)}`);
    }
    return Array.from(value as unknown as ArrayLike<number>, (x, i) => component(x, `${field}[${i}]`));
  }
  throw argumentError(`${field}: expected an array of numbers or a typed array, got ${describe(value)}`);
}

export function metadataValue(value: unknown, field: string): w.MetadataValue {
  if (typeof value === "boolean") return { boolValue: value };
  if (typeof value === "bigint") {
    if (value < INT64_MIN || value > INT64_MAX) {
      throw argumentError(`${field}: ${value} does not fit a 64-bit signed integer (${INT64_MIN} to ${INT64_MAX})`);
    }
    return { intValue: value.toString() };
  }
  if (typeof value === "number") {
    if (Number.isInteger(value)) {
      if (!Number.isSafeInteger(value)) {
        throw argumentError(
          `${field}: ${value} is an integer beyond 2^53, whose digits a number has lost: pass a bigint (int64) ` +
            "or a string",
        );
      }
      return { intValue: String(value) };
    }
    return { doubleValue: jsonFloat(value) };
  }
  if (typeof value === "string") return { stringValue: text(value, field) };
  if (Array.isArray(value)) {
    return { listValue: { values: value.map((item, i) => {
      if (typeof item !== "string") throw argumentError(`${field}[${i}]: list items must be strings, got ${describe(item)}`);
      return text(item, `${field}[${i}]`);
    }) } };
  }
  throw argumentError(
    `${field}: unsupported metadata type ${describe(value)} (use a string, number, bigint, boolean or an array of strings)`,
  );
}

const RECORD_KEYS = ["id", "vector", "text", "documentId", "metadata", "sparse"];

export function record(value: unknown, field: string): w.Record {
  if (!isPlainObject(value)) {
    throw argumentError(`${field}: expected an object with keys ${RECORD_KEYS.join(", ")}, got ${describe(value)}`);
  }
  const unknown = Object.keys(value).filter((k) => !RECORD_KEYS.includes(k)).sort();
  if (unknown.length) {
    throw argumentError(
      `${field}: unknown key(s) ${unknown.map((k) => JSON.stringify(k)).join(", ")} (expected ${RECORD_KEYS.join(", ")})`,
    );
  }
  if (!("id" in value) || value.id === undefined) throw argumentError(`${field}.id: missing`);
  const out: w.Record = { id: name(value.id, `${field}.id`) };
  // No vector: a record of a collection without dense vectors (dimension
  // 0); the server refuses it, naming the vector, for any other.
  if (value.vector !== undefined && value.vector !== null) out.vector = vector(value.vector, `${field}.vector`);
  if (value.text !== undefined && value.text !== null) out.text = name(value.text, `${field}.text`);
  if (value.documentId !== undefined && value.documentId !== null) {
    out.documentId = name(value.documentId, `${field}.documentId`);
  }
  if (value.metadata !== undefined && value.metadata !== null) {
    if (!isPlainObject(value.metadata)) {
      throw argumentError(`${field}.metadata: expected an object, got ${describe(value.metadata)}`);
    }
    out.metadata = {};
    for (const [key, v] of Object.entries(value.metadata)) {
      out.metadata[text(key, `${field}.metadata`)] = metadataValue(v, `${field}.metadata[${JSON.stringify(key)}]`);
    }
  }
  if (value.sparse !== undefined && value.sparse !== null) {
    if (!isPlainObject(value.sparse)) {
      throw argumentError(`${field}.sparse: expected an object of sparse vectors by field name, got ${describe(value.sparse)}`);
    }
    out.sparse = {};
    for (const [key, v] of Object.entries(value.sparse)) {
      out.sparse[text(key, `${field}.sparse`)] = sparse(v, `${field}.sparse[${JSON.stringify(key)}]`);
    }
  }
  return out;
}

/**
 * A sparse vector from {indices, values}. Indices must be integers in
 * 0..2^32-1; order, lengths and the field's dimension are the server's to
 * check.
 */
export function sparse(value: unknown, field: string): w.SparseVector {
  if (!isPlainObject(value)) {
    throw argumentError(`${field}: expected an object {indices: [...], values: [...]}, got ${describe(value)}`);
  }
  const unknown = Object.keys(value).filter((k) => k !== "indices" && k !== "values").sort();
  if (unknown.length) {
    throw argumentError(`${field}: unknown key(s) ${unknown.map((k) => JSON.stringify(k)).join(", ")} (expected indices, values)`);
  }
  for (const key of ["indices", "values"]) {
    if (value[key] === undefined) throw argumentError(`${field}.${key}: missing`);
  }
  const indices = value.indices;
  let list: unknown[];
  if (Array.isArray(indices)) list = indices;
  else if (ArrayBuffer.isView(indices) && !(indices instanceof DataView)) list = Array.from(indices as unknown as ArrayLike<number>);
  else throw argumentError(`${field}.indices: expected an array of integers, got ${describe(indices)}`);
  return {
    indices: list.map((x, i) => integer(x, `${field}.indices[${i}]`, 0, UINT32_MAX)),
    values: vector(value.values, `${field}.values`),
  };
}

/**
 * `table[key]` if `key` is one of the table's own names, else undefined: a
 * plain `table[key]` also finds Object.prototype's names ("constructor",
 * "toString", "__proto__"), which would pass a check and then vanish from
 * the JSON request.
 */
export function lookup<V>(table: { readonly [name: string]: V }, key: unknown): V | undefined {
  return typeof key === "string" && Object.hasOwn(table, key) ? table[key] : undefined;
}

const METRICS: { [name: string]: w.MetricName } = { l2: "METRIC_L2", ip: "METRIC_IP", cosine: "METRIC_COSINE" };

export function metric(value: unknown): w.MetricName {
  const key = typeof value === "string" ? value.toLowerCase() : "";
  const m = lookup(METRICS, key);
  if (m === undefined) throw argumentError(`metric: ${describe(value)} is not one of ${Object.keys(METRICS).join(", ")}`);
  return m;
}

const PLANS: { [name: string]: w.SearchPlanName } = {
  auto: "SEARCH_PLAN_AUTO",
  exact: "SEARCH_PLAN_EXACT",
  graph: "SEARCH_PLAN_GRAPH",
};

export function plan(value: unknown): w.SearchPlanName {
  if (value === undefined || value === null) return "SEARCH_PLAN_AUTO";
  const p = typeof value === "string" ? lookup(PLANS, value.toLowerCase()) : undefined;
  if (p === undefined) throw argumentError(`plan: ${describe(value)} is not one of ${Object.keys(PLANS).join(", ")}`);
  return p;
}

const ANALYZER_PRESETS = ["standard", "english"];
const TEXT_INDEX_KEYS = ["preset", "k1", "b", "caseFold", "asciiFold", "stopwords", "stemmer", "maxTermBytes", "fields"];

/** A TextIndexConfig from a preset name or an object of settings (unset ones take the preset's). */
export function textIndex(value: unknown, field = "textIndex"): w.TextIndexConfig {
  const settings: { [key: string]: unknown } = typeof value === "string" ? { preset: value } : (value as { [key: string]: unknown });
  if (!isPlainObject(settings)) {
    throw argumentError(`${field}: expected a preset name (string) or an object, got ${describe(value)}`);
  }
  const unknown = Object.keys(settings).filter((k) => !TEXT_INDEX_KEYS.includes(k)).sort();
  if (unknown.length) {
    throw argumentError(
      `${field}: unknown key(s) ${unknown.map((k) => JSON.stringify(k)).join(", ")} (expected ${TEXT_INDEX_KEYS.join(", ")})`,
    );
  }
  const preset = settings.preset ?? "standard";
  if (typeof preset !== "string" || !ANALYZER_PRESETS.includes(preset)) {
    throw argumentError(`${field}.preset: ${describe(preset)} is not one of ${ANALYZER_PRESETS.join(", ")}`);
  }
  const analyzer: w.AnalyzerConfig = { preset };
  const out: w.TextIndexConfig = { analyzer };
  if (settings.k1 !== undefined) out.k1 = fraction(settings.k1, `${field}.k1`);
  if (settings.b !== undefined) out.b = fraction(settings.b, `${field}.b`);
  if (settings.caseFold !== undefined) analyzer.caseFold = bool(settings.caseFold, `${field}.caseFold`);
  if (settings.asciiFold !== undefined) analyzer.asciiFold = bool(settings.asciiFold, `${field}.asciiFold`);
  if (settings.stopwords !== undefined) analyzer.stopwords = name(settings.stopwords, `${field}.stopwords`);
  if (settings.stemmer !== undefined) analyzer.stemmer = name(settings.stemmer, `${field}.stemmer`);
  if (settings.maxTermBytes !== undefined) {
    analyzer.maxTermBytes = integer(settings.maxTermBytes, `${field}.maxTermBytes`, 0, UINT32_MAX);
  }
  const fields = settings.fields;
  if (fields !== undefined) {
    // BM25F: an object of metadata key to weight (1..16), or an array of keys (weight 1).
    if (typeof fields === "string") {
      throw argumentError(`${field}.fields: expected an object of name to weight or an array of names, got a string`);
    }
    let entries: [unknown, unknown][];
    if (Array.isArray(fields)) entries = fields.map((n) => [n, 1]);
    else if (isPlainObject(fields)) entries = Object.entries(fields);
    else throw argumentError(`${field}.fields: expected an object of name to weight or an array of names, got ${describe(fields)}`);
    out.fields = entries.map(([n, weight]) => {
      const key = name(n, `${field}.fields`);
      return { name: key, weight: integer(weight, `${field}.fields[${JSON.stringify(key)}]`, 1, 16) };
    });
  }
  return out;
}

/** SparseFieldConfigs from an array of names or an object of name to dimension (undefined: 2^31). */
export function sparseFields(value: unknown): w.SparseFieldConfig[] {
  if (typeof value === "string") {
    throw argumentError("sparseFields: expected an array of names or an object of name to dimension, got a single string " +
      "(wrap it in an array)");
  }
  let entries: [unknown, unknown][];
  if (Array.isArray(value)) entries = value.map((n) => [n, undefined]);
  else if (isPlainObject(value)) entries = Object.entries(value);
  else throw argumentError(`sparseFields: expected an array of names or an object of name to dimension, got ${describe(value)}`);
  return entries.map(([n, dimension], i) => {
    const out: w.SparseFieldConfig = { name: name(n, `sparseFields[${i}]`) };
    if (dimension !== undefined && dimension !== null) {
      out.dimension = integer(dimension, `sparseFields[${JSON.stringify(n)}]`, 1, 2 ** 31);
    }
    return out;
  });
}

export function filter(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") {
    throw argumentError(`filter: expected the text syntax of docs/filters.md (a string), got ${describe(value)}`);
  }
  return text(value, "filter");
}

/** A ReadAt: a version (number or bigint, 0 is a real version) or a snapshot name; undefined: the head. */
export function readAt(at: unknown, field = "at"): w.ReadAt | undefined {
  if (at === undefined || at === null) return undefined;
  if (typeof at === "string") {
    if (!at) throw argumentError(`${field}: empty snapshot name`);
    return { snapshot: text(at, field) };
  }
  if ((typeof at === "number" && Number.isSafeInteger(at) && at >= 0) || (typeof at === "bigint" && at >= 0n && at <= UINT64_MAX)) {
    return { version: at.toString() };
  }
  throw argumentError(`${field}: expected a version number >= 0, a snapshot name or undefined, got ${describe(at)}`);
}

/** A ReadAt that takes a version only (a cache lookup's `at`, a uint64). */
export function versionOnly(at: unknown, field = "at"): string | undefined {
  if (at === undefined || at === null) return undefined;
  if ((typeof at === "number" && Number.isSafeInteger(at) && at >= 0) || (typeof at === "bigint" && at >= 0n && at <= UINT64_MAX)) {
    return at.toString();
  }
  throw argumentError(`${field}: expected a version number >= 0 or undefined, got ${describe(at)}`);
}

const FUSION_METHODS: { [name: string]: w.FusionMethodName } = {
  rrf: "FUSION_METHOD_RRF",
  convex: "FUSION_METHOD_CONVEX",
};
const WEIGHT_KEYS = ["dense", "text", "sparse"];

/** Sets the text and sparse legs and the fusion of a SearchQuery or a RetrieveRequest. */
export function setQueryLegs(legs: t.QueryLegs, out: w.SearchQuery | w.RetrieveRequest): void {
  const textQuery = text(legs.text, "text");
  if (textQuery) out.text = textQuery;
  if ((legs.sparseField === undefined) !== (legs.sparse === undefined)) {
    throw argumentError("sparseField and sparse go together: the sparse query vector and the field it is in");
  }
  if (legs.sparse !== undefined) {
    out.sparseField = name(legs.sparseField, "sparseField");
    out.sparse = sparse(legs.sparse, "sparse");
  }
  const { fusion, rrfK, weights, legLimit } = legs;
  if (fusion === undefined && rrfK === undefined && weights === undefined && legLimit === undefined) return;
  const f: w.Fusion = {};
  if (fusion !== undefined) {
    const method = typeof fusion === "string" ? lookup(FUSION_METHODS, fusion.toLowerCase()) : undefined;
    if (method === undefined) {
      throw argumentError(`fusion: ${describe(fusion)} is not one of ${Object.keys(FUSION_METHODS).join(", ")}`);
    }
    f.method = method;
  }
  if (rrfK !== undefined) f.rrfK = integer(rrfK, "rrfK", 1, UINT32_MAX);
  if (legLimit !== undefined) f.legLimit = integer(legLimit, "legLimit", 1, UINT32_MAX);
  if (weights !== undefined) {
    if (!isPlainObject(weights)) {
      throw argumentError(`weights: expected an object like {dense: 1, text: 0.5}, got ${describe(weights)}`);
    }
    const unknown = Object.keys(weights).filter((k) => !WEIGHT_KEYS.includes(k)).sort();
    if (unknown.length) {
      throw argumentError(`weights: unknown leg(s) ${unknown.map((k) => JSON.stringify(k)).join(", ")} (expected dense, text, sparse)`);
    }
    for (const [key, value] of Object.entries(weights)) {
      if (value === undefined || value === null) continue;
      if (typeof value !== "number") throw argumentError(`weights[${JSON.stringify(key)}]: expected a number, got ${describe(value)}`);
      if (key === "dense") f.denseWeight = jsonFloat(value);
      else if (key === "text") f.textWeight = jsonFloat(value);
      else f.sparseWeight = jsonFloat(value);
    }
  }
  out.fusion = f;
}

/** A PromptSelector from "name", "name@7" or "name@label". */
export function promptSelector(prompt: unknown): w.PromptSelector {
  if (typeof prompt !== "string" || !prompt) {
    throw argumentError(`prompt: expected "name", "name@version" or "name@label", got ${describe(prompt)}`);
  }
  text(prompt, "prompt");
  const at = prompt.indexOf("@");
  const promptName = at < 0 ? prompt : prompt.slice(0, at);
  const which = at < 0 ? "" : prompt.slice(at + 1);
  const selector: w.PromptSelector = { name: promptName };
  if (/^[0-9]+$/.test(which)) {
    // Refused here as the CLI does: 0 would travel as "no version" (the
    // production label).
    const version = Number(which);
    if (!(version >= 1 && version <= UINT32_MAX)) {
      throw argumentError(`prompt: version in ${JSON.stringify(prompt)} must be 1..4294967295`);
    }
    selector.version = version;
  } else if (which) {
    selector.label = which;
  }
  return selector;
}

// ----- responses -------------------------------------------------------------------

/**
 * A 64-bit integer of a response as a number. DATA_LOSS (never a rounded
 * number) for one above Number.MAX_SAFE_INTEGER; a missing one is 0.
 */
export function num64(value: w.Int64 | number | undefined, field: string): number {
  if (value === undefined || value === null) return 0;
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new VerityError("DATA_LOSS", `${field}: ${value} from the server is not a safe integer (beyond 2^53)`);
  }
  return n;
}

/** A float or double of a response (the JSON mapping spells NaN and the infinities as strings). */
export function float(value: w.JsonFloat | string | undefined): number {
  if (value === undefined || value === null) return 0;
  return typeof value === "number" ? value : Number(value);
}

function u32(value: number | undefined): number {
  return value ?? 0;
}

/** An enum's short lower-case name: LOG_KIND_CACHE_HIT -> "cache_hit"; an unknown number stays as its text. */
function enumName(value: string | number | undefined, prefix: string): string {
  if (value === undefined) return "unspecified";
  if (typeof value === "number") return value === 0 ? "unspecified" : String(value);
  return value.startsWith(prefix) ? value.slice(prefix.length).toLowerCase() : value.toLowerCase();
}

export function metadataValueOut(v: w.MetadataValue): t.MetadataValue {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) {
    const big = BigInt(v.intValue);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  if (v.doubleValue !== undefined) return float(v.doubleValue);
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.listValue !== undefined) return [...(v.listValue.values ?? [])];
  return null as unknown as t.MetadataValue; // no kind set: not sent by verityd
}

/** Metadata as an object sorted by key, as the Python client sorts it. */
export function metadataOut(metadata: { [key: string]: w.MetadataValue } | undefined): t.Metadata {
  const out: t.Metadata = {};
  for (const key of Object.keys(metadata ?? {}).sort()) out[key] = metadataValueOut(metadata![key]!);
  return out;
}

function sparseOut(v: w.SparseVector | undefined): { indices: number[]; values: number[] } {
  return { indices: [...(v?.indices ?? [])], values: (v?.values ?? []).map(float) };
}

export function storedRecordOut(r: w.StoredRecord | undefined, withVectors = true): t.StoredRecord {
  const rec = r?.record ?? {};
  const sparseVectors: t.StoredRecord["sparse"] = {};
  for (const key of Object.keys(rec.sparse ?? {}).sort()) sparseVectors[key] = sparseOut(rec.sparse![key]);
  return {
    id: rec.id ?? "",
    vector: withVectors ? (rec.vector ?? []).map(float) : null,
    text: rec.text ?? "",
    documentId: rec.documentId ?? "",
    metadata: metadataOut(rec.metadata),
    sparse: sparseVectors,
    rowVersion: num64(r?.rowVersion, "rowVersion"),
  };
}

function legOut(leg: w.LegScore): t.LegScore {
  const rank = leg.rank ?? 0;
  if (rank < 0) return { rank: null, score: null };
  return { rank, score: float(leg.score) };
}

/** The legs the server set (a hybrid search's); null when the search had one leg. */
function legsOut(dense: w.LegScore | undefined, textLeg: w.LegScore | undefined, sparseLeg: w.LegScore | undefined): t.Legs {
  const legs: NonNullable<t.Legs> = {};
  if (dense) legs.dense = legOut(dense);
  if (textLeg) legs.text = legOut(textLeg);
  if (sparseLeg) legs.sparse = legOut(sparseLeg);
  return Object.keys(legs).length ? legs : null;
}

export function hitOut(h: w.SearchHit, withPayload: boolean, withVectors: boolean): t.SearchHit {
  const rec = h.record ?? {};
  return {
    id: h.id ?? "",
    rowVersion: num64(h.rowVersion, "hits.rowVersion"),
    distance: float(h.distance),
    score: float(h.score),
    legs: legsOut(h.dense, h.text, h.sparse),
    text: withPayload ? (rec.text ?? "") : null,
    documentId: withPayload ? (rec.documentId ?? "") : null,
    metadata: withPayload ? metadataOut(rec.metadata) : null,
    vector: withVectors ? (rec.vector ?? []).map(float) : null,
  };
}

export function searchResultOut(r: w.SearchResponse, withPayload: boolean, withVectors: boolean): t.SearchResult {
  return {
    version: num64(r.version, "version"),
    exact: r.exact ?? false,
    hits: (r.hits ?? []).map((h) => hitOut(h, withPayload, withVectors)),
  };
}

function textIndexOut(c: w.CollectionConfig): t.TextIndexInfo | null {
  const ti = c.textIndex;
  if (!ti) return null;
  const a = ti.analyzer ?? {};
  const fields: { [name: string]: number } = {};
  for (const f of ti.fields ?? []) fields[f.name ?? ""] = f.weight ?? 0;
  return {
    preset: a.preset ?? "",
    k1: float(ti.k1),
    b: float(ti.b),
    caseFold: a.caseFold ?? false,
    asciiFold: a.asciiFold ?? false,
    stopwords: a.stopwords ?? "",
    stemmer: a.stemmer ?? "",
    maxTermBytes: a.maxTermBytes ?? 0,
    analyzerVersion: ti.analyzerVersion ?? 0,
    fields,
  };
}

const METRIC_NAMES: { [name: string]: t.Metric } = {
  METRIC_UNSPECIFIED: "l2",
  METRIC_L2: "l2",
  METRIC_IP: "ip",
  METRIC_COSINE: "cosine",
};

export function collectionOut(info: w.CollectionInfo | undefined): t.CollectionInfo {
  const i = info ?? {};
  const c = i.config ?? {};
  const sparseDims: { [name: string]: number } = {};
  for (const f of c.sparseFields ?? []) sparseDims[f.name ?? ""] = f.dimension ?? 0;
  return {
    name: c.name ?? "",
    dimension: c.dimension ?? 0,
    metric: lookup(METRIC_NAMES, String(c.metric ?? "METRIC_UNSPECIFIED")) ?? (String(c.metric) as t.Metric),
    m: u32(c.m),
    efConstruction: u32(c.efConstruction),
    defaultEf: u32(c.defaultEf),
    keepVersions: u32(c.keepVersions),
    keepSeconds: num64(c.keepSeconds, "config.keepSeconds"),
    headVersion: num64(i.headVersion, "headVersion"),
    createdAtUs: num64(i.createdAtUs, "createdAtUs"),
    liveRecords: num64(i.liveRecords, "liveRecords"),
    graphNodes: num64(i.graphNodes, "graphNodes"),
    oldestRetained: num64(i.oldestRetained, "oldestRetained"),
    snapshots: num64(i.snapshots, "snapshots"),
    textIndex: textIndexOut(c),
    sparseFields: sparseDims,
    unavailable: i.unavailable ?? "",
  };
}

export function versionOut(v: w.VersionInfo): t.VersionInfo {
  return {
    version: num64(v.version, "version"),
    committedAtUs: num64(v.committedAtUs, "committedAtUs"),
    upserted: u32(v.upserted),
    deleted: u32(v.deleted),
    readable: v.readable ?? false,
    snapshots: [...(v.snapshots ?? [])],
    restoredFrom: num64(v.restoredFrom, "restoredFrom"),
    isRestore: v.isRestore ?? false,
  };
}

export function chunkOut(c: w.RetrievedChunk): t.RetrievedChunk {
  return {
    id: c.id ?? "",
    rowVersion: num64(c.rowVersion, "chunks.rowVersion"),
    distance: float(c.distance),
    text: c.text ?? "",
    textSha256: c.textSha256 ?? "",
    documentId: c.documentId ?? "",
    tokens: u32(c.tokens),
    inContext: c.inContext ?? false,
    score: float(c.score),
    legs: legsOut(c.dense, c.textLeg, c.sparse),
  };
}

export function retrievalOut(r: w.RetrieveResponse): t.Retrieval {
  return {
    retrievalId: r.retrievalId ?? "",
    logSeq: num64(r.logSeq, "logSeq"),
    version: num64(r.version, "version"),
    exact: r.exact ?? false,
    chunks: (r.chunks ?? []).map(chunkOut),
    context: r.context ?? "",
    contextSha256: r.contextSha256 ?? "",
    contextTokens: u32(r.contextTokens),
    prompt: r.prompt ?? "",
  };
}

function fusionOut(f: w.Fusion | undefined): t.FusionInfo | null {
  if (!f) return null;
  return {
    method: enumName(f.method, "FUSION_METHOD_") as t.FusionInfo["method"],
    rrfK: u32(f.rrfK),
    denseWeight: f.denseWeight === undefined ? null : float(f.denseWeight),
    textWeight: f.textWeight === undefined ? null : float(f.textWeight),
    sparseWeight: f.sparseWeight === undefined ? null : float(f.sparseWeight),
    legLimit: u32(f.legLimit),
  };
}

export function logRecordOut(r: w.LogRecord): t.LogRecord {
  const cacheMatch = enumName(r.cacheMatch, "CACHE_MATCH_");
  return {
    seq: num64(r.seq, "seq"),
    timeUs: num64(r.timeUs, "timeUs"),
    kind: enumName(r.kind, "LOG_KIND_") as t.LogRecord["kind"],
    retrievalId: r.retrievalId ?? "",
    collection: r.collection ?? "",
    version: num64(r.version, "version"),
    snapshot: r.snapshot ?? "",
    queryText: r.queryText ?? "",
    queryVector: (r.queryVector ?? []).map(float),
    queryVectorSha256: r.queryVectorSha256 ?? "",
    k: u32(r.k),
    ef: u32(r.ef),
    filter: r.filter ?? "",
    tokenBudget: u32(r.tokenBudget),
    prompt: r.prompt ?? "",
    clientTraceId: r.clientTraceId ?? "",
    clientId: r.clientId ?? "",
    exact: r.exact ?? false,
    chunks: (r.chunks ?? []).map(chunkOut),
    contextSha256: r.contextSha256 ?? "",
    contextTokens: u32(r.contextTokens),
    answer: r.answer ?? "",
    model: r.model ?? "",
    promptTokens: u32(r.promptTokens),
    completionTokens: u32(r.completionTokens),
    sourceRetrievalId: r.sourceRetrievalId ?? "",
    cacheMatch: (cacheMatch === "unspecified" ? "miss" : cacheMatch) as t.CacheMatch,
    similarity: float(r.similarity),
    text: r.text ?? "",
    analyzerVersion: u32(r.analyzerVersion),
    analyzerCodeVersion: u32(r.analyzerCodeVersion),
    sparseField: r.sparseField ?? "",
    sparse: r.sparse ? sparseOut(r.sparse) : null,
    fusion: fusionOut(r.fusion),
    prevHash: r.prevHash ?? "",
    hash: r.hash ?? "",
    annotation: r.annotation ? annotationOut(r.annotation) : null,
  };
}

export function verifyOut(r: w.VerifyLogResponse): t.VerifyLogResult {
  return {
    ok: r.ok ?? false,
    records: num64(r.records, "records"),
    firstSeq: num64(r.firstSeq, "firstSeq"),
    lastSeq: num64(r.lastSeq, "lastSeq"),
    headHash: r.headHash ?? "",
    firstBadSeq: num64(r.firstBadSeq, "firstBadSeq"),
    problem: r.problem ?? "",
  };
}

export function replayOut(r: w.ReplayResponse): t.ReplayResult {
  return {
    mode: enumName(r.mode, "REPLAY_MODE_") as t.ReplayResult["mode"],
    retrievalId: r.retrievalId ?? "",
    outcome: r.outcome ?? "",
    detail: r.detail ?? "",
    version: num64(r.version, "version"),
    chunks: (r.chunks ?? []).map((c) => ({
      id: c.id ?? "",
      rowVersion: num64(c.rowVersion, "chunks.rowVersion"),
      status: c.status ?? "",
    })),
    contextSha256: r.contextSha256 ?? "",
    contextHashMatches: r.contextHashMatches ?? false,
    recall: float(r.recall),
    missed: [...(r.missed ?? [])],
    added: [...(r.added ?? [])],
    removed: [...(r.removed ?? [])],
    rankChanges: (r.rankChanges ?? []).map((c) => ({
      id: c.id ?? "",
      loggedRank: c.loggedRank ?? 0,
      replayRank: c.replayRank ?? 0,
    })),
    changed: [...(r.changed ?? [])],
  };
}

function sentenceOut(s: w.SentenceScore): t.SentenceScore {
  return {
    text: s.text ?? "",
    begin: num64(s.begin, "begin"),
    end: num64(s.end, "end"),
    verdict: enumName(s.verdict, "SENTENCE_VERDICT_") as t.SentenceVerdict,
    support: float(s.support),
    tokenPrecision: float(s.tokenPrecision),
    rougeLPrecision: float(s.rougeLPrecision),
    trigramContainment: float(s.trigramContainment),
    chunkIndex: s.chunkIndex ?? 0,
    chunkId: s.chunkId ?? "",
    spanBegin: num64(s.spanBegin, "spanBegin"),
    spanEnd: num64(s.spanEnd, "spanEnd"),
    missingCritical: [...(s.missingCritical ?? [])],
    conflictingNegations: [...(s.conflictingNegations ?? [])],
    matchSupport: s.matchSupport === undefined ? null : float(s.matchSupport),
    contradictions: [...(s.contradictions ?? [])],
    roleConflicts: [...(s.roleConflicts ?? [])],
    shortEvidence: s.shortEvidence ?? false,
    secondChunkIndex: s.secondChunkIndex ?? null,
    secondChunkId: s.secondChunkId ?? "",
    secondSpanBegin: num64(s.secondSpanBegin, "secondSpanBegin"),
    secondSpanEnd: num64(s.secondSpanEnd, "secondSpanEnd"),
  };
}

export function auditOut(r: w.AuditResponse): t.AuditResult {
  return {
    retrievalId: r.retrievalId ?? "",
    collection: r.collection ?? "",
    version: num64(r.version, "version"),
    answer: r.answer ?? "",
    answerRecorded: r.answerRecorded ?? false,
    chunks: (r.chunks ?? []).map((c) => ({ id: c.id ?? "", text: c.text ?? "" })),
    prompt: r.prompt ?? "",
    sourceRetrievalId: r.sourceRetrievalId ?? "",
    scorerVersion: r.scorerVersion ?? "",
    threshold: float(r.threshold),
    g: float(r.g),
    scored: u32(r.scored),
    supported: u32(r.supported),
    sentences: (r.sentences ?? []).map(sentenceOut),
  };
}

export function auditCollectionOut(r: w.AuditCollectionResponse): t.AuditCollectionResult {
  return {
    retrievals: num64(r.retrievals, "retrievals"),
    audited: num64(r.audited, "audited"),
    unanswered: num64(r.unanswered, "unanswered"),
    unavailable: num64(r.unavailable, "unavailable"),
    meanG: float(r.meanG),
    shareBelow: float(r.shareBelow),
    scored: num64(r.scored, "scored"),
    worst: (r.worst ?? []).map(auditOut),
    audits: (r.audits ?? []).map(auditOut),
  };
}

export function snapshotOut(s: w.SnapshotInfo | undefined): t.SnapshotInfo {
  const i = s ?? {};
  return {
    collection: i.collection ?? "",
    name: i.name ?? "",
    description: i.description ?? "",
    version: num64(i.version, "version"),
    createdAtUs: num64(i.createdAtUs, "createdAtUs"),
    records: num64(i.records, "records"),
  };
}

export function diffEntryOut(e: w.DiffEntry): t.DiffEntry {
  return {
    id: e.id ?? "",
    kind: enumName(e.kind, "CHANGE_KIND_") as t.ChangeKind,
    fromRowVersion: num64(e.fromRowVersion, "fromRowVersion"),
    toRowVersion: num64(e.toRowVersion, "toRowVersion"),
  };
}

export function restoreOut(r: w.RestoreResponse): t.RestoreResult {
  return {
    version: num64(r.version, "version"),
    restoredFrom: num64(r.restoredFrom, "restoredFrom"),
    upserted: u32(r.upserted),
    deleted: u32(r.deleted),
  };
}

export function gcOut(r: w.GcResponse): t.GcResult {
  return {
    oldestRetained: num64(r.oldestRetained, "oldestRetained"),
    rowsRemoved: num64(r.rowsRemoved, "rowsRemoved"),
    nodesDropped: num64(r.nodesDropped, "nodesDropped"),
    graphRebuilt: r.graphRebuilt ?? false,
    bytesBefore: num64(r.bytesBefore, "bytesBefore"),
    bytesAfter: num64(r.bytesAfter, "bytesAfter"),
  };
}

export function promptOut(p: w.Prompt | undefined): t.Prompt {
  const i = p ?? {};
  return {
    name: i.name ?? "",
    version: u32(i.version),
    template: i.template ?? "",
    configJson: i.configJson ?? "",
    author: i.author ?? "",
    message: i.message ?? "",
    createdAtUs: num64(i.createdAtUs, "createdAtUs"),
    variables: [...(i.variables ?? [])],
    labels: [...(i.labels ?? [])],
  };
}

export function labelMoveOut(m: w.LabelMove | undefined): t.LabelMove {
  const i = m ?? {};
  return {
    label: i.label ?? "",
    version: u32(i.version),
    previousVersion: u32(i.previousVersion),
    actor: i.actor ?? "",
    movedAtUs: num64(i.movedAtUs, "movedAtUs"),
  };
}

export function cacheLookupOut(r: w.CacheLookupResponse): t.CacheLookupResult {
  const match = enumName(r.match, "CACHE_MATCH_");
  return {
    match: (match === "unspecified" ? "miss" : match) as t.CacheMatch,
    answer: r.answer ?? "",
    sourceRetrievalId: r.sourceRetrievalId ?? "",
    similarity: float(r.similarity),
    version: num64(r.version, "version"),
    prompt: r.prompt ?? "",
    refused: u32(r.refused),
    refusedReason: r.refusedReason ?? "",
    retrievalId: r.retrievalId ?? "",
    logSeq: num64(r.logSeq, "logSeq"),
    contextSha256: r.contextSha256 ?? "",
  };
}

export function cacheStatsOut(r: w.GetCacheStatsResponse): t.CacheStats {
  return {
    entries: num64(r.entries, "entries"),
    bytes: num64(r.bytes, "bytes"),
    maxEntries: num64(r.maxEntries, "maxEntries"),
    maxBytes: num64(r.maxBytes, "maxBytes"),
    stores: num64(r.stores, "stores"),
    exactHits: num64(r.exactHits, "exactHits"),
    semanticHits: num64(r.semanticHits, "semanticHits"),
    misses: num64(r.misses, "misses"),
    refusedFalseHits: num64(r.refusedFalseHits, "refusedFalseHits"),
    evictions: num64(r.evictions, "evictions"),
  };
}

export function progressOut(p: w.Progress): t.Progress {
  return { bytesDone: num64(p.bytesDone, "bytesDone"), bytesTotal: num64(p.bytesTotal, "bytesTotal") };
}

export function exportOut(r: w.ExportResult): t.ExportResult {
  return {
    name: r.name ?? "",
    collections: (r.collections ?? []).map((x) => ({
      name: x.name ?? "",
      version: num64(x.version, "version"),
      records: num64(x.records, "records"),
    })),
    bytes: num64(r.bytes, "bytes"),
  };
}

export function importOut(r: w.ImportResult): t.ImportResult {
  return {
    collections: (r.collections ?? []).map(collectionOut),
    records: num64(r.records, "records"),
    bytes: num64(r.bytes, "bytes"),
  };
}
