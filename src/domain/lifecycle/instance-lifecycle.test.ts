import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  INITIAL_INSTANCE_PHASE,
  INSTANCE_CAUSE_RULES,
  INSTANCE_CAUSES,
  INSTANCE_PHASES,
  INSTANCE_TRANSITIONS,
  isInstancePhase,
  isTerminalInstancePhase,
  transitionInstance,
  type InstanceCause,
  type InstancePhase,
} from './instance-lifecycle.ts';
import { testStateMachine } from './state-machine.case.ts';

const PHASES: InstancePhase[] = [
  'provisioning',
  'starting',
  'ready',
  'running',
  'unhealthy',
  'draining',
  'stopped',
  'failed',
];

const CAUSES: InstanceCause[] = [
  'spawned',
  'adopted',
  'restart',
  'readiness-passed',
  'registered',
  'probe-failed',
  'probe-recovered',
  'exited',
  'start-failed',
  'drain-requested',
  'drained',
  'scale-in',
  'rollout',
  'replaced',
  'destroy',
];

testStateMachine({
  name: 'instance',
  phases: INSTANCE_PHASES,
  causes: INSTANCE_CAUSES,
  initial: INITIAL_INSTANCE_PHASE,
  transitions: INSTANCE_TRANSITIONS,
  causeRules: INSTANCE_CAUSE_RULES,
  transition: transitionInstance,
  isPhase: isInstancePhase,
  expectedPhases: PHASES,
  expectedCauses: CAUSES,
  expectedEdges: [
    'provisioning → starting',
    'provisioning → failed',
    'provisioning → stopped',
    'starting → ready',
    'starting → failed',
    'starting → stopped',
    'ready → running',
    'ready → unhealthy',
    'ready → failed',
    'ready → stopped',
    'running → unhealthy',
    'running → draining',
    'running → failed',
    'unhealthy → running',
    'unhealthy → draining',
    'unhealthy → stopped',
    'unhealthy → failed',
    'draining → stopped',
    'draining → failed',
    'failed → starting',
  ],
  expectedCauseEdges: {
    spawned: ['provisioning → starting'],
    adopted: ['provisioning → starting'],
    restart: ['failed → starting'],
    'readiness-passed': ['starting → ready'],
    registered: ['ready → running'],
    'probe-failed': [
      'ready → unhealthy',
      'running → unhealthy',
      'unhealthy → failed',
      'ready → failed',
      'running → failed',
    ],
    'probe-recovered': ['unhealthy → running'],
    exited: [
      'starting → failed',
      'ready → failed',
      'running → failed',
      'unhealthy → failed',
      'draining → failed',
    ],
    'start-failed': ['provisioning → failed', 'starting → failed'],
    'drain-requested': ['* → draining', '* → stopped'],
    drained: ['draining → stopped'],
    'scale-in': ['* → draining', '* → stopped'],
    rollout: ['* → draining', '* → stopped'],
    replaced: ['* → draining', '* → stopped'],
    destroy: ['* → draining', '* → stopped'],
  },
});

describe('instance lifecycle', () => {
  it('starts every instance in provisioning', () => {
    assert.equal(INITIAL_INSTANCE_PHASE, 'provisioning');
  });

  it('lets nothing leave stopped', () => {
    for (const to of PHASES) {
      for (const cause of CAUSES) assert.equal(transitionInstance('stopped', to, cause).ok, false);
    }
    const verdict = transitionInstance('stopped', 'starting', 'restart');
    assert.ok(!verdict.ok && verdict.reason.includes('terminal'));
  });

  it('lets a failed instance leave only by a restart in place (pets)', () => {
    for (const to of PHASES) {
      for (const cause of CAUSES) {
        const expected = to === 'starting' && cause === 'restart';
        assert.equal(transitionInstance('failed', to, cause).ok, expected, `failed → ${to} (${cause})`);
      }
    }
  });

  it('keeps a registered instance from stopping without a drain', () => {
    for (const cause of CAUSES) assert.equal(transitionInstance('running', 'stopped', cause).ok, false);
    assert.deepEqual(transitionInstance('running', 'draining', 'scale-in'), { ok: true });
    assert.deepEqual(transitionInstance('draining', 'stopped', 'drained'), { ok: true });
  });

  it('enters discovery (running) only by registering or recovering', () => {
    const into = CAUSES.filter((cause) =>
      PHASES.some((from) => transitionInstance(from, 'running', cause).ok),
    );
    assert.deepEqual(into.sort(), ['probe-recovered', 'registered']);
  });

  it('stops an instance that was never registered without a drain', () => {
    for (const from of ['provisioning', 'starting', 'ready'] as const) {
      assert.deepEqual(transitionInstance(from, 'stopped', 'scale-in'), { ok: true }, from);
      assert.equal(transitionInstance(from, 'draining', 'scale-in').ok, false, from);
    }
  });

  it('can take every phase to stopped: no phase traps an instance', () => {
    for (const start of PHASES) {
      const seen = new Set<InstancePhase>([start]);
      const frontier = [start];
      for (let p = frontier.pop(); p !== undefined; p = frontier.pop()) {
        for (const next of INSTANCE_TRANSITIONS[p]) {
          if (!seen.has(next)) {
            seen.add(next);
            frontier.push(next);
          }
        }
      }
      assert.ok(seen.has('stopped'), `${start} cannot reach stopped`);
    }
  });

  it('adopts a found process through readiness, not straight into traffic', () => {
    assert.deepEqual(transitionInstance('provisioning', 'starting', 'adopted'), { ok: true });
    for (const to of PHASES.filter((p) => p !== 'starting')) {
      assert.equal(transitionInstance('provisioning', to, 'adopted').ok, false, to);
    }
  });

  it('explains an illegal transition and a cause that does not fit', () => {
    assert.deepEqual(transitionInstance('running', 'stopped', 'drained'), {
      ok: false,
      reason:
        'illegal instance transition running → stopped (drained): it can go to unhealthy, draining, failed',
    });
    assert.deepEqual(transitionInstance('running', 'failed', 'readiness-passed'), {
      ok: false,
      reason: "cause 'readiness-passed' cannot take instance running → failed: it leads to ready",
    });
  });

  it('calls stopped and failed terminal, nothing else', () => {
    assert.deepEqual(
      PHASES.filter((p) => isTerminalInstancePhase(p)),
      ['stopped', 'failed'],
    );
  });
});
