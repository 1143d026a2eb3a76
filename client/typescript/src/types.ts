// The client's public types: what its methods take and return.
//
// Numbers: 64-bit integers travel as JSON strings (wire.ts). The client
// returns them as `number` — versions, counts, sequence numbers, byte
// offsets and Unix-microsecond times all stay far below 2^53 (a microsecond
// time reaches it in the year 2255) — and throws VerityError DATA_LOSS
// rather than round a value above Number.MAX_SAFE_INTEGER. The one 64-bit
// value that is user data, a metadata int, comes back as a `number` when it
// is a safe integer and as a `bigint` otherwise, so its digits are kept.
// Where the client takes a 64-bit integer (a version, a cursor, a metadata
// int) it accepts a safe-integer `number` or a `bigint`.


import type { Annotation } from "./monitor.js";

/** A collection's distance: squared L2, 1 - dot, 1 - cos. */
export type Metric = "l2" | "ip" | "cosine";

/**
 * A metadata value. A `number` that is an integer travels as an int64 (so
 * `2.0` is the int 2: JavaScript has no separate float for it), any other
 * `number` as a double; a `bigint` as an int64; a `boolean` as a bool (never
 * 0/1); a `string[]` as a list of strings.
 */
export type MetadataValue = string | number | bigint | boolean | string[];
export type Metadata = { [key: string]: MetadataValue };

/** A vector: an array of numbers or a typed array; it travels as float32. */
export type Vector = readonly number[] | Float32Array | Float64Array;

/** A sparse vector: `indices` strictly increasing, `values` the same length. */
export interface SparseVector {
  indices: readonly number[] | Uint32Array;
  values: Vector;
}

/** A record to write. `vector` is left out in a collection of dimension 0. */
export interface RecordInput {
  id: string;
  vector?: Vector;
  text?: string;
  documentId?: string;
  metadata?: Metadata;
  /** Sparse vectors by sparse field name. */
  sparse?: { [field: string]: SparseVector };
}

/** A record as read back (get, scroll). */
export interface StoredRecord {
  id: string;
  /** null unless asked for (scroll's withVectors; get always returns it). */
  vector: number[] | null;
  text: string;
  documentId: string;
  metadata: Metadata;
  sparse: { [field: string]: { indices: number[]; values: number[] } };
  /** The version that wrote this row. */
  rowVersion: number;
}

/** A full-text index (docs/text-search.md): a preset name or settings. */
export type TextIndexOptions =
  | "standard"
  | "english"
  | {
      preset?: "standard" | "english";
      k1?: number;
      b?: number;
      caseFold?: boolean;
      asciiFold?: boolean;
      stopwords?: string;
      stemmer?: string;
      maxTermBytes?: number;
      /** BM25F: string metadata keys indexed beside the text, with weights 1..16 (a list: weight 1). */
      fields?: { [name: string]: number } | readonly string[];
    };

export interface TextIndexInfo {
  preset: string;
  k1: number;
  b: number;
  caseFold: boolean;
  asciiFold: boolean;
  stopwords: string;
  stemmer: string;
  maxTermBytes: number;
  analyzerVersion: number;
  fields: { [name: string]: number };
}

export interface CollectionInfo {
  name: string;
  dimension: number;
  metric: Metric;
  m: number;
  efConstruction: number;
  defaultEf: number;
  /** Retention (docs/snapshots.md); 0 = that rule is off. */
  keepVersions: number;
  keepSeconds: number;
  headVersion: number;
  createdAtUs: number;
  liveRecords: number;
  graphNodes: number;
  oldestRetained: number;
  snapshots: number;
  /** null without a full-text index. */
  textIndex: TextIndexInfo | null;
  /** Sparse field name to dimension. */
  sparseFields: { [name: string]: number };
  /** "" when the collection serves; else why not (every call on it is DATA_LOSS). */
  unavailable: string;
}

export interface VersionInfo {
  version: number;
  committedAtUs: number;
  upserted: number;
  deleted: number;
  readable: boolean;
  snapshots: string[];
  restoredFrom: number;
  isRestore: boolean;
}

export interface WriteResult {
  /** The collection's new head version. */
  version: number;
  /** Records upserted, or ids actually deleted. */
  applied: number;
}

/** One leg's view of a hybrid hit; both null when the leg did not find it. */
export interface LegScore {
  rank: number | null;
  score: number | null;
}
/** The legs of a hybrid query; null for a query with one leg. */
export type Legs = { dense?: LegScore; text?: LegScore; sparse?: LegScore } | null;

export interface SearchHit {
  id: string;
  rowVersion: number;
  /** Smaller is closer; 0 when the dense leg did not find the hit. */
  distance: number;
  /** BM25, dot product or fused score (larger is better); 0 for a dense-only search. */
  score: number;
  legs: Legs;
  /** These three are null unless withPayload (the default). */
  text: string | null;
  documentId: string | null;
  metadata: Metadata | null;
  /** null unless withVectors. */
  vector: number[] | null;
}

