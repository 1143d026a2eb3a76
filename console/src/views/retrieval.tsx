// One logged retrieval (LogService/GetRetrieval): the query, the chunks, the
// context (chunk texts read back at the logged version), the answer; a
// Replay in each mode with a diff view when the knowledge base moved; and
// the groundedness Audit rendered interactively; the monitor's annotation
// of the answer (annotation.tsx), its toxicity matches marked in the answer.
import { useState } from 'preact/hooks';
import { call, fmtNum, fmtTime } from '../api';
import { ErrorBox, hashLink, Loading, readPoint, Section, useAsync, useCall } from '../common';
import { AnnotationPanel, AnswerText } from './annotation';
import { AuditResult } from './audit';

async function loadRetrieval(id: string) {
  const r = await call('LogService', 'GetRetrieval', { retrievalId: id });
  return r;
}

/** The in-context chunks' texts, read at the logged version (the log keeps only their hashes). */
async function loadContextTexts(rec: any): Promise<Record<string, string | { error: string }>> {
  const out: Record<string, string | { error: string }> = {};
  const chunks: any[] = (rec.chunks ?? []).filter((c: any) => c.inContext);
  await Promise.all(
    chunks.map(async (c) => {
      try {
        const g = await call('RecordService', 'Get', {
          collection: rec.collection,
          id: c.id,
          at: { version: rec.version },
        });
        out[c.id] = g.record?.record?.text ?? '';
      } catch (e) {
        out[c.id] = { error: String(e) };
      }
    }),
  );
  return out;
}

