// The monitor's annotation of an answer (LogRecord.annotation, docs/
// monitoring.md) in the retrieval view: its flags, the groundedness G and
// unsupported sentences, the retrieval's weakness, the toxicity matches
// (their spans marked in the answer by AnswerText), the token counts and
// the versions it was computed with; Annotate / Recompute calls
// MonitorService/Annotate.
import { call, fmtNum, fmtTime } from '../api';
import { ErrorBox, Section, useCall } from '../common';
import { num } from '../monitor-data';
import { splitAtBytes } from '../utf8';
import { FlagBadges } from './monitor-tables';

interface Match {
  term: string;
  languages?: string[];
  begin?: number | string;
  end?: number | string;
}

/** The answer with the toxicity matches' byte spans marked (overlapping or out-of-order spans: the text unmarked). */
export function AnswerText({ text, matches, id }: { text: string; matches?: Match[]; id?: string }) {
  const spans = (matches ?? [])
    .map((m) => ({ m, b: num(m.begin), e: num(m.end) }))
    .filter((s) => s.e > s.b)
    .sort((x, y) => x.b - y.b);
  const ordered = spans.every((s, i) => i === 0 || s.b >= spans[i - 1].e);
  if (spans.length === 0 || !ordered) {
    return (
      <div class="answer-text" id={id}>
        {text}
      </div>
    );
  }
  const pieces = splitAtBytes(text, spans.flatMap((s) => [s.b, s.e]));
  return (
    <div class="answer-text" id={id}>
      {pieces.map((p, i) =>
        i % 2 === 1 ? (
          <mark class="toxic-span" title={`${spans[(i - 1) / 2].m.term} (${(spans[(i - 1) / 2].m.languages ?? []).join(', ')})`}>
            {p}
          </mark>
        ) : (
          p
        ),
      )}
    </div>
  );
}

function Groundedness({ a }: { a: any }) {
  if (!a.groundednessScored) {
    return <dd class="small">not scored{a.groundednessError ? `: ${a.groundednessError}` : ''}</dd>;
  }
  const low = (a.flags ?? []).includes('MONITOR_FLAG_LOW_GROUNDEDNESS');
  return (
    <dd>
      G <span class={low ? 'g-low' : 'g'} id="annotation-g">{num(a.g).toFixed(4)}</span> · {a.unsupported} of {a.sentences}{' '}
      scored sentences unsupported <span class="small">(scorer {a.groundednessVersion})</span>
      {(a.unsupportedSentences ?? []).length > 0 && (
        <ul class="unsupported-sentences">
          {a.unsupportedSentences.map((s: string) => (
            <li>{s}</li>
          ))}
        </ul>
      )}
    </dd>
  );
}

function Retrieval({ a }: { a: any }) {
  return (
    <dd>
      {a.leg || 'no'} leg, top-1 {fmtNum(a.top1)}
      {a.referenceReady ? (
        <>
          {' '}
          · weak threshold {fmtNum(a.weakThreshold)} · percentile rank {fmtNum(a.percentileRank, 1)}{' '}
          {a.weakRetrieval ? <span class="bad">weak</span> : <span class="ok">not weak</span>}
        </>
      ) : (
        <span class="small"> (the collection's reference is still being built)</span>
      )}
      <br />
      {a.chunksInContext} of {a.chunks} chunks in the context
      {a.emptyContext && <span class="bad"> · empty context</span>}
      {a.truncatedContext && <span class="bad"> · truncated by the token budget</span>}
    </dd>
  );
}

function Toxicity({ a }: { a: any }) {
  const matches: any[] = a.toxicityMatches ?? [];
  return (
    <dd id="annotation-toxicity">
      {matches.length === 0 ? (
        'no listed term'
      ) : (
        <>
          {matches.map((m) => (
            <span class="token toxic-term" title={`bytes ${m.begin}–${m.end}`}>
              {m.term} <span class="small">({(m.languages ?? []).join(', ')})</span>
            </span>
          ))}
        </>
      )}{' '}
      <span class="small">
        (lexical flag, not a classifier; scorer {a.toxicityScorerVersion}, word list {a.wordListVersion})
      </span>
      {(a.queryToxicityMatches ?? []).length > 0 && (
        <div id="annotation-query-toxicity">
          in the query:{' '}
          {a.queryToxicityMatches.map((m: any) => (
            <span class="token toxic-term">
              {m.term} <span class="small">({(m.languages ?? []).join(', ')})</span>
            </span>
          ))}
        </div>
      )}
    </dd>
  );
}

function AnnotationMeta({ a }: { a: any }) {
  return (
    <dl class="meta" id="annotation-meta">
      <dt>Flags</dt>
      <dd id="annotation-flags">{(a.flags ?? []).length ? <FlagBadges flags={a.flags} /> : <span class="ok">none</span>}</dd>
      <dt>Groundedness</dt>
      <Groundedness a={a} />
      <dt>Retrieval</dt>
      <Retrieval a={a} />
      <dt>Toxicity</dt>
      <Toxicity a={a} />
      <dt>Tokens</dt>
      <dd id="annotation-tokens">
        context {a.contextTokens} · prompt {a.promptTokens} <span class="small">({a.promptTokensSource})</span> · answer{' '}
        {a.answerTokens} <span class="small">({a.answerTokensSource})</span>
        {a.cacheHit && <> · saved by the cache hit {a.tokensSaved}</>}
      </dd>
      <dt>Computed</dt>
      <dd class="small">
        {fmtTime(a.annotatedUs)} {a.onDemand ? '(on demand)' : '(when the answer was recorded)'} · annotation v{a.version} ·
        record seq {a.recordSeq} · KB version {a.kbVersion} · prompt {a.prompt || 'none'} · retrieval risk v
        {a.retrievalRiskVersion}
      </dd>
    </dl>
  );
}

/** The annotation section: the stored annotation (or the one just computed) and the Annotate / Recompute button. */
export function AnnotationPanel({ id, annotation, hasAnswer, onAnnotated }: { id: string; annotation: any; hasAnswer: boolean; onAnnotated: (a: any) => void }) {
  const { busy, error, run } = useCall();
  const annotate = (recompute: boolean) =>
    run(async () => {
      const r = await call('MonitorService', 'Annotate', { retrievalId: id, recompute });
      onAnnotated(r.annotation);
      return r;
    });
  return (
    <Section title="Monitor annotation" id="annotation">
      {annotation ? (
        <AnnotationMeta a={annotation} />
      ) : (
        <p class="empty">{hasAnswer ? 'No annotation stored for this answer.' : 'No answer recorded yet: nothing to annotate.'}</p>
      )}
      {hasAnswer && (
        <button type="button" id="annotate" disabled={busy} onClick={() => annotate(!!annotation)}>
          {busy ? 'Annotating…' : annotation ? 'Recompute' : 'Annotate'}
        </button>
      )}
      <ErrorBox error={error} />
    </Section>
  );
}
