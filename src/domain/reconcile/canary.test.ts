import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CANARY_ACTOR, canaryStep, type CanaryInput } from './canary.ts';

const base: CanaryInput = {
  steps: [10, 50],
  pauseMs: 60_000,
  replicas: 4,
  newVersion: '2.1.0',
  oldVersions: ['2.0.0', '2.0.0', '2.0.0', '2.0.0'],
  split: undefined,
  updatedServing: 0,
  lastServingSinceMs: undefined,
  nowMs: 1_000_000,
};
const ours = (share: number, sinceMs = 900_000) => ({
  weights: { '2.1.0': share, '2.0.0': 100 - share },
  setBy: CANARY_ACTOR,
  sinceMs,
});

describe('canaryStep', () => {
  it('starts with the first step: its share of traffic, and the instances that share needs', () => {
    assert.deepEqual(canaryStep(base), {
      setWeights: { '2.1.0': 10, '2.0.0': 90 },
      maxUpdated: 1,
      recheckInMs: 60_000,
    });
  });

  it('holds a step until its instances serve, then for the pause, then moves on', () => {
    const step = { ...base, split: ours(10) };
    assert.deepEqual(canaryStep(step), { maxUpdated: 1 });
    const serving = { ...step, updatedServing: 1, lastServingSinceMs: 980_000 };
    assert.deepEqual(canaryStep(serving), { maxUpdated: 1, recheckInMs: 40_000 });
    // The next step is watched from when it begins: the controller looks again after a pause.
    assert.deepEqual(canaryStep({ ...serving, nowMs: 1_040_000 }), {
      setWeights: { '2.1.0': 50, '2.0.0': 50 },
      maxUpdated: 2,
      recheckInMs: 60_000,
    });
  });

  it('ends at 100%: no cap on instances, and the split goes once nothing old is left', () => {
    const last = { ...base, split: ours(50), updatedServing: 2, lastServingSinceMs: 0, nowMs: 2_000_000 };
    assert.deepEqual(canaryStep(last), {
      setWeights: { '2.1.0': 100, '2.0.0': 0 },
      maxUpdated: undefined,
      recheckInMs: undefined,
    });
    const full = { ...last, split: ours(100) };
    assert.deepEqual(canaryStep(full), { maxUpdated: undefined });
    assert.deepEqual(canaryStep({ ...full, oldVersions: [] }), { clear: true, maxUpdated: undefined });
  });

  it("leaves an operator's split alone and does not hold for it", () => {
    const split = { weights: { '2.0.0': 100 }, setBy: 'cli', sinceMs: 0 };
    assert.deepEqual(canaryStep({ ...base, split }), { maxUpdated: undefined });
  });

  it('is no canary when the version did not change', () => {
    assert.deepEqual(canaryStep({ ...base, oldVersions: ['2.1.0'] }), {
      clear: false,
      maxUpdated: undefined,
    });
  });

  it('shares the rest among several old versions, and starts over from a split it does not know', () => {
    const decision = canaryStep({ ...base, oldVersions: ['1.9.0', '2.0.0'], split: ours(33) });
    assert.deepEqual(decision.setWeights, { '2.1.0': 10, '1.9.0': 45, '2.0.0': 45 });
  });
});
