// The verity.v1 messages as they travel over verityd's HTTP/JSON gateway:
// protobuf's canonical JSON mapping of proto/verity/v1/*.proto (the one
// source of truth; field comments there). Names are lowerCamelCase; 64-bit
// integers (int64, uint64) are decimal strings; enums travel by name (an
// unknown value may come back as its number); float and double fields are
// JSON numbers, or the strings "NaN", "Infinity" and "-Infinity".
//
// Requests list only the fields the client sets (every one optional, as in
// proto3: an absent field is its default). Responses are printed with every
// field that has no presence, defaults included; message fields, `optional`
// fields and oneof members are absent when unset, so they are optional here.
//
// These types are what the client sends and parses; the public API
// (types.ts) converts them: int64 to number, enums to short names, unset
// messages to null.

/** A 64-bit integer as the JSON mapping prints it: a decimal string. */
export type Int64 = string;
/** A float or double: a number, or "NaN", "Infinity", "-Infinity". */
export type JsonFloat = number | "NaN" | "Infinity" | "-Infinity";

// monitor.proto's messages live in monitor-wire.ts.
import type { Annotation } from "./monitor-wire.js";
export type * from "./monitor-wire.js";

// ----- common.proto -----------------------------------------------------------

export type MetricName = "METRIC_UNSPECIFIED" | "METRIC_L2" | "METRIC_IP" | "METRIC_COSINE";
export type FusionMethodName = "FUSION_METHOD_UNSPECIFIED" | "FUSION_METHOD_RRF" | "FUSION_METHOD_CONVEX";

export interface StringList {
  values?: string[];
}

/** Exactly one kind is set. */
export interface MetadataValue {
  stringValue?: string;
  intValue?: Int64;
  doubleValue?: JsonFloat;
  boolValue?: boolean;
  listValue?: StringList;
}

export interface SparseVector {
  indices?: number[];
  values?: JsonFloat[];
}

export interface Record {
  id?: string;
  vector?: JsonFloat[];
  text?: string;
  documentId?: string;
  metadata?: { [key: string]: MetadataValue };
  sparse?: { [field: string]: SparseVector };
}

export interface Fusion {
  method?: FusionMethodName | number;
  rrfK?: number;
  denseWeight?: JsonFloat;
  textWeight?: JsonFloat;
  sparseWeight?: JsonFloat;
  legLimit?: number;
}

export interface LegScore {
  rank?: number;
  score?: JsonFloat;
}

export interface StoredRecord {
  record?: Record;
  rowVersion?: Int64;
}

/** A oneof: at most one of the two. */
export interface ReadAt {
  version?: Int64;
  snapshot?: string;
}

export interface AnalyzerConfig {
  preset?: string;
  caseFold?: boolean;
  asciiFold?: boolean;
  stopwords?: string;
  stemmer?: string;
  maxTermBytes?: number;
}

export interface TextField {
  name?: string;
  weight?: number;
}

export interface TextIndexConfig {
  analyzer?: AnalyzerConfig;
  k1?: JsonFloat;
  b?: JsonFloat;
  analyzerVersion?: number;
  fields?: TextField[];
}

export interface SparseFieldConfig {
  name?: string;
  dimension?: number;
}

export interface CollectionConfig {
  name?: string;
  dimension?: number;
  metric?: MetricName | number;
  m?: number;
  efConstruction?: number;
  defaultEf?: number;
  keepVersions?: number;
  keepSeconds?: Int64;
  textIndex?: TextIndexConfig;
  sparseFields?: SparseFieldConfig[];
}

export interface CollectionInfo {
  config?: CollectionConfig;
  headVersion?: Int64;
  createdAtUs?: Int64;
  liveRecords?: Int64;
  graphNodes?: Int64;
  oldestRetained?: Int64;
  snapshots?: Int64;
  unavailable?: string;
}

export interface VersionInfo {
  version?: Int64;
  committedAtUs?: Int64;
  upserted?: number;
  deleted?: number;
  readable?: boolean;
  snapshots?: string[];
  restoredFrom?: Int64;
  isRestore?: boolean;
}

