// End-to-end tests of the web console: the real verityd serves the built
// console (--console-dir dist) and its HTTP/JSON API; data is seeded over
// that API; Debian's Chromium (playwright-core, headless) drives the pages.
// A screenshot of each view goes to console/test-artifacts/.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { api, ARTIFACTS_DIR, startVerityd, type Server } from './verityd.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const WAIT = 15_000;

async function launch(): Promise<Browser> {
  // --no-sandbox: the tests may run as root (CI containers), where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

function shot(page: Page, name: string) {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`), fullPage: true });
}

/** The bytes [b, e) of `text` (UTF-8), as the audit's offsets count. */
function byteSlice(text: string, b: number, e: number): string {
  return Buffer.from(text, 'utf8').subarray(b, e).toString('utf8');
}

const RECORDS = [
  {
    id: 'refund-1',
    vector: [1, 0, 0],
    documentId: 'handbook',
    // Multi-byte characters before the cited spans: the audit's offsets are UTF-8 bytes.
    text: 'Für Kunden — the refund window is 30 days from the date of purchase. Refunds are paid to the original card.',
    metadata: { section: { stringValue: 'refunds' }, year: { intValue: '2025' } },
  },
  {
    id: 'support-1',
    vector: [0.9, 0.1, 0],
    documentId: 'handbook',
    text: 'Support is open Monday to Friday from 9am to 5pm.',
    metadata: { section: { stringValue: 'support' }, year: { intValue: '2024' } },
  },
  {
    id: 'shipping-1',
    vector: [0.5, 0.5, 0],
    documentId: 'handbook',
    text: 'Shipping to Canada takes five business days.',
    metadata: { section: { stringValue: 'shipping' }, year: { intValue: '2025' } },
  },
  {
    id: 'warranty-1',
    vector: [0, 0, 1],
    documentId: 'warranty',
    text: 'The warranty covers manufacturing defects for two years.',
    metadata: { section: { stringValue: 'warranty' }, year: { intValue: '2023' } },
  },
];

const ANSWER =
  'The refund window is 30 days from the date of purchase. ' +
  'Refunds are paid to the original card. ' +
  'Pirates may also claim a refund in gold doubloons on Sundays — ¡olé!';

describe('console against a seeded verityd', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let retrievalId = '';
  let auditG = NaN;
  const errors: string[] = [];

  before(async () => {
    server = await startVerityd();
    await api(server, 'CollectionService/CreateCollection', {
      config: { name: 'docs', dimension: 3, metric: 'METRIC_COSINE', textIndex: { analyzer: { preset: 'english' } } },
    });
    await api(server, 'RecordService/Upsert', { collection: 'docs', records: RECORDS });
    await api(server, 'PromptService/CreatePromptVersion', {
      name: 'qa',
      template: 'Answer from the context only.\n{{context}}\nQuestion: {{question}}',
      author: 'console-test',
      message: 'first version',
      labels: ['production'],
    });
    await api(server, 'PromptService/CreatePromptVersion', {
      name: 'qa',
      template: 'Answer briefly from the context.\n{{context}}\nQ: {{question}}',
      author: 'console-test',
      message: 'shorter',
      labels: ['staging'],
    });
    const r = await api(server, 'ContextService/Retrieve', {
      collection: 'docs',
      vector: [1, 0.05, 0],
      queryText: 'How long is the refund window?',
      k: 3,
      prompt: 'qa@production',
      clientId: 'console-test',
    });
    retrievalId = r.retrievalId;
    assert.match(retrievalId, /^rtv-/);
    await api(server, 'ContextService/RecordAnswer', { retrievalId, answer: ANSWER, model: 'test-model' });
    await api(server, 'SnapshotService/CreateSnapshot', { collection: 'docs', name: 'before-edit', description: 'as retrieved' });
    // The knowledge base moves on: one chunk rewritten, a closer one added.
    await api(server, 'RecordService/Upsert', {
      collection: 'docs',
      records: [
        { ...RECORDS[1], text: 'Support is open Monday to Saturday from 8am to 6pm.' },
        { id: 'refund-2', vector: [1, 0.04, 0], documentId: 'handbook', text: 'Refunds for damaged items are paid within 48 hours.' },
      ],
    });

    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${String(e)}`));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  // A fresh page load each time (a goto that only changes the hash keeps the page's state).
  const open = async (hash: string) => {
    await page.goto('about:blank');
    await page.goto(`${server.http}/console/${hash}`);
  };

  it('serves the console at /console/ and lists collections', async () => {
    await open('#/collections');
    const row = page.locator('#collections-table tr[data-collection="docs"]');
    await row.waitFor({ timeout: WAIT });
    assert.match(await row.innerText(), /docs\s+3\s+cosine\s+5\s+2/);
    await shot(page, '01-collections');
  });

  it('shows a collection with its versions and snapshots, and searches through the form', async () => {
    await page.click('#collections-table a:text("docs")');
    await page.locator('#versions-table tbody tr').first().waitFor({ timeout: WAIT });
    assert.equal(await page.locator('#versions-table tbody tr').count(), 3); // versions 2, 1, 0
    assert.match(await page.locator('#snapshots-table').innerText(), /before-edit\s+1\s+4/);

    // Hybrid: a vector and a text, fused; then the same at the snapshot.
    await page.fill('textarea[name=vector]', '[1, 0.05, 0]');
    await page.fill('input[name=text]', 'refund window');
    await page.fill('input[name=k]', '3');
    await page.click('#search-submit');
    await page.locator('#hits-table tr.hit').first().waitFor({ timeout: WAIT });
    const ids = await page.locator('#hits-table tr.hit').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    assert.equal(ids.length, 3);
    // refund-1 (text 1st, dense 2nd) and refund-2 (dense 1st, text 2nd) tie under RRF.
    assert.deepEqual(ids.slice(0, 2).sort(), ['refund-1', 'refund-2'], `hybrid hits: ${ids}`);
    assert.equal(await page.locator('#hits-table th:text("Text rank")').count(), 1);
    assert.match(await page.locator('#search-result .summary').innerText(), /3 hits at version 2/);
    await shot(page, '02-collection-search');

    // A filter and a read point: at the snapshot, refund-2 does not exist yet.
    await page.fill('input[name=text]', '');
    await page.fill('input[name=filter]', 'year >= 2025');
    await page.selectOption('select[name=at-kind]', 'snapshot');
    await page.selectOption('select[name=at-snapshot]', 'before-edit');
    await page.click('#search-submit');
    await page.locator('#search-result .summary:has-text("at version 1")').waitFor({ timeout: WAIT });
    const atSnap = await page.locator('#hits-table tr.hit').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    assert.deepEqual(atSnap, ['refund-1', 'shipping-1']);
  });

  it('lists the retrieval log with filters', async () => {
    await open('#/log');
    await page.locator('#log-table tr.log-row').first().waitFor({ timeout: WAIT });
    assert.equal(await page.locator('#log-table tr.log-row').count(), 2); // the retrieval and its answer
    await shot(page, '03-log');
    await page.fill('input[name=client]', 'nobody');
    await page.click('#log-filter');
    await page.locator('text=No log records match.').waitFor({ timeout: WAIT });
    assert.equal(await page.locator('#log-table').count(), 0);
    await page.fill('input[name=client]', 'console-test');
    await page.fill('input[name=prompt]', 'qa@1');
    await page.click('#log-filter');
    await page.locator('#log-table tr.log-row').first().waitFor({ timeout: WAIT });
    assert.equal(await page.locator('#log-table tr.log-row').count(), 2);
    // Only answers: they match through their retrieval's client and prompt.
    await page.selectOption('select[name=kind]', 'LOG_KIND_ANSWER');
    await page.click('#log-filter');
    await page.locator('#log-table tr.kind-retrieval').waitFor({ state: 'detached', timeout: WAIT });
    assert.equal(await page.locator('#log-table tr.log-row').count(), 1);
    assert.equal(await page.locator('#log-table tr.kind-answer').count(), 1);
  });

  it('shows one retrieval and replays it in each mode, with a diff when the KB moved', async () => {
    await open('#/log');
    await page.click(`#log-table tr.kind-retrieval a:has-text("${retrievalId}")`);
    await page.locator('#chunks-table tr.chunk-row').first().waitFor({ timeout: WAIT });
    assert.equal(await page.locator('#chunks-table tr.chunk-row').count(), 3);
    // The context texts are read back at the logged version (before the rewrite).
    await page.locator('#chunks-table:has-text("Support is open Monday to Friday")').waitFor({ timeout: WAIT });
    assert.match(await page.locator('#recorded-answer').innerText(), /gold doubloons/);
    assert.match(await page.locator('#retrieval-meta').innerText(), /qa@1/);

    await page.click('#replay-submit'); // context mode by default
    await page.locator('#replay-result[data-mode="REPLAY_MODE_CONTEXT"]').waitFor({ timeout: WAIT });
    assert.equal(await page.locator('#replay-result').getAttribute('data-outcome'), 'identical');
    assert.match(await page.locator('#replay-result').innerText(), /matches the log/);

    await page.selectOption('select[name=replay-mode]', 'REPLAY_MODE_RETRIEVAL');
    await page.click('#replay-submit');
    await page.locator('#replay-result[data-mode="REPLAY_MODE_RETRIEVAL"]').waitFor({ timeout: WAIT });
    assert.match(await page.locator('#replay-result').innerText(), /Recall of the logged results against exact search: 1/);

    const expected = await api(server, 'LogService/Replay', { retrievalId, mode: 'REPLAY_MODE_COUNTERFACTUAL' });
    assert.equal(expected.outcome, 'differs');
    await page.selectOption('select[name=replay-mode]', 'REPLAY_MODE_COUNTERFACTUAL');
    await page.click('#replay-submit');
    await page.locator('#replay-result[data-mode="REPLAY_MODE_COUNTERFACTUAL"]').waitFor({ timeout: WAIT });
    assert.equal(await page.locator('#replay-result').getAttribute('data-outcome'), 'differs');
    assert.ok(expected.added.includes('refund-2'), JSON.stringify(expected));
    for (const id of expected.added) {
      assert.equal(await page.locator(`#replay-diff .replayed .diff-item.added[data-id="${id}"]`).count(), 1, `added ${id}`);
    }
    for (const id of expected.removed) {
      assert.equal(await page.locator(`#replay-diff .logged .diff-item.removed[data-id="${id}"]`).count(), 1, `removed ${id}`);
    }
    for (const id of expected.changed) {
      assert.equal(await page.locator(`#replay-diff .logged .diff-item.changed[data-id="${id}"]`).count(), 1, `changed ${id}`);
    }
    for (const rc of expected.rankChanges) {
      if (rc.loggedRank < 0 || rc.replayRank < 0) continue;
      const item = page.locator(`#replay-diff .logged .diff-item[data-id="${rc.id}"]`);
      assert.match(await item.innerText(), new RegExp(`rank ${rc.loggedRank + 1} → ${rc.replayRank + 1}`));
    }
    await shot(page, '04-retrieval-replay');

    // Counterfactual at the snapshot: the KB as it was read.
    await page.selectOption('select[name=replay-at-kind]', 'snapshot');
    await page.fill('input[name=replay-at]', 'before-edit');
    await page.click('#replay-submit');
    await page.locator('#replay-result[data-outcome="identical"][data-mode="REPLAY_MODE_COUNTERFACTUAL"]').waitFor({ timeout: WAIT });
  });

  it('audits the answer: sentences highlighted by support, hovering one marks its chunk span', async () => {
    const expected = await api(server, 'LogService/Audit', { retrievalId });
    const sentences: any[] = expected.sentences;
    assert.equal(sentences.length, 3);
    await page.click('#audit-submit');
    await page.locator('#audit-result .sentence').first().waitFor({ timeout: WAIT });
    assert.equal(await page.locator('#audit-result .sentence').count(), 3);
    const verdicts: Record<string, string> = {
      SENTENCE_VERDICT_SUPPORTED: 'supported',
      SENTENCE_VERDICT_UNSUPPORTED: 'unsupported',
      SENTENCE_VERDICT_NOT_SCORED: 'not_scored',
    };
    for (let m = 0; m < sentences.length; m++) {
      const cls = (await page.locator(`#audit-result #s-${m}`).getAttribute('class')) ?? '';
      assert.ok(cls.split(' ').includes(verdicts[sentences[m].verdict]), `sentence ${m}: ${cls}`);
    }
    // The answer reads as recorded, gaps included.
    assert.equal(await page.locator('#answer-text').innerText(), ANSWER);
    const supported = sentences.filter((x) => x.verdict === 'SENTENCE_VERDICT_SUPPORTED').length;
    assert.ok(supported >= 1, JSON.stringify(expected));
    assert.equal(await page.locator('#audit-result .sentence.supported').count(), supported);
    assert.equal(await page.locator('#audit-result').getAttribute('data-g'), Number(expected.g).toFixed(4));
    auditG = Number(expected.g);

    assert.equal(await page.locator('mark.cited-span').count(), 0);
    const m = sentences.findIndex((s) => s.verdict === 'SENTENCE_VERDICT_SUPPORTED' && s.chunkIndex >= 0);
    const s = sentences[m];
    await page.hover(`#audit-result #s-${m}`);
    const mark = page.locator(`#audit-result [data-chunk-index="${s.chunkIndex}"] mark.cited-span`);
    await mark.waitFor({ timeout: WAIT });
    const chunkText = expected.chunks[s.chunkIndex].text;
    assert.equal(await mark.innerText(), byteSlice(chunkText, Number(s.spanBegin), Number(s.spanEnd)));
    assert.equal(await page.locator('mark.cited-span').count(), 1);
    assert.match(await page.locator('#active-citation').innerText(), new RegExp(`chunk ${s.chunkId}`));
    await shot(page, '05-audit-hover');

    // Another sentence marks its own chunk's span; leaving unmarks.
    const m2 = sentences.findIndex((x, i) => i !== m && x.chunkIndex >= 0);
    if (m2 >= 0) {
      const s2 = sentences[m2];
      await page.hover(`#audit-result #s-${m2}`);
      const mark2 = page.locator(`#audit-result [data-chunk-index="${s2.chunkIndex}"] mark.cited-span`);
      await mark2.waitFor({ timeout: WAIT });
      assert.equal(await mark2.innerText(), byteSlice(expected.chunks[s2.chunkIndex].text, Number(s2.spanBegin), Number(s2.spanEnd)));
    }
    await page.mouse.move(1, 1);
    await page.locator('mark.cited-span').waitFor({ state: 'detached', timeout: WAIT });
  });

  it('verifies the log and shows the head hash', async () => {
    const v = await api(server, 'LogService/VerifyLog');
    await open('#/verify');
    await page.locator('#verify-result').waitFor({ timeout: WAIT });
    assert.equal(await page.locator('#verify-status').innerText(), 'chain verifies');
    assert.equal(await page.locator('#head-hash').innerText(), v.headHash);
    await shot(page, '06-verify');
  });

  it('lists prompts, their versions, labels and label history', async () => {
    await open('#/prompts');
    const row = page.locator('#prompts-table tr[data-prompt="qa"]');
    await row.waitFor({ timeout: WAIT });
    assert.match(await row.innerText(), /qa\s+2\s+production → 1\s*staging → 2/);
    await shot(page, '07-prompts');
    await page.click('#prompts-table a:text("qa")');
    await page.locator('#prompt-versions article[data-version="2"]').waitFor({ timeout: WAIT });
    assert.equal(await page.locator('#prompt-versions article').count(), 2);
    assert.match(await page.locator('#prompt-versions article[data-version="1"]').innerText(), /production/);
    assert.equal(await page.locator('#label-history-table tbody tr').count(), 2);
    await shot(page, '08-prompt');
  });

  it('charts latency and the groundedness distribution from /metrics', async () => {
    await open('#/metrics?every=1');
    await page.locator('#latency-table tr[data-method="Search"]').waitFor({ timeout: WAIT });
    await page.locator('#g-chart').waitFor({ timeout: WAIT });
    // Two audits so far (one by the page, one by the test), of the same answer.
    assert.match(await page.locator('#groundedness').innerText(), new RegExp(`2 answers audited · mean G ${auditG.toFixed(4)}`));
    // The page refreshes: a second scrape draws the over-time charts.
    assert.match(await page.locator('#metrics-view').innerText(), /every 1 s/);
    // Calls between scrapes draw the latency and rate over time (differences of scrapes).
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 5; j++) {
        await api(server, 'SearchService/Search', { collection: 'docs', query: { vector: [0, 1, 0], k: 2 } });
      }
      await new Promise((r) => setTimeout(r, 1100));
    }
    await page.locator('#latency-over-time .series.s2 circle').nth(1).waitFor({ timeout: WAIT });
    await page.locator('#rate-over-time .series circle').nth(2).waitFor({ timeout: WAIT });
    await shot(page, '09-metrics');
  });

  it('logged no error in the page', () => {
    assert.deepEqual(errors, []);
  });
});

