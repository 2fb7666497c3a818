import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LogHistogram } from './histogram.ts';

describe('LogHistogram', () => {
  it('answers every quantile within 5 % of the exact value', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.002, max: 600_000, noNaN: true }), { minLength: 1, maxLength: 500 }),
        fc.constantFrom(0, 0.5, 0.9, 0.99, 1),
        (values, q) => {
          const histogram = new LogHistogram();
          for (const v of values) histogram.record(v);
          const sorted = [...values].sort((a, b) => a - b);
          const exact = sorted[Math.floor(q * (sorted.length - 1))]!;
          const estimate = histogram.quantile(q)!;
          assert.ok(Math.abs(estimate - exact) <= exact * 0.05 + 0.001, `q${q}: ${estimate} vs ${exact}`);
        },
      ),
    );
  });

  it('merges by adding counts, and is empty until something is recorded', () => {
    const a = new LogHistogram();
    const b = new LogHistogram();
    assert.equal(a.quantile(0.5), null);
    for (let i = 1; i <= 50; i++) a.record(i);
    for (let i = 51; i <= 100; i++) b.record(i);
    a.merge(b);
    assert.equal(a.count, 100);
    const p99 = a.quantile(0.99)!;
    assert.ok(Math.abs(p99 - 99) <= 99 * 0.05, String(p99));
  });

  it('puts zero, negative and absurd values in the edge buckets instead of failing', () => {
    const h = new LogHistogram();
    for (const v of [0, -5, Number.NaN, 1e15]) h.record(v);
    assert.equal(h.count, 4);
    assert.equal(h.quantile(0), 0.001);
    assert.ok(h.quantile(1)! > 1e7);
  });
});