// ----- collections.proto --------------------------------------------------------

export interface CreateCollectionRequest {
  config: CollectionConfig;
}
export interface CollectionResponse {
  collection?: CollectionInfo;
}
export interface GetCollectionRequest {
  name: string;
}
export interface ListCollectionsResponse {
  collections?: CollectionInfo[];
}
export interface SetTextIndexRequest {
  collection: string;
  textIndex: TextIndexConfig;
}
export interface DropCollectionRequest {
  name: string;
}
export interface ListVersionsRequest {
  collection: string;
  startAt?: Int64;
  limit?: number;
}
export interface ListVersionsResponse {
  versions?: VersionInfo[];
  nextStartAt?: Int64;
}

// ----- records.proto --------------------------------------------------------------

export interface UpsertRequest {
  collection: string;
  records: Record[];
}
export interface DeleteRequest {
  collection: string;
  ids: string[];
}
export interface WriteResponse {
  version?: Int64;
  applied?: number;
}
export interface GetRequest {
  collection: string;
  id: string;
  at?: ReadAt;
}
export interface GetResponse {
  record?: StoredRecord;
}
export interface ScrollRequest {
  collection: string;
  at?: ReadAt;
  startAfter?: string;
  limit?: number;
  filter?: string;
  withVectors?: boolean;
}
export interface ScrollResponse {
  version?: Int64;
  records?: StoredRecord[];
  nextCursor?: string;
}
export interface CountRequest {
  collection: string;
  at?: ReadAt;
  filter?: string;
}
export interface CountResponse {
  count?: Int64;
}

// ----- search.proto -----------------------------------------------------------------

export type SearchPlanName = "SEARCH_PLAN_AUTO" | "SEARCH_PLAN_EXACT" | "SEARCH_PLAN_GRAPH";

export interface SearchQuery {
  vector?: JsonFloat[];
  k?: number;
  ef?: number;
  at?: ReadAt;
  filter?: string;
  withPayload?: boolean;
  withVectors?: boolean;
  plan?: SearchPlanName;
  text?: string;
  sparseField?: string;
  sparse?: SparseVector;
  fusion?: Fusion;
}
export interface SearchRequest {
  collection: string;
  query: SearchQuery;
}
export interface SearchHit {
  id?: string;
  rowVersion?: Int64;
  distance?: JsonFloat;
  record?: Record;
  score?: JsonFloat;
  dense?: LegScore;
  text?: LegScore;
  sparse?: LegScore;
}
export interface SearchResponse {
  version?: Int64;
  exact?: boolean;
  hits?: SearchHit[];
}
export interface BatchSearchRequest {
  collection: string;
  queries: SearchQuery[];
}
export interface BatchSearchResponse {
  results?: SearchResponse[];
}

// ----- context.proto --------------------------------------------------------------------

export type LogKindName = "LOG_KIND_UNSPECIFIED" | "LOG_KIND_RETRIEVAL" | "LOG_KIND_ANSWER" | "LOG_KIND_CACHE_HIT";
export type ReplayModeName =
  | "REPLAY_MODE_UNSPECIFIED"
  | "REPLAY_MODE_CONTEXT"
  | "REPLAY_MODE_RETRIEVAL"
  | "REPLAY_MODE_COUNTERFACTUAL";
export type SentenceVerdictName =
  | "SENTENCE_VERDICT_UNSPECIFIED"
  | "SENTENCE_VERDICT_SUPPORTED"
  | "SENTENCE_VERDICT_UNSUPPORTED"
  | "SENTENCE_VERDICT_NOT_SCORED";
export type CacheMatchName = "CACHE_MATCH_MISS" | "CACHE_MATCH_EXACT" | "CACHE_MATCH_SEMANTIC";

