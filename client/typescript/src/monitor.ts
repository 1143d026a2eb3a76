// LLMOps monitoring (docs/monitoring.md, MonitorService): the public types
// of annotations and monitor reports, the requests' argument checks and the
// responses' conversions, beside the other conversions of convert.ts (the
// same rules: a wrong type refused naming the argument before any call,
// limits left to the server; 64-bit integers as numbers, DATA_LOSS beyond
// 2^53; enums by short name).

import { argumentError } from "./errors.js";
import * as c from "./convert.js";
import type * as mw from "./monitor-wire.js";

/** Why an answer is flagged. */
export type MonitorFlag = "low_groundedness" | "weak_retrieval" | "empty_context" | "truncated_context" | "toxicity";

/** A word-list match in an answer: the list's term, its languages, its UTF-8 byte span [begin, end). */
export interface ToxicityMatch {
  term: string;
  languages: string[];
  begin: number;
  end: number;
}

/**
 * The monitor's signals of one answer (or cache hit), stored beside its
 * log record (outside the hash chain): hallucination risk (G), retrieval
 * weakness, toxicity flags (a lexical flag, not a classifier) and token
 * cost, with the versions they were computed with.
 */
export interface Annotation {
  version: number;
  retrievalId: string;
  recordSeq: number;
  recordTimeUs: number;
  annotatedUs: number;
  onDemand: boolean;
  cacheHit: boolean;
  collection: string;
  kbVersion: number;
  prompt: string;
  groundednessScored: boolean;
  groundednessError: string;
  g: number;
  groundednessVersion: string;
  sentences: number;
  unsupported: number;
  unsupportedSentences: string[];
  leg: string;
  referenceReady: boolean;
  weakRetrieval: boolean;
  top1: number;
  weakThreshold: number;
  percentileRank: number;
  emptyContext: boolean;
  truncatedContext: boolean;
  chunks: number;
  chunksInContext: number;
  retrievalRiskVersion: number;
  toxic: boolean;
  toxicityMatches: ToxicityMatch[];
  toxicityScorerVersion: string;
  wordListVersion: string;
  contextTokens: number;
  promptTokens: number;
  /** "rendered", "reported" or "context". */
  promptTokensSource: string;
  answerTokens: number;
  /** "reported" or "counted". */
  answerTokensSource: string;
  tokensSaved: number;
  flags: MonitorFlag[];
  /** With verityd --toxicity-flag-queries: the matches in the retrieval's query text (no flag of the answer). */
  queryToxicityMatches: ToxicityMatch[];
}

export interface AnnotateLogOptions {
  /** Unset or "": every collection. */
  collection?: string;
  /** Inclusive, Unix microseconds; 0: from the start. */
  sinceUs?: number | bigint;
  /** Exclusive; 0: to the end. */
  untilUs?: number | bigint;
  /** Also replace the annotations that exist. */
  recompute?: boolean;
  /** Log records examined; unset: the server's 1,000,000 (at most 10,000,000). */
  maxRecords?: number | bigint;
}

export interface AnnotateLogResult {
  examined: number;
  annotated: number;
  existing: number;
  failed: number;
  /** Stopped at maxRecords: continue from nextSinceUs. */
  truncated: boolean;
  nextSinceUs: number;
}

export interface MonitorReportOptions {
  /** Inclusive, Unix microseconds; 0: from the start. */
  sinceUs?: number | bigint;
  /** Exclusive; 0: now. */
  untilUs?: number | bigint;
  /** 0 (default): the range cut in 60 buckets; at most 1000 buckets. */
  bucketSeconds?: number | bigint;
  /** G below it flags an answer low_groundedness; [0, 1], default 0.6. */
  lowG?: number;
  /** Flagged answers listed; default 100, at most 10000. */
  maxFlagged?: number;
  /** Retrieval ids kept per bucket (flagged first); default 10, at most 100. */
  idsPerBucket?: number;
  /** Log records examined; unset: the server's 1,000,000. */
  maxRecords?: number | bigint;
}

