// VerityVectorStore: a LangChain.js vector store over a Verity collection.
//
// Every search goes through ContextService/Retrieve, so every retrieval an
// app makes through LangChain (similaritySearch, a retriever's invoke) is
// written to Verity's retrieval log before it returns, and each returned
// Document carries the retrieval id (metadata.verity.retrievalId): pass it
// to Client.recordAnswer / answer once the model has answered, and to
// audit / replay later.

import { Document, type DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { VectorStore } from "@langchain/core/vectorstores";

import { Client } from "./client.js";
import { VerityError, argumentError } from "./errors.js";
import type * as t from "./types.js";

/**
 * A query's Verity options, as the `filter` argument of the LangChain
 * methods (and `asRetriever({filter})`): a filter expression (docs/filters.md)
 * alone, or an object with one and a read point.
 */
export type VerityStoreFilter =
  | string
  | {
      /** A filter expression, e.g. `lang = "en" and year >= 2020`. */
      filter?: string;
      /** The version (or snapshot name) to read; unset: the store's `at`, else the head. */
      at?: t.ReadPoint;
    };

/** What each returned Document's `metadata.verity` holds. */
export interface VerityDocumentInfo {
  /** The retrieval's id in the retrieval log (the same for every Document of one search). */
  retrievalId: string;
  /** The log record's sequence number. */
  logSeq: number;
  /** The record's id (also the Document's id). */
  id: string;
  /** The collection version the retrieval read. */
  version: number;
  /** The version that wrote this row. */
  rowVersion: number;
  /** Verity's distance (smaller is closer; for "cosine", 1 - cos). */
  distance: number;
  /** Verity's score: BM25 or fused score for a hybrid search (larger is better); 0 for a dense one. */
  score: number;
  documentId: string;
}

export interface VerityVectorStoreArgs {
  client: Client;
  collection: string;
  /** A filter ANDed with every query's filter. */
  filter?: string;
  /** The read point of every query that names none: a version or a snapshot name. Unset: the head. */
  at?: t.ReadPoint;
  /** Search breadth; unset: the collection's default_ef. */
  ef?: number;
  /** Hybrid search: also send the query text as a BM25 leg (the collection needs a text index). */
  hybrid?: boolean | Pick<t.QueryLegs, "fusion" | "rrfK" | "weights" | "legLimit">;
  /** Logged with each retrieval (docs/retrieval-log.md). */
  prompt?: string;
  clientId?: string;
  /**
   * Read each hit's metadata back (one Scroll call per search, at the version
   * the retrieval read: the logged chunks carry no metadata). Default true.
   */
  withMetadata?: boolean;
  /**
   * The metadata key whose string value becomes the record's document id
   * (filterable as `document_id = "..."`). Default "source", LangChain's
   * usual key for where a Document came from.
   */
  documentIdKey?: string;
  /** Records per upsert call (each call is one version). Default 256. */
  batchSize?: number;
  /**
   * Create the collection on the first add when it does not exist, with
   * the embeddings' dimension and these options (default metric "cosine").
   * Default false; true for fromTexts / fromDocuments.
   */
  createCollection?: boolean | Omit<NonNullable<Parameters<Client["createCollection"]>[2]>, never>;
}

/** A string as a double-quoted literal of the filter syntax (docs/filters.md). */
export function filterString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20) out += "\\u" + code.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

/**
 * A Document's metadata as Verity metadata: strings, numbers, booleans,
 * bigints and arrays of strings as they are; anything else (a nested
 * object such as a text splitter's `loc`, an array of numbers) as its JSON
 * text under the same key; undefined and null values and the key "verity"
 * (this store's own, on Documents it returned) left out.
 */
function toVerityMetadata(metadata: Record<string, unknown>): t.Metadata {
  const out: t.Metadata = {};
  for (const [key, value] of Object.entries(metadata ?? {})) {
    if (key === "verity" || value === undefined || value === null) continue;
    if (typeof value === "string" || typeof value === "boolean" || typeof value === "bigint") out[key] = value;
    else if (typeof value === "number" && (Number.isFinite(value) && (!Number.isInteger(value) || Number.isSafeInteger(value)))) {
      out[key] = value;
    } else if (Array.isArray(value) && value.every((v) => typeof v === "string")) out[key] = value as string[];
    else out[key] = JSON.stringify(value);
  }
  return out;
}

/**
 * A LangChain.js VectorStore whose documents are the records of one Verity
 * collection, and whose searches are logged retrievals.
 *
 * `similaritySearch*` and retrievers call ContextService/Retrieve; each
 * returned Document has `id` = the record id and `metadata.verity` =
 * {retrievalId, logSeq, id, version, rowVersion, distance, score,
 * documentId}. Scores returned with Documents are Verity's distances
 * (smaller is closer). The filter argument is a Verity filter expression or
 * {filter, at}: `at` reads an older version (or a snapshot), so an app can
 * answer from the collection as it was.
 *
 * Adding documents writes records (id: the `ids` option, else the
 * Document's id, else a random UUID; text: pageContent; metadata: the
 * Document's, see toVerityMetadata).
 */
