// Unit tests of the console's parsers: the Prometheus text format and the
// UTF-8 byte offsets of the audit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketCounts, histograms, mergeHistograms, parsePrometheus, quantile, value } from '../src/prom.js';
import { splitAtBytes } from '../src/utf8.js';

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
