// The bench's latency histogram: fixed log-linear buckets, within 1/32.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Histogram, bucketHigh, bucketOf } from '../../lib/cli/histogram.js';

describe('Histogram buckets', () => {
  it('keep values below 64 ns exact and every larger value within 1/32 of its bucket\'s top', () => {
    for (let v = 0; v < 64; v++) assert.equal(bucketHigh(bucketOf(v)), v);
    for (let v = 64; v < 2 ** 32; v = Math.floor(v * 1.013) + 1) {
      const high = bucketHigh(bucketOf(v));
      assert.ok(high >= v && (high - v) / v <= 1 / 32, `${v} → ${high}`);
    }
    assert.equal(bucketHigh(bucketOf(2 ** 32 - 1)), 2 ** 32 - 1);
  });

  it('are ordered: a larger value never lands in a lower bucket', () => {
    let last = 0;
    for (let v = 0; v < 1e7; v += 997) {
      const bucket = bucketOf(v);
      assert.ok(bucket >= last);
      last = bucket;
    }
  });
});

describe('Histogram percentiles', () => {
  it('gives p50/p90/p99/p99.9 of 1..100000 µs within 3%, and the exact max', () => {
    const h = new Histogram();
    for (let us = 1; us <= 100_000; us++) h.record(us * 1000);
    const s = h.summary();
    assert.equal(s.count, 100_000);
    for (const [got, want] of [[s.p50, 50_000], [s.p90, 90_000], [s.p99, 99_000], [s.p99_9, 99_900]] as const) {
      assert.ok(got >= want && got <= want * (1 + 1 / 32), `${got} for ${want}`);
    }
    assert.equal(s.max, 100_000);
    assert.ok(Math.abs(s.mean - 50_000.5) < 0.1);
  });

  it('caps values beyond 4.3 s in the top bucket but keeps the true max; empty is all zeros', () => {
    const h = new Histogram();
    h.record(10e9);
    h.record(-5);
    assert.equal(h.max, 10e9);
    assert.equal(h.percentile(100), 10e9);
    assert.equal(h.percentile(50), 0);
    assert.deepEqual(new Histogram().summary(), { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p99_9: 0, max: 0 });
  });

  it('merges by adding counts', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 0; i < 100; i++) a.record(1000);
    for (let i = 0; i < 100; i++) b.record(9000);
    a.add(b);
    assert.equal(a.count, 200);
    assert.equal(a.max, 9000);
    assert.ok(a.percentile(50) <= 1000 * 1.04 && a.percentile(51) >= 9000);
  });
});