export interface RetrieveRequest {
  collection: string;
  vector?: JsonFloat[];
  queryText?: string;
  k?: number;
  ef?: number;
  filter?: string;
  at?: ReadAt;
  tokenBudget?: number;
  prompt?: string;
  clientTraceId?: string;
  clientId?: string;
  text?: string;
  sparseField?: string;
  sparse?: SparseVector;
  fusion?: Fusion;
}
export interface RetrievedChunk {
  id?: string;
  rowVersion?: Int64;
  distance?: JsonFloat;
  text?: string;
  textSha256?: string;
  documentId?: string;
  tokens?: number;
  inContext?: boolean;
  score?: JsonFloat;
  dense?: LegScore;
  textLeg?: LegScore;
  sparse?: LegScore;
}
export interface RetrieveResponse {
  retrievalId?: string;
  logSeq?: Int64;
  version?: Int64;
  exact?: boolean;
  chunks?: RetrievedChunk[];
  context?: string;
  contextSha256?: string;
  contextTokens?: number;
  prompt?: string;
}
export interface RecordAnswerRequest {
  retrievalId: string;
  answer: string;
  model?: string;
  promptTokens?: number;
  completionTokens?: number;
}
export interface RecordAnswerResponse {
  record?: LogRecord;
}
export interface LogRecord {
  seq?: Int64;
  timeUs?: Int64;
  kind?: LogKindName | number;
  retrievalId?: string;
  collection?: string;
  version?: Int64;
  snapshot?: string;
  queryText?: string;
  queryVector?: JsonFloat[];
  queryVectorSha256?: string;
  k?: number;
  ef?: number;
  filter?: string;
  tokenBudget?: number;
  prompt?: string;
  clientTraceId?: string;
  clientId?: string;
  exact?: boolean;
  chunks?: RetrievedChunk[];
  contextSha256?: string;
  contextTokens?: number;
  answer?: string;
  model?: string;
  promptTokens?: number;
  completionTokens?: number;
  sourceRetrievalId?: string;
  cacheMatch?: CacheMatchName | number;
  similarity?: JsonFloat;
  text?: string;
  analyzerVersion?: number;
  analyzerCodeVersion?: number;
  sparseField?: string;
  sparse?: SparseVector;
  fusion?: Fusion;
  prevHash?: string;
  hash?: string;
  annotation?: Annotation;
}
export interface GetRetrievalRequest {
  retrievalId: string;
}
export interface GetRetrievalResponse {
  retrieval?: LogRecord;
  answer?: LogRecord;
}
export interface ListLogRequest {
  collection?: string;
  sinceUs?: Int64;
  untilUs?: Int64;
  kind?: LogKindName;
  startAfter?: Int64;
  limit?: number;
  withVectors?: boolean;
}
export interface ListLogResponse {
  records?: LogRecord[];
  nextCursor?: Int64;
}
export interface VerifyLogResponse {
  ok?: boolean;
  records?: Int64;
  firstSeq?: Int64;
  lastSeq?: Int64;
  headHash?: string;
  firstBadSeq?: Int64;
  problem?: string;
}
export interface ReplayRequest {
  retrievalId: string;
  mode?: ReplayModeName;
  at?: ReadAt;
}
export interface ChunkCheck {
  id?: string;
  rowVersion?: Int64;
  status?: string;
}
export interface RankChange {
  id?: string;
  loggedRank?: number;
  replayRank?: number;
}
export interface ReplayResponse {
  mode?: ReplayModeName | number;
  retrievalId?: string;
  outcome?: string;
  detail?: string;
  version?: Int64;
  chunks?: ChunkCheck[];
  contextSha256?: string;
  contextHashMatches?: boolean;
  recall?: JsonFloat;
  missed?: string[];
  added?: string[];
  removed?: string[];
  rankChanges?: RankChange[];
  changed?: string[];
}
export interface AuditRequest {
  retrievalId: string;
  answer?: string;
  threshold?: number;
}
export interface SentenceScore {
  text?: string;
  begin?: Int64;
  end?: Int64;
  verdict?: SentenceVerdictName | number;
  support?: JsonFloat;
  tokenPrecision?: JsonFloat;
  rougeLPrecision?: JsonFloat;
  trigramContainment?: JsonFloat;
  chunkIndex?: number;
  chunkId?: string;
  spanBegin?: Int64;
  spanEnd?: Int64;
  missingCritical?: string[];
  conflictingNegations?: string[];
  matchSupport?: JsonFloat;
  contradictions?: string[];
  roleConflicts?: string[];
  shortEvidence?: boolean;
  secondChunkIndex?: number;
  secondChunkId?: string;
  secondSpanBegin?: Int64;
  secondSpanEnd?: Int64;
}
export interface AuditChunk {
  id?: string;
  text?: string;
}
export interface AuditResponse {
  retrievalId?: string;
  collection?: string;
  version?: Int64;
  answer?: string;
  answerRecorded?: boolean;
  chunks?: AuditChunk[];
  prompt?: string;
  sourceRetrievalId?: string;
  scorerVersion?: string;
  threshold?: JsonFloat;
  g?: JsonFloat;
  scored?: number;
  supported?: number;
  sentences?: SentenceScore[];
}
export interface AuditCollectionRequest {
  collection: string;
  sinceUs?: Int64;
  untilUs?: Int64;
  threshold?: number;
  lowG?: number;
  worst?: number;
  maxRetrievals?: number;
}
export interface AuditCollectionResponse {
  retrievals?: Int64;
  audited?: Int64;
  unanswered?: Int64;
  unavailable?: Int64;
  meanG?: JsonFloat;
  shareBelow?: JsonFloat;
  scored?: Int64;
  worst?: AuditResponse[];
  audits?: AuditResponse[];
}

