// Client: a typed wrapper over verityd's HTTP/JSON API (docs/http.md), the
// TypeScript counterpart of the Python client (client/python).

import * as c from "./convert.js";
import * as m from "./monitor.js";
import { VerityError, statusForHttp, statusFromBody, argumentError } from "./errors.js";
import type * as t from "./types.js";
import type * as w from "./wire.js";

/** The largest X-Verity-Timeout-Ms verityd accepts (24 h); a larger one is refused with 400 on every call. */
export const MAX_TIMEOUT_MS = 86_400_000;

export interface ClientOptions {
  /** The server's HTTP address, e.g. "http://127.0.0.1:7430" (verityd --http-listen). */
  baseUrl: string;
  /** Sent with every call as `Authorization: Bearer <key>` (docs/security.md). */
  apiKey?: string;
  /**
   * Each call's deadline in milliseconds, sent as `X-Verity-Timeout-Ms` (the
   * server stops the call there) and enforced by the client too (the
   * request is aborted). 1..86400000 (24 h, the server's limit); default 30000; null: no deadline of the client's
   * (the server's --default-deadline-ms applies).
   */
  timeoutMs?: number | null;
  /** The fetch to use; default: the global one (Node 20, browsers). */
  fetch?: typeof fetch;
}

/**
 * A connection to one verityd over HTTP/JSON.
 *
 * Every method makes one call (the paging ones one per page) and rejects
 * with a VerityError when it fails: `code` the gRPC status name, `httpStatus`
 * the response's status, `message` the server's message, which names the
 * field. An argument the client can check itself (types, unknown keys, a
 * number out of the wire type's range, an unknown metric) is refused with
 * VerityError INVALID_ARGUMENT (httpStatus null) before any call, its
 * message naming the argument.
 *
 * Reads take `at`: a version number (0 is the empty collection just after
 * it was created) or a snapshot name; unset: the head. Filters are text in
 * the syntax of docs/filters.md, e.g. `lang = "en" and year >= 2020`.
 *
 * Methods are async and independent: one Client can serve concurrent calls.
 */
