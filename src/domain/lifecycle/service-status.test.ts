import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { INSTANCE_PHASES, type InstancePhase } from './instance-lifecycle.ts';
import { SERVICE_CAUSE_RULES, transitionService, type ServicePhase } from './service-lifecycle.ts';
import {
  SERVICE_OPERATIONS,
  serviceStatus,
  type InstanceFact,
  type ServiceFacts,
  type ServiceOperation,
} from './service-status.ts';

const V1 = '1.0.0';
const V2 = '2.0.0';

/** `n` instances in `phase`, on `version` (the target, V2, unless told). */
function many(n: number, phase: InstancePhase, version = V2): InstanceFact[] {
  return Array.from({ length: n }, () => ({ phase, version }));
}

function facts(partial: Partial<ServiceFacts>): ServiceFacts {
  return { desired: 3, targetVersion: V2, instances: [], restartsExhausted: false, ...partial };
}

describe('serviceStatus precedence', () => {
  const cases: { rule: string; facts: ServiceFacts; phase: ServicePhase; cause: string }[] = [
    // 1. desired 0 and nothing live → offline
    {
      rule: '1 offline: scaled to zero, only stopped and failed left',
      facts: facts({ desired: 0, instances: [...many(2, 'stopped'), ...many(1, 'failed')] }),
      phase: 'offline',
      cause: 'scaled-to-zero',
    },
    {
      rule: '1 offline: at the end of a destroy',
      facts: facts({ desired: 0, operation: 'destroy', instances: many(1, 'stopped') }),
      phase: 'offline',
      cause: 'destroyed',
    },
    {
      rule: '1 offline beats exhausted restarts and a lingering rollout',
      facts: facts({
        desired: 0,
        operation: 'rollout',
        restartsExhausted: true,
        instances: many(1, 'failed'),
      }),
      phase: 'offline',
      cause: 'scaled-to-zero',
    },
    // 2. destroy in progress → destroying
    {
      rule: '2 destroying while instances drain',
      facts: facts({
        desired: 0,
        operation: 'destroy',
        instances: [...many(1, 'draining'), ...many(1, 'running')],
      }),
      phase: 'destroying',
      cause: 'destroy',
    },
    {
      rule: '2 destroying beats exhausted restarts',
      facts: facts({
        desired: 0,
        operation: 'destroy',
        restartsExhausted: true,
        instances: many(1, 'starting'),
      }),
      phase: 'destroying',
      cause: 'destroy',
    },
    // 3. rollback in progress → rolling-back
    {
      rule: '3 rolling-back',
      facts: facts({ operation: 'rollback', targetVersion: V1, instances: [...many(2, 'running', V2)] }),
      phase: 'rolling-back',
      cause: 'rollback',
    },
    {
      rule: '3 rolling-back beats exhausted restarts: the rollback is the answer to them',
      facts: facts({ operation: 'rollback', restartsExhausted: true, instances: many(3, 'failed') }),
      phase: 'rolling-back',
      cause: 'rollback',
    },
    // 4. restarts exhausted and nothing running → failed
    {
      rule: '4 failed: pet exhausted its restarts, nothing running',
      facts: facts({ desired: 1, restartsExhausted: true, instances: many(1, 'failed') }),
      phase: 'failed',
      cause: 'restarts-exhausted',
    },
    {
      rule: '4 failed beats a rollout that cannot progress',
      facts: facts({
        operation: 'rollout',
        restartsExhausted: true,
        instances: [...many(1, 'failed'), ...many(1, 'unhealthy')],
      }),
      phase: 'failed',
      cause: 'restarts-exhausted',
    },
    {
      rule: '4 failed beats a deploy that cannot progress',
      facts: facts({ operation: 'deploy', restartsExhausted: true, instances: many(3, 'failed') }),
      phase: 'failed',
      cause: 'restarts-exhausted',
    },
    {
      rule: '4 does not apply while something still runs: degraded',
      facts: facts({ restartsExhausted: true, instances: [...many(1, 'failed'), ...many(2, 'running')] }),
      phase: 'degraded',
      cause: 'below-desired',
    },
    {
      rule: '4 counts a running instance of any version as still running',
      facts: facts({ desired: 1, restartsExhausted: true, instances: many(1, 'running', V1) }),
      phase: 'degraded',
      cause: 'below-desired',
    },
    // 5. rollout in progress → updating
    {
      rule: '5 updating, even with every desired instance already on the target',
      facts: facts({ operation: 'rollout', instances: many(3, 'running') }),
      phase: 'updating',
      cause: 'rollout',
    },
    // 6. scale in progress → scaling
    {
      rule: '6 scaling out',
      facts: facts({
        desired: 5,
        operation: 'scale',
        instances: [...many(3, 'running'), ...many(2, 'starting')],
      }),
      phase: 'scaling',
      cause: 'scale',
    },
    {
      rule: '6 scaling to zero while the last instance drains',
      facts: facts({ desired: 0, operation: 'scale', instances: many(1, 'draining') }),
      phase: 'scaling',
      cause: 'scale',
    },
    // 7. deploy in progress → deploying
    {
      rule: '7 deploying',
      facts: facts({ operation: 'deploy', instances: many(3, 'provisioning') }),
      phase: 'deploying',
      cause: 'deploy',
    },
    // 8. desired 0, instances left, no operation → scaling
    {
      rule: '8 scaling: asked for zero, instances left that nobody removes yet',
      facts: facts({ desired: 0, instances: many(2, 'running') }),
      phase: 'scaling',
      cause: 'scale',
    },
    {
      rule: '8 scaling: adopted orphans of a service that wants none',
      facts: facts({ desired: 0, instances: many(1, 'starting') }),
      phase: 'scaling',
      cause: 'scale',
    },
    // 9. running on target ≥ desired → running
    {
      rule: '9 running: all desired running on the target',
      facts: facts({ instances: many(3, 'running') }),
      phase: 'running',
      cause: 'converged',
    },
    {
      rule: '9 running: a surplus (or stragglers) does not make it less converged',
      facts: facts({ instances: [...many(4, 'running'), ...many(1, 'draining', V1), ...many(1, 'failed')] }),
      phase: 'running',
      cause: 'converged',
    },
    // 10. otherwise → degraded
    {
      rule: '10 degraded: fewer running than desired',
      facts: facts({ instances: [...many(2, 'running'), ...many(1, 'unhealthy')] }),
      phase: 'degraded',
      cause: 'below-desired',
    },
    {
      rule: '10 degraded: none running, restarts not exhausted (cattle being replaced)',
      facts: facts({ instances: [...many(3, 'failed'), ...many(3, 'provisioning')] }),
      phase: 'degraded',
      cause: 'below-desired',
    },
    {
      rule: '10 degraded: enough running, but on the wrong version and nothing in progress',
      facts: facts({ instances: many(3, 'running', V1) }),
      phase: 'degraded',
      cause: 'below-desired',
    },
    {
      rule: '10 degraded: ready and unhealthy instances do not count as running',
      facts: facts({
        desired: 2,
        instances: [...many(1, 'ready'), ...many(1, 'unhealthy'), ...many(1, 'running')],
      }),
      phase: 'degraded',
      cause: 'below-desired',
    },
  ];

  for (const c of cases) {
    it(c.rule, () => {
      assert.deepEqual(serviceStatus(c.facts), { phase: c.phase, cause: c.cause });
    });
  }
});