/** One time bucket [startUs, startUs + bucketUs) of a report. */
export interface MonitorBucket {
  startUs: number;
  retrievals: number;
  answers: number;
  cacheHits: number;
  annotated: number;
  scored: number;
  meanG: number;
  gP10: number;
  lowG: number;
  weak: number;
  emptyContext: number;
  truncatedContext: number;
  toxic: number;
  contextTokens: number;
  promptTokens: number;
  answerTokens: number;
  tokensSaved: number;
  driftComputed: boolean;
  scorePsi: number;
  scoreThreshold: number;
  /** Flagged first, then the latest. */
  retrievalIds: string[];
}

/** A version change on the time axis. */
export interface MonitorMarker {
  timeUs: number;
  /** "kb_version" or "prompt". */
  kind: string;
  /** The version ("42") or the prompt ("qa@3"). */
  value: string;
  /** The one before; "" for the first in the range. */
  previous: string;
  /** The first retrieval that used it. */
  retrievalId: string;
}

export interface FlaggedAnswer {
  retrievalId: string;
  timeUs: number;
  flags: MonitorFlag[];
  g: number;
  groundednessScored: boolean;
  prompt: string;
  kbVersion: number;
  toxicityTerms: string[];
}

export interface PromptMonitorStats {
  /** "" for retrievals without a prompt. */
  prompt: string;
  answers: number;
  scored: number;
  meanG: number;
  contextTokens: number;
  promptTokens: number;
  answerTokens: number;
  tokensSaved: number;
}

/** The live drift state of one leg since the server started or the reference was reset. */
export interface LiveDriftState {
  leg: string;
  observations: number;
  referenceFrozen: boolean;
  referenceCount: number;
  currentCount: number;
  ready: boolean;
  scorePsi: number;
  scoreThreshold: number;
  regionPsi: number;
  regionThreshold: number;
  alarm: boolean;
  weakReferenceFrozen: boolean;
  weakThreshold: number;
  weak: number;
  observed: number;
}

export interface MonitorReport {
  collection: string;
  sinceUs: number;
  untilUs: number;
  bucketUs: number;
  /** The whole range (retrievalIds empty). */
  totals: MonitorBucket;
  buckets: MonitorBucket[];
  markers: MonitorMarker[];
  /** Oldest first, at most maxFlagged. */
  flagged: FlaggedAnswer[];
  flaggedTotal: number;
  prompts: PromptMonitorStats[];
  live: LiveDriftState[];
  recordsExamined: number;
  /** Stopped at maxRecords: the range's end was not reached. */
  truncated: boolean;
}

// ----- requests ---------------------------------------------------------------------

/** An options argument: an object or undefined (anything else refused naming it). */
function optionsObject<T extends object>(options: T | undefined, field: string): Partial<T> {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw argumentError(`${field}: expected an object, got ${options === null ? "null" : Array.isArray(options) ? "array" : typeof options}`);
  }
  return options;
}

export function annotateRequest(retrievalId: unknown, options: { recompute?: boolean } | undefined): mw.AnnotateRequest {
  const o = optionsObject(options, "options");
  return { retrievalId: c.name(retrievalId, "retrievalId"), recompute: c.bool(o.recompute, "recompute") };
}

export function annotateLogRequest(options: AnnotateLogOptions | undefined): mw.AnnotateLogRequest {
  const o = optionsObject(options, "options");
  const request: mw.AnnotateLogRequest = {
    collection: c.text(o.collection, "collection"),
    sinceUs: c.int64(o.sinceUs ?? 0, "sinceUs", 0n),
    untilUs: c.int64(o.untilUs ?? 0, "untilUs", 0n),
    recompute: c.bool(o.recompute, "recompute"),
  };
  if (o.maxRecords !== undefined) request.maxRecords = c.uint64(o.maxRecords, "maxRecords");
  return request;
}

export function monitorReportRequest(collection: unknown, options: MonitorReportOptions | undefined): mw.GetMonitorReportRequest {
  const o = optionsObject(options, "options");
  const request: mw.GetMonitorReportRequest = {
    collection: c.name(collection, "collection"),
    sinceUs: c.int64(o.sinceUs ?? 0, "sinceUs", 0n),
    untilUs: c.int64(o.untilUs ?? 0, "untilUs", 0n),
    bucketSeconds: c.int64(o.bucketSeconds ?? 0, "bucketSeconds", 0n),
  };
  if (o.lowG !== undefined) request.lowG = c.fraction(o.lowG, "lowG");
  if (o.maxFlagged !== undefined) request.maxFlagged = c.integer(o.maxFlagged, "maxFlagged", 0, c.UINT32_MAX);
  if (o.idsPerBucket !== undefined) request.idsPerBucket = c.integer(o.idsPerBucket, "idsPerBucket", 0, c.UINT32_MAX);
  if (o.maxRecords !== undefined) request.maxRecords = c.uint64(o.maxRecords, "maxRecords");
  return request;
}

