/// <reference types="node" />
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SeriesPoint } from '../api/types.ts';
import { latest, linePaths, niceMax, peak, redValues } from './chart.ts';
import { msNumber, msText, percentText, rateText } from './figures.ts';

const point = (startMs: number, count: number, errors = 0, p50: number | null = null): SeriesPoint => ({
  startMs,
  count,
  errors,
  ratePerSecond: count / 10,
  p50Ms: p50,
  p99Ms: p50 === null ? null : p50 * 2,
});

describe('RED values for the charts', () => {
  it('leaves out the slot still filling, and turns empty slots into gaps for ratios and latency', () => {
    const series = [point(0, 10, 1, 5), point(10_000, 0), point(20_000, 4, 0, 8), point(30_000, 1, 1, 9)];
    const values = redValues(series, 10_000, 35_000);
    assert.deepEqual(values.times, [0, 10_000, 20_000]);
    assert.deepEqual(values.rate, [1, 0, 0.4]);
    assert.deepEqual(values.errorRate, [0.1, null, 0]);
    assert.deepEqual(values.p50, [5, null, 8]);
    assert.deepEqual(values.p99, [10, null, 16]);
    assert.deepEqual(values.count, [10, 0, 4]);
    // A slot that has just ended counts.
    assert.equal(redValues(series, 10_000, 40_000).times.length, 4);
  });

  it('rounds the top of the axis up to 1, 2, 2.5 or 5 times a power of ten', () => {
    assert.equal(niceMax([0.3, null, 0.7]), 1);
    assert.equal(niceMax([1.2]), 2);
    assert.equal(niceMax([2.1]), 2.5);
    assert.equal(niceMax([3, 4.9]), 5);
    assert.equal(niceMax([70.126], 10), 100);
    assert.equal(niceMax([0.012], 0.001), 0.02);
    assert.equal(niceMax([200]), 200);
    assert.equal(niceMax([], 5), 5);
    assert.equal(niceMax([null, null], 5), 5);
  });

  it('draws a line through neighbours, breaks it at gaps, and dots a value that stands alone', () => {
    const { line, dots } = linePaths([0, 5, null, 10, null, 2.5, 5], 300, 100, 10);
    assert.equal(line, 'M0,100 L50,50 M250,75 L300,50');
    assert.equal(dots, 'M150,0h0');
  });

  it('clamps values to the chart and spreads a single value in the middle', () => {
    assert.deepEqual(linePaths([20, -1], 100, 50, 10), { line: 'M0,0 L100,50', dots: '' });
    assert.deepEqual(linePaths([3], 100, 50, 10), { line: '', dots: 'M50,35h0' });
    assert.deepEqual(linePaths([], 100, 50, 10), { line: '', dots: '' });
    assert.deepEqual(linePaths([1, 2], 100, 50, 0), { line: '', dots: '' });
  });

  it('finds the latest and the largest value past the gaps', () => {
    assert.deepEqual(latest([1, 4, null, 2, null]), { value: 2, index: 3 });
    assert.equal(latest([null, null]), undefined);
    assert.deepEqual(peak([1, 4, null, 2]), { value: 4, index: 1 });
    assert.equal(peak([]), undefined);
  });
});

describe('telemetry figures in words', () => {
  it('gives milliseconds the decimals their size deserves', () => {
    assert.equal(msNumber(0), '0');
    assert.equal(msNumber(0.6459), '0.646');
    assert.equal(msNumber(3.933), '3.93');
    assert.equal(msNumber(24.68), '24.7');
    assert.equal(msNumber(-0.353), '-0.353');
    assert.equal(msNumber(4560.4), '4 560');
    assert.equal(msText(24.68), '24.7 ms');
    assert.equal(msText(1250), '1.25 s');
    assert.equal(msText(61_000), '61.0 s');
  });

  it('writes rates and shares short', () => {
    assert.equal(rateText(0), '0');
    assert.equal(rateText(0.0194), '0.02');
    assert.equal(rateText(1.46), '1.5');
    assert.equal(rateText(42.4), '42');
    assert.equal(percentText(0), '0%');
    assert.equal(percentText(0.005), '0.5%');
    assert.equal(percentText(1), '100%');
  });
});
