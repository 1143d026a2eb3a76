// The messages of proto/verity/v1/monitor.proto (MonitorService and the
// Annotation that LogRecord.annotation carries) as they travel over the
// HTTP/JSON gateway; the conventions of wire.ts (which re-exports them).

import type { Int64, JsonFloat } from "./wire.js";

export type MonitorFlagName =
  | "MONITOR_FLAG_UNSPECIFIED"
  | "MONITOR_FLAG_LOW_GROUNDEDNESS"
  | "MONITOR_FLAG_WEAK_RETRIEVAL"
  | "MONITOR_FLAG_EMPTY_CONTEXT"
  | "MONITOR_FLAG_TRUNCATED_CONTEXT"
  | "MONITOR_FLAG_TOXICITY";

export interface ToxicityMatch {
  term?: string;
  languages?: string[];
  begin?: number;
  end?: number;
}

export interface Annotation {
  version?: number;
  retrievalId?: string;
  recordSeq?: Int64;
  recordTimeUs?: Int64;
  annotatedUs?: Int64;
  onDemand?: boolean;
  cacheHit?: boolean;
  collection?: string;
  kbVersion?: Int64;
  prompt?: string;
  groundednessScored?: boolean;
  groundednessError?: string;
  g?: JsonFloat;
  groundednessVersion?: string;
  sentences?: number;
  unsupported?: number;
  unsupportedSentences?: string[];
  leg?: string;
  referenceReady?: boolean;
  weakRetrieval?: boolean;
  top1?: JsonFloat;
  weakThreshold?: JsonFloat;
  percentileRank?: JsonFloat;
  emptyContext?: boolean;
  truncatedContext?: boolean;
  chunks?: number;
  chunksInContext?: number;
  retrievalRiskVersion?: number;
  toxic?: boolean;
  toxicityMatches?: ToxicityMatch[];
  toxicityScorerVersion?: string;
  wordListVersion?: string;
  contextTokens?: number;
  promptTokens?: number;
  promptTokensSource?: string;
  answerTokens?: number;
  answerTokensSource?: string;
  tokensSaved?: number;
  flags?: (MonitorFlagName | number)[];
  queryToxicityMatches?: ToxicityMatch[];
}

export interface AnnotateRequest {
  retrievalId: string;
  recompute?: boolean;
}
export interface AnnotateResponse {
  annotation?: Annotation;
}

export interface AnnotateLogRequest {
  collection?: string;
  sinceUs?: Int64;
  untilUs?: Int64;
  recompute?: boolean;
  maxRecords?: Int64;
}
export interface AnnotateLogResponse {
  examined?: Int64;
  annotated?: Int64;
  existing?: Int64;
  failed?: Int64;
  truncated?: boolean;
  nextSinceUs?: Int64;
}

export interface GetMonitorReportRequest {
  collection: string;
  sinceUs?: Int64;
  untilUs?: Int64;
  bucketSeconds?: Int64;
  lowG?: number;
  maxFlagged?: number;
  idsPerBucket?: number;
  maxRecords?: Int64;
}

export interface MonitorBucket {
  startUs?: Int64;
  retrievals?: Int64;
  answers?: Int64;
  cacheHits?: Int64;
  annotated?: Int64;
  scored?: Int64;
  meanG?: JsonFloat;
  gP10?: JsonFloat;
  lowG?: Int64;
  weak?: Int64;
  emptyContext?: Int64;
  truncatedContext?: Int64;
  toxic?: Int64;
  contextTokens?: Int64;
  promptTokens?: Int64;
  answerTokens?: Int64;
  tokensSaved?: Int64;
  driftComputed?: boolean;
  scorePsi?: JsonFloat;
  scoreThreshold?: JsonFloat;
  retrievalIds?: string[];
}

export interface MonitorMarker {
  timeUs?: Int64;
  kind?: string;
  value?: string;
  previous?: string;
  retrievalId?: string;
}

export interface FlaggedAnswer {
  retrievalId?: string;
  timeUs?: Int64;
  flags?: (MonitorFlagName | number)[];
  g?: JsonFloat;
  groundednessScored?: boolean;
  prompt?: string;
  kbVersion?: Int64;
  toxicityTerms?: string[];
}

export interface PromptMonitorStats {
  prompt?: string;
  answers?: Int64;
  scored?: Int64;
  meanG?: JsonFloat;
  contextTokens?: Int64;
  promptTokens?: Int64;
  answerTokens?: Int64;
  tokensSaved?: Int64;
}

export interface LiveDriftState {
  leg?: string;
  observations?: Int64;
  referenceFrozen?: boolean;
  referenceCount?: Int64;
  currentCount?: Int64;
  ready?: boolean;
  scorePsi?: JsonFloat;
  scoreThreshold?: JsonFloat;
  regionPsi?: JsonFloat;
  regionThreshold?: JsonFloat;
  alarm?: boolean;
  weakReferenceFrozen?: boolean;
  weakThreshold?: JsonFloat;
  weak?: Int64;
  observed?: Int64;
}

export interface GetMonitorReportResponse {
  collection?: string;
  sinceUs?: Int64;
  untilUs?: Int64;
  bucketUs?: Int64;
  totals?: MonitorBucket;
  buckets?: MonitorBucket[];
  markers?: MonitorMarker[];
  flagged?: FlaggedAnswer[];
  flaggedTotal?: Int64;
  prompts?: PromptMonitorStats[];
  live?: LiveDriftState[];
  recordsExamined?: Int64;
  truncated?: boolean;
}

export interface ResetMonitorReferenceRequest {
  collection: string;
}
