import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alertTransition, readSlo, slosOf, type Slo, type SloSlot } from './slo.ts';
import type { Manifest } from '../manifest/model.ts';

const SLOT = 10_000;
const errors: Slo = {
  service: 'a',
  name: 'errors',
  kind: 'error-rate',
  threshold: 0.01,
  forMs: 30_000,
  gate: true,
};
const latency: Slo = {
  service: 'a',
  name: 'latency',
  kind: 'p99',
  threshold: 300,
  forMs: 20_000,
  gate: false,
};

const slots = (...points: [count: number, errors: number, p99: number | null][]): SloSlot[] =>
  points.map(([count, e, p99], i) => ({ startMs: i * SLOT, count, errors: e, p99Ms: p99 }));

describe('service-level objectives', () => {
  it('reads them from the manifest: percentages as fractions, durations as ms', () => {
    const manifest = {
      name: 'x',
      services: {
        a: {
          slos: [
            { name: 'errors', errorRate: 1, for: '5m', gate: true },
            { name: 'latency', p99: '300ms', for: '1m', gate: false },
          ],
        },
      },
    } as unknown as Manifest;
    assert.deepEqual(slosOf(manifest), [
      { service: 'a', name: 'errors', kind: 'error-rate', threshold: 0.01, forMs: 300_000, gate: true },
      { service: 'a', name: 'latency', kind: 'p99', threshold: 300, forMs: 60_000, gate: false },
    ]);
  });

  it('fires only when every slot with traffic of the last `for` missed the objective', () => {
    const twoBad = readSlo(errors, slots([100, 0, 10], [100, 5, 10], [100, 5, 10]), SLOT);
    assert.equal(twoBad.missedForMs, 20_000);
    assert.equal(alertTransition(errors, false, twoBad), undefined, '20 s of a 30 s `for`');
    const threeBad = readSlo(errors, slots([100, 5, 10], [100, 5, 10], [100, 5, 10]), SLOT);
    assert.equal(alertTransition(errors, false, threeBad), 'fired');
    assert.equal(threeBad.value, 0.05);
    // Exactly at the threshold is not over it.
    const atThreshold = readSlo(errors, slots([100, 1, 10], [100, 1, 10], [100, 1, 10]), SLOT);
    assert.equal(alertTransition(errors, false, atThreshold), undefined);
  });

  it('lets idle slots say nothing: they neither break a streak nor resolve', () => {
    const idle = readSlo(latency, slots([10, 0, 900], [0, 0, null], [10, 0, 800]), SLOT);
    assert.equal(idle.missedForMs, 20_000);
    assert.equal(alertTransition(latency, false, idle), 'fired');
    const silent = readSlo(latency, slots([0, 0, null], [0, 0, null]), SLOT);
    assert.equal(silent.value, null);
    assert.equal(alertTransition(latency, true, silent), undefined, 'no traffic does not resolve');
  });

  it('resolves at the first slot with traffic that meets the objective', () => {
    const recovered = readSlo(latency, slots([10, 0, 900], [10, 0, 900], [10, 0, 120]), SLOT);
    assert.equal(recovered.met, true);
    assert.equal(alertTransition(latency, true, recovered), 'resolved');
    assert.equal(alertTransition(latency, false, recovered), undefined);
  });
});
