import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  MAX_EJECTION_MS,
  inPanic,
  isEjected,
  mayEject,
  newOutlierState,
  recordFailure,
  recordSuccess,
  releaseIfDue,
} from './outlier-detector.ts';
import type { OutlierPolicy } from './outlier-detector.ts';

const policy: OutlierPolicy = {
  consecutiveFailures: 5,
  ejectionTimeMs: 10_000,
  maxEjectedPercent: 50,
  panicThresholdPercent: 50,
};

function failTimes(state = newOutlierState(), times: number, now: number, p = policy): number {
  let until = 0;
  for (let i = 0; i < times; i++) until = recordFailure(state, p, now, 0, 4) || until;
  return until;
}

describe('outlier detection', () => {
  it('ejects after the configured number of consecutive failures, not before', () => {
    const state = newOutlierState();
    assert.equal(failTimes(state, 4, 1000), 0);
    assert.equal(isEjected(state, 1000), false);
    assert.equal(recordFailure(state, policy, 1000, 0, 4), 11_000);
    assert.equal(isEjected(state, 1000), true);
    assert.equal(isEjected(state, 10_999), true);
    assert.equal(isEjected(state, 11_000), false);
  });

  it('starts counting again after a success', () => {
    const state = newOutlierState();
    failTimes(state, 4, 0);
    recordSuccess(state);
    assert.equal(failTimes(state, 4, 0), 0);
    assert.equal(isEjected(state, 0), false);
  });

  it('ejects for longer each time, up to the cap', () => {
    const state = newOutlierState();
    let now = 0;
    const durations: number[] = [];
    for (let round = 0; round < 40; round++) {
      const until = failTimes(state, 5, now);
      durations.push(until - now);
      now = until;
      releaseIfDue(state, now);
    }
    assert.deepEqual(durations.slice(0, 3), [10_000, 20_000, 30_000]);
    assert.equal(Math.max(...durations), MAX_EJECTION_MS);
  });

  it('forgives repeated ejections after a long enough good spell', () => {
    const state = newOutlierState();
    failTimes(state, 5, 0); // 10 s
    releaseIfDue(state, 10_000);
    assert.equal(failTimes(state, 5, 10_000) - 10_000, 20_000);
    releaseIfDue(state, 30_000);
    // Two base intervals of good behaviour forgive two steps.
    assert.equal(failTimes(state, 5, 50_000) - 50_000, 10_000);
  });

  it('never ejects beyond the cap on the share ejected, but always allows one', () => {
    assert.equal(mayEject(50, 0, 4), true);
    assert.equal(mayEject(50, 1, 4), true);
    assert.equal(mayEject(50, 2, 4), false);
    assert.equal(mayEject(50, 0, 1), true);
    assert.equal(mayEject(0, 0, 10), false);
    const state = newOutlierState();
    for (let i = 0; i < 5; i++) assert.equal(recordFailure(state, policy, 0, 2, 4), 0);
    assert.equal(isEjected(state, 0), false);
  });

  it('panics below the threshold of usable endpoints', () => {
    assert.equal(inPanic(50, 1, 2), false);
    assert.equal(inPanic(50, 1, 3), true);
    assert.equal(inPanic(0, 0, 3), false);
    assert.equal(inPanic(50, 0, 0), false);
  });

  it('ejection length is always within [base, max(base, cap)]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600_000 }),
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 30 }),
        (base, gaps) => {
          const p = { ...policy, consecutiveFailures: 1, ejectionTimeMs: base };
          const state = newOutlierState();
          let now = 0;
          for (const gap of gaps) {
            now += gap;
            releaseIfDue(state, now);
            const until = recordFailure(state, p, now, 0, 10);
            if (until === 0) continue;
            assert.ok(until - now >= base && until - now <= Math.max(base, MAX_EJECTION_MS));
            now = until;
          }
        },
      ),
    );
  });
});
