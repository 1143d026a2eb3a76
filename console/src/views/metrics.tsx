// Metrics: GET /metrics (Prometheus text) every few seconds, drawn as inline
// SVG: call latency by method (p50 / p99 / mean since the server started),
// latency and call rate over the last scrapes (from the differences between
// scrapes), and the distribution of the groundedness G of audited answers.
// `#/metrics?every=N` scrapes every N seconds (1..60; default 5).
import { useEffect, useState } from 'preact/hooks';
import { fetchMetrics } from '../api';
import { ErrorBox, Section } from '../common';
import { bucketCounts, histograms, mergeHistograms, parsePrometheus, quantile, type Histogram, type Scrape, value } from '../prom';

const KEEP = 60;

/** Seconds between scrapes: `#/metrics?every=N` (1..60), else 5. */
function refreshMs(): number {
  const q = window.location.hash.split('?')[1] ?? '';
  const n = Number(new URLSearchParams(q).get('every'));
  return Number.isFinite(n) && n >= 1 && n <= 60 ? Math.round(n) * 1000 : 5000;
}

interface Point {
  t: number; // ms
  scrape: Scrape;
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '—';
  if (s < 1e-3) return `${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(s * 1e3).toFixed(2)} ms`;
  return `${s.toFixed(2)} s`;
}

function diffHistogram(a: Histogram, b: Histogram | undefined): Histogram {
  if (!b) return a;
  return {
    labels: a.labels,
    sum: a.sum - b.sum,
    count: a.count - b.count,
    buckets: a.buckets.map((x, i) => ({ le: x.le, count: x.count - (b.buckets[i]?.count ?? 0) })),
  };
}

function BarChart({
  bars,
  format,
  id,
  width = 640,
}: {
  bars: { label: string; value: number; title?: string; cls?: string }[];
  format: (v: number) => string;
  id?: string;
  width?: number;
}) {
  const rowH = 22;
  const labelW = 170;
  const valueW = 90;
  const H = Math.max(rowH, bars.length * rowH) + 4;
  const max = Math.max(0, ...bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)));
  const scale = (v: number) => (max > 0 && Number.isFinite(v) ? ((width - labelW - valueW) * v) / max : 0);
  return (
    <svg class="chart" id={id} viewBox={`0 0 ${width} ${H}`} width={width} height={H} role="img">
      {bars.map((b, i) => (
        <g transform={`translate(0, ${i * rowH + 2})`} class="bar-row">
          <title>{b.title ?? `${b.label}: ${format(b.value)}`}</title>
          <text x={labelW - 6} y={15} class="label" text-anchor="end">
            {b.label}
          </text>
          <rect x={labelW} y={3} height={rowH - 6} width={Math.max(scale(b.value), b.value > 0 ? 1 : 0)} class={`bar ${b.cls ?? ''}`} />
          <text x={labelW + scale(b.value) + 4} y={15} class="value">
            {format(b.value)}
          </text>
        </g>
      ))}
    </svg>
  );
}