export function RetrievalView({ id }: { id: string }) {
  const r = useAsync(() => loadRetrieval(id), [id]);
  const rec = r.data?.retrieval;
  const answer = r.data?.answer;
  const isCacheHit = rec?.kind === 'LOG_KIND_CACHE_HIT';
  // The answer's annotation: on the answer record, or on the cache hit
  // itself; replaced by the one Annotate / Recompute returns.
  const [computed, setComputed] = useState<any>(undefined);
  const annotation = computed ?? (isCacheHit ? rec?.annotation : answer?.annotation);
  const texts = useAsync(
    () => (rec && !isCacheHit ? loadContextTexts(rec) : Promise.resolve({} as Record<string, any>)),
    [rec?.retrievalId],
  );
  return (
    <div id="retrieval-view">
      <p class="crumbs">
        <a href="#/log">Retrieval log</a> / <code>{id}</code>
      </p>
      <ErrorBox error={r.error} />
      <Loading when={r.loading && !r.data} />
      {rec && (
        <>
          <Section title="Retrieval">
            <dl class="meta" id="retrieval-meta">
              <dt>Retrieval id</dt>
              <dd>
                <code>{rec.retrievalId}</code>
              </dd>
              <dt>Kind</dt>
              <dd>{rec.kind}</dd>
              <dt>Seq</dt>
              <dd>{rec.seq}</dd>
              <dt>Time</dt>
              <dd>{fmtTime(rec.timeUs)}</dd>
              <dt>Collection</dt>
              <dd>
                <a href={hashLink('collections', rec.collection)}>{rec.collection}</a>
              </dd>
              <dt>Version read</dt>
              <dd>
                {rec.version}
                {rec.snapshot ? ` (snapshot ${rec.snapshot})` : ''}
              </dd>
              {isCacheHit && (
                <>
                  <dt>Served from</dt>
                  <dd>
                    <a href={hashLink('log', rec.sourceRetrievalId)}>
                      <code>{rec.sourceRetrievalId}</code>
                    </a>{' '}
                    ({rec.cacheMatch}, similarity {fmtNum(rec.similarity)})
                  </dd>
                </>
              )}
              <dt>Query text</dt>
              <dd class="query-text">{rec.queryText || <em>none</em>}</dd>
              {rec.text && (
                <>
                  <dt>Text leg</dt>
                  <dd>
                    {rec.text} (analyzer v{rec.analyzerVersion})
                  </dd>
                </>
              )}
              <dt>Query vector</dt>
              <dd class="small">
                {(rec.queryVector ?? []).length > 0
                  ? `[${rec.queryVector.map((x: number) => fmtNum(x)).join(', ')}]`
                  : 'none'}
              </dd>
              <dt>k / ef</dt>
              <dd>
                {rec.k} / {rec.ef}
              </dd>
              <dt>Filter</dt>
              <dd>{rec.filter ? <code>{rec.filter}</code> : 'none'}</dd>
              {rec.fusion && (rec.text || rec.sparseField) && (rec.queryVector ?? []).length > 0 && (
                <>
                  <dt>Fusion</dt>
                  <dd>{rec.fusion.method}</dd>
                </>
              )}
              <dt>Token budget</dt>
              <dd>{rec.tokenBudget || 'none'}</dd>
              <dt>Prompt</dt>
              <dd>{rec.prompt || 'none'}</dd>
              <dt>Client</dt>
              <dd>
                {rec.clientId} {rec.clientTraceId && <span class="small">trace {rec.clientTraceId}</span>}
              </dd>
              <dt>Context</dt>
              <dd>
                {rec.contextTokens} tokens, SHA-256 <code>{rec.contextSha256}</code>
              </dd>
              <dt>Record hash</dt>
              <dd>
                <code>{rec.hash}</code>
              </dd>
            </dl>
          </Section>
          {!isCacheHit && (
            <Section title="Chunks and context">
              <table class="data" id="chunks-table">
                <thead>
                  <tr>
                    <th>#</th>
                    <th>Id</th>
                    <th>Row version</th>
                    <th>Distance</th>
                    <th>Score</th>
                    <th>Tokens</th>
                    <th>In context</th>
                    <th>Document</th>
                    <th>Text (read at version {rec.version})</th>
                  </tr>
                </thead>
                <tbody>
                  {(rec.chunks ?? []).map((c: any, i: number) => {
                    const t = texts.data?.[c.id];
                    return (
                      <tr class={c.inContext ? 'chunk-row' : 'chunk-row dim'}>
                        <td class="num">{i + 1}</td>
                        <td>
                          <code>{c.id}</code>
                        </td>
                        <td class="num">{c.rowVersion}</td>
                        <td class="num">{fmtNum(c.distance)}</td>
                        <td class="num">{fmtNum(c.score)}</td>
                        <td class="num">{c.tokens}</td>
                        <td>{c.inContext ? 'yes' : 'no (budget)'}</td>
                        <td>{c.documentId}</td>
                        <td class="text">
                          {typeof t === 'string' ? t : t ? <span class="error small">{t.error}</span> : ''}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </Section>
          )}
          <Section title="Answer" id="answer">
            {answer ? (
              <>
                <AnswerText id="recorded-answer" text={answer.answer} matches={annotation?.toxicityMatches} />
                <p class="small">
                  {answer.model && <>model {answer.model} · </>}
                  {answer.promptTokens} prompt + {answer.completionTokens} completion tokens · recorded{' '}
                  {fmtTime(answer.timeUs)} · seq {answer.seq}
                </p>
              </>
            ) : isCacheHit ? (
              <AnswerText id="recorded-answer" text={rec.answer} matches={annotation?.toxicityMatches} />
            ) : (
              <p class="empty">No answer recorded yet.</p>
            )}
          </Section>
          <AnnotationPanel id={id} annotation={annotation} hasAnswer={!!answer || isCacheHit} onAnnotated={setComputed} />
          <ReplayPanel id={id} />
          <AuditPanel id={id} hasAnswer={!!answer || isCacheHit} />
        </>
      )}
    </div>
  );
}

function ReplayPanel({ id }: { id: string }) {
  const [mode, setMode] = useState('REPLAY_MODE_CONTEXT');
  const [atKind, setAtKind] = useState<'head' | 'version' | 'snapshot'>('head');
  const [atValue, setAtValue] = useState('');
  // The replay and the logged record beside it (for the ranking diff).
  const { busy, error, result: replayed, run: runCall } = useCall<[any, any]>();
  const result = replayed?.[0];
  const logged = replayed?.[1]?.retrieval;

  const run = async (e: Event) => {
    e.preventDefault();
    const body: any = { retrievalId: id, mode };
    if (mode === 'REPLAY_MODE_COUNTERFACTUAL') {
      const at = readPoint(atKind, atValue);
      if (at) body.at = at;
    }
    await runCall(() =>
      Promise.all([call('LogService', 'Replay', body), call('LogService', 'GetRetrieval', { retrievalId: id })]),
    );
  };

  return (
    <Section title="Replay" id="replay">
      <form class="inline-form" onSubmit={run}>
        <label>
          Mode
          <select name="replay-mode" value={mode} onChange={(e) => setMode((e.target as HTMLSelectElement).value)}>
            <option value="REPLAY_MODE_CONTEXT">context — rebuild the logged context, check every hash</option>
            <option value="REPLAY_MODE_RETRIEVAL">retrieval — re-run the query at the logged version, exactly</option>
            <option value="REPLAY_MODE_COUNTERFACTUAL">counterfactual — run it at another version and diff</option>
          </select>
        </label>
        {mode === 'REPLAY_MODE_COUNTERFACTUAL' && (
          <>
            <label>
              At
              <select name="replay-at-kind" value={atKind} onChange={(e) => setAtKind((e.target as HTMLSelectElement).value as any)}>
                <option value="head">head</option>
                <option value="version">version</option>
                <option value="snapshot">snapshot</option>
              </select>
            </label>
            {atKind !== 'head' && (
              <label>
                {atKind === 'version' ? 'Version' : 'Snapshot'}
                <input name="replay-at" value={atValue} onInput={(e) => setAtValue((e.target as HTMLInputElement).value)} />
              </label>
            )}
          </>
        )}
        <button type="submit" disabled={busy} id="replay-submit">
          {busy ? 'Replaying…' : 'Replay'}
        </button>
      </form>
      <ErrorBox error={error} />
      {result && <ReplayResult r={result} logged={logged} />}
    </Section>
  );
}

function ReplayResult({ r, logged }: { r: any; logged: any }) {
  return (
    <div id="replay-result" data-outcome={r.outcome} data-mode={r.mode}>
      <p>
        <span class={`badge outcome-${r.outcome}`}>{r.outcome}</span> {r.mode.replace('REPLAY_MODE_', '').toLowerCase()} replay
        at version <strong>{r.version}</strong>
      </p>
      {r.detail && <p class="detail">{r.detail}</p>}
      {r.mode === 'REPLAY_MODE_CONTEXT' && (
        <>
          <p>
            Context SHA-256 recomputed: <code>{r.contextSha256}</code>{' '}
            {r.contextHashMatches ? <span class="ok">matches the log</span> : <span class="bad">does not match the log</span>}
          </p>
          <table class="data" id="replay-chunks">
            <thead>
              <tr>
                <th>Id</th>
                <th>Row version</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {(r.chunks ?? []).map((c: any) => (
                <tr class={c.status === 'identical' ? '' : 'changed'}>
                  <td>
                    <code>{c.id}</code>
                  </td>
                  <td class="num">{c.rowVersion}</td>
                  <td>{c.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {r.mode === 'REPLAY_MODE_RETRIEVAL' && (
        <p>
          Recall of the logged results against exact search: <strong>{fmtNum(r.recall)}</strong>
          {(r.missed ?? []).length > 0 && (
            <>
              {' '}
              · missed: {(r.missed as string[]).map((m) => <code class="id">{m}</code>)}
            </>
          )}
        </p>
      )}
      {r.mode !== 'REPLAY_MODE_CONTEXT' && logged && <RankDiff r={r} logged={logged} />}
    </div>
  );
}

/**
 * The logged ranking beside the replayed one: each logged chunk with its
 * fate (same rank, moved, row written again, removed), and the chunks the
 * replay added.
 */
function RankDiff({ r, logged }: { r: any; logged: any }) {
  const loggedIds: string[] = (logged.chunks ?? []).map((c: any) => c.id);
  const removed = new Set<string>(r.removed ?? []);
  const added: string[] = r.added ?? [];
  const changed = new Set<string>(r.changed ?? []);
  const moves = new Map<string, any>();
  for (const rc of r.rankChanges ?? []) moves.set(rc.id, rc);
  const unchanged = removed.size === 0 && added.length === 0 && changed.size === 0 && moves.size === 0;

  // The replay's ranking, as far as the response says it.
  const replayRank = new Map<string, number>();
  loggedIds.forEach((id, i) => {
    if (removed.has(id)) return;
    const mv = moves.get(id);
    replayRank.set(id, mv && mv.replayRank >= 0 ? mv.replayRank : i);
  });
  let next = Math.max(-1, ...replayRank.values()) + 1;
  for (const id of added) {
    const mv = moves.get(id);
    replayRank.set(id, mv && mv.replayRank >= 0 ? mv.replayRank : next++);
  }
  const replayed = [...replayRank.entries()].sort((a, b) => a[1] - b[1]).map(([id]) => id);

  return (
    <div class="diff" id="replay-diff">
      <p class="summary">
        {unchanged ? (
          'The same chunks in the same order.'
        ) : (
          <>
            <span class="added">{added.length} added</span> · <span class="removed">{removed.size} removed</span> ·{' '}
            <span class="changed">{changed.size} rewritten</span> · <span class="moved">{moves.size} re-ranked</span>
          </>
        )}
      </p>
      <div class="diff-cols">
        <div>
          <h4>Logged (version {logged.version})</h4>
          <ol class="ranking logged">
            {loggedIds.map((id, i) => {
              const mv = moves.get(id);
              const cls = removed.has(id) ? 'removed' : changed.has(id) ? 'changed' : mv ? 'moved' : 'same';
              return (
                <li class={`diff-item ${cls}`} data-id={id}>
                  <code>{id}</code>{' '}
                  <span class="fate">
                    {removed.has(id)
                      ? 'removed'
                      : mv
                        ? `rank ${i + 1} → ${mv.replayRank + 1}`
                        : changed.has(id)
                          ? 'same rank'
                          : ''}
                    {changed.has(id) ? ' · row written again' : ''}
                  </span>
                </li>
              );
            })}
          </ol>
        </div>
        <div>
          <h4>Replay (version {r.version})</h4>
          <ol class="ranking replayed">
            {replayed.map((id) => {
              const cls = added.includes(id) ? 'added' : changed.has(id) ? 'changed' : moves.has(id) ? 'moved' : 'same';
              return (
                <li class={`diff-item ${cls}`} data-id={id}>
                  <code>{id}</code> <span class="fate">{cls === 'added' ? 'added' : cls === 'changed' ? 'row written again' : ''}</span>
                </li>
              );
            })}
          </ol>
        </div>
      </div>
    </div>
  );
}

function AuditPanel({ id, hasAnswer }: { id: string; hasAnswer: boolean }) {
  const [threshold, setThreshold] = useState('');
  const [answer, setAnswer] = useState('');
  const { busy, error, result, run: runCall } = useCall();
  const run = async (e: Event) => {
    e.preventDefault();
    const body: any = { retrievalId: id };
    if (threshold.trim()) body.threshold = Number(threshold);
    if (answer.trim()) body.answer = answer;
    await runCall(() => call('LogService', 'Audit', body));
  };
  return (
    <Section title="Audit (groundedness)" id="audit">
      <form class="inline-form" onSubmit={run}>
        <label>
          Threshold
          <input name="threshold" placeholder="0.6" size={5} value={threshold} onInput={(e) => setThreshold((e.target as HTMLInputElement).value)} />
        </label>
        <label class="wide">
          Answer to score {hasAnswer ? '(empty = the recorded answer)' : '(no answer recorded: give one)'}
          <textarea name="audit-answer" rows={2} value={answer} onInput={(e) => setAnswer((e.target as HTMLTextAreaElement).value)} />
        </label>
        <button type="submit" disabled={busy} id="audit-submit">
          {busy ? 'Auditing…' : 'Audit'}
        </button>
      </form>
      <ErrorBox error={error} />
      {result && <AuditResult audit={result} />}
    </Section>
  );
}