// ----- snapshots.proto --------------------------------------------------------------------

export type ChangeKindName =
  | "CHANGE_KIND_UNSPECIFIED"
  | "CHANGE_KIND_ADDED"
  | "CHANGE_KIND_REMOVED"
  | "CHANGE_KIND_CHANGED";

export interface SnapshotInfo {
  collection?: string;
  name?: string;
  description?: string;
  version?: Int64;
  createdAtUs?: Int64;
  records?: Int64;
}
export interface CreateSnapshotRequest {
  collection: string;
  name: string;
  description?: string;
  at?: ReadAt;
}
export interface SnapshotResponse {
  snapshot?: SnapshotInfo;
}
export interface SnapshotNameRequest {
  collection: string;
  name: string;
}
export interface ListSnapshotsResponse {
  snapshots?: SnapshotInfo[];
}
export interface DiffRequest {
  collection: string;
  from?: ReadAt;
  to?: ReadAt;
  startAfter?: string;
  limit?: number;
}
export interface DiffEntry {
  id?: string;
  kind?: ChangeKindName | number;
  fromRowVersion?: Int64;
  toRowVersion?: Int64;
}
export interface DiffResponse {
  from?: Int64;
  to?: Int64;
  added?: Int64;
  removed?: Int64;
  changed?: Int64;
  entries?: DiffEntry[];
  nextCursor?: string;
}
export interface RestoreRequest {
  collection: string;
  at: ReadAt;
  into?: string;
}
export interface RestoreResponse {
  version?: Int64;
  restoredFrom?: Int64;
  upserted?: number;
  deleted?: number;
}
export interface GcResponse {
  oldestRetained?: Int64;
  rowsRemoved?: Int64;
  nodesDropped?: Int64;
  graphRebuilt?: boolean;
  bytesBefore?: Int64;
  bytesAfter?: Int64;
}
export interface SetRetentionRequest {
  collection: string;
  keepVersions?: number;
  keepSeconds?: Int64;
}