export interface SearchResult {
  /** The version read. */
  version: number;
  /** True when the server searched by brute force. */
  exact: boolean;
  /** Best first. */
  hits: SearchHit[];
}

/** Where a read looks: a version number (0 = just created), or a snapshot name. */
export type ReadPoint = number | bigint | string;

export type FusionMethod = "rrf" | "convex";

/** The text and sparse legs of a query and their fusion (docs/text-search.md). */
export interface QueryLegs {
  /** A BM25 query over the collection's text index. */
  text?: string;
  /** The sparse field `sparse` is in; both or neither. */
  sparseField?: string;
  sparse?: SparseVector;
  /** With two or more legs: "rrf" (default) or "convex". */
  fusion?: FusionMethod;
  rrfK?: number;
  weights?: { dense?: number; text?: number; sparse?: number };
  legLimit?: number;
}

export interface SearchOptions extends QueryLegs {
  /** The dense leg. */
  vector?: Vector;
  /** 1..--max-k; default 10 (0 is refused, not taken as the default). */
  k?: number;
  ef?: number;
  filter?: string;
  /** A version (or snapshot name); unset: the head. */
  at?: ReadPoint;
  /** Default true. */
  withPayload?: boolean;
  withVectors?: boolean;
  plan?: "auto" | "exact" | "graph";
}

export interface RetrieveOptions extends QueryLegs {
  vector?: Vector;
  /** Chunks to retrieve, 1..--max-k; unset: 10 (by filter alone: --max-k). */
  k?: number;
  /** The question, logged for audits (defaults to `text` for a text retrieval). */
  queryText?: string;
  ef?: number;
  filter?: string;
  /** A version or a snapshot name (logged by name); unset: the head. */
  at?: ReadPoint;
  tokenBudget?: number;
  /** A registered prompt, "name", "name@7" or "name@label" (logged as "name@N"), or free text. */
  prompt?: string;
  clientTraceId?: string;
  clientId?: string;
}

export interface RetrievedChunk {
  id: string;
  rowVersion: number;
  distance: number;
  /** "" in log records (the log keeps its hash). */
  text: string;
  textSha256: string;
  documentId: string;
  tokens: number;
  inContext: boolean;
  score: number;
  legs: Legs;
}

export interface Retrieval {
  /** "rtv-" + 32 hex digits: pass it to recordAnswer, getRetrieval, replay, audit. */
  retrievalId: string;
  logSeq: number;
  version: number;
  exact: boolean;
  chunks: RetrievedChunk[];
  /** The in-context chunks' texts joined by blank lines. */
  context: string;
  contextSha256: string;
  contextTokens: number;
  prompt: string;
}

export type LogKind = "retrieval" | "answer" | "cache_hit";

export interface FusionInfo {
  method: FusionMethod | "unspecified";
  rrfK: number;
  denseWeight: number | null;
  textWeight: number | null;
  sparseWeight: number | null;
  legLimit: number;
}

/** One record of the retrieval log (docs/retrieval-log.md). */
export interface LogRecord {
  seq: number;
  timeUs: number;
  kind: LogKind | "unspecified";
  retrievalId: string;
  collection: string;
  version: number;
  snapshot: string;
  queryText: string;
  /** Empty unless asked for (getRetrieval, listLog withVectors). */
  queryVector: number[];
  queryVectorSha256: string;
  k: number;
  ef: number;
  filter: string;
  tokenBudget: number;
  prompt: string;
  clientTraceId: string;
  clientId: string;
  exact: boolean;
  chunks: RetrievedChunk[];
  contextSha256: string;
  contextTokens: number;
  answer: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  sourceRetrievalId: string;
  cacheMatch: CacheMatch;
  similarity: number;
  text: string;
  analyzerVersion: number;
  analyzerCodeVersion: number;
  sparseField: string;
  sparse: { indices: number[]; values: number[] } | null;
  fusion: FusionInfo | null;
  prevHash: string;
  hash: string;
  /**
   * Answer and cache-hit records: the monitor's annotation when one is
   * stored (outside the hash chain; docs/monitoring.md); null otherwise.
   */
  annotation: Annotation | null;
}

export interface RetrievalRecords {
  retrieval: LogRecord;
  /** null when the retrieval has no answer yet. */
  answer: LogRecord | null;
}

export interface ListLogOptions {
  collection?: string;
  /** Inclusive, Unix microseconds. */
  sinceUs?: number | bigint;
  /** Exclusive. */
  untilUs?: number | bigint;
  kind?: LogKind;
  withVectors?: boolean;
}

export interface LogPage {
  records: LogRecord[];
  /** Pass it as startAfter; 0 on the last page. */
  nextCursor: number;
}

export interface VerifyLogResult {
  ok: boolean;
  records: number;
  firstSeq: number;
  lastSeq: number;
  headHash: string;
  firstBadSeq: number;
  problem: string;
}

export type ReplayMode = "context" | "retrieval" | "counterfactual";