export class VerityVectorStore extends VectorStore {
  declare FilterType: VerityStoreFilter;

  readonly client: Client;
  readonly collection: string;
  readonly filter: string | undefined;
  readonly at: t.ReadPoint | undefined;
  readonly ef: number | undefined;
  readonly hybrid: VerityVectorStoreArgs["hybrid"];
  readonly prompt: string | undefined;
  readonly clientId: string | undefined;
  readonly withMetadata: boolean;
  readonly documentIdKey: string;
  readonly batchSize: number;
  readonly createCollection: VerityVectorStoreArgs["createCollection"];
  #collectionChecked = false;

  override _vectorstoreType(): string {
    return "verity";
  }

  constructor(embeddings: EmbeddingsInterface, args: VerityVectorStoreArgs) {
    super(embeddings, args);
    if (!(args?.client instanceof Client)) throw argumentError("client: expected a Client of @verity/client");
    if (typeof args.collection !== "string" || !args.collection) {
      throw argumentError(`collection: expected a collection name, got ${JSON.stringify(args.collection)}`);
    }
    if (args.filter !== undefined && typeof args.filter !== "string") throw argumentError("filter: expected a filter expression (a string)");
    const batchSize = args.batchSize ?? 256;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw argumentError(`batchSize: expected an integer >= 1, got ${batchSize}`);
    this.client = args.client;
    this.collection = args.collection;
    this.filter = args.filter;
    this.at = args.at;
    this.ef = args.ef;
    this.hybrid = args.hybrid;
    this.prompt = args.prompt;
    this.clientId = args.clientId;
    this.withMetadata = args.withMetadata ?? true;
    this.documentIdKey = args.documentIdKey ?? "source";
    this.batchSize = batchSize;
    this.createCollection = args.createCollection ?? false;
  }

  /** Creates the collection when `createCollection` says so and it does not exist. */
  async #ensureCollection(dimension: number): Promise<void> {
    if (this.#collectionChecked || !this.createCollection) return;
    try {
      await this.client.getCollection(this.collection);
    } catch (e) {
      if (!(e instanceof VerityError && e.code === "NOT_FOUND")) throw e;
      const options = typeof this.createCollection === "object" ? this.createCollection : {};
      try {
        await this.client.createCollection(this.collection, dimension, { metric: "cosine", ...options });
      } catch (e2) {
        if (!(e2 instanceof VerityError && e2.code === "ALREADY_EXISTS")) throw e2; // created meanwhile
      }
    }
    this.#collectionChecked = true;
  }

  /**
   * Writes the documents with their vectors, `batchSize` per upsert (one
   * version each); returns the record ids. `options.ids` gives the ids.
   */
  override async addVectors(vectors: number[][], documents: DocumentInterface[], options?: { ids?: string[] }): Promise<string[]> {
    if (vectors.length !== documents.length) {
      throw argumentError(`vectors: ${vectors.length} vectors for ${documents.length} documents`);
    }
    const ids = options?.ids;
    if (ids !== undefined && ids.length !== documents.length) {
      throw argumentError(`ids: ${ids.length} ids for ${documents.length} documents`);
    }
    if (documents.length === 0) return [];
    await this.#ensureCollection(vectors[0]!.length);
    const records: t.RecordInput[] = documents.map((doc, i) => {
      const metadata = toVerityMetadata(doc.metadata ?? {});
      const record: t.RecordInput = {
        id: ids?.[i] ?? doc.id ?? globalThis.crypto.randomUUID(),
        vector: vectors[i]!,
        text: doc.pageContent,
        metadata,
      };
      const documentId = metadata[this.documentIdKey];
      if (typeof documentId === "string" && documentId) record.documentId = documentId;
      return record;
    });
    for (let start = 0; start < records.length; start += this.batchSize) {
      await this.client.upsert(this.collection, records.slice(start, start + this.batchSize));
    }
    return records.map((r) => r.id);
  }

  /** Embeds the documents' pageContent with the store's Embeddings and writes them (see addVectors). */
  override async addDocuments(documents: DocumentInterface[], options?: { ids?: string[] }): Promise<string[]> {
    const vectors = await this.embeddings.embedDocuments(documents.map((d) => d.pageContent));
    return this.addVectors(vectors, documents, options);
  }

  /** Deletes records by id: `delete({ids: [...]})`. */
  override async delete(params?: { ids?: string[] }): Promise<void> {
    if (!params?.ids) throw argumentError("ids: expected delete({ids: [...]})");
    if (params.ids.length) await this.client.delete(this.collection, params.ids);
  }

