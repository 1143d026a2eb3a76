// Unit tests of the console's parsers: the Prometheus text format, the
// UTF-8 byte offsets of the audit, and the Monitor view's data (range,
// request, series, markers).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketCounts, histograms, mergeHistograms, parsePrometheus, quantile, value } from '../src/prom.js';
import { splitAtBytes } from '../src/utf8.js';
import {
  bucketValues,
  flagName,
  markerLabel,
  markerTitle,
  monitorHash,
  niceCeil,
  parseMonitorQuery,
  rangeUs,
  reportRequest,
} from '../src/monitor-data.js';

const TEXT = `# HELP verity_rpc_duration_seconds Time in the server.
# TYPE verity_rpc_duration_seconds histogram
verity_rpc_duration_seconds_bucket{method="Search",le="0.001"} 2
verity_rpc_duration_seconds_bucket{method="Search",le="0.01"} 6
verity_rpc_duration_seconds_bucket{method="Search",le="+Inf"} 10
verity_rpc_duration_seconds_sum{method="Search"} 0.5
verity_rpc_duration_seconds_count{method="Search"} 10
verity_rpc_duration_seconds_bucket{method="Re\\"trieve",le="0.001"} 1
verity_rpc_duration_seconds_bucket{method="Re\\"trieve",le="0.01"} 1
verity_rpc_duration_seconds_bucket{method="Re\\"trieve",le="+Inf"} 1
verity_rpc_duration_seconds_sum{method="Re\\"trieve"} 0.0005
verity_rpc_duration_seconds_count{method="Re\\"trieve"} 1
# TYPE verity_read_only gauge
verity_read_only 0
verity_start_time_seconds 1.7e9 1700000000000
`;

describe('parsePrometheus', () => {
  const scrape = parsePrometheus(TEXT);
  it('reads types, labels with escapes, values and timestamps', () => {
    assert.equal(scrape.types['verity_rpc_duration_seconds'], 'histogram');
    assert.equal(value(scrape, 'verity_read_only'), 0);
    assert.equal(value(scrape, 'verity_start_time_seconds'), 1.7e9);
    const hs = histograms(scrape, 'verity_rpc_duration_seconds');
    assert.deepEqual(hs.map((h) => h.labels.method).sort(), ['Re"trieve', 'Search']);
    const search = hs.find((h) => h.labels.method === 'Search')!;
    assert.equal(search.count, 10);
    assert.equal(search.sum, 0.5);
    assert.deepEqual(search.buckets.map((b) => b.le), [0.001, 0.01, Infinity]);
  });
  it('interpolates quantiles as histogram_quantile does', () => {
    const search = histograms(scrape, 'verity_rpc_duration_seconds').find((h) => h.labels.method === 'Search')!;
    assert.equal(quantile(search, 0.1), 0.0005); // rank 1 of 2 in [0, 0.001]
    assert.ok(Math.abs(quantile(search, 0.4) - 0.0055) < 1e-12); // rank 4: halfway through (0.001, 0.01]
    assert.equal(quantile(search, 0.99), 0.01); // in +Inf: the last finite bound
    assert.deepEqual(
      bucketCounts(search).map((b) => b.count),
      [2, 4, 4],
    );
    const merged = mergeHistograms(histograms(scrape, 'verity_rpc_duration_seconds'))!;
    assert.equal(merged.count, 11);
    assert.deepEqual(merged.buckets.map((b) => b.count), [3, 7, 11]);
  });
});

describe('splitAtBytes', () => {
  it('cuts at UTF-8 byte offsets', () => {
    const text = 'Café über 30 €.';
    // "Café" is 5 bytes; " über" 6 more.
    assert.deepEqual(splitAtBytes(text, [5, 11]), ['Café', ' über', ' 30 €.']);
  });
  it('moves a cut inside a character back to its start, and clamps', () => {
    assert.deepEqual(splitAtBytes('aé', [2]), ['a', 'é']);
    assert.deepEqual(splitAtBytes('abc', [1, 99]), ['a', 'bc', '']);
  });
});