export interface ReplayResult {
  mode: ReplayMode | "unspecified";
  retrievalId: string;
  /** "identical", "differs" or "collected". */
  outcome: string;
  detail: string;
  version: number;
  chunks: { id: string; rowVersion: number; status: string }[];
  contextSha256: string;
  contextHashMatches: boolean;
  recall: number;
  missed: string[];
  added: string[];
  removed: string[];
  rankChanges: { id: string; loggedRank: number; replayRank: number }[];
  changed: string[];
}

export type SentenceVerdict = "supported" | "unsupported" | "not_scored" | "unspecified";

export interface SentenceScore {
  text: string;
  begin: number;
  end: number;
  verdict: SentenceVerdict;
  support: number;
  tokenPrecision: number;
  rougeLPrecision: number;
  trigramContainment: number;
  chunkIndex: number;
  chunkId: string;
  spanBegin: number;
  spanEnd: number;
  missingCritical: string[];
  conflictingNegations: string[];
  matchSupport: number | null;
  contradictions: string[];
  roleConflicts: string[];
  shortEvidence: boolean;
  secondChunkIndex: number | null;
  secondChunkId: string;
  secondSpanBegin: number;
  secondSpanEnd: number;
}

/** An audit (docs/groundedness.md): G = supported / scored. */
export interface AuditResult {
  retrievalId: string;
  collection: string;
  version: number;
  answer: string;
  answerRecorded: boolean;
  chunks: { id: string; text: string }[];
  prompt: string;
  sourceRetrievalId: string;
  scorerVersion: string;
  threshold: number;
  g: number;
  scored: number;
  supported: number;
  sentences: SentenceScore[];
}

export interface AuditCollectionResult {
  retrievals: number;
  audited: number;
  unanswered: number;
  unavailable: number;
  meanG: number;
  shareBelow: number;
  scored: number;
  worst: AuditResult[];
  audits: AuditResult[];
}

export interface SnapshotInfo {
  collection: string;
  name: string;
  description: string;
  version: number;
  createdAtUs: number;
  records: number;
}

export type ChangeKind = "added" | "removed" | "changed" | "unspecified";

export interface DiffEntry {
  id: string;
  kind: ChangeKind;
  fromRowVersion: number;
  toRowVersion: number;
}

export interface DiffResult {
  from: number;
  to: number;
  added: number;
  removed: number;
  changed: number;
  /** In id (byte) order. */
  entries: DiffEntry[];
}

export interface RestoreResult {
  version: number;
  restoredFrom: number;
  upserted: number;
  deleted: number;
}

export interface GcResult {
  oldestRetained: number;
  rowsRemoved: number;
  nodesDropped: number;
  graphRebuilt: boolean;
  bytesBefore: number;
  bytesAfter: number;
}

/** A long transfer's progress; bytesTotal may be an estimate. */
export interface Progress {
  bytesDone: number;
  bytesTotal: number;
}

export interface ExportResult {
  /** The export directory's name (inside the server's --export-dir). */
  name: string;
  collections: { name: string; version: number; records: number }[];
  /** All files, manifest included. */
  bytes: number;
}

export interface ImportResult {
  collections: CollectionInfo[];
  records: number;
  bytes: number;
}

export interface Prompt {
  name: string;
  version: number;
  template: string;
  configJson: string;
  author: string;
  message: string;
  createdAtUs: number;
  variables: string[];
  labels: string[];
}

export interface PromptSummary {
  name: string;
  latestVersion: number;
  labels: { [label: string]: number };
}

export interface LabelMove {
  label: string;
  version: number;
  previousVersion: number;
  actor: string;
  movedAtUs: number;
}

export interface PromptDiff {
  templateDiff: string;
  configChanged: boolean;
  fromConfigJson: string;
  toConfigJson: string;
}

export type CacheMatch = "miss" | "exact" | "semantic";

export interface CacheLookupOptions {
  /** The question's embedding; may be left out with a queryText (exact match by text). */
  vector?: Vector;
  queryText?: string;
  prompt?: string;
  model?: string;
  paramsJson?: string;
  /** A version; unset: the head. */
  at?: number | bigint;
  /** In [0, 1]; unset: the server's 0.95 (0 is 0). */
  minSimilarity?: number;
  exactOnly?: boolean;
  clientTraceId?: string;
  clientId?: string;
}

export interface CacheLookupResult {
  match: CacheMatch;
  answer: string;
  sourceRetrievalId: string;
  similarity: number;
  version: number;
  prompt: string;
  refused: number;
  refusedReason: string;
  /** A hit's own log record: cite it; audit and replay follow it to the source. */
  retrievalId: string;
  logSeq: number;
  contextSha256: string;
}

export interface CacheStats {
  entries: number;
  bytes: number;
  maxEntries: number;
  maxBytes: number;
  stores: number;
  exactHits: number;
  semanticHits: number;
  misses: number;
  refusedFalseHits: number;
  evictions: number;
}
