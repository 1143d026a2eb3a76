// End-to-end test of the console's Monitor view and of the annotation in
// the retrieval view, against the real verityd (docs/monitoring.md): two
// batches of retrievals and answers with a prompt version change between
// them and a knowledge-base change (an upsert) inside the second, one toxic
// answer and one answer-cache hit; then the Monitor view's charts with
// their version markers, the flagged table, a bucket's retrievals and the
// link to the retrieval view showing the annotation.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { api, ARTIFACTS_DIR, startVerityd, type Server } from './verityd.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const WAIT = 15_000;
const CHARTS = ['chart-g', 'chart-retrieval', 'chart-drift', 'chart-toxicity', 'chart-tokens'];

function shot(page: Page, name: string) {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`), fullPage: true });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A time as a datetime-local value in local time (what the view's custom range takes), to the second. */
function localInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const RECORDS = [
  { id: 'refund', vector: [1, 0, 0], text: 'The refund window is 30 days from the date of purchase.' },
  { id: 'support', vector: [0, 1, 0], text: 'Support is open Monday to Friday from 9am to 5pm.' },
  { id: 'shipping', vector: [0, 0, 1], text: 'Shipping to Canada takes five business days.' },
];
const GOOD = 'The refund window is 30 days from the date of purchase.';
const TOXIC = 'The refund window is 30 days, you stupid asshole.';

describe('the Monitor view against a seeded verityd', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let toxicId = '';
  let sinceMs = 0; // the view's range starts here: a whole second, as a datetime-local value can say
  let kbVersion = '';
  const errors: string[] = [];

  /** One retrieval with the prompt and an answer to it; returns the retrieval id. */
  const ask = async (i: number, prompt: string, answer: string) => {
    const r = await api(server, 'ContextService/Retrieve', {
      collection: 'kb',
      vector: [1, 0.02 * (i % 7), 0.01 * (i % 5)],
      queryText: `How long is the refund window? (${i})`,
      k: 2,
      prompt,
      clientId: 'monitor-test',
    });
    await api(server, 'ContextService/RecordAnswer', { retrievalId: r.retrievalId, answer, model: 'test-model' });
    return r.retrievalId as string;
  };

  before(async () => {
    server = await startVerityd();
    await api(server, 'CollectionService/CreateCollection', { config: { name: 'kb', dimension: 3, metric: 'METRIC_COSINE' } });
    await api(server, 'RecordService/Upsert', { collection: 'kb', records: RECORDS });
    for (const template of ['Answer from the context.\n{{context}}\nQ: {{question}}', 'Answer briefly.\n{{context}}\n{{question}}']) {
      await api(server, 'PromptService/CreatePromptVersion', { name: 'qa', template, author: 'monitor-test' });
    }
    sinceMs = Math.floor((Date.now() - 2000) / 1000) * 1000;
    // Batch 1: prompt qa@1 at KB version 1, one toxic answer among them.
    for (let i = 0; i < 12; i++) {
      const id = await ask(i, 'qa@1', i === 5 ? TOXIC : GOOD);
      if (i === 5) toxicId = id;
    }
    await sleep(2500);
    // Batch 2: prompt qa@2; the knowledge base changes halfway (KB version 2).
    for (let i = 0; i < 6; i++) await ask(100 + i, 'qa@2', GOOD);
    await sleep(1500);
    const w = await api(server, 'RecordService/Upsert', {
      collection: 'kb',
      records: [{ id: 'refund-2', vector: [1, 0.01, 0], text: 'Refunds for damaged items are paid within 48 hours.' }],
    });
    kbVersion = String(w.version);
    for (let i = 0; i < 6; i++) await ask(200 + i, 'qa@2', GOOD);
    // An answer-cache hit: tokens saved.
    const src = await ask(300, 'qa@2', GOOD);
    await api(server, 'CacheService/CacheStore', { retrievalId: src, model: 'test-model' });
    const hit = await api(server, 'CacheService/CacheLookup', {
      collection: 'kb',
      vector: [1, 0.02 * (300 % 7), 0.01 * (300 % 5)],
      queryText: 'How long is the refund window? (300)',
      prompt: 'qa@2',
      model: 'test-model',
    });
    assert.equal(hit.match, 'CACHE_MATCH_EXACT', JSON.stringify(hit));

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
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

  const open = async (hash: string) => {
    await page.goto('about:blank');
    await page.goto(`${server.http}/console/${hash}`);
  };

  /** The view's range: from a little before the first retrieval to a little after now, in 1-second buckets. */
  const rangeHash = () =>
    `#/monitor/kb?range=custom&since=${localInput(sinceMs)}&until=${localInput(Date.now() + 3000)}&bucket=1`;

  it('draws every chart with the prompt and KB version markers on its time axis', async () => {
    const hash = rangeHash();
    await open(hash);
    await page.locator('#chart-g').waitFor({ timeout: WAIT });
    for (const id of CHARTS) {
      const chart = page.locator(`#${id}`);
      assert.equal(await chart.count(), 1, id);
      // The prompt rollout qa@1 -> qa@2 and the KB change (the upsert) are marked on every chart.
      assert.equal(await chart.locator('.marker-prompt[data-value="qa@2"]').count(), 1, `${id}: prompt marker`);
      assert.equal(await chart.locator('.marker-prompt[data-value="qa@1"]').count(), 1, `${id}: first prompt`);
      assert.equal(await chart.locator(`.marker-kb[data-value="${kbVersion}"]`).count(), 1, `${id}: KB marker`);
    }
    assert.equal(await page.locator('#chart-g .marker-prompt[data-value="qa@2"] .marker-label').textContent(), 'prompt qa@2');
    assert.equal(await page.locator(`#chart-g .marker-kb[data-value="${kbVersion}"] .marker-label`).textContent(), `KB v${kbVersion}`);
    assert.match(
      (await page.locator('#chart-g .marker-prompt[data-value="qa@2"] title').textContent()) ?? '',
      /prompt qa@2 \(was qa@1\)/,
    );
    // Clicking a marker selects the bucket it falls in: the first retrieval with qa@2 is listed there.
    const m2 = (await api(server, 'MonitorService/GetMonitorReport', { collection: 'kb' })).markers.find((m: any) => m.value === 'qa@2');
    await page.locator('#chart-g .marker-prompt[data-value="qa@2"]').dispatchEvent('click');
    await page.locator(`#bucket-ids li[data-retrieval="${m2.retrievalId}"]`).waitFor({ timeout: WAIT });
    // G is drawn where answers were scored, with the low-G line.
    assert.ok((await page.locator('#chart-g .series.s1 circle').count()) >= 2);
    assert.equal(await page.locator('#chart-g .ref-line').count(), 1);
    // The toxic answer is a bar; the cache hit's savings too.
    assert.equal(await page.locator('#chart-toxicity .series-bar.s2').count(), 1);
    assert.ok((await page.locator('#chart-tokens .series-bar.s4').count()) >= 1, 'tokens saved by the cache hit');
    // The totals agree with the API's report.
    const report = await api(server, 'MonitorService/GetMonitorReport', { collection: 'kb' });
    assert.match(await page.locator('#monitor-totals').innerText(), new RegExp(`${report.totals.retrievals} retrievals · ${report.totals.answers} answers`));
    await shot(page, '10-monitor');
  });

  it('lists the toxic answer in the flagged table, and the cost per prompt version', async () => {
    const row = page.locator(`#flagged-table tr[data-retrieval="${toxicId}"]`);
    await row.waitFor({ timeout: WAIT });
    assert.equal(await row.locator('.flag[data-flag="toxicity"]').count(), 1);
    assert.match(await row.locator('.toxicity-terms').innerText(), /asshole/);
    for (const p of ['qa@1', 'qa@2']) {
      assert.equal(await page.locator(`#prompt-cost-table tr[data-prompt="${p}"]`).count(), 1, p);
    }
    assert.match(await page.locator('#prompt-cost-table tr[data-prompt="qa@1"]').innerText(), /^qa@1\s+12\s/);
    assert.equal(await page.locator('#live-drift-table tr[data-leg="dense"]').count(), 1);
  });

  it('clicking a bucket lists its retrievals, flagged first; a link opens the retrieval view with the annotation', async () => {
    // The bucket of the toxic retrieval, as the report cuts the same range.
    const report = await api(server, 'MonitorService/GetMonitorReport', {
      collection: 'kb',
      sinceUs: String(sinceMs * 1000),
      bucketSeconds: '1',
      idsPerBucket: 50, // as the view asks
    });
    // The bucket of the toxic answer (its retrieval may fall in the bucket before).
    const flagged = report.flagged.find((f: any) => f.retrievalId === toxicId);
    const bucket = report.buckets.find((b: any) => Number(b.startUs) <= Number(flagged.timeUs) && Number(flagged.timeUs) < Number(b.startUs) + 1e6);
    assert.ok(bucket && bucket.retrievalIds.includes(toxicId), JSON.stringify(report.buckets));
    const starts = await page.locator('#chart-g .bucket-hit').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-start'))));
    const index = starts.findIndex((s) => s <= Number(bucket.startUs) && Number(bucket.startUs) < s + 1e6);
    assert.ok(index >= 0, `bucket ${bucket.startUs} in ${starts}`);
    // The column's click (dispatched on it: a marker line or a bar may lie over any given point of it).
    await page.locator(`#chart-toxicity .bucket-hit[data-index="${index}"]`).dispatchEvent('click');
    await page.locator('#bucket-ids li').first().waitFor({ timeout: WAIT });
    const first = page.locator('#bucket-ids li').first();
    assert.equal(await first.getAttribute('data-retrieval'), toxicId, 'flagged first');
    assert.match(await first.getAttribute('class') ?? '', /flagged/);
    assert.equal(await page.locator('#bucket-ids li').count(), new Set(bucket.retrievalIds).size);
    await shot(page, '11-monitor-bucket');

    await first.locator('a').click();
    await page.locator('#annotation-meta').waitFor({ timeout: WAIT });
    assert.equal(page.url().split('#')[1], `/log/${toxicId}`);
    assert.equal(await page.locator('#annotation-flags .flag[data-flag="toxicity"]').count(), 1);
    assert.match(await page.locator('#annotation-toxicity').innerText(), /asshole \(en/);
    // The match's span is marked in the answer, which still reads as recorded.
    assert.equal(await page.locator('#recorded-answer mark.toxic-span').innerText(), 'asshole');
    assert.equal(await page.locator('#recorded-answer').innerText(), TOXIC);
    assert.match(await page.locator('#annotation-tokens').innerText(), /context \d+ · prompt \d+ \(rendered\) · answer \d+/);
    assert.match(await page.locator('#annotation-g').innerText(), /^[01]\.\d{4}$/);
    await shot(page, '12-retrieval-annotation');

    // Recompute: Annotate with recompute, the same signals.
    await page.click('#annotate');
    await page.locator('#annotation-meta:has-text("(on demand)")').waitFor({ timeout: WAIT });
    assert.equal(await page.locator('#recorded-answer mark.toxic-span').innerText(), 'asshole');
  });

  it('the retrieval log shows the flags of an annotated answer', async () => {
    await open('#/log');
    const row = page.locator(`#log-table tr.kind-answer[data-retrieval="${toxicId}"]`);
    await row.waitFor({ timeout: WAIT });
    assert.equal(await row.locator('.flag[data-flag="toxicity"]').count(), 1);
    assert.equal(await page.locator('#log-table tr.kind-retrieval .flag').count(), 0, 'a retrieval record has no annotation');
  });

  it('changes the range through the form, and resets the reference after a confirm', async () => {
    await open('#/monitor');
    await page.locator('#monitor-form select[name=collection]').waitFor({ timeout: WAIT });
    await page.selectOption('#monitor-form select[name=range]', 'hour');
    await page.selectOption('#monitor-form select[name=bucket]', '60');
    await page.click('#monitor-show');
    await page.waitForFunction(() => window.location.hash === '#/monitor/kb?range=hour&bucket=60', undefined, { timeout: WAIT });
    // In an hour, the four markers share the last minute: drawn (a line each), labelled once per row.
    await page.locator('#chart-g .marker-prompt[data-value="qa@2"]').waitFor({ state: 'attached', timeout: WAIT });
    assert.equal(await page.locator('#chart-g .marker').count(), 4);
    // The latest change of each row is the one labelled.
    assert.deepEqual((await page.locator('#chart-g .marker-label').allTextContents()).sort(), [`KB v${kbVersion}`, 'prompt qa@2']);
    assert.equal(await page.locator('#chart-g .bucket-hit').count(), 60);

    // Dismissed: nothing is reset.
    page.once('dialog', (d) => d.dismiss());
    await page.click('#reset-reference');
    await sleep(300);
    assert.equal(await page.locator('#reset-done').count(), 0);
    assert.equal(await page.locator('#live-drift-table tr[data-leg="dense"]').count(), 1);
    // Accepted: the live state is forgotten.
    page.once('dialog', (d) => d.accept());
    await page.click('#reset-reference');
    await page.locator('#reset-done').waitFor({ timeout: WAIT });
    const live = (await api(server, 'MonitorService/GetMonitorReport', { collection: 'kb' })).live ?? [];
    assert.deepEqual(live, []);
    await shot(page, '13-monitor-reset');
  });

  it('logged no error in the page', () => {
    assert.deepEqual(errors, []);
  });
});