const phaseArb = fc.constantFrom(...Object.values(INSTANCE_PHASES));
const factsArb: fc.Arbitrary<ServiceFacts> = fc.record({
  desired: fc.nat({ max: 5 }),
  targetVersion: fc.constantFrom(V1, V2),
  instances: fc.array(fc.record({ phase: phaseArb, version: fc.constantFrom(V1, V2) }), { maxLength: 8 }),
  operation: fc.option(fc.constantFrom(...Object.values(SERVICE_OPERATIONS)), { nil: undefined }),
  restartsExhausted: fc.boolean(),
});

describe('serviceStatus properties', () => {
  it('always returns a cause that leads to the phase it returns', () => {
    fc.assert(
      fc.property(factsArb, (f) => {
        const { phase, cause } = serviceStatus(f);
        assert.ok(SERVICE_CAUSE_RULES[cause].to.includes(phase), `${cause} → ${phase}`);
      }),
    );
  });

  it('does not depend on the order of instances', () => {
    fc.assert(
      fc.property(factsArb, (f) => {
        const reversed = { ...f, instances: [...f.instances].reverse() };
        assert.deepEqual(serviceStatus(reversed), serviceStatus(f));
      }),
    );
  });

  it('is offline exactly when nothing is wanted and nothing is live', () => {
    fc.assert(
      fc.property(factsArb, (f) => {
        const live = f.instances.some((i) => i.phase !== 'stopped' && i.phase !== 'failed');
        assert.equal(serviceStatus(f).phase === 'offline', f.desired === 0 && !live);
      }),
    );
  });

  it('names the operation in progress unless the service is offline or has given up', () => {
    const phaseOf: Record<ServiceOperation, ServicePhase> = {
      deploy: 'deploying',
      rollout: 'updating',
      rollback: 'rolling-back',
      scale: 'scaling',
      destroy: 'destroying',
    };
    fc.assert(
      fc.property(factsArb, (f) => {
        const { phase } = serviceStatus(f);
        if (f.operation === undefined || phase === 'offline' || phase === 'failed') return;
        assert.equal(phase, phaseOf[f.operation]);
      }),
    );
  });
});

