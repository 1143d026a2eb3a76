// A time-series chart of the monitor report's buckets, as inline SVG like
// the metrics charts: lines (a point per bucket that has a value), bars
// (side by side within a bucket) and dashed reference lines, the version
// markers as vertical lines on the time axis (knowledge-base versions and
// prompt versions, each with its label and a tooltip), and one clickable
// column per bucket that selects it.
import { fmtTime } from '../api';
import { markerLabel, markerTitle, niceCeil, seriesMax, type Marker } from '../monitor-data';

export interface ChartSeries {
  name: string;
  cls: string; // s1..s6: the colour
  kind: 'line' | 'bar' | 'dashed';
  values: (number | null)[]; // one per bucket; null: no value
}

interface Props {
  id: string;
  starts: number[]; // bucket starts, Unix µs
  bucketUs: number;
  sinceUs: number;
  untilUs: number;
  series: ChartSeries[];
  markers: Marker[];
  format: (v: number) => string;
  yMax?: number; // fixed y range (G: 1)
  refLine?: { value: number; label: string };
  selected: number;
  onSelect: (i: number) => void;
  height?: number;
}

const W = 880;
const PAD = { l: 64, r: 12, t: 34, b: 22 };

/** Axis time labels: with seconds for a range up to 15 minutes, the time of day up to two days, else the date too. */
function tickLabel(us: number, spanUs: number): string {
  const s = fmtTime(us);
  if (spanUs <= 15 * 60e6) return s.slice(11, 19);
  return spanUs <= 2 * 86_400e6 ? s.slice(11, 16) : s.slice(5, 16);
}

function linePaths(values: (number | null)[], x: (i: number) => number, y: (v: number) => number): string[] {
  // A gap (null) breaks the line, so a bucket without a value is not drawn as a slope.
  const runs: string[] = [];
  let cur: string[] = [];
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      if (cur.length) runs.push(cur.join(' '));
      cur = [];
      return;
    }
    cur.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  });
  if (cur.length) runs.push(cur.join(' '));
  return runs;
}

/** The chart's scales: time to x, value to y, and the buckets' geometry. */
interface Geometry {
  H: number;
  t0: number;
  span: number;
  yMax: number;
  xt: (us: number) => number;
  y: (v: number) => number;
  bw: number; // a bucket's width
  mid: (i: number) => number; // a bucket's centre
}

function geometry(props: Props): Geometry {
  const { starts, bucketUs, sinceUs, untilUs, series } = props;
  const H = props.height ?? 170;
  const t0 = starts.length ? Math.min(sinceUs || starts[0], starts[0]) : sinceUs;
  const t1 = Math.max(untilUs, (starts[starts.length - 1] ?? t0) + bucketUs, t0 + 1);
  const yMax = props.yMax ?? niceCeil(Math.max(seriesMax(series.map((s) => s.values)), props.refLine?.value ?? 0));
  const plotW = W - PAD.l - PAD.r;
  const xt = (us: number) => PAD.l + (plotW * (us - t0)) / (t1 - t0);
  const y = (v: number) => H - PAD.b - ((H - PAD.t - PAD.b) * Math.min(Math.max(v, 0), yMax)) / yMax;
  const bw = Math.max(1, (plotW * bucketUs) / (t1 - t0));
  return { H, t0, span: t1 - t0, yMax, xt, y, bw, mid: (i) => xt(starts[i]) + bw / 2 };
}

function Axes({ g, format }: { g: Geometry; format: (v: number) => string }) {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => g.t0 + f * g.span);
  return (
    <>
      <line x1={PAD.l} x2={W - PAD.r} y1={g.y(0)} y2={g.y(0)} class="axis" />
      <line x1={PAD.l} x2={PAD.l} y1={PAD.t} y2={g.y(0)} class="axis" />
      <text x={PAD.l - 4} y={PAD.t + 4} class="tick" text-anchor="end">
        {format(g.yMax)}
      </text>
      <text x={PAD.l - 4} y={g.y(0)} class="tick" text-anchor="end">
        0
      </text>
      {ticks.map((t, i) => (
        <text x={g.xt(t)} y={g.H - 6} class="tick" text-anchor={i === 0 ? 'start' : i === ticks.length - 1 ? 'end' : 'middle'}>
          {tickLabel(t, g.span)}
        </text>
      ))}
    </>
  );
}

/** One transparent column per bucket: clicking it selects the bucket; its tooltip gives the bucket's values. */
function BucketColumns({ g, props }: { g: Geometry; props: Props }) {
  const { starts, series, format, selected, onSelect } = props;
  return (
    <>
      {starts.map((s, i) => (
        <rect
          class={`bucket-hit${i === selected ? ' selected' : ''}`}
          data-index={i}
          data-start={s}
          x={g.xt(s)}
          y={PAD.t}
          width={g.bw}
          height={g.y(0) - PAD.t}
          onClick={() => onSelect(i)}
        >
          <title>
            {fmtTime(s)}: {series.map((x) => `${x.name} ${x.values[i] === null ? '—' : format(x.values[i]!)}`).join(', ')}
          </title>
        </rect>
      ))}
    </>
  );
}

