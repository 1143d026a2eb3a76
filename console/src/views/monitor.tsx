// Monitor (#/monitor/NAME?range=day&bucket=300&lowG=0.6): one collection's
// LLMOps signals over a time range (MonitorService/GetMonitorReport, docs/
// monitoring.md) — groundedness G (mean and p10) against the low-G line,
// weak retrievals and empty / truncated contexts, the drift PSI against its
// threshold, toxicity flags, tokens and cache savings — each chart with the
// knowledge-base and prompt version changes marked on its time axis.
// Clicking a bucket lists its retrievals (flagged first), each linking to
// the retrieval view (replay, audit, annotation). Below: the flagged
// answers, the cost per prompt version, and the live drift per leg with
// the reset of the reference.
import { useState } from 'preact/hooks';
import { call, fmtNum, fmtTime } from '../api';
import { Empty, ErrorBox, hashLink, Loading, Section, useAsync } from '../common';
import {
  BUCKET_CHOICES,
  bucketValues,
  fmtBucket,
  markerLabel,
  markersOf,
  monitorHash,
  num,
  parseMonitorQuery,
  reportRequest,
  type Marker,
  type MonitorParams,
} from '../monitor-data';
import { TimeChart, type ChartSeries } from './monitor-chart';
import { FlagBadges, FlaggedTable, LiveDrift, PromptCostTable, Totals } from './monitor-tables';

function hashQuery(): string {
  return window.location.hash.split('?')[1] ?? '';
}

export function MonitorView({ name }: { name?: string }) {
  const params = parseMonitorQuery(hashQuery());
  const cols = useAsync(() => call('CollectionService', 'ListCollections'), []);
  const names: string[] = (cols.data?.collections ?? []).map((c: any) => c.config?.name).filter(Boolean);
  const collection = name ?? names[0];
  return (
    <div id="monitor-view">
      <Section title="Monitor">
        <ErrorBox error={cols.error} />
        <Loading when={cols.loading && !cols.data} />
        {cols.data && names.length === 0 && <Empty>No collections.</Empty>}
        {collection && <MonitorForm collection={collection} names={names} params={params} />}
      </Section>
      {collection && <Report collection={collection} params={params} />}
    </div>
  );
}

/** The collection, range, bucket and low-G line; Show writes them into the URL's hash (a shareable link). */
function MonitorForm({ collection, names, params }: { collection: string; names: string[]; params: MonitorParams }) {
  const [form, setForm] = useState({ collection, ...params, lowG: String(params.lowG) });
  const set = (k: string) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  const submit = (e: Event) => {
    e.preventDefault();
    const g = Number(form.lowG);
    const p: MonitorParams = { ...form, bucket: Number(form.bucket), lowG: Number.isFinite(g) ? g : 0.6 };
    window.location.hash = monitorHash(form.collection, p);
  };
  const all = names.includes(collection) ? names : [collection, ...names];
  return (
    <form class="filters" id="monitor-form" onSubmit={submit}>
      <label>
        Collection
        <select name="collection" value={form.collection} onChange={set('collection')}>
          {all.map((n) => (
            <option value={n}>{n}</option>
          ))}
        </select>
      </label>
      <label>
        Range
        <select name="range" value={form.range} onChange={set('range')}>
          <option value="hour">last hour</option>
          <option value="day">last day</option>
          <option value="week">last week</option>
          <option value="custom">custom</option>
        </select>
      </label>
      {form.range === 'custom' && (
        <>
          <label>
            Since
            <input type="datetime-local" step="1" name="since" value={form.since} onInput={set('since')} />
          </label>
          <label>
            Until (empty: now)
            <input type="datetime-local" step="1" name="until" value={form.until} onInput={set('until')} />
          </label>
        </>
      )}
      <label>
        Bucket
        <select name="bucket" value={String(form.bucket)} onChange={set('bucket')}>
          {(BUCKET_CHOICES.includes(Number(form.bucket)) ? BUCKET_CHOICES : [...BUCKET_CHOICES, Number(form.bucket)]).map((s) => (
            <option value={String(s)}>{fmtBucket(s)}</option>
          ))}
        </select>
      </label>
      <label>
        Low G
        <input name="lowG" size={5} value={form.lowG} onInput={set('lowG')} />
      </label>
      <button type="submit" id="monitor-show">
        Show
      </button>
    </form>
  );
}

