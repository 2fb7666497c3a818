import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Slo, SloSlot } from '../alerts/slo.ts';
import { grayVerdict, type GrayWatchFacts } from './gray-verdict.ts';

const SLOT = 10_000;
const START = 1_000_000;
const errors: Slo = {
  service: 'app',
  name: 'errors',
  kind: 'error-rate',
  threshold: 0.01,
  forMs: 20_000,
  gate: true,
};
const latency: Slo = {
  service: 'app',
  name: 'latency',
  kind: 'p99',
  threshold: 300,
  forMs: 10_000,
  gate: true,
};
const ungated: Slo = { ...errors, name: 'soft', gate: false, forMs: 10_000 };

/** Slots from the release on: [count, errors, p99]. */
const slots = (from: number, ...points: [number, number, number | null][]): SloSlot[] =>
  points.map(([count, e, p99], i) => ({ startMs: from + i * SLOT, count, errors: e, p99Ms: p99 }));

const facts = (over: Partial<GrayWatchFacts>): GrayWatchFacts => ({
  gates: [errors],
  slots: {},
  instances: { app: 1 },
  slotMs: SLOT,
  startedMs: START,
  watchMs: 60_000,
  autoPromote: false,
  nowMs: START + 30_000,
  ...over,
});

describe('gray config release verdict', () => {
  it('rolls back when the gray instances miss a gating objective for its `for`, saying which and why', () => {
    const verdict = grayVerdict(
      facts({ slots: { app: slots(START, [50, 10, 5], [50, 20, 5]) }, instances: { app: 2 } }),
    );
    assert.equal(verdict.kind, 'breached');
    assert.ok(verdict.kind === 'breached');
    assert.equal(verdict.service, 'app');
    assert.equal(verdict.objective, 'errors');
    assert.match(
      verdict.reason,
      /^app\/errors: error rate over 1% for 20 s on the 2 instance\(s\) running it \(now 40%\)$/,
    );
  });

  it('does not roll back on a miss shorter than `for`, nor on slots before the release', () => {
    // Only one bad slot since the release: 10 s of a 20 s `for`.
    assert.equal(
      grayVerdict(facts({ slots: { app: slots(START, [50, 0, 5], [50, 25, 5]) } })).kind,
      'watching',
    );
    // The bad slots are the previous release's (they began before the gray one was made).
    const before = slots(START - 2 * SLOT, [50, 25, 5], [50, 25, 5]);
    assert.equal(grayVerdict(facts({ slots: { app: before } })).kind, 'watching');
  });

  it('applies latency gates as well, and ignores objectives that are not gates', () => {
    const slow = grayVerdict(facts({ gates: [latency], slots: { app: slots(START, [50, 0, 900]) } }));
    assert.equal(slow.kind, 'breached');
    const soft = grayVerdict(
      facts({ gates: [ungated], slots: { app: slots(START, [50, 50, 5], [50, 50, 5]) } }),
    );
    assert.equal(soft.kind, 'watching');
  });

  it('idle slots say nothing: an idle gray release neither breaches nor resets a streak', () => {
    const idle = grayVerdict(facts({ slots: { app: slots(START, [50, 10, 5], [0, 0, null], [50, 10, 5]) } }));
    assert.equal(idle.kind, 'breached');
  });

  it('is watched until its watch is over, then promoted with autoPromote, else left to a person', () => {
    const healthy = { app: slots(START, [50, 0, 5], [50, 0, 5]) };
    assert.deepEqual(grayVerdict(facts({ slots: healthy, nowMs: START + 45_000 })), {
      kind: 'watching',
      recheckInMs: 15_000,
    });
    assert.deepEqual(grayVerdict(facts({ slots: healthy, nowMs: START + 60_000 })), { kind: 'healthy' });
    const promoted = grayVerdict(facts({ slots: healthy, nowMs: START + 60_000, autoPromote: true }));
    assert.equal(promoted.kind, 'promote');
  });

  it('never promotes before a breach could have been seen: the longest `for` plus a slot', () => {
    const long: Slo = { ...errors, forMs: 120_000 };
    assert.deepEqual(
      grayVerdict(facts({ gates: [long], watchMs: 10_000, nowMs: START + 60_000, autoPromote: true })),
      {
        kind: 'watching',
        recheckInMs: 70_000,
      },
    );
    // Without gates, the watch alone counts.
    const none = grayVerdict(facts({ gates: [], watchMs: 10_000, nowMs: START + 10_000, autoPromote: true }));
    assert.equal(none.kind, 'promote');
  });
});
