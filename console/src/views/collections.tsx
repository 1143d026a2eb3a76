// Collections: the list; one collection with its versions over time, its
// snapshots, and a search form (dense, text, hybrid; filter; k; read point).
import { useState } from 'preact/hooks';
import { call, fmtNum, fmtTime } from '../api';
import { Empty, ErrorBox, hashLink, Loading, readPoint, Section, useAsync, useCall } from '../common';

const METRICS: Record<string, string> = {
  METRIC_UNSPECIFIED: 'L2',
  METRIC_L2: 'L2',
  METRIC_IP: 'IP',
  METRIC_COSINE: 'cosine',
};

export function CollectionsView() {
  const list = useAsync(() => call('CollectionService', 'ListCollections'), []);
  const cols: any[] = list.data?.collections ?? [];
  return (
    <Section title="Collections" id="collections-view">
      <ErrorBox error={list.error} />
      <Loading when={list.loading && !list.data} />
      {list.data && cols.length === 0 && <Empty>No collections.</Empty>}
      {cols.length > 0 && (
        <table class="data" id="collections-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Dimension</th>
              <th>Metric</th>
              <th>Records</th>
              <th>Head version</th>
              <th>Oldest retained</th>
              <th>Snapshots</th>
              <th>Text index</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {cols.map((c) => (
              <tr data-collection={c.config?.name}>
                <td>
                  <a href={hashLink('collections', c.config?.name)}>{c.config?.name}</a>
                  {c.unavailable && <div class="error small">unavailable: {c.unavailable}</div>}
                </td>
                <td class="num">{c.config?.dimension || 'text only'}</td>
                <td>{METRICS[c.config?.metric] ?? c.config?.metric}</td>
                <td class="num">{c.liveRecords}</td>
                <td class="num">{c.headVersion}</td>
                <td class="num">{c.oldestRetained}</td>
                <td class="num">{c.snapshots}</td>
                <td>{c.config?.textIndex ? `v${c.config.textIndex.analyzerVersion} (${c.config.textIndex.analyzer?.preset || 'standard'})` : '—'}</td>
                <td>{fmtTime(c.createdAtUs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

async function listAllVersions(collection: string): Promise<any[]> {
  const out: any[] = [];
  let startAt = '0';
  for (let page = 0; page < 50; page++) {
    const r = await call('CollectionService', 'ListVersions', { collection, startAt, limit: 1000 });
    out.push(...(r.versions ?? []));
    if (!r.nextStartAt || r.nextStartAt === '0') break;
    startAt = r.nextStartAt;
  }
  return out;
}

export function CollectionView({ name }: { name: string }) {
  const info = useAsync(() => call('CollectionService', 'GetCollection', { name }), [name]);
  const versions = useAsync(() => listAllVersions(name), [name]);
  const snaps = useAsync(() => call('SnapshotService', 'ListSnapshots', { collection: name }), [name]);
  const c = info.data?.collection;
  const snapshots: any[] = snaps.data?.snapshots ?? [];
  return (
    <div id="collection-view">
      <p class="crumbs">
        <a href="#/collections">Collections</a> / <strong>{name}</strong>
      </p>
      <ErrorBox error={info.error} />
      {c && (
        <Section title={`Collection ${name}`}>
          <dl class="meta">
            <dt>Dimension</dt>
            <dd>{c.config.dimension || 'none (text only)'}</dd>
            <dt>Metric</dt>
            <dd>{METRICS[c.config.metric] ?? c.config.metric}</dd>
            <dt>Records at head</dt>
            <dd>{c.liveRecords}</dd>
            <dt>Head version</dt>
            <dd id="head-version">{c.headVersion}</dd>
            <dt>Oldest retained</dt>
            <dd>{c.oldestRetained}</dd>
            <dt>Retention</dt>
            <dd>
              {c.config.keepVersions} versions, {c.config.keepSeconds} s
            </dd>
            <dt>Text index</dt>
            <dd>
              {c.config.textIndex
                ? `analyzer v${c.config.textIndex.analyzerVersion}, preset ${c.config.textIndex.analyzer?.preset || 'standard'}, k1 ${fmtNum(c.config.textIndex.k1, 2)}, b ${fmtNum(c.config.textIndex.b, 2)}`
                : 'none'}
            </dd>
            {(c.config.sparseFields ?? []).length > 0 && (
              <>
                <dt>Sparse fields</dt>
                <dd>{c.config.sparseFields.map((f: any) => f.name).join(', ')}</dd>
              </>
            )}
            <dt>Graph nodes</dt>
            <dd>{c.graphNodes}</dd>
            <dt>Created</dt>
            <dd>{fmtTime(c.createdAtUs)}</dd>
          </dl>
        </Section>
      )}
      <SearchForm collection={name} info={c} snapshots={snapshots} />
      <Section title="Versions" id="versions">
        <ErrorBox error={versions.error} />
        <Loading when={versions.loading && !versions.data} />
        {versions.data && <VersionTimeline versions={versions.data} />}
        {versions.data && (
          <table class="data" id="versions-table">
            <thead>
              <tr>
                <th>Version</th>
                <th>Committed</th>
                <th>Upserted</th>
                <th>Deleted</th>
                <th>Readable</th>
                <th>Snapshots</th>
                <th>Restore of</th>
              </tr>
            </thead>
            <tbody>
              {[...versions.data].reverse().map((v) => (
                <tr class={v.readable ? '' : 'dim'}>
                  <td class="num">{v.version}</td>
                  <td>{fmtTime(v.committedAtUs)}</td>
                  <td class="num">{v.upserted}</td>
                  <td class="num">{v.deleted}</td>
                  <td>{v.readable ? 'yes' : 'collected'}</td>
                  <td>{(v.snapshots ?? []).join(', ')}</td>
                  <td>{v.isRestore ? v.restoredFrom : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Snapshots" id="snapshots">
        <ErrorBox error={snaps.error} />
        {snaps.data && snapshots.length === 0 && <Empty>No snapshots.</Empty>}
        {snapshots.length > 0 && (
          <table class="data" id="snapshots-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Version</th>
                <th>Records</th>
                <th>Created</th>
                <th>Description</th>
              </tr>
            </thead>
            <tbody>
              {snapshots.map((s) => (
                <tr>
                  <td>{s.name}</td>
                  <td class="num">{s.version}</td>
                  <td class="num">{s.records}</td>
                  <td>{fmtTime(s.createdAtUs)}</td>
                  <td>{s.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </div>
  );
}

/** Records written per version over time: a bar per version (upserts up, deletes down). */
function VersionTimeline({ versions }: { versions: any[] }) {
  const vs = versions.filter((v) => v.version !== '0');
  if (vs.length === 0) return <Empty>No writes yet (version 0 only).</Empty>;
  const W = 720;
  const H = 90;
  const mid = 60;
  const max = Math.max(1, ...vs.map((v) => Math.max(v.upserted, v.deleted)));
  const bw = Math.max(2, Math.min(24, (W - 40) / vs.length - 2));
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label="records written per version">
      <line x1={30} x2={W} y1={mid} y2={mid} class="axis" />
      <text x={0} y={12} class="tick">
        {max}
      </text>
      <text x={0} y={mid + 4} class="tick">
        0
      </text>
      {vs.map((v, i) => {
        const x = 34 + i * (bw + 2);
        const up = (v.upserted / max) * (mid - 6);
        const down = (v.deleted / max) * (H - mid - 6);
        return (
          <g>
            <title>
              version {v.version} at {fmtTime(v.committedAtUs)}: {v.upserted} upserted, {v.deleted} deleted
              {(v.snapshots ?? []).length ? `; snapshots ${v.snapshots.join(', ')}` : ''}
            </title>
            <rect x={x} y={mid - up} width={bw} height={up} class={v.readable ? 'bar up' : 'bar up dim'} />
            <rect x={x} y={mid} width={bw} height={down} class="bar down" />
            {(v.snapshots ?? []).length > 0 && <circle cx={x + bw / 2} cy={mid - up - 5} r={3} class="pin" />}
          </g>
        );
      })}
    </svg>
  );
}

function metadataText(md: Record<string, any> | undefined): string {
  if (!md) return '';
  return Object.entries(md)
    .map(([k, v]) => {
      const val =
        v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue ?? (v.listValue ? `[${(v.listValue.values ?? []).join(', ')}]` : '');
      return `${k}=${val}`;
    })
    .join(' ');
}

function SearchForm({ collection, info, snapshots }: { collection: string; info: any; snapshots: any[] }) {
  const [vector, setVector] = useState('');
  const [text, setText] = useState('');
  const [filter, setFilter] = useState('');
  const [k, setK] = useState('10');
  const [atKind, setAtKind] = useState<'head' | 'version' | 'snapshot'>('head');
  const [atValue, setAtValue] = useState('');
  const [fusion, setFusion] = useState('FUSION_METHOD_RRF');
  const [rrfK, setRrfK] = useState('');
  const [denseWeight, setDenseWeight] = useState('');
  const [textWeight, setTextWeight] = useState('');
  const { busy, error, setError, result, run } = useCall();

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const query: any = { withPayload: true };
    if (vector.trim()) {
      let v: unknown;
      try {
        v = JSON.parse(vector);
      } catch (err) {
        setError(`vector: not JSON: ${String(err)}`);
        return;
      }
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) {
        setError('vector: a JSON array of numbers, e.g. [0.1, 0.2, 0.3]');
        return;
      }
      query.vector = v;
    }
    if (text.trim()) query.text = text;
    if (filter.trim()) query.filter = filter;
    if (k.trim()) query.k = Number(k);
    const at = readPoint(atKind, atValue);
    if (at) query.at = at;
    if (query.vector && query.text) {
      query.fusion = { method: fusion };
      if (rrfK.trim()) query.fusion.rrfK = Number(rrfK);
      if (denseWeight.trim()) query.fusion.denseWeight = Number(denseWeight);
      if (textWeight.trim()) query.fusion.textWeight = Number(textWeight);
    }
    await run(() => call('SearchService', 'Search', { collection, query }));
  };

  const hybrid = vector.trim() !== '' && text.trim() !== '';
  const hits: any[] = result?.hits ?? [];
  const legs = hits.some((h) => h.dense && h.text && (h.dense.rank !== undefined || h.text.rank !== undefined) && hybrid);
  return (
    <Section title="Search" id="search">
      <form class="search-form" onSubmit={submit}>
        <label class="wide">
          Dense vector (JSON array{info?.config?.dimension ? `, ${info.config.dimension} numbers` : ''})
          <textarea
            name="vector"
            rows={2}
            placeholder="[0.1, 0.2, ...]"
            value={vector}
            onInput={(e) => setVector((e.target as HTMLTextAreaElement).value)}
          />
        </label>
        <label class="wide">
          Text (BM25{info && !info.config?.textIndex ? '; this collection has no text index' : ''})
          <input name="text" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        </label>
        <label class="wide">
          Filter expression (docs/filters.md)
          <input
            name="filter"
            placeholder='e.g. lang == "en" and year >= 2020'
            value={filter}
            onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          k
          <input name="k" type="number" min={1} value={k} onInput={(e) => setK((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Read at
          <select name="at-kind" value={atKind} onChange={(e) => setAtKind((e.target as HTMLSelectElement).value as any)}>
            <option value="head">head</option>
            <option value="version">version</option>
            <option value="snapshot">snapshot</option>
          </select>
        </label>
        {atKind === 'version' && (
          <label>
            Version
            <input name="at-version" type="number" min={0} value={atValue} onInput={(e) => setAtValue((e.target as HTMLInputElement).value)} />
          </label>
        )}
        {atKind === 'snapshot' && (
          <label>
            Snapshot
            <select name="at-snapshot" value={atValue} onChange={(e) => setAtValue((e.target as HTMLSelectElement).value)}>
              <option value="">(choose)</option>
              {snapshots.map((s) => (
                <option value={s.name}>
                  {s.name} (v{s.version})
                </option>
              ))}
            </select>
          </label>
        )}
        <fieldset class={hybrid ? 'fusion' : 'fusion disabled'} disabled={!hybrid}>
          <legend>Fusion (hybrid: vector and text)</legend>
          <label>
            Method
            <select name="fusion" value={fusion} onChange={(e) => setFusion((e.target as HTMLSelectElement).value)}>
              <option value="FUSION_METHOD_RRF">RRF</option>
              <option value="FUSION_METHOD_CONVEX">convex</option>
            </select>
          </label>
          <label>
            rrf_k
            <input name="rrf-k" type="number" placeholder="60" value={rrfK} onInput={(e) => setRrfK((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Dense weight
            <input name="dense-weight" placeholder="1" value={denseWeight} onInput={(e) => setDenseWeight((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Text weight
            <input name="text-weight" placeholder="1" value={textWeight} onInput={(e) => setTextWeight((e.target as HTMLInputElement).value)} />
          </label>
        </fieldset>
        <div class="actions">
          <button type="submit" disabled={busy} id="search-submit">
            {busy ? 'Searching…' : 'Search'}
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {result && (
        <div id="search-result">
          <p class="summary">
            {hits.length} hits at version <strong>{result.version}</strong>
            {result.exact ? ' (exact search)' : ''}
          </p>
          {hits.length > 0 && (
            <table class="data" id="hits-table">
              <thead>
                <tr>
                  <th>#</th>
                  <th>Id</th>
                  <th>Row version</th>
                  <th>Distance</th>
                  <th>Score</th>
                  {legs && <th>Dense rank</th>}
                  {legs && <th>Text rank</th>}
                  <th>Document</th>
                  <th>Text</th>
                  <th>Metadata</th>
                </tr>
              </thead>
              <tbody>
                {hits.map((h, i) => (
                  <tr class="hit" data-id={h.id}>
                    <td class="num">{i + 1}</td>
                    <td>
                      <code>{h.id}</code>
                    </td>
                    <td class="num">{h.rowVersion}</td>
                    <td class="num">{fmtNum(h.distance)}</td>
                    <td class="num">{fmtNum(h.score)}</td>
                    {legs && <td class="num">{h.dense?.rank >= 0 ? h.dense.rank + 1 : '—'}</td>}
                    {legs && <td class="num">{h.text?.rank >= 0 ? h.text.rank + 1 : '—'}</td>}
                    <td>{h.record?.documentId}</td>
                    <td class="text">{h.record?.text}</td>
                    <td class="small">{metadataText(h.record?.metadata)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </Section>
  );
}
