// The Monitor view's data, without the DOM: the range and bucket a hash
// query asks for, the request of MonitorService/GetMonitorReport, the
// buckets as chart series, the version markers' labels and the flags'
// names. Unit-tested in tests/units.test.ts.

export type RangeKind = 'hour' | 'day' | 'week' | 'custom';

export const RANGE_SECONDS: Record<Exclude<RangeKind, 'custom'>, number> = {
  hour: 3600,
  day: 86_400,
  week: 7 * 86_400,
};

/** The bucket lengths offered (seconds); 0 is the server's 60 buckets over the range. */
export const BUCKET_CHOICES: number[] = [0, 60, 300, 900, 3600, 6 * 3600, 86_400];

/** What the Monitor view shows, as `#/monitor/NAME?range=day&bucket=300&lowG=0.6` says. */
export interface MonitorParams {
  range: RangeKind;
  since: string; // custom range: datetime-local values (local time)
  until: string;
  bucket: number; // seconds; 0 = 60 buckets over the range
  lowG: number; // [0, 1]
}

export const DEFAULT_PARAMS: MonitorParams = { range: 'day', since: '', until: '', bucket: 0, lowG: 0.6 };

/** Reads the view's parameters from a hash query (`range=hour&bucket=60`); anything malformed keeps its default. */
export function parseMonitorQuery(query: string): MonitorParams {
  const q = new URLSearchParams(query);
  const p: MonitorParams = { ...DEFAULT_PARAMS };
  const range = q.get('range');
  if (range === 'hour' || range === 'day' || range === 'week' || range === 'custom') p.range = range;
  p.since = q.get('since') ?? '';
  p.until = q.get('until') ?? '';
  const bucket = Number(q.get('bucket') ?? '0');
  if (Number.isInteger(bucket) && bucket >= 0) p.bucket = bucket;
  const lowG = q.get('lowG');
  if (lowG !== null && lowG.trim() !== '') {
    const g = Number(lowG);
    if (Number.isFinite(g) && g >= 0 && g <= 1) p.lowG = g;
  }
  return p;
}

/** The hash of the Monitor view of `collection` with `p` (the inverse of parseMonitorQuery). */
export function monitorHash(collection: string, p: MonitorParams): string {
  const q = new URLSearchParams();
  q.set('range', p.range);
  if (p.range === 'custom') {
    if (p.since) q.set('since', p.since);
    if (p.until) q.set('until', p.until);
  }
  if (p.bucket) q.set('bucket', String(p.bucket));
  if (p.lowG !== DEFAULT_PARAMS.lowG) q.set('lowG', String(p.lowG));
  return `#/monitor/${encodeURIComponent(collection)}?${q.toString()}`;
}

/** A datetime-local value (local time) as Unix microseconds; 0 when empty or malformed. */
export function localToUs(value: string): number {
  if (!value) return 0;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms * 1000 : 0;
}

/** The time range [sinceUs, untilUs) of `p` at `nowMs`: the last hour / day / week, or the custom one (0 = open). */
export function rangeUs(p: MonitorParams, nowMs: number): { sinceUs: number; untilUs: number } {
  if (p.range === 'custom') return { sinceUs: localToUs(p.since), untilUs: localToUs(p.until) };
  const untilUs = Math.floor(nowMs) * 1000;
  return { sinceUs: untilUs - RANGE_SECONDS[p.range] * 1_000_000, untilUs };
}

/** The JSON body of MonitorService/GetMonitorReport (int64 fields as decimal strings). */
// A bucket's ids name a retrieval once for the retrieval and once for its
// answer: 50 ids list about 25 retrievals.
export function reportRequest(collection: string, p: MonitorParams, nowMs: number, idsPerBucket = 50): object {
  const { sinceUs, untilUs } = rangeUs(p, nowMs);
  return {
    collection,
    sinceUs: String(sinceUs),
    untilUs: String(untilUs),
    bucketSeconds: String(p.bucket),
    lowG: p.lowG,
    maxFlagged: 200,
    idsPerBucket,
  };
}

