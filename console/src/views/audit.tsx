// The groundedness audit of one answer, interactive: the answer's sentences
// highlighted by verdict (supported / unsupported / not scored, as the
// CLI's `verity audit --html` report colours them); hovering (or focusing,
// or clicking to pin) a sentence marks the span of the chunk it cites in the
// context beside it and shows its citation. The citation list below repeats
// the report's content: chunk, support and its three parts, the excerpt
// with the matched span, missing critical tokens, dropped negations and the
// version 3 signals.
import { useEffect, useRef, useState } from 'preact/hooks';
import { fmtNum } from '../api';
import { splitAtBytes } from '../utf8';

const VERDICT: Record<string, string> = {
  SENTENCE_VERDICT_SUPPORTED: 'supported',
  SENTENCE_VERDICT_UNSUPPORTED: 'unsupported',
  SENTENCE_VERDICT_NOT_SCORED: 'not_scored',
};

function verdictOf(s: any): string {
  return VERDICT[s.verdict] ?? 'not_scored';
}

function isScored(s: any): boolean {
  return verdictOf(s) !== 'not_scored';
}

/** The answer cut into [gap, sentence, gap, sentence, ..., gap] when the offsets fit it. */
function answerPieces(answer: string, sentences: any[]): string[] | undefined {
  const cuts: number[] = [];
  let last = 0;
  for (const s of sentences) {
    const b = Number(s.begin);
    const e = Number(s.end);
    if (!(b >= last && e >= b)) return undefined;
    cuts.push(b, e);
    last = e;
  }
  const pieces = splitAtBytes(answer, cuts);
  for (let m = 0; m < sentences.length; m++) if (pieces[2 * m + 1] !== sentences[m].text) return undefined;
  return pieces;
}

interface Span {
  chunk: number;
  begin: number;
  end: number;
}

function spansOf(s: any): Span[] {
  const out: Span[] = [];
  if (!s || !isScored(s)) return out;
  if (s.chunkIndex !== undefined && s.chunkIndex >= 0) {
    out.push({ chunk: s.chunkIndex, begin: Number(s.spanBegin ?? 0), end: Number(s.spanEnd ?? 0) });
  }
  if (s.secondChunkIndex !== undefined && s.secondChunkIndex !== null && s.secondChunkIndex >= 0) {
    out.push({ chunk: s.secondChunkIndex, begin: Number(s.secondSpanBegin ?? 0), end: Number(s.secondSpanEnd ?? 0) });
  }
  return out;
}

function ChunkText({ text, span }: { text: string; span?: Span }) {
  if (!span || span.end <= span.begin) return <>{text}</>;
  const [before, mid, after] = splitAtBytes(text, [span.begin, span.end]);
  return (
    <>
      {before}
      <mark class="cited-span">{mid}</mark>
      {after}
    </>
  );
}

function Excerpt({ text, begin, end, context = 160 }: { text: string; begin: number; end: number; context?: number }) {
  if (end < begin) return <blockquote class="excerpt">(matched span outside the chunk text)</blockquote>;
  const [head, before, mid, after, tail] = splitAtBytes(text, [Math.max(0, begin - context), begin, end, end + context]);
  return (
    <blockquote class="excerpt">
      {head ? '…' : ''}
      {before}
      <mark class="match">{mid}</mark>
      {after}
      {tail ? '…' : ''}
    </blockquote>
  );
}

function Tokens({ cls, label, tokens }: { cls: string; label: string; tokens?: string[] }) {
  if (!tokens || tokens.length === 0) return null;
  return (
    <div class={cls}>
      {label}{' '}
      {tokens.map((t) => (
        <span class="token">{t}</span>
      ))}
    </div>
  );
}