describe('console with API keys', () => {
  const KEY = 'console-test-admin-key';
  let server: Server;
  let browser: Browser;

  before(async () => {
    const sha = createHash('sha256').update(KEY).digest('hex');
    server = await startVerityd({ keys: `ops admin ${sha}\n` });
    await api(server, 'CollectionService/CreateCollection', { config: { name: 'secret', dimension: 2 } }, KEY);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('asks for a key, sends it as a bearer token, and keeps it in memory only', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.http}/console/#/collections`);
    await page.locator('.error:has-text("UNAUTHENTICATED")').waitFor({ timeout: WAIT });
    assert.match(await page.locator('.error').innerText(), /Enter an API key/);

    // Never a submitted form (the browser would offer to save the key in
    // its password manager), nor a field the browser fills in.
    const field = await page.evaluate(() => {
      const input = document.querySelector('input[name=verity-api-key]') as HTMLInputElement;
      return { inForm: input.closest('form') !== null, forms: document.forms.length, autocomplete: input.getAttribute('autocomplete') };
    });
    assert.deepEqual(field, { inForm: false, forms: 0, autocomplete: 'new-password' });

    await page.fill('input[name=verity-api-key]', KEY);
    await page.click('.key-form button');
    await page.locator('#collections-table tr[data-collection="secret"]').waitFor({ timeout: WAIT });
    assert.equal(await page.inputValue('input[name=verity-api-key]'), '');

    const stored = await page.evaluate(() => ({
      local: localStorage.length,
      session: sessionStorage.length,
      cookie: document.cookie,
    }));
    assert.deepEqual(stored, { local: 0, session: 0, cookie: '' });
    const cookies = await page.context().cookies();
    assert.deepEqual(cookies, []);

    // A reload forgets it.
    await page.reload();
    await page.locator('.error:has-text("UNAUTHENTICATED")').waitFor({ timeout: WAIT });
    assert.equal(await page.locator('.key-note').innerText(), 'no key');

    // Enter in the field applies the key too.
    await page.fill('input[name=verity-api-key]', KEY);
    await page.press('input[name=verity-api-key]', 'Enter');
    await page.locator('#collections-table tr[data-collection="secret"]').waitFor({ timeout: WAIT });
    assert.equal(await page.locator('.key-note').innerText(), 'key in memory');
    await page.close();
  });
});