function Bars({ g, props }: { g: Geometry; props: Props }) {
  const bars = props.series.filter((s) => s.kind === 'bar');
  const barW = Math.max(1, (g.bw * 0.8) / Math.max(1, bars.length));
  return (
    <>
      {bars.map((s, k) =>
        s.values.map((v, i) =>
          v !== null && v > 0 ? (
            <rect
              class={`bar series-bar ${s.cls}`}
              x={g.xt(props.starts[i]) + g.bw * 0.1 + k * barW}
              y={g.y(v)}
              width={barW}
              height={g.y(0) - g.y(v)}
              onClick={() => props.onSelect(i)}
            >
              <title>
                {s.name} {fmtTime(props.starts[i])}: {props.format(v)}
              </title>
            </rect>
          ) : null,
        ),
      )}
    </>
  );
}

function Lines({ g, props }: { g: Geometry; props: Props }) {
  return (
    <>
      {props.series
        .filter((s) => s.kind !== 'bar')
        .map((s) => (
          <g class={`series ${s.cls}${s.kind === 'dashed' ? ' dashed' : ''}`} data-series={s.name}>
            {linePaths(s.values, g.mid, g.y).map((pts) => (
              <polyline points={pts} />
            ))}
            {s.kind === 'line' &&
              s.values.map((v, i) =>
                v === null || !Number.isFinite(v) ? null : (
                  <circle cx={g.mid(i)} cy={g.y(v)} r={3} data-index={i} onClick={() => props.onSelect(i)}>
                    <title>
                      {s.name} {fmtTime(props.starts[i])}: {props.format(v)}
                    </title>
                  </circle>
                ),
              )}
          </g>
        ))}
    </>
  );
}

/**
 * The version markers: a vertical line each (KB versions dashed, a row
 * above the prompts' labels), label and tooltip. A marker lies over its
 * bucket's column: clicking it selects the bucket it falls in.
 */
function Markers({ g, props }: { g: Geometry; props: Props }) {
  const { markers, starts, bucketUs, onSelect } = props;
  const shownLabels = markers.length <= 16; // many markers: lines and tooltips only
  const bucketOf = (us: number) => starts.findIndex((s) => us >= s && us < s + bucketUs);
  // A label is drawn right of its line (left of it near the right edge),
  // and left out when it would overlap the label of a later marker of its
  // row (the latest change is the one labelled): the tooltip and the list
  // under the charts still name every marker.
  const labelW = (m: Marker) => markerLabel(m).length * 6.5 + 6;
  const labelled = new Set<number>();
  const nextLabel = [Infinity, Infinity];
  for (let i = markers.length - 1; i >= 0 && shownLabels; i--) {
    const m = markers[i];
    const row = m.kind === 'kb_version' ? 0 : 1;
    const mx = g.xt(m.timeUs);
    const from = mx + labelW(m) > W ? mx - labelW(m) : mx;
    if (from + labelW(m) <= nextLabel[row]) {
      labelled.add(i);
      nextLabel[row] = from;
    }
  }
  return (
    <>
      {markers.map((m, i) => {
        const mx = g.xt(m.timeUs);
        if (mx < PAD.l - 0.5 || mx > W - PAD.r + 0.5) return null;
        const row = m.kind === 'kb_version' ? 0 : 1;
        const leftward = mx + labelW(m) > W;
        return (
          <g
            class={`marker marker-${m.kind === 'kb_version' ? 'kb' : 'prompt'}`}
            data-kind={m.kind}
            data-value={m.value}
            key={i}
            onClick={() => bucketOf(m.timeUs) >= 0 && onSelect(bucketOf(m.timeUs))}
          >
            <title>{markerTitle(m, fmtTime)}</title>
            <line x1={mx} x2={mx} y1={PAD.t - 22 + row * 11} y2={g.y(0)} class="marker-line" />
            <line x1={mx} x2={mx} y1={PAD.t - 22} y2={g.y(0)} class="marker-hover" />
            {labelled.has(i) && (
              <text x={leftward ? mx - 3 : mx + 3} y={PAD.t - 14 + row * 11} class="marker-label" text-anchor={leftward ? 'end' : 'start'}>
                {markerLabel(m)}
              </text>
            )}
          </g>
        );
      })}
    </>
  );
}

export function TimeChart(props: Props) {
  const g = geometry(props);
  const ref = props.refLine;
  return (
    <svg class="chart monitor-chart" id={props.id} viewBox={`0 0 ${W} ${g.H}`} width={W} height={g.H} role="img">
      <Axes g={g} format={props.format} />
      <BucketColumns g={g} props={props} />
      {ref && (
        <g class="ref-line">
          <line x1={PAD.l} x2={W - PAD.r} y1={g.y(ref.value)} y2={g.y(ref.value)} />
          <text x={W - PAD.r - 2} y={g.y(ref.value) - 3} text-anchor="end" class="ref-label">
            {ref.label}
          </text>
        </g>
      )}
      <Bars g={g} props={props} />
      <Lines g={g} props={props} />
      <Markers g={g} props={props} />
      <g class="legend-items">
        {props.series.map((s, i) => (
          <text x={PAD.l + i * 130} y={10} class={`legend-text ${s.cls}`}>
            {s.kind === 'bar' ? '■' : s.kind === 'dashed' ? '┄' : '●'} {s.name}
          </text>
        ))}
      </g>
    </svg>
  );
}