function Citation({ s, chunks }: { s: any; chunks: any[] }) {
  const verdict = verdictOf(s);
  const chunk = s.chunkIndex >= 0 ? chunks[s.chunkIndex] : undefined;
  const second = s.secondChunkIndex !== undefined && s.secondChunkIndex >= 0 ? chunks[s.secondChunkIndex] : undefined;
  return (
    <>
      <div class="citation-head">
        <span class="verdict">{verdict}</span> ·{' '}
        {s.chunkIndex < 0 ? (
          'no retrieved chunk shares a content word with this sentence'
        ) : (
          <>
            chunk <code class="chunk-id">{s.chunkId}</code> (#{s.chunkIndex}) · support{' '}
            <span class="support">{fmtNum(s.support)}</span>{' '}
            <span class="components">
              (tokens {fmtNum(s.tokenPrecision)}, ROUGE-L {fmtNum(s.rougeLPrecision)}, trigrams {fmtNum(s.trigramContainment)})
            </span>
          </>
        )}
      </div>
      {chunk && <Excerpt text={chunk.text} begin={Number(s.spanBegin)} end={Number(s.spanEnd)} />}
      {second && (
        <>
          <div class="second-chunk">
            and chunk <code class="second-chunk-id">{s.secondChunkId}</code> (#{s.secondChunkIndex})
          </div>
          <Excerpt text={second.text} begin={Number(s.secondSpanBegin)} end={Number(s.secondSpanEnd)} />
        </>
      )}
      <Tokens cls="missing" label="Missing critical tokens:" tokens={s.missingCritical} />
      <Tokens cls="conflicts" label="Negations in the source that the sentence drops:" tokens={s.conflictingNegations} />
      <Tokens cls="contradictions" label="Contradicted by an antonym in the source (sentence/source):" tokens={s.contradictions} />
      <Tokens cls="roles" label="Words whose neighbours come from another clause of the source:" tokens={s.roleConflicts} />
      {s.shortEvidence && <div class="short-evidence">Short sentence without an exact phrase, name or number in the source</div>}
      {s.matchSupport !== undefined && s.matchSupport !== s.support && s.matchSupport > 0 && (
        <div class="penalised">
          Support before the role and contradiction penalties: <span class="match-support">{fmtNum(s.matchSupport)}</span>
        </div>
      )}
    </>
  );
}

export function AuditResult({ audit, lowG = 0.5 }: { audit: any; lowG?: number }) {
  const sentences: any[] = audit.sentences ?? [];
  const chunks: any[] = audit.chunks ?? [];
  const [hover, setHover] = useState<number | undefined>(undefined);
  const [pinned, setPinned] = useState<number | undefined>(undefined);
  const active = hover ?? pinned;
  const activeSpans = active !== undefined ? spansOf(sentences[active]) : [];
  const contextRef = useRef<HTMLDivElement>(null);

  // Bring the cited chunk into view in the context pane.
  useEffect(() => {
    if (activeSpans.length === 0 || !contextRef.current) return;
    const el = contextRef.current.querySelector(`[data-chunk-index="${activeSpans[0].chunk}"] mark.cited-span`);
    if (el && 'scrollIntoView' in el) (el as HTMLElement).scrollIntoView({ block: 'nearest' });
  }, [active]);

  const pieces = answerPieces(audit.answer ?? '', sentences);
  const g = Number(audit.g ?? 0);
  const low = (audit.scored ?? 0) > 0 && g < lowG;

  const sentenceEl = (s: any, m: number) => (
    <span
      class={`sentence ${verdictOf(s)}${active === m ? ' active' : ''}${pinned === m ? ' pinned' : ''}`}
      id={`s-${m}`}
      data-index={m}
      data-support={isScored(s) ? fmtNum(s.support) : undefined}
      tabIndex={0}
      onMouseEnter={() => setHover(m)}
      onMouseLeave={() => setHover(undefined)}
      onFocus={() => setHover(m)}
      onBlur={() => setHover(undefined)}
      onClick={() => setPinned(pinned === m ? undefined : m)}
    >
      {s.text}
    </span>
  );

  return (
    <div class="audit" id="audit-result" data-g={g.toFixed(4)}>
      <dl class="meta">
        <dt>G</dt>
        <dd>
          <span class={low ? 'g g-low' : 'g'}>{fmtNum(g)}</span> ({audit.supported} of {audit.scored} scored sentences
          supported; {sentences.length} sentences)
        </dd>
        <dt>Threshold</dt>
        <dd>{fmtNum(audit.threshold)}</dd>
        <dt>Scorer</dt>
        <dd>{audit.scorerVersion}</dd>
        <dt>Answer</dt>
        <dd>{audit.answerRecorded ? 'as recorded' : 'given with the request'}</dd>
        {audit.sourceRetrievalId && (
          <>
            <dt>Cache hit of</dt>
            <dd>
              <code>{audit.sourceRetrievalId}</code>
            </dd>
          </>
        )}
      </dl>
      <p class="legend">
        <span class="supported">supported</span>
        <span class="unsupported">unsupported</span>
        <span class="not_scored">not scored</span> — hover a sentence to see the span of the chunk it cites; click to pin it.
      </p>
      <div class="audit-panes">
        <div class="pane">
          <h3>Answer</h3>
          <div class="answer-text" id="answer-text">
            {pieces
              ? sentences.map((s, m) => (
                  <>
                    {pieces[2 * m]}
                    {sentenceEl(s, m)}
                  </>
                ))
              : sentences.map((s, m) => (
                  <>
                    {m > 0 ? ' ' : ''}
                    {sentenceEl(s, m)}
                  </>
                ))}
            {pieces ? pieces[pieces.length - 1] : ''}
          </div>
          {active !== undefined && sentences[active] && (
            <div class={`active-citation ${verdictOf(sentences[active])}`} id="active-citation">
              <strong>Sentence {active + 1}</strong>
              {isScored(sentences[active]) ? (
                <Citation s={sentences[active]} chunks={chunks} />
              ) : (
                <div>not scored: no content words</div>
              )}
            </div>
          )}
        </div>
        <div class="pane context" ref={contextRef}>
          <h3>Context ({chunks.length} chunks)</h3>
          {chunks.map((c, i) => {
            const span = activeSpans.find((sp) => sp.chunk === i);
            return (
              <div class={`chunk${span ? ' cited' : ''}`} data-chunk-index={i} data-chunk-id={c.id}>
                <div class="chunk-head">
                  #{i} <code>{c.id}</code>
                </div>
                <div class="chunk-text">
                  <ChunkText text={c.text} span={span} />
                </div>
              </div>
            );
          })}
        </div>
      </div>
      <h3>Citations</h3>
      <ol class="citations">
        {sentences.map((s, m) =>
          isScored(s) ? (
            <li
              class={`citation ${verdictOf(s)}`}
              id={`c-${m}`}
              value={m + 1}
              onMouseEnter={() => setHover(m)}
              onMouseLeave={() => setHover(undefined)}
            >
              <Citation s={s} chunks={chunks} />
            </li>
          ) : null,
        )}
      </ol>
    </div>
  );
}
