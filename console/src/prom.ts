// A parser for the Prometheus text exposition format (0.0.4), enough for
// verityd's /metrics: `# HELP` / `# TYPE` lines, samples with or without
// labels, label values with \\ \" \n escapes, +Inf / -Inf / NaN values and
// an optional timestamp (ignored).

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  samples: Sample[];
  types: Record<string, string>; // metric family -> counter / gauge / histogram / ...
}

function parseValue(s: string): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  return Number(s);
}

export function parsePrometheus(text: string): Scrape {
  const samples: Sample[] = [];
  const types: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('#')) {
      const m = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (m) types[m[1]] = m[2];
      continue;
    }
    let i = 0;
    while (i < line.length && line[i] !== '{' && line[i] !== ' ' && line[i] !== '\t') i++;
    const name = line.slice(0, i);
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      for (;;) {
        while (line[i] === ' ' || line[i] === ',') i++;
        if (line[i] === '}') {
          i++;
          break;
        }
        const eq = line.indexOf('=', i);
        if (eq < 0) break;
        const key = line.slice(i, eq).trim();
        i = eq + 1;
        if (line[i] !== '"') break;
        i++;
        let value = '';
        while (i < line.length && line[i] !== '"') {
          if (line[i] === '\\' && i + 1 < line.length) {
            const c = line[i + 1];
            value += c === 'n' ? '\n' : c;
            i += 2;
          } else {
            value += line[i++];
          }
        }
        i++; // closing quote
        labels[key] = value;
      }
    }
    const rest = line.slice(i).trim().split(/\s+/);
    if (!name || rest.length === 0 || rest[0] === '') continue;
    samples.push({ name, labels, value: parseValue(rest[0]) });
  }
  return { samples, types };
}

/** One histogram series: cumulative buckets (upper bound -> count), sum, count. */
export interface Histogram {
  labels: Record<string, string>; // without `le`
  buckets: { le: number; count: number }[]; // ascending le, cumulative
  sum: number;
  count: number;
}

function labelKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

/** The histograms of family `name` (samples name_bucket / name_sum / name_count), one per label set. */
export function histograms(scrape: Scrape, name: string): Histogram[] {
  const byKey = new Map<string, Histogram>();
  const get = (labels: Record<string, string>): Histogram => {
    const { le: _le, ...rest } = labels;
    const key = labelKey(rest);
    let h = byKey.get(key);
    if (!h) {
      h = { labels: rest, buckets: [], sum: 0, count: 0 };
      byKey.set(key, h);
    }
    return h;
  };
  for (const s of scrape.samples) {
    if (s.name === `${name}_bucket` && s.labels.le !== undefined) {
      get(s.labels).buckets.push({ le: parseValue(s.labels.le), count: s.value });
    } else if (s.name === `${name}_sum`) {
      get(s.labels).sum = s.value;
    } else if (s.name === `${name}_count`) {
      get(s.labels).count = s.value;
    }
  }
  const out = [...byKey.values()];
  for (const h of out) h.buckets.sort((a, b) => a.le - b.le);
  return out;
}

/**
 * The q-quantile (0..1) of a cumulative histogram, interpolated linearly
 * inside the bucket as Prometheus' histogram_quantile does. NaN when empty.
 */
export function quantile(h: Histogram, q: number): number {
  const total = h.buckets.length ? h.buckets[h.buckets.length - 1].count : 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      const inBucket = b.count - prevCount;
      if (inBucket <= 0) return b.le;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/** Per-bucket (not cumulative) counts: [{from, to, count}]. */
export function bucketCounts(h: Histogram): { from: number; to: number; count: number }[] {
  const out: { from: number; to: number; count: number }[] = [];
  let prevLe = 0;
  let prev = 0;
  for (const b of h.buckets) {
    out.push({ from: prevLe, to: b.le, count: b.count - prev });
    prevLe = b.le;
    prev = b.count;
  }
  return out;
}

/** Sums the histograms given (same bucket bounds) into one. */
export function mergeHistograms(hs: Histogram[]): Histogram | undefined {
  if (hs.length === 0) return undefined;
  const merged: Histogram = {
    labels: {},
    buckets: hs[0].buckets.map((b) => ({ le: b.le, count: 0 })),
    sum: 0,
    count: 0,
  };
  for (const h of hs) {
    merged.sum += h.sum;
    merged.count += h.count;
    h.buckets.forEach((b, i) => {
      if (merged.buckets[i] && merged.buckets[i].le === b.le) merged.buckets[i].count += b.count;
    });
  }
  return merged;
}

export function value(scrape: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const s of scrape.samples) {
    if (s.name !== name) continue;
    if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
  }
  return undefined;
}