describe('serviceStatus through a service’s life', () => {
  // A controller's view, pass by pass: every change of derived phase must be a legal
  // transition, or the table and the derivation disagree.
  const passes: { step: string; facts: ServiceFacts; phase: ServicePhase }[] = [
    {
      step: 'declared, deploy begins',
      facts: facts({ operation: 'deploy', instances: many(3, 'provisioning') }),
      phase: 'deploying',
    },
    {
      step: 'instances starting',
      facts: facts({ operation: 'deploy', instances: many(3, 'starting') }),
      phase: 'deploying',
    },
    {
      step: 'all registered, deploy done',
      facts: facts({ instances: many(3, 'running') }),
      phase: 'running',
    },
    {
      step: 'one crashes',
      facts: facts({ instances: [...many(2, 'running'), ...many(1, 'failed')] }),
      phase: 'degraded',
    },
    {
      step: 'replacement registered',
      facts: facts({ instances: [...many(3, 'running'), ...many(1, 'failed')] }),
      phase: 'running',
    },
    {
      step: 'rollout to 3.0.0 begins',
      facts: facts({ targetVersion: '3.0.0', operation: 'rollout', instances: many(3, 'running') }),
      phase: 'updating',
    },
    {
      step: 'new version fails its checks: auto-rollback',
      facts: facts({
        operation: 'rollback',
        instances: [...many(3, 'running'), ...many(1, 'failed', '3.0.0')],
      }),
      phase: 'rolling-back',
    },
    { step: 'rolled back', facts: facts({ instances: many(3, 'running') }), phase: 'running' },
    {
      step: 'scale to 5',
      facts: facts({
        desired: 5,
        operation: 'scale',
        instances: [...many(3, 'running'), ...many(2, 'starting')],
      }),
      phase: 'scaling',
    },
    { step: 'scaled', facts: facts({ desired: 5, instances: many(5, 'running') }), phase: 'running' },
    {
      step: 'removed from the manifest',
      facts: facts({ desired: 0, operation: 'destroy', instances: many(5, 'draining') }),
      phase: 'destroying',
    },
    {
      step: 'all stopped',
      facts: facts({ desired: 0, operation: 'destroy', instances: many(5, 'stopped') }),
      phase: 'offline',
    },
    {
      step: 'declared again',
      facts: facts({ desired: 1, operation: 'deploy', instances: many(1, 'provisioning') }),
      phase: 'deploying',
    },
    {
      step: 'the pet keeps crashing and exhausts its restarts',
      facts: facts({
        desired: 1,
        operation: 'deploy',
        restartsExhausted: true,
        instances: many(1, 'failed'),
      }),
      phase: 'failed',
    },
    {
      step: 'an operator restarts it (counter reset)',
      facts: facts({ desired: 1, operation: 'deploy', instances: many(1, 'starting') }),
      phase: 'deploying',
    },
  ];

  it('derives the expected phase at each pass, and each change is a legal transition', () => {
    let previous: ServicePhase = 'offline';
    for (const pass of passes) {
      const { phase, cause } = serviceStatus(pass.facts);
      assert.equal(phase, pass.phase, pass.step);
      if (phase !== previous) {
        assert.deepEqual(transitionService(previous, phase, cause), { ok: true }, pass.step);
      }
      previous = phase;
    }
  });
});