function Report({ collection, params }: { collection: string; params: MonitorParams }) {
  const report = useAsync(() => call('MonitorService', 'GetMonitorReport', reportRequest(collection, params, Date.now())), [collection]);
  const [selected, setSelected] = useState(-1);
  const r = report.data;
  return (
    <>
      <ErrorBox error={report.error} />
      <Loading when={report.loading && !r} />
      {r && (
        <>
          <Section title={`Signals of ${collection}`} id="monitor-signals">
            <p class="small">
              <button type="button" onClick={report.reload} id="monitor-refresh" disabled={report.loading}>
                {report.loading ? 'Loading…' : 'Refresh'}
              </button>{' '}
              Click a bucket in any chart to list its retrievals. Vertical lines mark a new knowledge-base version read
              (<span class="marker-key kb">KB</span>) and a new prompt version used (<span class="marker-key prompt">prompt</span>).
            </p>
            <Totals report={r} lowG={params.lowG} />
            <Charts report={r} lowG={params.lowG} selected={selected} onSelect={setSelected} />
          </Section>
          {selected >= 0 && selected < (r.buckets ?? []).length && (
            <BucketDetail report={r} index={selected} onClose={() => setSelected(-1)} />
          )}
          <FlaggedTable report={r} lowG={params.lowG} />
          <PromptCostTable report={r} lowG={params.lowG} />
          <LiveDrift report={r} collection={collection} onReset={report.reload} />
        </>
      )}
    </>
  );
}

interface ChartSpec {
  id: string;
  title: string;
  series: ChartSeries[];
  format: (v: number) => string;
  yMax?: number;
  refLine?: { value: number; label: string };
  height?: number;
}

