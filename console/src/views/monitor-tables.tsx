// The Monitor view's tables: the range's totals, the flagged answers, the
// cost per prompt version, and the live drift state per leg with the reset
// of the collection's reference (MonitorService/ResetMonitorReference).
import { call, fmtNum, fmtTime } from '../api';
import { Empty, ErrorBox, hashLink, Section, useCall } from '../common';
import { flagClass, flagName, num } from '../monitor-data';

export function FlagBadges({ flags }: { flags: unknown[] }) {
  return (
    <>
      {(flags ?? []).map((f) => (
        <span class={`flag flag-${flagClass(f)}`} data-flag={flagName(f)}>
          {flagName(f)}
        </span>
      ))}
    </>
  );
}

function GCell({ g, scored, lowG }: { g: unknown; scored: boolean; lowG: number }) {
  if (!scored) return <span class="small">not scored</span>;
  return <span class={num(g) < lowG ? 'g-low' : 'g'}>{num(g).toFixed(3)}</span>;
}

function tokensPerAnswer(tokens: number, answers: number): string {
  return answers > 0 ? (tokens / answers).toFixed(0) : '—';
}

/** The range's totals (the report's `totals` bucket). */
export function Totals({ report, lowG }: { report: any; lowG: number }) {
  const t = report.totals ?? {};
  const scored = num(t.scored);
  return (
    <dl class="meta monitor-totals" id="monitor-totals">
      <dt>Range</dt>
      <dd>
        {fmtTime(report.sinceUs)} – {fmtTime(report.untilUs)} · buckets of {fmtNum(num(report.bucketUs) / 1e6, 0)} s
      </dd>
      <dt>Retrievals / answers</dt>
      <dd>
        {t.retrievals} retrievals · {t.answers} answers · {t.cacheHits} cache hits · {t.annotated} annotated
      </dd>
      <dt>Groundedness</dt>
      <dd>
        {scored > 0 ? (
          <>
            mean G <GCell g={t.meanG} scored lowG={lowG} /> · p10 <GCell g={t.gP10} scored lowG={lowG} /> · {t.lowG} of{' '}
            {t.scored} below {lowG}
          </>
        ) : (
          'no scored answer'
        )}
      </dd>
      <dt>Retrieval</dt>
      <dd>
        {t.weak} weak · {t.emptyContext} empty contexts · {t.truncatedContext} truncated
      </dd>
      <dt>Toxicity flags</dt>
      <dd class={num(t.toxic) > 0 ? 'bad' : ''}>{t.toxic}</dd>
      <dt>Tokens</dt>
      <dd>
        context {t.contextTokens} · prompt {t.promptTokens} · answer {t.answerTokens} · saved by the cache {t.tokensSaved}
      </dd>
      <dt>Log records read</dt>
      <dd>
        {report.recordsExamined}
        {report.truncated && <span class="bad"> — stopped at the record limit: the range's end was not reached</span>}
      </dd>
    </dl>
  );
}

/** The flagged answers of the range, oldest first. */
export function FlaggedTable({ report, lowG }: { report: any; lowG: number }) {
  const flagged: any[] = report.flagged ?? [];
  const total = num(report.flaggedTotal);
  return (
    <Section title="Flagged answers" id="flagged">
      {flagged.length === 0 ? (
        <Empty>No flagged answer in the range.</Empty>
      ) : (
        <>
          <p class="small">
            {total > flagged.length ? `The first ${flagged.length} of ${total}` : `${total}`} flagged answers, oldest first.
          </p>
          <table class="data" id="flagged-table">
            <thead>
              <tr>
                <th>Retrieval</th>
                <th>Time</th>
                <th>Flags</th>
                <th>G</th>
                <th>Prompt</th>
                <th>KB version</th>
                <th>Toxicity terms</th>
              </tr>
            </thead>
            <tbody>
              {flagged.map((f) => (
                <tr class="flagged-row" data-retrieval={f.retrievalId}>
                  <td>
                    <a href={hashLink('log', f.retrievalId)}>
                      <code>{f.retrievalId}</code>
                    </a>
                  </td>
                  <td>{fmtTime(f.timeUs)}</td>
                  <td>
                    <FlagBadges flags={f.flags} />
                  </td>
                  <td class="num">
                    <GCell g={f.g} scored={!!f.groundednessScored} lowG={lowG} />
                  </td>
                  <td>{f.prompt}</td>
                  <td class="num">{f.kbVersion}</td>
                  <td class="toxicity-terms">
                    {(f.toxicityTerms ?? []).map((t: string) => (
                      <span class="token">{t}</span>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Section>
  );
}

/** What each prompt version's answers cost, and how grounded they were. */
export function PromptCostTable({ report, lowG }: { report: any; lowG: number }) {
  const prompts: any[] = report.prompts ?? [];
  return (
    <Section title="Cost per prompt version" id="prompt-cost">
      {prompts.length === 0 ? (
        <Empty>No answers in the range.</Empty>
      ) : (
        <table class="data" id="prompt-cost-table">
          <thead>
            <tr>
              <th>Prompt</th>
              <th>Answers</th>
              <th>Scored</th>
              <th>Mean G</th>
              <th>Context tokens</th>
              <th>Prompt tokens</th>
              <th>Answer tokens</th>
              <th>Tokens / answer</th>
              <th>Saved by the cache</th>
            </tr>
          </thead>
          <tbody>
            {prompts.map((p) => {
              const answers = num(p.answers);
              const all = num(p.promptTokens) + num(p.answerTokens);
              return (
                <tr data-prompt={p.prompt}>
                  <td>
                    {/^[^@\s]+@\d+$/.test(p.prompt) ? (
                      <a href={hashLink('prompts', p.prompt.split('@')[0])}>{p.prompt}</a>
                    ) : (
                      p.prompt || <em>none</em>
                    )}
                  </td>
                  <td class="num">{p.answers}</td>
                  <td class="num">{p.scored}</td>
                  <td class="num">
                    <GCell g={p.meanG} scored={num(p.scored) > 0} lowG={lowG} />
                  </td>
                  <td class="num">{p.contextTokens}</td>
                  <td class="num">{p.promptTokens}</td>
                  <td class="num">{p.answerTokens}</td>
                  <td class="num" title="prompt + answer tokens per answer">
                    {tokensPerAnswer(all, answers)}
                  </td>
                  <td class="num">{p.tokensSaved}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function PsiCell({ psi, threshold, ready }: { psi: unknown; threshold: unknown; ready: boolean }) {
  if (!ready) return <span class="small">—</span>;
  const over = num(psi) > num(threshold);
  return (
    <span class={over ? 'bad' : ''}>
      {num(psi).toFixed(3)} <span class="small">/ {num(threshold).toFixed(3)}</span>
    </span>
  );
}

/** The live drift state of each leg since the server started (or the last reset), with the reset button. */
export function LiveDrift({ report, collection, onReset }: { report: any; collection: string; onReset: () => void }) {
  const live: any[] = report.live ?? [];
  const { busy, error, result, run } = useCall();
  const reset = async () => {
    const ok = window.confirm(
      `Reset the monitor reference of "${collection}"? Its weakness references and drift windows are forgotten; ` +
        'the next retrievals rebuild them. Do this after a change you have acknowledged.',
    );
    if (!ok) return;
    await run(() => call('MonitorService', 'ResetMonitorReference', { collection }).then(() => ({ at: Date.now() })));
    onReset();
  };
  return (
    <Section title="Live drift (since the server started or the last reset)" id="live-drift">
      {live.length === 0 ? (
        <Empty>No retrieval observed since the server started (or the reference was reset).</Empty>
      ) : (
        <table class="data" id="live-drift-table">
          <thead>
            <tr>
              <th>Leg</th>
              <th>State</th>
              <th>Score PSI / threshold</th>
              <th>Region PSI / threshold</th>
              <th>Reference / current</th>
              <th>Weak</th>
              <th>Weak threshold</th>
            </tr>
          </thead>
          <tbody>
            {live.map((l) => (
              <tr data-leg={l.leg}>
                <td>{l.leg}</td>
                <td>
                  {l.alarm ? (
                    <span class="badge alarm">drift alarm</span>
                  ) : l.ready ? (
                    <span class="badge quiet">no drift</span>
                  ) : (
                    <span class="badge warming">{l.referenceFrozen ? 'filling the current window' : 'building the reference'}</span>
                  )}
                </td>
                <td class="num">
                  <PsiCell psi={l.scorePsi} threshold={l.scoreThreshold} ready={!!l.ready} />
                </td>
                <td class="num">
                  <PsiCell psi={l.regionPsi} threshold={l.regionThreshold} ready={!!l.ready} />
                </td>
                <td class="num">
                  {l.referenceCount} / {l.currentCount} <span class="small">({l.observations} seen)</span>
                </td>
                <td class="num">
                  {l.weak} of {l.observed}
                </td>
                <td class="num">{l.weakReferenceFrozen ? fmtNum(l.weakThreshold) : <span class="small">building</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        <button type="button" class="danger" id="reset-reference" disabled={busy} onClick={reset}>
          {busy ? 'Resetting…' : 'Reset reference'}
        </button>{' '}
        <span class="small">
          Forgets this collection's weakness references and drift windows (after an acknowledged change, e.g. a new
          knowledge base); the next retrievals rebuild them.
        </span>
      </p>
      {result && (
        <p class="ok" id="reset-done">
          Reference reset at {new Date(result.at).toLocaleTimeString()}.
        </p>
      )}
      <ErrorBox error={error} />
    </Section>
  );
}