/** A JSON number of the report (int64 as a string, double as a number or "NaN"); missing is 0. */
export function num(x: unknown): number {
  if (x === undefined || x === null || x === '') return 0;
  const n = Number(x);
  return Number.isNaN(n) && x !== 'NaN' ? 0 : n;
}

/** A bucket length as words: 60 -> "1 min", 3600 -> "1 h", 0 -> "auto (60 buckets)". */
export function fmtBucket(seconds: number): string {
  if (!seconds) return 'auto (60 buckets)';
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

export interface Marker {
  timeUs: number;
  kind: string; // "kb_version" or "prompt"
  value: string;
  previous: string;
  retrievalId: string;
}

export function markersOf(report: any): Marker[] {
  return (report?.markers ?? []).map((m: any) => ({
    timeUs: num(m.timeUs),
    kind: String(m.kind ?? ''),
    value: String(m.value ?? ''),
    previous: String(m.previous ?? ''),
    retrievalId: String(m.retrievalId ?? ''),
  }));
}

/** The short label on the time axis: "KB v42", "prompt qa@3". */
export function markerLabel(m: { kind: string; value: string }): string {
  if (m.kind === 'kb_version') return `KB v${m.value}`;
  if (m.kind === 'prompt') return `prompt ${m.value || '(none)'}`;
  return `${m.kind} ${m.value}`;
}

/** The marker's tooltip: what changed, from what, and the first retrieval that saw it. */
export function markerTitle(m: Marker, fmt: (us: number) => string): string {
  const from =
    m.previous === ''
      ? ' (first in the range)'
      : m.kind === 'kb_version'
        ? ` (was v${m.previous})`
        : ` (was ${m.previous})`;
  const first = m.retrievalId ? `; first read by ${m.retrievalId}` : '';
  return `${markerLabel(m)}${from} at ${fmt(m.timeUs)}${first}`;
}

const FLAGS: Record<string, string> = {
  MONITOR_FLAG_LOW_GROUNDEDNESS: 'low G',
  MONITOR_FLAG_WEAK_RETRIEVAL: 'weak retrieval',
  MONITOR_FLAG_EMPTY_CONTEXT: 'empty context',
  MONITOR_FLAG_TRUNCATED_CONTEXT: 'truncated context',
  MONITOR_FLAG_TOXICITY: 'toxicity',
};

/** A flag's short name ("MONITOR_FLAG_TOXICITY" -> "toxicity"); an unknown one as sent. */
export function flagName(flag: unknown): string {
  return FLAGS[String(flag)] ?? String(flag).replace(/^MONITOR_FLAG_/, '').toLowerCase();
}

/** A flag's CSS class suffix ("MONITOR_FLAG_LOW_GROUNDEDNESS" -> "low-groundedness"). */
export function flagClass(flag: unknown): string {
  return String(flag).replace(/^MONITOR_FLAG_/, '').toLowerCase().replace(/_/g, '-');
}

/**
 * One value per bucket for a chart, null where the value does not exist:
 * G where the bucket scored an answer, the drift PSI where it was computed.
 */
export function bucketValues(buckets: any[], field: string): (number | null)[] {
  return buckets.map((b) => {
    if ((field === 'meanG' || field === 'gP10') && num(b.scored) === 0) return null;
    if ((field === 'scorePsi' || field === 'scoreThreshold') && !b.driftComputed) return null;
    return num(b[field]);
  });
}

/** The largest finite value of the series (0 when none): the chart's y range. */
export function seriesMax(series: (number | null)[][]): number {
  let max = 0;
  for (const s of series) for (const v of s) if (v !== null && Number.isFinite(v) && v > max) max = v;
  return max;
}

/** A round upper bound for a y axis: 1, 2, 5 times a power of ten, at least `v` (1 for 0). */
export function niceCeil(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v * (1 - 1e-12)) return m * p;
  return 10 * p;
}