// ----- responses --------------------------------------------------------------------

/** MONITOR_FLAG_LOW_GROUNDEDNESS -> "low_groundedness"; an unknown number as its text. */
function flagOut(f: mw.MonitorFlagName | number): MonitorFlag {
  const s = String(f);
  return (s.startsWith("MONITOR_FLAG_") ? s.slice("MONITOR_FLAG_".length).toLowerCase() : s) as MonitorFlag;
}

function flagsOut(flags: (mw.MonitorFlagName | number)[] | undefined): MonitorFlag[] {
  return (flags ?? []).map(flagOut);
}

function matchOut(m: mw.ToxicityMatch): ToxicityMatch {
  return { term: m.term ?? "", languages: [...(m.languages ?? [])], begin: m.begin ?? 0, end: m.end ?? 0 };
}

export function annotationOut(a: mw.Annotation): Annotation {
  return {
    version: a.version ?? 0,
    retrievalId: a.retrievalId ?? "",
    recordSeq: c.num64(a.recordSeq, "recordSeq"),
    recordTimeUs: c.num64(a.recordTimeUs, "recordTimeUs"),
    annotatedUs: c.num64(a.annotatedUs, "annotatedUs"),
    onDemand: a.onDemand ?? false,
    cacheHit: a.cacheHit ?? false,
    collection: a.collection ?? "",
    kbVersion: c.num64(a.kbVersion, "kbVersion"),
    prompt: a.prompt ?? "",
    groundednessScored: a.groundednessScored ?? false,
    groundednessError: a.groundednessError ?? "",
    g: c.float(a.g),
    groundednessVersion: a.groundednessVersion ?? "",
    sentences: a.sentences ?? 0,
    unsupported: a.unsupported ?? 0,
    unsupportedSentences: [...(a.unsupportedSentences ?? [])],
    leg: a.leg ?? "",
    referenceReady: a.referenceReady ?? false,
    weakRetrieval: a.weakRetrieval ?? false,
    top1: c.float(a.top1),
    weakThreshold: c.float(a.weakThreshold),
    percentileRank: c.float(a.percentileRank),
    emptyContext: a.emptyContext ?? false,
    truncatedContext: a.truncatedContext ?? false,
    chunks: a.chunks ?? 0,
    chunksInContext: a.chunksInContext ?? 0,
    retrievalRiskVersion: a.retrievalRiskVersion ?? 0,
    toxic: a.toxic ?? false,
    toxicityMatches: (a.toxicityMatches ?? []).map(matchOut),
    toxicityScorerVersion: a.toxicityScorerVersion ?? "",
    wordListVersion: a.wordListVersion ?? "",
    contextTokens: a.contextTokens ?? 0,
    promptTokens: a.promptTokens ?? 0,
    promptTokensSource: a.promptTokensSource ?? "",
    answerTokens: a.answerTokens ?? 0,
    answerTokensSource: a.answerTokensSource ?? "",
    tokensSaved: a.tokensSaved ?? 0,
    flags: flagsOut(a.flags),
    queryToxicityMatches: (a.queryToxicityMatches ?? []).map(matchOut),
  };
}

export function annotateLogOut(r: mw.AnnotateLogResponse): AnnotateLogResult {
  return {
    examined: c.num64(r.examined, "examined"),
    annotated: c.num64(r.annotated, "annotated"),
    existing: c.num64(r.existing, "existing"),
    failed: c.num64(r.failed, "failed"),
    truncated: r.truncated ?? false,
    nextSinceUs: c.num64(r.nextSinceUs, "nextSinceUs"),
  };
}

