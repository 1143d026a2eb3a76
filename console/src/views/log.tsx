// The retrieval log, a page at a time (LogService/ListLog), filtered by time
// range, collection and kind on the server, and by client and prompt here
// (an answer record matches through its retrieval's client and prompt).
// An answer or cache hit shows its annotation's flags (docs/monitoring.md).
import { useEffect, useState } from 'preact/hooks';
import { call, fmtTime, localInputToUs, shortHash } from '../api';
import { Empty, ErrorBox, hashLink, Section } from '../common';
import { FlagBadges } from './monitor-tables';

const KINDS: Record<string, string> = {
  LOG_KIND_RETRIEVAL: 'retrieval',
  LOG_KIND_ANSWER: 'answer',
  LOG_KIND_CACHE_HIT: 'cache hit',
};

interface Filters {
  since: string;
  until: string;
  collection: string;
  kind: string;
  client: string;
  prompt: string;
}

const EMPTY: Filters = { since: '', until: '', collection: '', kind: 'LOG_KIND_UNSPECIFIED', client: '', prompt: '' };

export function LogListView() {
  const [form, setForm] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [records, setRecords] = useState<any[]>([]);
  const [cursor, setCursor] = useState('0');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [loaded, setLoaded] = useState(false);
  // Client and prompt of retrievals whose answers are listed without them
  // (another page, or a kind filter of answers only).
  const [owners, setOwners] = useState<Record<string, { clientId: string; prompt: string }>>({});

  const load = async (f: Filters, startAfter: string, append: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const r = await call('LogService', 'ListLog', {
        collection: f.collection.trim(),
        sinceUs: String(localInputToUs(f.since)),
        untilUs: String(localInputToUs(f.until)),
        kind: f.kind,
        startAfter,
        limit: 200,
      });
      const page: any[] = r.records ?? [];
      const all = append ? [...records, ...page] : page;
      if (f.client.trim() || f.prompt.trim()) {
        const known = new Set(all.filter((x) => x.kind !== 'LOG_KIND_ANSWER').map((x) => x.retrievalId));
        const missing = [
          ...new Set(all.filter((x) => x.kind === 'LOG_KIND_ANSWER' && !known.has(x.retrievalId) && !owners[x.retrievalId]).map((x) => x.retrievalId)),
        ];
        const found: Record<string, { clientId: string; prompt: string }> = {};
        await Promise.all(
          missing.slice(0, 500).map(async (id) => {
            try {
              const g = await call('LogService', 'GetRetrieval', { retrievalId: id });
              found[id] = { clientId: g.retrieval?.clientId ?? '', prompt: g.retrieval?.prompt ?? '' };
            } catch {
              // expired: the answer cannot be matched
            }
          }),
        );
        setOwners((o) => ({ ...o, ...found }));
      }
      setRecords(all);
      setCursor(r.nextCursor ?? '0');
      setLoaded(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    load(EMPTY, '0', false);
  }, []);

  const clientF = applied.client.trim().toLowerCase();
  const promptF = applied.prompt.trim().toLowerCase();
  // Client and prompt are filtered here: a record matches when its own
  // fields do; an answer record when its retrieval (on this page) does.
  const owner = new Map<string, { clientId: string; prompt: string }>(Object.entries(owners));
  for (const r of records) if (r.kind !== 'LOG_KIND_ANSWER') owner.set(r.retrievalId, r);
  const matches = (r: any) => {
    const o = r.kind === 'LOG_KIND_ANSWER' ? owner.get(r.retrievalId) : r;
    if (!o) return false;
    return (
      (!clientF || (o.clientId ?? '').toLowerCase().includes(clientF)) &&
      (!promptF || (o.prompt ?? '').toLowerCase().includes(promptF))
    );
  };
  const shown = clientF || promptF ? records.filter(matches) : records;
  const set = (k: keyof Filters) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });

  return (
    <Section title="Retrieval log" id="log-view">
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(form);
          load(form, '0', false);
        }}
      >
        <label>
          Since
          <input type="datetime-local" step="1" name="since" value={form.since} onInput={set('since')} />
        </label>
        <label>
          Until
          <input type="datetime-local" step="1" name="until" value={form.until} onInput={set('until')} />
        </label>
        <label>
          Collection
          <input name="collection" value={form.collection} onInput={set('collection')} placeholder="any" />
        </label>
        <label>
          Kind
          <select name="kind" value={form.kind} onChange={set('kind')}>
            <option value="LOG_KIND_UNSPECIFIED">any</option>
            <option value="LOG_KIND_RETRIEVAL">retrieval</option>
            <option value="LOG_KIND_ANSWER">answer</option>
            <option value="LOG_KIND_CACHE_HIT">cache hit</option>
          </select>
        </label>
        <label>
          Client id
          <input name="client" value={form.client} onInput={set('client')} placeholder="contains" />
        </label>
        <label>
          Prompt
          <input name="prompt" value={form.prompt} onInput={set('prompt')} placeholder="contains" />
        </label>
        <div class="actions">
          <button type="submit" disabled={busy} id="log-filter">
            Apply
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {loaded && shown.length === 0 && <Empty>No log records match.</Empty>}
      {shown.length > 0 && (
        <table class="data" id="log-table">
          <thead>
            <tr>
              <th>Seq</th>
              <th>Time</th>
              <th>Kind</th>
              <th>Retrieval</th>
              <th>Collection</th>
              <th>Version</th>
              <th>Query / answer</th>
              <th>Client</th>
              <th>Prompt</th>
              <th>Hash</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr class={`log-row kind-${(KINDS[r.kind] ?? r.kind).replace(' ', '-')}`} data-retrieval={r.retrievalId}>
                <td class="num">{r.seq}</td>
                <td>{fmtTime(r.timeUs)}</td>
                <td>{KINDS[r.kind] ?? r.kind}</td>
                <td>
                  <a href={hashLink('log', r.retrievalId)}>
                    <code>{r.retrievalId}</code>
                  </a>
                </td>
                <td>{r.collection}</td>
                <td class="num">{r.kind === 'LOG_KIND_ANSWER' ? '' : r.version}</td>
                <td class="text">
                  {r.kind === 'LOG_KIND_ANSWER' ? <em>{clip(r.answer, 160)}</em> : clip(r.queryText || r.text || r.filter, 160)}
                  {(r.annotation?.flags ?? []).length > 0 && (
                    <div class="log-flags">
                      <FlagBadges flags={r.annotation.flags} />
                    </div>
                  )}
                </td>
                <td>{r.clientId}</td>
                <td>{r.prompt}</td>
                <td>
                  <code title={r.hash}>{shortHash(r.hash, 10)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor !== '0' && (
        <button disabled={busy} onClick={() => load(applied, cursor, true)}>
          Load more
        </button>
      )}
    </Section>
  );
}

function clip(s: string | undefined, n: number): string {
  if (!s) return '';
  return s.length > n ? s.slice(0, n) + '…' : s;
}
