// The prompt registry: every prompt with its labels; one prompt's versions
// (templates, authors, messages) and its label history.
import { call, fmtTime } from '../api';
import { Empty, ErrorBox, hashLink, Loading, Section, useAsync } from '../common';

export function PromptsView() {
  const list = useAsync(() => call('PromptService', 'ListPrompts'), []);
  const prompts: any[] = list.data?.prompts ?? [];
  return (
    <Section title="Prompts" id="prompts-view">
      <ErrorBox error={list.error} />
      <Loading when={list.loading && !list.data} />
      {list.data && prompts.length === 0 && <Empty>No prompts registered.</Empty>}
      {prompts.length > 0 && (
        <table class="data" id="prompts-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Latest version</th>
              <th>Labels</th>
            </tr>
          </thead>
          <tbody>
            {prompts.map((p) => (
              <tr data-prompt={p.name}>
                <td>
                  <a href={hashLink('prompts', p.name)}>{p.name}</a>
                </td>
                <td class="num">{p.latestVersion}</td>
                <td>
                  {Object.entries(p.labels ?? {})
                    .sort()
                    .map(([l, v]) => (
                      <span class="label-chip">
                        {l} → {String(v)}
                      </span>
                    ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

export function PromptView({ name }: { name: string }) {
  const versions = useAsync(() => call('PromptService', 'ListPromptVersions', { name, limit: 0 }), [name]);
  const history = useAsync(() => call('PromptService', 'GetLabelHistory', { name }), [name]);
  const vs: any[] = versions.data?.versions ?? [];
  const moves: any[] = history.data?.moves ?? [];
  return (
    <div id="prompt-view">
      <p class="crumbs">
        <a href="#/prompts">Prompts</a> / <strong>{name}</strong>
      </p>
      <Section title="Versions" id="prompt-versions">
        <ErrorBox error={versions.error} />
        <Loading when={versions.loading && !versions.data} />
        {[...vs].reverse().map((p) => (
          <article class="prompt-version" data-version={p.version}>
            <header>
              <strong>
                {p.name}@{p.version}
              </strong>{' '}
              {(p.labels ?? []).map((l: string) => (
                <span class="label-chip">{l}</span>
              ))}
              <span class="small">
                {' '}
                · {fmtTime(p.createdAtUs)} {p.author && <>· by {p.author}</>}
              </span>
            </header>
            {p.message && <p class="message">{p.message}</p>}
            <pre class="template">{p.template}</pre>
            {(p.variables ?? []).length > 0 && <p class="small">Variables: {p.variables.join(', ')}</p>}
            {p.configJson && <pre class="config">{p.configJson}</pre>}
          </article>
        ))}
      </Section>
      <Section title="Label history" id="label-history">
        <ErrorBox error={history.error} />
        {history.data && moves.length === 0 && <Empty>No label moves.</Empty>}
        {moves.length > 0 && (
          <table class="data" id="label-history-table">
            <thead>
              <tr>
                <th>When</th>
                <th>Label</th>
                <th>From</th>
                <th>To</th>
                <th>By</th>
              </tr>
            </thead>
            <tbody>
              {moves.map((m) => (
                <tr>
                  <td>{fmtTime(m.movedAtUs)}</td>
                  <td>{m.label}</td>
                  <td class="num">{m.previousVersion || '(new)'}</td>
                  <td class="num">{m.version}</td>
                  <td>{m.actor}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </div>
  );
}