function LineChart({
  series,
  format,
  id,
  width = 640,
  height = 160,
}: {
  series: { name: string; cls: string; points: [number, number][] }[];
  format: (v: number) => string;
  id?: string;
  width?: number;
  height?: number;
}) {
  const pad = { l: 70, r: 10, t: 10, b: 20 };
  const all = series.flatMap((s) => s.points).filter(([, v]) => Number.isFinite(v));
  if (all.length === 0) return <p class="empty">Waiting for two scrapes with calls in between…</p>;
  const t0 = Math.min(...all.map(([t]) => t));
  const t1 = Math.max(...all.map(([t]) => t), t0 + 1);
  const vmax = Math.max(...all.map(([, v]) => v), 0) || 1;
  const x = (t: number) => pad.l + ((width - pad.l - pad.r) * (t - t0)) / (t1 - t0);
  const y = (v: number) => height - pad.b - ((height - pad.t - pad.b) * v) / vmax;
  return (
    <svg class="chart" id={id} viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img">
      <line x1={pad.l} x2={width - pad.r} y1={y(0)} y2={y(0)} class="axis" />
      <line x1={pad.l} x2={pad.l} y1={pad.t} y2={y(0)} class="axis" />
      <text x={pad.l - 4} y={pad.t + 8} class="tick" text-anchor="end">
        {format(vmax)}
      </text>
      <text x={pad.l - 4} y={y(0)} class="tick" text-anchor="end">
        0
      </text>
      <text x={width - pad.r} y={height - 4} class="tick" text-anchor="end">
        {new Date(t1).toLocaleTimeString()}
      </text>
      <text x={pad.l} y={height - 4} class="tick">
        {new Date(t0).toLocaleTimeString()}
      </text>
      {series.map((s) => {
        const pts = s.points.filter(([, v]) => Number.isFinite(v));
        return (
          <g class={`series ${s.cls}`}>
            <polyline points={pts.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ')} />
            {pts.map(([t, v]) => (
              <circle cx={x(t)} cy={y(v)} r={2.5}>
                <title>
                  {s.name} {new Date(t).toLocaleTimeString()}: {format(v)}
                </title>
              </circle>
            ))}
          </g>
        );
      })}
      <g class="legend-items">
        {series.map((s, i) => (
          <text x={pad.l + 10 + i * 110} y={pad.t + 10} class={`legend-text ${s.cls}`}>
            ■ {s.name}
          </text>
        ))}
      </g>
    </svg>
  );
}

export function MetricsView() {
  const REFRESH_MS = refreshMs();
  const [points, setPoints] = useState<Point[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const [paused, setPaused] = useState(false);

  useEffect(() => {
    if (paused) return;
    let live = true;
    const tick = async () => {
      try {
        const text = await fetchMetrics();
        if (!live) return;
        setPoints((p) => [...p, { t: Date.now(), scrape: parsePrometheus(text) }].slice(-KEEP));
        setError(undefined);
      } catch (e) {
        if (live) setError(e);
      }
    };
    tick();
    const timer = window.setInterval(tick, REFRESH_MS);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [paused]);

  const last = points[points.length - 1]?.scrape;
  const latency = last ? histograms(last, 'verity_rpc_duration_seconds').filter((h) => h.count > 0) : [];
  latency.sort((a, b) => b.count - a.count);
  const gHists = last ? histograms(last, 'verity_groundedness_score') : [];
  const gAll = mergeHistograms(gHists);

  // Over time: per interval between scrapes, all methods together.
  const p50: [number, number][] = [];
  const p99: [number, number][] = [];
  const rate: [number, number][] = [];
  for (let i = 1; i < points.length; i++) {
    const cur = mergeHistograms(histograms(points[i].scrape, 'verity_rpc_duration_seconds'));
    const prev = mergeHistograms(histograms(points[i - 1].scrape, 'verity_rpc_duration_seconds'));
    if (!cur) continue;
    const d = diffHistogram(cur, prev);
    const dt = (points[i].t - points[i - 1].t) / 1000;
    rate.push([points[i].t, dt > 0 ? d.count / dt : 0]);
    if (d.count > 0) {
      p50.push([points[i].t, quantile(d, 0.5)]);
      p99.push([points[i].t, quantile(d, 0.99)]);
    }
  }

  return (
    <div id="metrics-view">
      <Section title="Metrics">
        <p class="small">
          From <code>GET /metrics</code>, every {REFRESH_MS / 1000} s ({points.length} scrapes kept).{' '}
          <button onClick={() => setPaused(!paused)} id="metrics-pause">
            {paused ? 'Resume' : 'Pause'}
          </button>
        </p>
        <ErrorBox error={error} />
        {last && (
          <dl class="meta" id="metrics-gauges">
            <dt>Started</dt>
            <dd>{new Date((value(last, 'verity_start_time_seconds') ?? 0) * 1000).toLocaleString()}</dd>
            <dt>Log records</dt>
            <dd>{value(last, 'verity_retrieval_log_records') ?? '—'}</dd>
            <dt>Log last seq</dt>
            <dd>{value(last, 'verity_retrieval_log_last_seq') ?? '—'}</dd>
            <dt>Read only</dt>
            <dd>{value(last, 'verity_read_only') ? 'yes (after a disk error)' : 'no'}</dd>
            <dt>Cache entries</dt>
            <dd>{value(last, 'verity_cache_entries') ?? '—'}</dd>
          </dl>
        )}
      </Section>
      <Section title="Call latency by method (since start)" id="latency">
        {last && latency.length === 0 && <p class="empty">No calls yet.</p>}
        {latency.length > 0 && (
          <>
            <table class="data" id="latency-table">
              <thead>
                <tr>
                  <th>Method</th>
                  <th>Calls</th>
                  <th>Mean</th>
                  <th>p50</th>
                  <th>p99</th>
                </tr>
              </thead>
              <tbody>
                {latency.map((h) => (
                  <tr data-method={h.labels.method}>
                    <td>{h.labels.method}</td>
                    <td class="num">{h.count}</td>
                    <td class="num">{fmtSeconds(h.sum / h.count)}</td>
                    <td class="num">{fmtSeconds(quantile(h, 0.5))}</td>
                    <td class="num">{fmtSeconds(quantile(h, 0.99))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h3>p99 by method</h3>
            <BarChart
              id="latency-chart"
              bars={latency.map((h) => ({
                label: h.labels.method ?? '',
                value: quantile(h, 0.99),
                title: `${h.labels.method}: p99 ${fmtSeconds(quantile(h, 0.99))}, p50 ${fmtSeconds(quantile(h, 0.5))}, ${h.count} calls`,
              }))}
              format={fmtSeconds}
            />
          </>
        )}
        <h3>Latency over time (all methods, per scrape interval)</h3>
        <LineChart
          id="latency-over-time"
          series={[
            { name: 'p50', cls: 's1', points: p50 },
            { name: 'p99', cls: 's2', points: p99 },
          ]}
          format={fmtSeconds}
        />
        <h3>Calls per second</h3>
        <LineChart id="rate-over-time" series={[{ name: 'calls/s', cls: 's3', points: rate }]} format={(v) => v.toFixed(2)} height={120} />
      </Section>
      <Section title="Groundedness G of audited answers" id="groundedness">
        {gAll && gAll.count > 0 ? (
          <>
            <p>
              {gAll.count} answers audited · mean G <strong id="mean-g">{(gAll.sum / gAll.count).toFixed(4)}</strong>
              {gHists.length > 1 &&
                ' (' +
                  gHists
                    .filter((h) => h.count > 0)
                    .map((h) => `${h.labels.audit}: ${h.count}`)
                    .join(', ') +
                  ')'}
            </p>
            <BarChart
              id="g-chart"
              bars={bucketCounts(gAll)
                .filter((b) => b.to !== Infinity || b.count > 0)
                .map((b) => ({
                  label: b.to === Infinity ? `> ${b.from}` : b.from === 0 ? `≤ ${b.to}` : `${b.from} – ${b.to}`,
                  value: b.count,
                  cls: b.to <= 0.5 ? 'low' : '',
                }))}
              format={(v) => String(v)}
            />
            <p class="small">Buckets of G (upper bound inclusive); G ≤ 0.5 in red.</p>
          </>
        ) : (
          last && <p class="empty">No answers audited since the server started.</p>
        )}
      </Section>
    </div>
  );
}