export class Client {
  readonly baseUrl: string;
  readonly timeoutMs: number | null;
  readonly #apiKey: string | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: ClientOptions) {
    if (typeof options !== "object" || options === null) {
      throw argumentError("options: expected an object {baseUrl, apiKey?, timeoutMs?}");
    }
    const { baseUrl, apiKey, timeoutMs = 30000 } = options;
    if (typeof baseUrl !== "string" || !/^https?:\/\/[^/]/.test(baseUrl)) {
      throw argumentError(`baseUrl: expected an http:// or https:// URL, got ${JSON.stringify(baseUrl)}`);
    }
    if (apiKey !== undefined && (typeof apiKey !== "string" || !apiKey || apiKey !== apiKey.trim())) {
      throw argumentError(
        "apiKey: expected the key as a non-empty string without surrounding white space " +
          "(a key read from a file keeps its newline: trim it)",
      );
    }
    if (
      timeoutMs !== null &&
      !(typeof timeoutMs === "number" && Number.isInteger(timeoutMs) && timeoutMs >= 1 && timeoutMs <= MAX_TIMEOUT_MS)
    ) {
      throw argumentError(
        `timeoutMs: expected an integer number of milliseconds in [1, ${MAX_TIMEOUT_MS}] (24 h, the most ` +
          `X-Verity-Timeout-Ms takes) or null, got ${String(timeoutMs)}`,
      );
    }
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.timeoutMs = timeoutMs;
    this.#apiKey = apiKey;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  toString(): string {
    return `Client(${this.baseUrl}, timeoutMs=${this.timeoutMs})`;
  }

  #headers(contentType: string): Record<string, string> {
    const headers: Record<string, string> = { "Content-Type": contentType, Accept: "application/json" };
    if (this.#apiKey) headers["Authorization"] = `Bearer ${this.#apiKey}`;
    if (this.timeoutMs !== null) headers["X-Verity-Timeout-Ms"] = String(this.timeoutMs);
    return headers;
  }

  /** POSTs `body` to /v1/<Service>/<Method> and returns the response body; throws VerityError. */
  async #post(method: string, body: string, contentType: string): Promise<Response> {
    const url = `${this.baseUrl}/v1/${method.replace(".", "/")}`;
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method: "POST",
        headers: this.#headers(contentType),
        body,
        signal: this.timeoutMs === null ? null : AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw this.#fetchError(e, method, "cannot reach");
    }
    if (!response.ok) throw await errorFromResponse(response, method);
    return response;
  }

  /**
   * The VerityError of a failure of fetch or of reading a response body:
   * the deadline (AbortSignal.timeout's TimeoutError) is DEADLINE_EXCEEDED,
   * anything else (a refused or dropped connection) UNAVAILABLE.
   */
  #fetchError(e: unknown, method: string, what: string): VerityError {
    if (e instanceof VerityError) return e;
    const err = e as Error;
    if (err?.name === "TimeoutError" || err?.name === "AbortError") {
      return new VerityError("DEADLINE_EXCEEDED", `no answer within timeoutMs (${this.timeoutMs} ms)`, { method, cause: e });
    }
    const cause = (err as { cause?: { message?: string } })?.cause?.message;
    return new VerityError("UNAVAILABLE", `${what} ${this.baseUrl}: ${cause ?? err?.message ?? String(e)}`, {
      method,
      cause: e,
    });
  }

  /** The lines of a streaming call's NDJSON response, each parsed; throws VerityError only. */
  async *#ndjson<Msg>(response: Response, method: string): AsyncGenerator<Msg> {
    const lines = ndjsonLines(response);
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = await lines.next();
      } catch (e) {
        throw this.#fetchError(e, method, "lost the answer of");
      }
      if (next.done) return;
      let msg: unknown;
      try {
        msg = JSON.parse(next.value);
      } catch (e) {
        throw new VerityError("INTERNAL", `${method}: a line of the server's answer is not JSON: ${next.value.slice(0, 200)}`, {
          httpStatus: response.status,
          method,
          cause: e,
        });
      }
      if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
        throw new VerityError("INTERNAL", `${method}: a line of the server's answer is not a JSON object: ${next.value.slice(0, 200)}`, {
          httpStatus: response.status,
          method,
        });
      }
      yield msg as Msg;
    }
  }

  async #call<Resp>(method: string, request: object): Promise<Resp> {
    const response = await this.#post(method, JSON.stringify(request), "application/json");
    let text: string;
    try {
      text = await response.text();
    } catch (e) {
      throw this.#fetchError(e, method, "lost the answer of");
    }
    try {
      return (text ? JSON.parse(text) : {}) as Resp;
    } catch (e) {
      throw new VerityError("INTERNAL", `the server's answer is not JSON: ${text.slice(0, 200)}`, {
        httpStatus: response.status,
        method,
        cause: e,
      });
    }
  }

  /**
   * Every page of a paged list call (startAt, limit, nextStartAt). A page
   * refused for its size (verityd's refusal names --max-message-bytes) is
   * asked for again at half the size.
   */
  async *#everyPage<Req extends { startAt?: string | number; limit?: number }, Resp extends { nextStartAt?: string | number }>(
    method: string,
    request: Req,
    wrap: (start: number) => string | number,
  ): AsyncGenerator<Resp> {
    let start = 0;
    for (;;) {
      let resp: Resp;
      try {
        resp = await this.#call<Resp>(method, { ...request, startAt: wrap(start) });
      } catch (e) {
        const tooLarge = e instanceof VerityError && e.code === "RESOURCE_EXHAUSTED" &&
          (e.message.includes("--max-message-bytes") || e.message.includes("larger than max"));
        if (tooLarge && request.limit !== undefined && request.limit > 1) {
          request.limit = Math.floor(request.limit / 2);
          continue;
        }
        throw e;
      }
      yield resp;
      const next = c.num64(resp.nextStartAt, "nextStartAt");
      if (next === 0) return;
      if (next <= start) throw new VerityError("INTERNAL", `${method}: the server's next page does not move forward`, { method });
      start = next;
    }
  }

  // ----- collections ------------------------------------------------------------

  /**
   * Creates a collection and returns its info. `metric` "l2" (default:
   * squared Euclidean), "ip" (1 - dot) or "cosine" (1 - cos); unset m,
   * efConstruction, defaultEf take the server's defaults (16, 200, 64).
   * `textIndex` adds a full-text (BM25) index (a preset, "standard" or
   * "english", or settings); `sparseFields` names sparse-vector fields (an
   * array, or an object of name to dimension). `dimension` 0 makes a
   * collection without dense vectors, which needs a text index or a sparse
   * field. Rejects with ALREADY_EXISTS if the name is taken,
   * INVALID_ARGUMENT naming the field ("config.text_index.k1: ...").
   */
  async createCollection(
    name: string,
    dimension: number,
    options: {
      metric?: t.Metric;
      m?: number;
      efConstruction?: number;
      defaultEf?: number;
      textIndex?: t.TextIndexOptions;
      sparseFields?: readonly string[] | { [name: string]: number | undefined };
      /** Retention (docs/snapshots.md): unset = the server's default; 0 turns the rule off. */
      keepVersions?: number;
      keepSeconds?: number | bigint;
    } = {},
  ): Promise<t.CollectionInfo> {
    const config: w.CollectionConfig = {
      name: c.name(name, "name"),
      dimension: c.integer(dimension, "dimension", 0, c.UINT32_MAX), // 0 and the limit: the server's
      metric: c.metric(options.metric ?? "l2"),
      m: c.uint32(options.m, "m"),
      efConstruction: c.uint32(options.efConstruction, "efConstruction"),
      defaultEf: c.uint32(options.defaultEf, "defaultEf"),
    };
    if (options.keepVersions !== undefined) config.keepVersions = c.integer(options.keepVersions, "keepVersions", 0, c.UINT32_MAX);
    if (options.keepSeconds !== undefined) config.keepSeconds = c.int64(options.keepSeconds, "keepSeconds", 0n);
    if (options.textIndex !== undefined) config.textIndex = c.textIndex(options.textIndex);
    if (options.sparseFields !== undefined) config.sparseFields = c.sparseFields(options.sparseFields);
    const resp = await this.#call<w.CollectionResponse>("CollectionService.CreateCollection", { config });
    return c.collectionOut(resp.collection);
  }

  /**
   * Changes a collection's full-text index, or gives it one; returns its
   * info. Any change is a new analyzer version (textIndex.analyzerVersion)
   * and every row is analysed again.
   */
  async setTextIndex(collection: string, textIndex: t.TextIndexOptions): Promise<t.CollectionInfo> {
    const request: w.SetTextIndexRequest = { collection: c.name(collection, "collection"), textIndex: c.textIndex(textIndex) };
    const resp = await this.#call<w.CollectionResponse>("CollectionService.SetTextIndex", request);
    return c.collectionOut(resp.collection);
  }

  /** A collection's info. NOT_FOUND if there is none; DATA_LOSS if it was found damaged at start. */
  async getCollection(name: string): Promise<t.CollectionInfo> {
    const request: w.GetCollectionRequest = { name: c.name(name, "name") };
    const resp = await this.#call<w.CollectionResponse>("CollectionService.GetCollection", request);
    return c.collectionOut(resp.collection);
  }

  /** Every collection's info, sorted by name (a damaged one with `unavailable` saying why). */
  async listCollections(): Promise<t.CollectionInfo[]> {
    const resp = await this.#call<w.ListCollectionsResponse>("CollectionService.ListCollections", {});
    return (resp.collections ?? []).map(c.collectionOut);
  }

  /** Removes a collection with all its versions. NOT_FOUND if there is none. */
  async dropCollection(name: string): Promise<void> {
    const request: w.DropCollectionRequest = { name: c.name(name, "name") };
    await this.#call<object>("CollectionService.DropCollection", request);
  }

  /** Every committed version, oldest first (0 is the creation); fetched 1000 per call. */
  async listVersions(collection: string): Promise<t.VersionInfo[]> {
    const request: w.ListVersionsRequest = { collection: c.name(collection, "collection"), limit: 1000 };
    const out: t.VersionInfo[] = [];
    for await (const page of this.#everyPage<w.ListVersionsRequest, w.ListVersionsResponse>(
      "CollectionService.ListVersions",
      request,
      String,
    )) {
      out.push(...(page.versions ?? []).map(c.versionOut));
    }
    return out;
  }

  // ----- records ------------------------------------------------------------------

  /**
   * Writes records as one atomic, durable batch; returns the new head
   * version and how many records were written. Each record: `id`, `vector`
   * (left out in a collection of dimension 0), optionally `text`,
   * `documentId`, `metadata` (string, number, bigint, boolean or string[]
   * values), `sparse` ({field: {indices, values}}). Rejects naming the record
   * and field: locally for a malformed record (`records[2].metadata["tags"][0]`),
   * by the server for its rules ("records[0].vector: has 3 components; the
   * collection's dimension is 4"); RESOURCE_EXHAUSTED past --max-batch.
   */
  async upsert(collection: string, records: readonly t.RecordInput[]): Promise<t.WriteResult> {
    const coll = c.name(collection, "collection");
    if (!Array.isArray(records)) {
      throw argumentError(
        `records: expected an array of records, got ${records === null ? "null" : typeof records === "object" ? "one object (wrap it in an array)" : typeof records}`,
      );
    }
    const request: w.UpsertRequest = { collection: coll, records: records.map((r, i) => c.record(r, `records[${i}]`)) };
    const resp = await this.#call<w.WriteResponse>("RecordService.Upsert", request);
    return { version: c.num64(resp.version, "version"), applied: resp.applied ?? 0 };
  }

  /**
   * Deletes records by id as one atomic batch; returns the new head and how
   * many ids were live and so deleted (ids not live are ignored; when none
   * is, nothing is written and version is the unchanged head).
   */
  async delete(collection: string, ids: readonly string[]): Promise<t.WriteResult> {
    const request: w.DeleteRequest = { collection: c.name(collection, "collection"), ids: c.textList(ids, "ids") };
    const resp = await this.#call<w.WriteResponse>("RecordService.Delete", request);
    return { version: c.num64(resp.version, "version"), applied: resp.applied ?? 0 };
  }

  /**
   * The record live under `id` at `at` (unset: the head), with its vector.
   * NOT_FOUND if the collection is missing or the id has no live row there.
   */
  async get(collection: string, id: string, options: { at?: t.ReadPoint } = {}): Promise<t.StoredRecord> {
    const request: w.GetRequest = { collection: c.name(collection, "collection"), id: c.name(id, "id") };
    const at = c.readAt(options.at);
    if (at) request.at = at;
    const resp = await this.#call<w.GetResponse>("RecordService.Get", request);
    return c.storedRecordOut(resp.record);
  }

  /**
   * Yields every record live at `at` that passes `filter`, in id (byte)
   * order, `limit` (1..10000) per call, lazily. All pages read one version:
   * with `at` unset, the version the first page read.
   */
  async *scroll(
    collection: string,
    options: { at?: t.ReadPoint; limit?: number; filter?: string; withVectors?: boolean } = {},
  ): AsyncGenerator<t.StoredRecord> {
    const withVectors = c.bool(options.withVectors, "withVectors");
    const request: w.ScrollRequest = {
      collection: c.name(collection, "collection"),
      limit: c.integer(options.limit ?? 100, "limit", 1, c.UINT32_MAX), // its upper limit is the server's
      filter: c.filter(options.filter),
      withVectors,
    };
    const at = c.readAt(options.at);
    if (at) request.at = at;
    for (;;) {
      const resp = await this.#call<w.ScrollResponse>("RecordService.Scroll", request);
      for (const r of resp.records ?? []) yield c.storedRecordOut(r, withVectors);
      if (!resp.nextCursor) return;
      request.startAfter = resp.nextCursor;
      request.at = { version: resp.version ?? "0" };
    }
  }

  /** How many records are live at `at` and pass `filter`. */
  async count(collection: string, options: { at?: t.ReadPoint; filter?: string } = {}): Promise<number> {
    const request: w.CountRequest = { collection: c.name(collection, "collection"), filter: c.filter(options.filter) };
    const at = c.readAt(options.at);
    if (at) request.at = at;
    const resp = await this.#call<w.CountResponse>("RecordService.Count", request);
    return c.num64(resp.count, "count");
  }

  // ----- search ----------------------------------------------------------------------

  #query(options: t.SearchOptions): w.SearchQuery {
    const query: w.SearchQuery = {
      k: c.integer(options.k ?? 10, "k", 1, c.UINT32_MAX),
      ef: c.uint32(options.ef, "ef"),
      filter: c.filter(options.filter),
      withPayload: options.withPayload === undefined ? true : c.bool(options.withPayload, "withPayload"),
      withVectors: c.bool(options.withVectors, "withVectors"),
      plan: c.plan(options.plan),
    };
    if (options.vector !== undefined && options.vector !== null) query.vector = c.vector(options.vector, "vector");
    const at = c.readAt(options.at);
    if (at) query.at = at;
    c.setQueryLegs(options, query);
    return query;
  }

  /**
   * The `k` best records at `at` that pass `filter`, for a query of one to
   * three legs (docs/text-search.md): `vector` (nearest records), `text`
   * (BM25 over the text index), `sparse` with `sparseField` (dot product).
   * With two or more the legs are fused: `fusion` "rrf" (default, constant
   * `rrfK`, default 60) or "convex"; `weights` per leg; `legLimit` hits each
   * leg fetches. Hits (best first) carry `distance` (dense), `score` (text,
   * sparse, fused) and, for a hybrid query, `legs`. Rejects with
   * FAILED_PRECONDITION for a text query on a collection without a text
   * index, INVALID_ARGUMENT naming the field (query.vector, query.k, ...).
   */
  async search(collection: string, options: t.SearchOptions): Promise<t.SearchResult> {
    if (typeof options !== "object" || options === null) {
      throw argumentError("options: expected an object {vector?, text?, sparse?, k?, filter?, at?, ...}");
    }
    const request: w.SearchRequest = { collection: c.name(collection, "collection"), query: this.#query(options) };
    const resp = await this.#call<w.SearchResponse>("SearchService.Search", request);
    return c.searchResultOut(resp, request.query.withPayload!, request.query.withVectors!);
  }

  /** One query per vector in one call, all with the same options; results in query order. */
  async batchSearch(
    collection: string,
    vectors: readonly t.Vector[],
    options: Omit<t.SearchOptions, "vector" | keyof t.QueryLegs> = {},
  ): Promise<t.SearchResult[]> {
    if (!Array.isArray(vectors)) throw argumentError("vectors: expected an array of vectors");
    const coll = c.name(collection, "collection");
    const queries = vectors.map((v, i) => {
      const q = this.#query({ ...options });
      q.vector = c.vector(v, `vectors[${i}]`);
      return q;
    });
    const request: w.BatchSearchRequest = { collection: coll, queries };
    const resp = await this.#call<w.BatchSearchResponse>("SearchService.BatchSearch", request);
    const withPayload = options.withPayload ?? true;
    const withVectors = options.withVectors ?? false;
    return (resp.results ?? []).map((r) => c.searchResultOut(r, withPayload, withVectors));
  }

  /**
   * Sends one search per vector over one SearchStream call (NDJSON both
   * ways) and yields one item per vector, in order: its SearchResult or, for
   * a query the server refused, a VerityError instance (not thrown: the
   * stream goes on). The request body is built from `vectors` before the
   * call (not read lazily).
   */
  async *searchStream(
    collection: string,
    vectors: Iterable<t.Vector>,
    options: Omit<t.SearchOptions, "vector" | keyof t.QueryLegs> = {},
  ): AsyncGenerator<t.SearchResult | VerityError> {
    const method = "SearchService.SearchStream";
    const coll = c.name(collection, "collection");
    if (vectors === null || typeof vectors !== "object" || !(Symbol.iterator in vectors)) {
      throw argumentError("vectors: expected an iterable of vectors");
    }
    const lines: string[] = [];
    let i = 0;
    for (const v of vectors) {
      const query = this.#query({ ...options });
      query.vector = c.vector(v, `vectors[${i++}]`);
      lines.push(JSON.stringify({ collection: coll, query } satisfies w.SearchRequest));
    }
    const withPayload = options.withPayload ?? true;
    const withVectors = options.withVectors ?? false;
    const response = await this.#post(method, lines.join("\n") + "\n", "application/x-ndjson");
    for await (const msg of this.#ndjson<{ code?: number; message?: string; response?: w.SearchResponse; error?: w.ErrorBody }>(
      response,
      method,
    )) {
      if (msg.error) {
        throw new VerityError(statusFromBody(msg.error.status, msg.error.code) ?? "UNKNOWN", msg.error.message ?? "", {
          httpStatus: response.status,
          method,
        });
      }
      if (msg.code) {
        yield new VerityError(statusFromBody(undefined, msg.code) ?? "UNKNOWN", msg.message ?? "", { method });
      } else {
        yield c.searchResultOut(msg.response ?? {}, withPayload, withVectors);
      }
    }
  }

  // ----- context service -----------------------------------------------------------

  /**
   * Retrieves the context for a question: searches like `search` and writes
   * a record of what was retrieved to the server's retrieval log (durable
   * before this returns). Pass the returned `retrievalId` to `recordAnswer`
   * once the model has answered, and to `audit` / `replay` later.
   *
   * `at` is a version or a snapshot name (logged by name). Without a vector,
   * text or sparse leg but with a `filter`, a retrieval by filter alone.
   * Rejects with FAILED_PRECONDITION when no chunk is found (nothing is
   * logged), NOT_FOUND for the collection or snapshot, INVALID_ARGUMENT for
   * the vector, k, ef or the filter.
   */
  async retrieve(collection: string, options: t.RetrieveOptions): Promise<t.Retrieval> {
    if (typeof options !== "object" || options === null) {
      throw argumentError("options: expected an object {vector?, text?, k?, queryText?, filter?, at?, ...}");
    }
    const request: w.RetrieveRequest = {
      collection: c.name(collection, "collection"),
      queryText: c.text(options.queryText, "queryText"),
      k: options.k === undefined ? 0 : c.uint32(options.k, "k", 1),
      ef: c.uint32(options.ef, "ef"),
      filter: c.filter(options.filter),
      tokenBudget: c.uint32(options.tokenBudget, "tokenBudget"),
      prompt: c.text(options.prompt, "prompt"),
      clientTraceId: c.text(options.clientTraceId, "clientTraceId"),
      clientId: c.text(options.clientId, "clientId"),
    };
    if (options.vector !== undefined && options.vector !== null) request.vector = c.vector(options.vector, "vector");
    c.setQueryLegs(options, request);
    const at = c.readAt(options.at);
    if (at) request.at = at;
    const resp = await this.#call<w.RetrieveResponse>("ContextService.Retrieve", request);
    return c.retrievalOut(resp);
  }

  /**
   * Records the answer generated from a retrieval's context as a new log
   * record and returns it (seq, hash, ...). Answers are immutable:
   * ALREADY_EXISTS for a second one; NOT_FOUND for an unknown retrieval id;
   * INVALID_ARGUMENT for an empty answer or one over 1 MiB.
   */
  async recordAnswer(
    retrievalId: string,
    answer: string,
    options: { model?: string; promptTokens?: number; completionTokens?: number } = {},
  ): Promise<t.LogRecord> {
    const request: w.RecordAnswerRequest = {
      retrievalId: c.name(retrievalId, "retrievalId"),
      answer: c.name(answer, "answer"),
      model: c.text(options.model, "model"),
      promptTokens: c.uint32(options.promptTokens, "promptTokens"),
      completionTokens: c.uint32(options.completionTokens, "completionTokens"),
    };
    const resp = await this.#call<w.RecordAnswerResponse>("ContextService.RecordAnswer", request);
    return c.logRecordOut(resp.record ?? {});
  }

  /**
   * Records `answer` for a retrieval, then audits it: the groundedness of
   * the answer against the logged context (docs/groundedness.md). Returns
   * both.
   */
  async answer(
    retrievalId: string,
    answer: string,
    options: { model?: string; promptTokens?: number; completionTokens?: number; threshold?: number } = {},
  ): Promise<{ record: t.LogRecord; audit: t.AuditResult }> {
    const { threshold, ...recordOptions } = options;
    if (threshold !== undefined) c.fraction(threshold, "threshold");
    const record = await this.recordAnswer(retrievalId, answer, recordOptions);
    const audit = await this.audit(retrievalId, threshold === undefined ? {} : { threshold });
    return { record, audit };
  }

  // ----- the retrieval log: audits (docs/retrieval-log.md, docs/groundedness.md) ----

  /** The retrieval record (with its query vector) and its answer record (null without one). NOT_FOUND otherwise. */
  async getRetrieval(retrievalId: string): Promise<t.RetrievalRecords> {
    const request: w.GetRetrievalRequest = { retrievalId: c.name(retrievalId, "retrievalId") };
    const resp = await this.#call<w.GetRetrievalResponse>("LogService.GetRetrieval", request);
    return { retrieval: c.logRecordOut(resp.retrieval ?? {}), answer: resp.answer ? c.logRecordOut(resp.answer) : null };
  }

  #listLogRequest(options: t.ListLogOptions): w.ListLogRequest {
    const kinds: { [k: string]: w.LogKindName } = {
      retrieval: "LOG_KIND_RETRIEVAL",
      answer: "LOG_KIND_ANSWER",
      cache_hit: "LOG_KIND_CACHE_HIT",
    };
    const request: w.ListLogRequest = {
      collection: c.text(options.collection, "collection"),
      sinceUs: c.int64(options.sinceUs ?? 0, "sinceUs", 0n),
      untilUs: c.int64(options.untilUs ?? 0, "untilUs", 0n),
      withVectors: c.bool(options.withVectors, "withVectors"),
    };
    if (options.kind !== undefined) {
      const kind = c.lookup(kinds, options.kind);
      if (!kind) throw argumentError(`kind: expected "retrieval", "answer", "cache_hit" or undefined, got ${JSON.stringify(options.kind)}`);
      request.kind = kind;
    }
    return request;
  }

  /**
   * One page of log records in sequence order after cursor `startAfter`
   * (0: from the first), at most `limit` (1..10000, default 100), filtered
   * by collection, time and kind.
   */
  async listLogPage(options: t.ListLogOptions & { startAfter?: number | bigint; limit?: number } = {}): Promise<t.LogPage> {
    const request = this.#listLogRequest(options);
    request.startAfter = c.uint64(options.startAfter ?? 0, "startAfter");
    // 0 would mean the server's default (100): refused here, as 1..10000 is the documented range.
    request.limit = c.integer(options.limit ?? 100, "limit", 1, c.UINT32_MAX);
    const resp = await this.#call<w.ListLogResponse>("LogService.ListLog", request);
    return { records: (resp.records ?? []).map(c.logRecordOut), nextCursor: c.num64(resp.nextCursor, "nextCursor") };
  }

  /**
   * Yields log records in sequence order across pages: every record passing
   * the filters, at most `limit` of them (unset: all), `pageSize`
   * (1..10000, default 1000) per call, lazily.
   */
  async *listLog(options: t.ListLogOptions & { limit?: number; pageSize?: number } = {}): AsyncGenerator<t.LogRecord> {
    const limit = options.limit === undefined ? null : c.integer(options.limit, "limit", 0, Number.MAX_SAFE_INTEGER);
    const pageSize = c.integer(options.pageSize ?? 1000, "pageSize", 1, 10000);
    this.#listLogRequest(options); // checks the filters before the first call
    let cursor = 0;
    let seen = 0;
    while (limit === null || seen < limit) {
      const size = limit === null ? pageSize : Math.min(pageSize, limit - seen);
      const page = await this.listLogPage({ ...options, startAfter: cursor, limit: size });
      for (const r of page.records) yield r;
      seen += page.records.length;
      if (!page.nextCursor) return;
      if (page.nextCursor <= cursor) {
        throw new VerityError("INTERNAL", "LogService.ListLog: the server's next page does not move forward", {
          method: "LogService.ListLog",
        });
      }
      cursor = page.nextCursor;
    }
  }

  /** Walks the log's hash chain; a chain that does not verify is `ok: false`, not an error. */
  async verifyLog(): Promise<t.VerifyLogResult> {
    return c.verifyOut(await this.#call<w.VerifyLogResponse>("LogService.VerifyLog", {}));
  }

  /**
   * Replays a logged retrieval (docs/retrieval-log.md, "Replay"): "context"
   * (rebuild the logged context and check every hash), "retrieval" (re-run
   * the logged query at the logged version with exact search) or
   * "counterfactual" (run it at `at`, a version or snapshot; unset: the
   * head, and diff). INVALID_ARGUMENT for `at` outside counterfactual mode.
   */
  async replay(retrievalId: string, options: { mode?: t.ReplayMode; at?: t.ReadPoint } = {}): Promise<t.ReplayResult> {
    const modes: { [m: string]: w.ReplayModeName } = {
      context: "REPLAY_MODE_CONTEXT",
      retrieval: "REPLAY_MODE_RETRIEVAL",
      counterfactual: "REPLAY_MODE_COUNTERFACTUAL",
    };
    const mode = c.lookup(modes, options.mode ?? "context");
    if (!mode) {
      throw argumentError(`mode: expected "context", "retrieval" or "counterfactual", got ${JSON.stringify(options.mode)}`);
    }
    const request: w.ReplayRequest = { retrievalId: c.name(retrievalId, "retrievalId"), mode };
    const at = c.readAt(options.at);
    if (at) request.at = at;
    return c.replayOut(await this.#call<w.ReplayResponse>("LogService.Replay", request));
  }

  /**
   * Scores an answer against a retrieval's logged context with the
   * deterministic groundedness scorer: the recorded answer, or `answer`.
   * `threshold` in [0, 1] (unset: the scorer's 0.6; 0 is 0). Rejects with
   * FAILED_PRECONDITION when there is no answer to score, NOT_FOUND for the
   * retrieval id, DATA_LOSS when a stored row no longer matches its hash.
   */
  async audit(retrievalId: string, options: { answer?: string; threshold?: number } = {}): Promise<t.AuditResult> {
    const request: w.AuditRequest = { retrievalId: c.name(retrievalId, "retrievalId") };
    if (options.answer !== undefined) request.answer = c.name(options.answer, "answer");
    if (options.threshold !== undefined) request.threshold = c.fraction(options.threshold, "threshold");
    return c.auditOut(await this.#call<w.AuditResponse>("LogService.Audit", request));
  }

  /** Audits every answered retrieval of a collection in a time range (counts, mean G, the worst). */
  async auditCollection(
    collection: string,
    options: {
      sinceUs?: number | bigint;
      untilUs?: number | bigint;
      threshold?: number;
      lowG?: number;
      worst?: number;
      maxRetrievals?: number;
    } = {},
  ): Promise<t.AuditCollectionResult> {
    const request: w.AuditCollectionRequest = {
      collection: c.name(collection, "collection"),
      sinceUs: c.int64(options.sinceUs ?? 0, "sinceUs", 0n),
      untilUs: c.int64(options.untilUs ?? 0, "untilUs", 0n),
      maxRetrievals: c.uint32(options.maxRetrievals, "maxRetrievals"),
    };
    if (options.threshold !== undefined) request.threshold = c.fraction(options.threshold, "threshold");
    if (options.lowG !== undefined) request.lowG = c.fraction(options.lowG, "lowG");
    if (options.worst !== undefined) request.worst = c.integer(options.worst, "worst", 0, c.UINT32_MAX);
    return c.auditCollectionOut(await this.#call<w.AuditCollectionResponse>("LogService.AuditCollection", request));
  }

  // ----- snapshots (docs/snapshots.md) ------------------------------------------------

  /** Pins a version (`at`; unset: the head) under a new name. ALREADY_EXISTS if the name is taken. */
  async createSnapshot(
    collection: string,
    name: string,
    options: { description?: string; at?: t.ReadPoint } = {},
  ): Promise<t.SnapshotInfo> {
    const request: w.CreateSnapshotRequest = {
      collection: c.name(collection, "collection"),
      name: c.name(name, "name"),
      description: c.text(options.description, "description"),
    };
    const at = c.readAt(options.at);
    if (at) request.at = at;
    const resp = await this.#call<w.SnapshotResponse>("SnapshotService.CreateSnapshot", request);
    return c.snapshotOut(resp.snapshot);
  }

  /** One snapshot; NOT_FOUND naming it if absent. */
  async getSnapshot(collection: string, name: string): Promise<t.SnapshotInfo> {
    const request: w.SnapshotNameRequest = { collection: c.name(collection, "collection"), name: c.name(name, "name") };
    const resp = await this.#call<w.SnapshotResponse>("SnapshotService.GetSnapshot", request);
    return c.snapshotOut(resp.snapshot);
  }

  /** Every snapshot of a collection, sorted by name. */
  async listSnapshots(collection: string): Promise<t.SnapshotInfo[]> {
    const resp = await this.#call<w.ListSnapshotsResponse>("SnapshotService.ListSnapshots", {
      collection: c.name(collection, "collection"),
    });
    return (resp.snapshots ?? []).map(c.snapshotOut);
  }

  /** Unpins; GC may then collect the version. NOT_FOUND if absent. */
  async deleteSnapshot(collection: string, name: string): Promise<void> {
    const request: w.SnapshotNameRequest = { collection: c.name(collection, "collection"), name: c.name(name, "name") };
    await this.#call<object>("SnapshotService.DeleteSnapshot", request);
  }

  /**
   * Ids added, removed and changed between two versions or snapshots (unset:
   * the head), every page (`pageSize` 1..10000 entries per call, default
   * 1000): later pages compare the versions the first page resolved.
   */
  async diff(
    collection: string,
    options: { from?: t.ReadPoint; to?: t.ReadPoint; pageSize?: number } = {},
  ): Promise<t.DiffResult> {
    const request: w.DiffRequest = {
      collection: c.name(collection, "collection"),
      limit: c.integer(options.pageSize ?? 1000, "pageSize", 1, 10000),
    };
    const from = c.readAt(options.from, "from");
    const to = c.readAt(options.to, "to");
    if (from) request.from = from;
    if (to) request.to = to;
    let result: t.DiffResult | null = null;
    for (;;) {
      const resp = await this.#call<w.DiffResponse>("SnapshotService.Diff", request);
      if (!result) {
        result = {
          from: c.num64(resp.from, "from"),
          to: c.num64(resp.to, "to"),
          added: c.num64(resp.added, "added"),
          removed: c.num64(resp.removed, "removed"),
          changed: c.num64(resp.changed, "changed"),
          entries: [],
        };
        request.from = { version: resp.from ?? "0" };
        request.to = { version: resp.to ?? "0" };
      }
      result.entries.push(...(resp.entries ?? []).map(c.diffEntryOut));
      if (!resp.nextCursor) return result;
      request.startAfter = resp.nextCursor;
    }
  }

  /**
   * Makes a new head whose records equal those at `at` (a version or
   * snapshot, required), in `collection` or in `into` (same dimension and
   * metric). History is kept: a restore can be undone by restoring again.
   */
  async restore(collection: string, at: t.ReadPoint, options: { into?: string } = {}): Promise<t.RestoreResult> {
    const point = c.readAt(at);
    if (!point) throw argumentError("at: required: the version or snapshot to restore");
    const request: w.RestoreRequest = {
      collection: c.name(collection, "collection"),
      at: point,
      into: c.text(options.into, "into"),
    };
    return c.restoreOut(await this.#call<w.RestoreResponse>("SnapshotService.Restore", request));
  }

  /** Garbage-collects one collection now. */
  async gc(collection: string): Promise<t.GcResult> {
    return c.gcOut(await this.#call<w.GcResponse>("SnapshotService.Gc", { collection: c.name(collection, "collection") }));
  }

  /** Changes the retention window; unset fields keep their value, 0 turns a rule off. Returns the collection. */
  async setRetention(
    collection: string,
    options: { keepVersions?: number; keepSeconds?: number | bigint },
  ): Promise<t.CollectionInfo> {
    const request: w.SetRetentionRequest = { collection: c.name(collection, "collection") };
    if (options.keepVersions !== undefined) request.keepVersions = c.integer(options.keepVersions, "keepVersions", 0, c.UINT32_MAX);
    if (options.keepSeconds !== undefined) request.keepSeconds = c.int64(options.keepSeconds, "keepSeconds", 0n);
    const resp = await this.#call<w.CollectionResponse>("SnapshotService.SetRetention", request);
    return c.collectionOut(resp.collection);
  }

  /**
   * The messages of a server-streaming call (NDJSON, one per line), as
   * they arrive. An error after the stream started (a last line
   * {"error": {...}}) is thrown as a VerityError.
   */
  async *#stream<Resp>(method: string, request: object): AsyncGenerator<Resp> {
    const response = await this.#post(method, JSON.stringify(request), "application/json");
    for await (const msg of this.#ndjson<Resp & { error?: w.ErrorBody }>(response, method)) {
      if (msg.error) {
        throw new VerityError(statusFromBody(msg.error.status, msg.error.code) ?? "UNKNOWN", msg.error.message ?? "", {
          httpStatus: response.status,
          method,
        });
      }
      yield msg as Resp;
    }
  }

  /** The result of a streaming call whose last message has `result`, reporting `progress` messages before it. */
  async #lastResult<R>(
    method: string,
    request: object,
    onProgress: ((p: t.Progress) => void) | undefined,
  ): Promise<R> {
    let result: R | undefined;
    for await (const msg of this.#stream<{ progress?: w.Progress; result?: R }>(method, request)) {
      if (msg.progress && onProgress) onProgress(c.progressOut(msg.progress));
      if (msg.result) result = msg.result;
    }
    if (result === undefined) throw new VerityError("INTERNAL", `${method}: the stream ended without a result`, { method });
    return result;
  }

  /**
   * Writes a collection at a version (`at`; unset: the head), or every
   * collection at its head (`collection` unset), to a new export directory
   * `name` inside the server's --export-dir (docs/snapshots.md). The server
   * streams progress (`onProgress`), then the result. ALREADY_EXISTS if
   * that export exists; INVALID_ARGUMENT for a bad name.
   */
  async exportCollection(
    name: string,
    options: { collection?: string; at?: t.ReadPoint; onProgress?: (p: t.Progress) => void } = {},
  ): Promise<t.ExportResult> {
    const request: w.ExportRequest = { name: c.name(name, "name"), collection: c.text(options.collection, "collection") };
    const at = c.readAt(options.at);
    if (at) request.at = at;
    return c.exportOut(await this.#lastResult<w.ExportResult>("SnapshotService.Export", request, options.onProgress));
  }

  /**
   * Imports the export directory `name` of --export-dir, verified against
   * its manifest before anything becomes visible (DATA_LOSS naming a file
   * that does not verify); `asName` renames an export of one collection;
   * `replace` replaces an existing collection (else ALREADY_EXISTS).
   */
  async importCollection(
    name: string,
    options: { asName?: string; replace?: boolean; onProgress?: (p: t.Progress) => void } = {},
  ): Promise<t.ImportResult> {
    const request: w.ImportRequest = {
      name: c.name(name, "name"),
      asName: c.text(options.asName, "asName"),
      replace: c.bool(options.replace, "replace"),
    };
    return c.importOut(await this.#lastResult<w.ImportResult>("SnapshotService.Import", request, options.onProgress));
  }

  // ----- prompt registry (docs/prompts.md) ----------------------------------------------

  /**
   * Adds the next immutable version of prompt `name` (1 creates it) and
   * points `labels` (e.g. ["production"]) at it, in one write.
   * INVALID_ARGUMENT for the template (naming the byte offset) or a config
   * that is not a JSON object.
   */
  async createPrompt(
    name: string,
    template: string,
    options: { configJson?: string; author?: string; message?: string; labels?: readonly string[] } = {},
  ): Promise<t.Prompt> {
    const request: w.CreatePromptVersionRequest = {
      name: c.name(name, "name"),
      template: c.name(template, "template"),
      configJson: c.text(options.configJson, "configJson"),
      author: c.text(options.author, "author"),
      message: c.text(options.message, "message"),
      labels: c.textList(options.labels ?? [], "labels"),
    };
    const resp = await this.#call<w.PromptResponse>("PromptService.CreatePromptVersion", request);
    return c.promptOut(resp.prompt);
  }

  /** One version: "name" (its production label), "name@7" or "name@label". NOT_FOUND naming what is missing. */
  async getPrompt(prompt: string): Promise<t.Prompt> {
    const request: w.GetPromptRequest = { prompt: c.promptSelector(prompt) };
    const resp = await this.#call<w.PromptResponse>("PromptService.GetPrompt", request);
    return c.promptOut(resp.prompt);
  }

  /** Every prompt with its latest version and labels, sorted by name. */
  async listPrompts(): Promise<t.PromptSummary[]> {
    const resp = await this.#call<w.ListPromptsResponse>("PromptService.ListPrompts", {});
    return (resp.prompts ?? []).map((p) => ({ name: p.name ?? "", latestVersion: p.latestVersion ?? 0, labels: { ...(p.labels ?? {}) } }));
  }

  /** Every version of a prompt, oldest first, 100 per call (halved for a page over the message limit). */
  async listPromptVersions(name: string): Promise<t.Prompt[]> {
    const request: w.ListPromptVersionsRequest = { name: c.name(name, "name"), limit: 100 };
    const out: t.Prompt[] = [];
    for await (const page of this.#everyPage<w.ListPromptVersionsRequest, w.ListPromptVersionsResponse>(
      "PromptService.ListPromptVersions",
      request,
      (n) => n,
    )) {
      out.push(...(page.versions ?? []).map(c.promptOut));
    }
    return out;
  }

  /** The line diff of two versions' templates and whether their configs differ. */
  async diffPrompt(name: string, fromVersion: number, toVersion: number): Promise<t.PromptDiff> {
    const request: w.DiffPromptRequest = {
      name: c.name(name, "name"),
      fromVersion: c.integer(fromVersion, "fromVersion", 1, c.UINT32_MAX),
      toVersion: c.integer(toVersion, "toVersion", 1, c.UINT32_MAX),
    };
    const resp = await this.#call<w.DiffPromptResponse>("PromptService.DiffPrompt", request);
    return {
      templateDiff: resp.templateDiff ?? "",
      configChanged: resp.configChanged ?? false,
      fromConfigJson: resp.fromConfigJson ?? "",
      toConfigJson: resp.toConfigJson ?? "",
    };
  }

  /** Points `label` at `version` (a rollback moves "production" back); returns the recorded move. */
  async setPromptLabel(name: string, label: string, version: number, options: { actor?: string } = {}): Promise<t.LabelMove> {
    const request: w.SetPromptLabelRequest = {
      name: c.name(name, "name"),
      label: c.name(label, "label"),
      version: c.integer(version, "version", 1, c.UINT32_MAX),
      actor: c.text(options.actor, "actor"),
    };
    const resp = await this.#call<w.SetPromptLabelResponse>("PromptService.SetPromptLabel", request);
    return c.labelMoveOut(resp.move);
  }

  /** The moves of `label` (unset: of every label), oldest first. */
  async promptLabelHistory(name: string, label?: string): Promise<t.LabelMove[]> {
    const request: w.GetLabelHistoryRequest = { name: c.name(name, "name"), label: c.text(label, "label") };
    const resp = await this.#call<w.GetLabelHistoryResponse>("PromptService.GetLabelHistory", request);
    return (resp.moves ?? []).map(c.labelMoveOut);
  }

  /** Renders a version's template; INVALID_ARGUMENT names a variable used without a value. */
  async renderPrompt(prompt: string, variables: { [name: string]: string }): Promise<{ text: string; version: number }> {
    const selector = c.promptSelector(prompt);
    if (typeof variables !== "object" || variables === null || Array.isArray(variables)) {
      throw argumentError("variables: expected an object of string to string");
    }
    const vars: { [name: string]: string } = {};
    for (const [key, value] of Object.entries(variables)) {
      vars[c.text(key, "variables key")] = c.name(value, `variables[${JSON.stringify(key)}]`);
    }
    const resp = await this.#call<w.RenderPromptResponse>("PromptService.RenderPrompt", { prompt: selector, variables: vars });
    return { text: resp.text ?? "", version: resp.version ?? 0 };
  }

  // ----- answer cache (docs/answer-cache.md) ---------------------------------------------

  /**
   * Caches the answer of a logged retrieval (its recorded answer unless
   * `answer` is given) for lookups with the same model and parameters.
   */
  async cacheStore(retrievalId: string, options: { answer?: string; model?: string; paramsJson?: string } = {}): Promise<void> {
    const request: w.CacheStoreRequest = {
      retrievalId: c.name(retrievalId, "retrievalId"),
      answer: c.text(options.answer, "answer"),
      model: c.text(options.model, "model"),
      paramsJson: c.text(options.paramsJson, "paramsJson"),
    };
    await this.#call<object>("CacheService.CacheStore", request);
  }

  /**
   * Looks up a cached answer for a question at the head (or `at`) under the
   * prompt, model and parameters. A miss is `match: "miss"`, not an error;
   * a hit is logged as a record of its own (`retrievalId`).
   */
  async cacheLookup(collection: string, options: t.CacheLookupOptions): Promise<t.CacheLookupResult> {
    const request: w.CacheLookupRequest = {
      collection: c.name(collection, "collection"),
      queryText: c.text(options.queryText, "queryText"),
      prompt: c.text(options.prompt, "prompt"),
      model: c.text(options.model, "model"),
      paramsJson: c.text(options.paramsJson, "paramsJson"),
      exactOnly: c.bool(options.exactOnly, "exactOnly"),
      clientTraceId: c.text(options.clientTraceId, "clientTraceId"),
      clientId: c.text(options.clientId, "clientId"),
    };
    if (options.vector !== undefined) request.vector = c.vector(options.vector, "vector");
    if (options.minSimilarity !== undefined) request.minSimilarity = c.fraction(options.minSimilarity, "minSimilarity");
    const at = c.versionOnly(options.at);
    if (at !== undefined) request.at = at;
    return c.cacheLookupOut(await this.#call<w.CacheLookupResponse>("CacheService.CacheLookup", request));
  }

  /** The cache's entries, bytes, bounds and counters. */
  async cacheStats(): Promise<t.CacheStats> {
    return c.cacheStatsOut(await this.#call<w.GetCacheStatsResponse>("CacheService.GetCacheStats", {}));
  }

  /** Empties the answer cache (the counters stay). */
  async cacheClear(): Promise<void> {
    await this.#call<object>("CacheService.ClearCache", {});
  }

  // ----- monitoring (docs/monitoring.md) ------------------------------------------------

  /**
   * The monitor's annotation of a retrieval's (or cache hit's) answer: G,
   * retrieval weakness, toxicity matches, token counts and flags. Computed
   * and stored when missing, or always with `recompute`. Needs the auditor
   * role (it returns the answer's sentences). NOT_FOUND for an
   * unknown retrieval id; FAILED_PRECONDITION when it has no answer.
   */
  async annotate(retrievalId: string, options: { recompute?: boolean } = {}): Promise<m.Annotation> {
    const resp = await this.#call<w.AnnotateResponse>("MonitorService.Annotate", m.annotateRequest(retrievalId, options));
    return m.annotationOut(resp.annotation ?? {});
  }

  /**
   * Annotates the answers of a range that have none (or all, with
   * `recompute`): records logged before annotations existed, or after a
   * scorer version changed. Needs the admin role. INVALID_ARGUMENT for the
   * range or maxRecords; NOT_FOUND for the collection. When `truncated`,
   * call again with `sinceUs: nextSinceUs`.
   */
  async annotateLog(options: m.AnnotateLogOptions = {}): Promise<m.AnnotateLogResult> {
    const resp = await this.#call<w.AnnotateLogResponse>("MonitorService.AnnotateLog", m.annotateLogRequest(options));
    return m.annotateLogOut(resp);
  }

  /**
   * One collection's signals over a time range, in buckets: G (mean, p10,
   * low-G count), weak retrievals, empty and truncated contexts, toxicity
   * flags, tokens, cache savings and the drift PSI; the knowledge-base and
   * prompt version changes (markers), the flagged answers, the cost per
   * prompt version and the live drift state per leg. Needs the auditor role
   * (it is read from the log). INVALID_ARGUMENT naming
   * the field and its limit; NOT_FOUND for the collection.
   */
  async monitorReport(collection: string, options: m.MonitorReportOptions = {}): Promise<m.MonitorReport> {
    const request = m.monitorReportRequest(collection, options);
    return m.monitorReportOut(await this.#call<w.GetMonitorReportResponse>("MonitorService.GetMonitorReport", request));
  }

  /**
   * Forgets a collection's weakness references and drift windows (after an
   * acknowledged change): the next retrievals rebuild them. Needs the admin
   * role. NOT_FOUND for the collection.
   */
  async resetMonitorReference(collection: string): Promise<void> {
    const request: w.ResetMonitorReferenceRequest = { collection: c.name(collection, "collection") };
    await this.#call<object>("MonitorService.ResetMonitorReference", request);
  }
}

/** The VerityError of a non-2xx response: its JSON error body, else the HTTP status's code. */
async function errorFromResponse(response: Response, method: string): Promise<VerityError> {
  const text = await response.text().catch(() => "");
  let body: w.ErrorBody | null = null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) body = parsed as w.ErrorBody;
  } catch {
    // not JSON: a proxy's page, or the listener's plain refusal
  }
  const code = statusFromBody(body?.status, body?.code) ?? statusForHttp(response.status);
  const message =
    typeof body?.message === "string" ? body.message : text.trim() || `HTTP ${response.status} ${response.statusText}`;
  return new VerityError(code, message, { httpStatus: response.status, method });
}

/** The lines of an NDJSON response body, as they arrive. */
async function* ndjsonLines(response: Response): AsyncGenerator<string> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield line;
    }
  }
  buffered += decoder.decode();
  if (buffered.trim()) yield buffered.trim();
}
