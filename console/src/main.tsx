// Verity's web console: a single-page app routed by the URL hash
// (#/collections, #/log/<id>, ...), so that any static file server can
// serve it; verityd serves it at /console/ (--console-dir).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { hasApiKey, setApiKey } from './api';
import { CollectionsView, CollectionView } from './views/collections';
import { LogListView } from './views/log';
import { RetrievalView } from './views/retrieval';
import { VerifyView } from './views/verify';
import { PromptsView, PromptView } from './views/prompts';
import { MetricsView } from './views/metrics';
import { MonitorView } from './views/monitor';
import './style.css';

function currentRoute(): string[] {
  const h = window.location.hash.replace(/^#\/?/, '');
  const [path] = h.split('?');
  return path
    .split('/')
    .filter((p) => p !== '')
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
}

// The key field is deliberately not in a <form> and is never submitted: a
// submitted form with a password field makes the browser offer to save it
// in its password manager, and the key is kept in this page's memory only.
// autocomplete="new-password" keeps the browser from filling in a saved
// password too. The button and the Enter key apply it.
function KeyForm({ onChange }: { onChange: () => void }) {
  const [value, setValue] = useState('');
  const [set, setSet] = useState(hasApiKey());
  const apply = () => {
    setApiKey(value);
    setValue('');
    setSet(hasApiKey());
    onChange();
  };
  return (
    <div class="key-form" role="group" aria-label="API key">
      <label>
        API key{' '}
        <input
          type="password"
          autocomplete="new-password"
          name="verity-api-key"
          placeholder={set ? 'key set (in memory)' : 'none'}
          value={value}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              apply();
            }
          }}
        />
      </label>
      <button type="button" onClick={apply}>
        {set && value === '' ? 'Clear' : 'Use'}
      </button>
      <span class="key-note" title="The key is kept in this page's memory only; reloading the page forgets it.">
        {set ? 'key in memory' : 'no key'}
      </span>
    </div>
  );
}

const NAV: [string, string][] = [
  ['collections', 'Collections'],
  ['log', 'Retrieval log'],
  ['verify', 'Log verify'],
  ['prompts', 'Prompts'],
  ['monitor', 'Monitor'],
  ['metrics', 'Metrics'],
];

function App() {
  const [route, setRoute] = useState(currentRoute());
  const [keyEpoch, setKeyEpoch] = useState(0);
  useEffect(() => {
    const onHash = () => setRoute(currentRoute());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const [section, arg] = route;
  let view;
  switch (section ?? 'collections') {
    case 'collections':
      view = arg ? <CollectionView name={arg} /> : <CollectionsView />;
      break;
    case 'log':
      view = arg ? <RetrievalView id={arg} /> : <LogListView />;
      break;
    case 'verify':
      view = <VerifyView />;
      break;
    case 'prompts':
      view = arg ? <PromptView name={arg} /> : <PromptsView />;
      break;
    case 'monitor':
      view = <MonitorView name={arg} />;
      break;
    case 'metrics':
      view = <MetricsView />;
      break;
    default:
      view = <p class="error">No such page: {window.location.hash}</p>;
  }
  const active = section ?? 'collections';
  return (
    <>
      <header class="top">
        <a class="brand" href="#/collections">
          Verity
        </a>
        <nav>
          {NAV.map(([id, label]) => (
            <a href={`#/${id}`} class={active === id ? 'active' : ''} data-nav={id}>
              {label}
            </a>
          ))}
        </nav>
        <KeyForm onChange={() => setKeyEpoch((e) => e + 1)} />
      </header>
      {/* A new key re-mounts the view, so it loads again with the key. */}
      <main key={`${window.location.hash}#${keyEpoch}`}>{view}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