describe('monitor data', () => {
  it('reads the view parameters from the hash query, and writes them back', () => {
    const p = parseMonitorQuery('range=custom&since=2026-12-07T10:00:00&until=2026-12-07T11:00:00&bucket=300&lowG=0.5');
    assert.deepEqual(p, { range: 'custom', since: '2026-12-07T10:00:00', until: '2026-12-07T11:00:00', bucket: 300, lowG: 0.5 });
    assert.equal(parseMonitorQuery(monitorHash('kb', p).split('?')[1]).since, p.since);
    assert.deepEqual(parseMonitorQuery(monitorHash('a b', p).split('?')[1]), p);
    assert.ok(monitorHash('a b', p).startsWith('#/monitor/a%20b?'));
    // Malformed values keep their defaults.
    assert.deepEqual(parseMonitorQuery('range=year&bucket=-5&lowG=2'), { range: 'day', since: '', until: '', bucket: 0, lowG: 0.6 });
    assert.equal(monitorHash('kb', parseMonitorQuery('range=hour&bucket=60')), '#/monitor/kb?range=hour&bucket=60');
  });
  it('turns a range into microseconds and the report request (int64 as strings)', () => {
    const now = 1_800_000_000_000; // ms
    assert.deepEqual(rangeUs(parseMonitorQuery('range=hour'), now), { sinceUs: (now - 3_600_000) * 1000, untilUs: now * 1000 });
    assert.deepEqual(rangeUs(parseMonitorQuery('range=week'), now).sinceUs, (now - 7 * 86_400_000) * 1000);
    const custom = parseMonitorQuery('range=custom&since=2026-12-07T10:00:00');
    assert.deepEqual(rangeUs(custom, now), { sinceUs: new Date('2026-12-07T10:00:00').getTime() * 1000, untilUs: 0 });
    assert.deepEqual(reportRequest('kb', parseMonitorQuery('range=hour&bucket=60&lowG=0.7'), now), {
      collection: 'kb',
      sinceUs: String((now - 3_600_000) * 1000),
      untilUs: String(now * 1000),
      bucketSeconds: '60',
      lowG: 0.7,
      maxFlagged: 200,
      idsPerBucket: 50,
    });
  });
  it('gives G only where answers were scored and the PSI only where drift was computed', () => {
    const buckets = [
      { scored: '0', meanG: 0, driftComputed: false, scorePsi: 0, weak: '3' },
      { scored: '2', meanG: 0.75, driftComputed: true, scorePsi: 0.31, weak: '0' },
    ];
    assert.deepEqual(bucketValues(buckets, 'meanG'), [null, 0.75]);
    assert.deepEqual(bucketValues(buckets, 'scorePsi'), [null, 0.31]);
    assert.deepEqual(bucketValues(buckets, 'weak'), [3, 0]);
  });
  it('labels version markers and flags', () => {
    assert.equal(markerLabel({ kind: 'kb_version', value: '42' }), 'KB v42');
    assert.equal(markerLabel({ kind: 'prompt', value: 'qa@3' }), 'prompt qa@3');
    const m = { timeUs: 5, kind: 'prompt', value: 'qa@3', previous: 'qa@2', retrievalId: 'rtv-1' };
    assert.equal(markerTitle(m, () => 'T'), 'prompt qa@3 (was qa@2) at T; first read by rtv-1');
    assert.equal(markerTitle({ ...m, kind: 'kb_version', value: '7', previous: '' }, () => 'T'), 'KB v7 (first in the range) at T; first read by rtv-1');
    assert.equal(flagName('MONITOR_FLAG_TOXICITY'), 'toxicity');
    assert.equal(flagName('MONITOR_FLAG_LOW_GROUNDEDNESS'), 'low G');
    assert.equal(flagName('MONITOR_FLAG_NEW_ONE'), 'new_one');
  });
  it('rounds a y axis up to 1, 2 or 5 times a power of ten', () => {
    assert.deepEqual([0, 0.3, 1, 7, 12, 480, 5000].map(niceCeil), [1, 0.5, 1, 10, 20, 500, 5000]);
  });
});
