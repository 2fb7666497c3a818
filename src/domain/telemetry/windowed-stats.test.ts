import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WindowedStats } from './windowed-stats.ts';

describe('WindowedStats', () => {
  const T0 = 1_700_000_000_000; // a multiple of 10 s

  it('sums the window, and lets the oldest slot fall off as time moves on', () => {
    const stats = new WindowedStats({ slotMs: 10_000, slots: 6 });
    for (let i = 0; i < 10; i++) stats.record(T0 + 1_000, 10, i === 0);
    for (let i = 0; i < 5; i++) stats.record(T0 + 25_000, 30, false);
    const now = T0 + 29_000;
    const figures = stats.figures(now);
    assert.equal(figures.count, 15);
    assert.equal(figures.errors, 1);
    assert.ok(Math.abs(figures.errorRate - 1 / 15) < 1e-9);
    // 15 requests over the 59 s the window covers (5 whole slots and 9 s of the current one)
    assert.ok(Math.abs(figures.ratePerSecond - 15 / 59) < 1e-9);
    assert.ok(figures.p99Ms! > 28 && figures.p99Ms! < 32);

    assert.equal(stats.figures(T0 + 61_000).count, 5, 'the first slot left the window');
    assert.equal(stats.isEmpty(T0 + 90_000), true);
  });

  it('ignores what is already out of the window, and counts the future as now', () => {
    const stats = new WindowedStats({ slotMs: 10_000, slots: 6 });
    const now = T0 + 100_000;
    stats.record(T0, 5, false, now);
    stats.record(now + 3_600_000, 5, false, now);
    assert.equal(stats.figures(now).count, 1);
  });

  it('gives one point per slot, oldest first, empty slots included', () => {
    const stats = new WindowedStats({ slotMs: 10_000, slots: 3 });
    stats.record(T0 + 5_000, 8, false);
    stats.record(T0 + 25_000, 2, true);
    const series = stats.series(T0 + 25_000);
    assert.deepEqual(
      series.map((p) => [p.startMs - T0, p.count, p.errors, p.ratePerSecond]),
      [
        [0, 1, 0, 0.1],
        [10_000, 0, 0, 0],
        [20_000, 1, 1, 0.1],
      ],
    );
    assert.equal(series[1]!.p50Ms, null);
  });

  it('merges another window slot by slot', () => {
    const a = new WindowedStats({ slotMs: 10_000, slots: 3 });
    const b = new WindowedStats({ slotMs: 10_000, slots: 3 });
    a.record(T0, 1, false);
    b.record(T0, 1, true);
    b.record(T0 + 10_000, 1, false);
    a.mergeFrom(b, T0 + 10_000);
    assert.deepEqual(
      a.series(T0 + 10_000).map((p) => p.count),
      [0, 2, 1],
    );
    assert.equal(a.figures(T0 + 10_000).errors, 1);
  });
});