  #readOptions(filter: VerityStoreFilter | undefined): { filter?: string; at?: t.ReadPoint } {
    let expr: string | undefined;
    let at = this.at;
    if (typeof filter === "string") expr = filter;
    else if (filter !== undefined && filter !== null) {
      if (typeof filter !== "object") throw argumentError("filter: expected a filter expression or {filter, at}");
      const unknown = Object.keys(filter).filter((k) => k !== "filter" && k !== "at");
      if (unknown.length) throw argumentError(`filter: unknown key(s) ${unknown.join(", ")} (expected filter, at)`);
      expr = filter.filter;
      if (filter.at !== undefined) at = filter.at;
    }
    if (expr !== undefined && typeof expr !== "string") throw argumentError("filter.filter: expected a filter expression (a string)");
    const parts = [this.filter, expr].filter((f): f is string => typeof f === "string" && f.trim() !== "");
    const out: { filter?: string; at?: t.ReadPoint } = {};
    if (parts.length === 1) out.filter = parts[0]!;
    else if (parts.length === 2) out.filter = `(${parts[0]}) and (${parts[1]})`;
    if (at !== undefined) out.at = at;
    return out;
  }

  /**
   * Runs one logged retrieval and returns its Documents with their
   * distances, and the Retrieval itself (context, hashes, the log record's
   * id). `query` is logged as the question (and is the text leg when the
   * store is hybrid).
   */
  async retrieve(
    vector: number[],
    k: number,
    filter?: VerityStoreFilter,
    query?: string,
  ): Promise<{ results: [Document, number][]; retrieval: t.Retrieval }> {
    const options: t.RetrieveOptions = { vector, k, ...this.#readOptions(filter) };
    if (this.ef !== undefined) options.ef = this.ef;
    if (this.prompt !== undefined) options.prompt = this.prompt;
    if (this.clientId !== undefined) options.clientId = this.clientId;
    if (query !== undefined) {
      options.queryText = query;
      if (this.hybrid) {
        options.text = query;
        if (typeof this.hybrid === "object") Object.assign(options, this.hybrid);
      }
    }
    const retrieval = await this.client.retrieve(this.collection, options);
    const chunks = retrieval.chunks.filter((ch) => ch.inContext);
    const metadata = new Map<string, t.Metadata>();
    if (this.withMetadata && chunks.length) {
      // The log's chunks carry no metadata: read it at the version retrieved,
      // 1024 ids per call at most (a filter list's limit).
      for (let start = 0; start < chunks.length; start += 1024) {
        const batch = chunks.slice(start, start + 1024);
        const ids = batch.map((ch) => filterString(ch.id)).join(", ");
        for await (const record of this.client.scroll(this.collection, {
          at: retrieval.version,
          filter: `id in [${ids}]`,
          limit: batch.length,
        })) {
          metadata.set(record.id, record.metadata);
        }
      }
    }
    const results = chunks.map((ch): [Document, number] => {
      const verity: VerityDocumentInfo = {
        retrievalId: retrieval.retrievalId,
        logSeq: retrieval.logSeq,
        id: ch.id,
        version: retrieval.version,
        rowVersion: ch.rowVersion,
        distance: ch.distance,
        score: ch.score,
        documentId: ch.documentId,
      };
      const doc = new Document({ id: ch.id, pageContent: ch.text, metadata: { ...(metadata.get(ch.id) ?? {}), verity } });
      return [doc, ch.distance];
    });
    return { results, retrieval };
  }

  /** A logged retrieval by vector (no question text is logged): Documents with Verity's distances. */
  override async similaritySearchVectorWithScore(query: number[], k: number, filter?: this["FilterType"]): Promise<[Document, number][]> {
    return (await this.retrieve(query, k, filter)).results;
  }

  /** Embeds `query` and runs a logged retrieval with `query` as its question. */
  override async similaritySearchWithScore(query: string, k = 4, filter?: this["FilterType"]): Promise<[Document, number][]> {
    const vector = await this.embeddings.embedQuery(query);
    return (await this.retrieve(vector, k, filter, query)).results;
  }

  override async similaritySearch(query: string, k = 4, filter?: this["FilterType"]): Promise<Document[]> {
    return (await this.similaritySearchWithScore(query, k, filter)).map(([doc]) => doc);
  }

  /** A store over `args.collection` filled with `texts` (created when missing, unless createCollection is false). */
  static override async fromTexts(
    texts: string[],
    metadatas: object[] | object,
    embeddings: EmbeddingsInterface,
    args: VerityVectorStoreArgs,
  ): Promise<VerityVectorStore> {
    const docs = texts.map(
      (text, i) =>
        new Document({
          pageContent: text,
          metadata: (Array.isArray(metadatas) ? metadatas[i] : metadatas) ?? {},
        }),
    );
    return VerityVectorStore.fromDocuments(docs, embeddings, args);
  }

  static override async fromDocuments(
    docs: DocumentInterface[],
    embeddings: EmbeddingsInterface,
    args: VerityVectorStoreArgs,
  ): Promise<VerityVectorStore> {
    const store = new VerityVectorStore(embeddings, { createCollection: true, ...args });
    await store.addDocuments(docs);
    return store;
  }
}