function chartSpecs(buckets: any[], lowG: number): ChartSpec[] {
  const v = (f: string) => bucketValues(buckets, f);
  const count = (x: number) => fmtNum(x, 0);
  const tokens = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(0)}k` : fmtNum(x, 0));
  return [
    {
      id: 'chart-g',
      title: 'Groundedness G (mean and 10th percentile of the scored answers)',
      series: [
        { name: 'mean G', cls: 's1', kind: 'line', values: v('meanG') },
        { name: 'G p10', cls: 's2', kind: 'line', values: v('gP10') },
      ],
      format: (x) => x.toFixed(3),
      yMax: 1,
      refLine: { value: lowG, label: `low G ${lowG}` },
    },
    {
      id: 'chart-retrieval',
      title: 'Weak retrievals, empty and truncated contexts',
      series: [
        { name: 'weak', cls: 's3', kind: 'bar', values: v('weak') },
        { name: 'empty context', cls: 's2', kind: 'bar', values: v('emptyContext') },
        { name: 'truncated', cls: 's4', kind: 'bar', values: v('truncatedContext') },
      ],
      format: count,
    },
    {
      id: 'chart-drift',
      title: 'Drift: PSI of the top-1 scores against the reference',
      series: [
        { name: 'score PSI', cls: 's1', kind: 'line', values: v('scorePsi') },
        { name: 'threshold', cls: 's2', kind: 'dashed', values: v('scoreThreshold') },
      ],
      format: (x) => x.toFixed(3),
    },
    {
      id: 'chart-toxicity',
      title: 'Toxicity flags: answers with a word-list match (a lexical flag, not a classifier)',
      series: [{ name: 'toxic answers', cls: 's2', kind: 'bar', values: v('toxic') }],
      format: count,
    },
    {
      id: 'chart-tokens',
      title: 'Tokens: context, prompt, answer, and saved by answer-cache hits',
      series: [
        { name: 'context', cls: 's1', kind: 'line', values: v('contextTokens') },
        { name: 'prompt', cls: 's3', kind: 'line', values: v('promptTokens') },
        { name: 'answer', cls: 's6', kind: 'line', values: v('answerTokens') },
        { name: 'saved (cache)', cls: 's4', kind: 'bar', values: v('tokensSaved') },
      ],
      format: tokens,
    },
  ];
}

function Charts({ report, lowG, selected, onSelect }: { report: any; lowG: number; selected: number; onSelect: (i: number) => void }) {
  const buckets: any[] = report.buckets ?? [];
  const markers: Marker[] = markersOf(report);
  if (buckets.length === 0) return <Empty>No buckets in the range.</Empty>;
  const starts = buckets.map((b) => num(b.startUs));
  return (
    <div class="monitor-charts">
      {chartSpecs(buckets, lowG).map((c) => (
        <div class="monitor-chart-box">
          <h3>{c.title}</h3>
          <TimeChart
            id={c.id}
            starts={starts}
            bucketUs={num(report.bucketUs)}
            sinceUs={num(report.sinceUs)}
            untilUs={num(report.untilUs)}
            series={c.series}
            markers={markers}
            format={c.format}
            yMax={c.yMax}
            refLine={c.refLine}
            selected={selected}
            onSelect={onSelect}
          />
        </div>
      ))}
      {markers.length > 0 && <MarkerList markers={markers} />}
    </div>
  );
}

function MarkerList({ markers }: { markers: Marker[] }) {
  return (
    <details class="marker-list" id="marker-list">
      <summary>
        {markers.length} version change{markers.length === 1 ? '' : 's'} in the range
      </summary>
      <ul>
        {markers.map((m) => (
          <li class={`marker-item ${m.kind === 'kb_version' ? 'kb' : 'prompt'}`}>
            {fmtTime(m.timeUs)} · <strong>{markerLabel(m)}</strong>
            {m.previous && <> (was {m.kind === 'kb_version' ? `v${m.previous}` : m.previous})</>}
            {m.retrievalId && (
              <>
                {' '}
                · first read by{' '}
                <a href={hashLink('log', m.retrievalId)}>
                  <code>{m.retrievalId}</code>
                </a>
              </>
            )}
          </li>
        ))}
      </ul>
    </details>
  );
}

/** One bucket: its counts and its retrievals (flagged first, as the server lists them), each a link to the retrieval view. */
function BucketDetail({ report, index, onClose }: { report: any; index: number; onClose: () => void }) {
  const b = report.buckets[index];
  const start = num(b.startUs);
  const flags = new Map<string, unknown[]>();
  for (const f of report.flagged ?? []) flags.set(f.retrievalId, f.flags ?? []);
  // An id can come twice (its retrieval and its answer fall in the bucket): listed once, where it first appears.
  const ids: string[] = [...new Set<string>(b.retrievalIds ?? [])];
  return (
    <Section title={`Bucket ${fmtTime(start)} – ${fmtTime(start + num(report.bucketUs))}`} id="bucket-detail">
      <p>
        {b.retrievals} retrievals · {b.answers} answers · {b.cacheHits} cache hits
        {num(b.scored) > 0 && <> · mean G {num(b.meanG).toFixed(3)}, p10 {num(b.gP10).toFixed(3)}</>} · {b.weak} weak ·{' '}
        {b.toxic} toxic {b.driftComputed && <> · PSI {num(b.scorePsi).toFixed(3)} (threshold {num(b.scoreThreshold).toFixed(3)})</>}{' '}
        <button type="button" class="link" onClick={onClose}>
          close
        </button>
      </p>
      {ids.length === 0 ? (
        <Empty>No retrieval in this bucket.</Empty>
      ) : (
        <ol class="bucket-ids" id="bucket-ids">
          {ids.map((id) => (
            <li class={flags.has(id) ? 'flagged' : ''} data-retrieval={id}>
              <a href={hashLink('log', id)}>
                <code>{id}</code>
              </a>{' '}
              {flags.has(id) && <FlagBadges flags={flags.get(id)!} />}
            </li>
          ))}
        </ol>
      )}
      {num(b.retrievals) + num(b.cacheHits) > ids.length && (
        <p class="small">
          {ids.length} of the bucket's retrievals listed (flagged first, then the latest); the{' '}
          <a href="#/log">retrieval log</a> lists them all.
        </p>
      )}
    </Section>
  );
}
