import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  INITIAL_SERVICE_PHASE,
  isServicePhase,
  SERVICE_CAUSE_RULES,
  SERVICE_CAUSES,
  SERVICE_PHASES,
  SERVICE_TRANSITIONS,
  transitionService,
  type ServiceCause,
  type ServicePhase,
} from './service-lifecycle.ts';
import { testStateMachine } from './state-machine.case.ts';

const PHASES: ServicePhase[] = [
  'deploying',
  'running',
  'updating',
  'rolling-back',
  'scaling',
  'degraded',
  'failed',
  'destroying',
  'offline',
];

const CAUSES: ServiceCause[] = [
  'deploy',
  'rollout',
  'rollback',
  'scale',
  'destroy',
  'converged',
  'below-desired',
  'restarts-exhausted',
  'crash-loop',
  'cannot-start',
  'destroyed',
  'scaled-to-zero',
];

testStateMachine({
  name: 'service',
  phases: SERVICE_PHASES,
  causes: SERVICE_CAUSES,
  initial: INITIAL_SERVICE_PHASE,
  transitions: SERVICE_TRANSITIONS,
  causeRules: SERVICE_CAUSE_RULES,
  transition: transitionService,
  isPhase: isServicePhase,
  expectedPhases: PHASES,
  expectedCauses: CAUSES,
  expectedEdges: [
    'offline → deploying',
    'offline → scaling',

    'deploying → running',
    'deploying → degraded',
    'deploying → failed',
    'deploying → updating',
    'deploying → scaling',
    'deploying → destroying',
    'deploying → offline',

    'running → degraded',
    'running → failed',
    'running → updating',
    'running → rolling-back',
    'running → scaling',
    'running → destroying',

    'degraded → running',
    'degraded → failed',
    'degraded → updating',
    'degraded → rolling-back',
    'degraded → scaling',
    'degraded → destroying',
    'degraded → offline',

    'failed → running',
    'failed → degraded',
    'failed → deploying',
    'failed → updating',
    'failed → rolling-back',
    'failed → scaling',
    'failed → destroying',
    'failed → offline',

    'updating → running',
    'updating → degraded',
    'updating → failed',
    'updating → rolling-back',
    'updating → scaling',
    'updating → destroying',

    'rolling-back → running',
    'rolling-back → degraded',
    'rolling-back → failed',
    'rolling-back → updating',
    'rolling-back → scaling',
    'rolling-back → destroying',

    'scaling → running',
    'scaling → degraded',
    'scaling → failed',
    'scaling → updating',
    'scaling → rolling-back',
    'scaling → destroying',
    'scaling → offline',

    'destroying → offline',
    'destroying → deploying',
  ],
  expectedCauseEdges: {
    deploy: ['* → deploying'],
    rollout: ['* → updating'],
    rollback: ['* → rolling-back'],
    scale: ['* → scaling'],
    destroy: ['* → destroying'],
    converged: ['* → running'],
    'below-desired': ['* → degraded'],
    'restarts-exhausted': ['* → failed'],
    'crash-loop': ['* → failed'],
    'cannot-start': ['* → failed'],
    destroyed: ['* → offline'],
    'scaled-to-zero': ['* → offline'],
  },
});

describe('service lifecycle', () => {
  it('starts every service offline', () => {
    assert.equal(INITIAL_SERVICE_PHASE, 'offline');
  });

  it('has no terminal phase: a service can always be redeployed or destroyed', () => {
    for (const p of PHASES) assert.ok(SERVICE_TRANSITIONS[p].length > 0, p);
    for (const p of PHASES.filter((p) => p !== 'offline')) {
      const ways = [...SERVICE_TRANSITIONS[p]];
      assert.ok(ways.includes('destroying') || ways.includes('offline'), `${p} cannot be taken down`);
    }
  });

  it('brings an offline service back only by deploying (or scaling adopted orphans)', () => {
    assert.deepEqual(
      PHASES.filter((to) => CAUSES.some((cause) => transitionService('offline', to, cause).ok)),
      ['deploying', 'scaling'],
    );
  });

  it('lets a destroy end only offline, or redeployed when the service is declared again', () => {
    assert.deepEqual(
      PHASES.filter((to) => CAUSES.some((cause) => transitionService('destroying', to, cause).ok)),
      ['deploying', 'offline'],
    );
    assert.equal(transitionService('destroying', 'offline', 'destroyed').ok, true);
  });

  it('never re-enters deploying once the service has been running', () => {
    const into = PHASES.filter((from) => transitionService(from, 'deploying', 'deploy').ok);
    assert.deepEqual(into, ['failed', 'destroying', 'offline']);
  });

  it('never takes a service offline while an update or rollback holds live instances', () => {
    for (const from of ['running', 'updating', 'rolling-back'] as const) {
      for (const cause of ['destroyed', 'scaled-to-zero'] as const) {
        assert.equal(transitionService(from, 'offline', cause).ok, false, `${from} (${cause})`);
      }
    }
  });
});