function bucketOut(b: mw.MonitorBucket | undefined): MonitorBucket {
  const x = b ?? {};
  const n = (v: string | undefined, f: string) => c.num64(v, f);
  return {
    startUs: n(x.startUs, "startUs"),
    retrievals: n(x.retrievals, "retrievals"),
    answers: n(x.answers, "answers"),
    cacheHits: n(x.cacheHits, "cacheHits"),
    annotated: n(x.annotated, "annotated"),
    scored: n(x.scored, "scored"),
    meanG: c.float(x.meanG),
    gP10: c.float(x.gP10),
    lowG: n(x.lowG, "lowG"),
    weak: n(x.weak, "weak"),
    emptyContext: n(x.emptyContext, "emptyContext"),
    truncatedContext: n(x.truncatedContext, "truncatedContext"),
    toxic: n(x.toxic, "toxic"),
    contextTokens: n(x.contextTokens, "contextTokens"),
    promptTokens: n(x.promptTokens, "promptTokens"),
    answerTokens: n(x.answerTokens, "answerTokens"),
    tokensSaved: n(x.tokensSaved, "tokensSaved"),
    driftComputed: x.driftComputed ?? false,
    scorePsi: c.float(x.scorePsi),
    scoreThreshold: c.float(x.scoreThreshold),
    retrievalIds: [...(x.retrievalIds ?? [])],
  };
}

function liveOut(l: mw.LiveDriftState): LiveDriftState {
  return {
    leg: l.leg ?? "",
    observations: c.num64(l.observations, "observations"),
    referenceFrozen: l.referenceFrozen ?? false,
    referenceCount: c.num64(l.referenceCount, "referenceCount"),
    currentCount: c.num64(l.currentCount, "currentCount"),
    ready: l.ready ?? false,
    scorePsi: c.float(l.scorePsi),
    scoreThreshold: c.float(l.scoreThreshold),
    regionPsi: c.float(l.regionPsi),
    regionThreshold: c.float(l.regionThreshold),
    alarm: l.alarm ?? false,
    weakReferenceFrozen: l.weakReferenceFrozen ?? false,
    weakThreshold: c.float(l.weakThreshold),
    weak: c.num64(l.weak, "weak"),
    observed: c.num64(l.observed, "observed"),
  };
}

export function monitorReportOut(r: mw.GetMonitorReportResponse): MonitorReport {
  return {
    collection: r.collection ?? "",
    sinceUs: c.num64(r.sinceUs, "sinceUs"),
    untilUs: c.num64(r.untilUs, "untilUs"),
    bucketUs: c.num64(r.bucketUs, "bucketUs"),
    totals: bucketOut(r.totals),
    buckets: (r.buckets ?? []).map(bucketOut),
    markers: (r.markers ?? []).map((m) => ({
      timeUs: c.num64(m.timeUs, "timeUs"),
      kind: m.kind ?? "",
      value: m.value ?? "",
      previous: m.previous ?? "",
      retrievalId: m.retrievalId ?? "",
    })),
    flagged: (r.flagged ?? []).map((f) => ({
      retrievalId: f.retrievalId ?? "",
      timeUs: c.num64(f.timeUs, "timeUs"),
      flags: flagsOut(f.flags),
      g: c.float(f.g),
      groundednessScored: f.groundednessScored ?? false,
      prompt: f.prompt ?? "",
      kbVersion: c.num64(f.kbVersion, "kbVersion"),
      toxicityTerms: [...(f.toxicityTerms ?? [])],
    })),
    flaggedTotal: c.num64(r.flaggedTotal, "flaggedTotal"),
    prompts: (r.prompts ?? []).map((p) => ({
      prompt: p.prompt ?? "",
      answers: c.num64(p.answers, "answers"),
      scored: c.num64(p.scored, "scored"),
      meanG: c.float(p.meanG),
      contextTokens: c.num64(p.contextTokens, "contextTokens"),
      promptTokens: c.num64(p.promptTokens, "promptTokens"),
      answerTokens: c.num64(p.answerTokens, "answerTokens"),
      tokensSaved: c.num64(p.tokensSaved, "tokensSaved"),
    })),
    live: (r.live ?? []).map(liveOut),
    recordsExamined: c.num64(r.recordsExamined, "recordsExamined"),
    truncated: r.truncated ?? false,
  };
}