export interface Progress {
  bytesDone?: Int64;
  bytesTotal?: Int64;
}
export interface ExportRequest {
  collection?: string;
  at?: ReadAt;
  name: string;
}
export interface ExportedCollection {
  name?: string;
  version?: Int64;
  records?: Int64;
}
export interface ExportResult {
  name?: string;
  collections?: ExportedCollection[];
  bytes?: Int64;
}
/** One NDJSON line of Export: a oneof, progress or (last) the result. */
export interface ExportResponse {
  progress?: Progress;
  result?: ExportResult;
}
export interface ImportRequest {
  name: string;
  asName?: string;
  replace?: boolean;
}
export interface ImportResult {
  collections?: CollectionInfo[];
  records?: Int64;
  bytes?: Int64;
}
/** One NDJSON line of Import: a oneof, progress or (last) the result. */
export interface ImportResponse {
  progress?: Progress;
  result?: ImportResult;
}

// ----- prompts.proto -----------------------------------------------------------------------

export interface Prompt {
  name?: string;
  version?: number;
  template?: string;
  configJson?: string;
  author?: string;
  message?: string;
  createdAtUs?: Int64;
  variables?: string[];
  labels?: string[];
}
/** `version` and `label` are a oneof; neither = the production label. */
export interface PromptSelector {
  name: string;
  version?: number;
  label?: string;
}
export interface LabelMove {
  label?: string;
  version?: number;
  previousVersion?: number;
  actor?: string;
  movedAtUs?: Int64;
}
export interface CreatePromptVersionRequest {
  name: string;
  template: string;
  configJson?: string;
  author?: string;
  message?: string;
  labels?: string[];
}
export interface PromptResponse {
  prompt?: Prompt;
}
export interface GetPromptRequest {
  prompt: PromptSelector;
}
export interface PromptSummary {
  name?: string;
  latestVersion?: number;
  labels?: { [label: string]: number };
}
export interface ListPromptsResponse {
  prompts?: PromptSummary[];
}
export interface ListPromptVersionsRequest {
  name: string;
  startAt?: number;
  limit?: number;
}
export interface ListPromptVersionsResponse {
  versions?: Prompt[];
  nextStartAt?: number;
}
export interface DiffPromptRequest {
  name: string;
  fromVersion: number;
  toVersion: number;
}
export interface DiffPromptResponse {
  templateDiff?: string;
  configChanged?: boolean;
  fromConfigJson?: string;
  toConfigJson?: string;
}
export interface SetPromptLabelRequest {
  name: string;
  label: string;
  version: number;
  actor?: string;
}
export interface SetPromptLabelResponse {
  move?: LabelMove;
}
export interface GetLabelHistoryRequest {
  name: string;
  label?: string;
}
export interface GetLabelHistoryResponse {
  moves?: LabelMove[];
}
export interface RenderPromptRequest {
  prompt: PromptSelector;
  variables: { [name: string]: string };
}
export interface RenderPromptResponse {
  text?: string;
  version?: number;
}

// ----- cache.proto --------------------------------------------------------------------------

export interface CacheStoreRequest {
  retrievalId: string;
  answer?: string;
  model?: string;
  paramsJson?: string;
}
export interface CacheLookupRequest {
  collection: string;
  vector?: JsonFloat[];
  queryText?: string;
  at?: Int64;
  prompt?: string;
  model?: string;
  paramsJson?: string;
  minSimilarity?: number;
  exactOnly?: boolean;
  clientTraceId?: string;
  clientId?: string;
}
export interface CacheLookupResponse {
  match?: CacheMatchName | number;
  answer?: string;
  sourceRetrievalId?: string;
  similarity?: JsonFloat;
  version?: Int64;
  prompt?: string;
  refused?: number;
  refusedReason?: string;
  retrievalId?: string;
  logSeq?: Int64;
  contextSha256?: string;
}
export interface GetCacheStatsResponse {
  entries?: Int64;
  bytes?: Int64;
  maxEntries?: Int64;
  maxBytes?: Int64;
  stores?: Int64;
  exactHits?: Int64;
  semanticHits?: Int64;
  misses?: Int64;
  refusedFalseHits?: Int64;
  evictions?: Int64;
}

/** The body of an error response (any non-2xx status). */
export interface ErrorBody {
  code?: number;
  status?: string;
  message?: string;
}
