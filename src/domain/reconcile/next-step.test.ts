import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  nextStep,
  resolveBudget,
  type Action,
  type DesiredService,
  type ObservedInstance,
  type ObservedPhase,
} from './next-step.ts';

const desired = (over: Partial<DesiredService> = {}): DesiredService => ({
  service: 'orders',
  specHash: 'v2',
  replicas: 3,
  mode: 'cattle',
  maxSurge: 1,
  maxUnavailable: 0,
  ...over,
});
const inst = (id: string, specHash: string, phase: ObservedPhase, restarts = 0): ObservedInstance => ({
  id,
  specHash,
  phase,
  restarts,
});
const kinds = (actions: readonly Action[]) =>
  actions.map((a) => (a.kind === 'start' ? 'start' : `${a.kind}:${a.id}`));

describe('nextStep', () => {
  it('starts every instance of a new service at once', () => {
    const out = nextStep({
      desired: desired({ maxSurge: 0, maxUnavailable: 0 }),
      instances: [],
      maxRestarts: 5,
    });
    // With no instance yet the surge budget is replicas + 1: all three start in one pass.
    assert.deepEqual(kinds(out.actions), ['start', 'start', 'start']);
    assert.equal(out.settled, false);
  });

  it('is settled, and does nothing, when every desired instance serves the desired spec', () => {
    const out = nextStep({
      desired: desired(),
      instances: [inst('a', 'v2', 'running'), inst('b', 'v2', 'running'), inst('c', 'v2', 'running')],
      maxRestarts: 5,
    });
    assert.deepEqual(out.actions, []);
    assert.equal(out.settled, true);
  });

  it('rolls one at a time with maxSurge 1, maxUnavailable 0: start first, stop old only once new serve', () => {
    const old = [inst('a', 'v1', 'running'), inst('b', 'v1', 'running'), inst('c', 'v1', 'running')];
    const first = nextStep({ desired: desired(), instances: old, maxRestarts: 5 });
    assert.deepEqual(kinds(first.actions), ['start']);
    const whileStarting = nextStep({
      desired: desired(),
      instances: [...old, inst('n1', 'v2', 'starting')],
      maxRestarts: 5,
    });
    assert.deepEqual(kinds(whileStarting.actions), [], 'no old instance goes before the new one serves');
    const once = nextStep({
      desired: desired(),
      instances: [...old, inst('n1', 'v2', 'running')],
      maxRestarts: 5,
    });
    assert.deepEqual(kinds(once.actions), ['stop:a']);
  });

  it('holds a canary step at its count of updated instances, the rest of the old ones serving', () => {
    const old = [inst('a', 'v1', 'running'), inst('b', 'v1', 'running'), inst('c', 'v1', 'running')];
    const step = (instances: ObservedInstance[], maxUpdated?: number) =>
      kinds(nextStep({ desired: desired({ maxSurge: 2 }), instances, maxRestarts: 5, maxUpdated }).actions);
    // Surge would allow two new ones; the step allows one.
    assert.deepEqual(step(old, 1), ['start']);
    // The canary serves: one old one goes, and nothing new starts until the step moves on.
    const withCanary = [...old, inst('n1', 'v2', 'running')];
    assert.deepEqual(step(withCanary, 1), ['stop:a']);
    assert.deepEqual(step(withCanary.slice(1), 1), []);
    assert.equal(
      nextStep({ desired: desired(), instances: withCanary.slice(1), maxRestarts: 5, maxUpdated: 1 }).settled,
      false,
    );
    // The next step lets the rollout go on.
    assert.deepEqual(step(withCanary.slice(1), 3), ['start', 'start']);
    // A first deployment has nothing old to compare with: the cap does not apply.
    assert.deepEqual(step([], 1), ['start', 'start', 'start']);
  });

  it('honours maxUnavailable: may stop old ones before new ones serve', () => {
    const old = [
      inst('a', 'v1', 'running'),
      inst('b', 'v1', 'running'),
      inst('c', 'v1', 'running'),
      inst('d', 'v1', 'running'),
    ];
    const out = nextStep({
      desired: desired({ replicas: 4, maxSurge: 0, maxUnavailable: '50%' }),
      instances: old,
      maxRestarts: 5,
    });
    assert.deepEqual(kinds(out.actions), ['stop:a', 'stop:b']);
  });

  it('waits for providers before updating, but not for a first deployment', () => {
    const update = nextStep({
      desired: desired({ replicas: 1 }),
      instances: [inst('a', 'v1', 'running')],
      maxRestarts: 5,
      waitingFor: ['payments'],
    });
    assert.deepEqual(update.actions, []);
    const first = nextStep({
      desired: desired({ replicas: 1 }),
      instances: [],
      maxRestarts: 5,
      waitingFor: ['payments'],
    });
    assert.deepEqual(kinds(first.actions), ['start']);
  });

  it('replaces a dead cattle instance and restarts a dead pet in place, until its restarts run out', () => {
    const cattle = nextStep({
      desired: desired({ replicas: 1 }),
      instances: [inst('a', 'v2', 'failed')],
      maxRestarts: 5,
    });
    assert.deepEqual(kinds(cattle.actions), ['forget:a', 'start']);
    const pet = nextStep({
      desired: desired({ replicas: 1, mode: 'pet' }),
      instances: [inst('a', 'v2', 'failed', 2)],
      maxRestarts: 5,
    });
    assert.deepEqual(kinds(pet.actions), ['restart:a'], 'no twin is started beside a restarting pet');
    const exhausted = nextStep({
      desired: desired({ replicas: 1, mode: 'pet' }),
      instances: [inst('a', 'v2', 'failed', 5)],
      maxRestarts: 5,
    });
    assert.deepEqual(exhausted.actions, []);
    assert.deepEqual(exhausted.exhausted, ['a']);
    assert.equal(exhausted.settled, false);
  });

  it('scales in by stopping the least useful instances first', () => {
    const out = nextStep({
      desired: desired({ replicas: 1 }),
      instances: [inst('a', 'v2', 'running'), inst('b', 'v2', 'starting'), inst('c', 'v2', 'unhealthy')],
      maxRestarts: 5,
    });
    assert.deepEqual(kinds(out.actions), ['stop:c', 'stop:b']);
  });

  it('stops everything of a service that left the architecture', () => {
    const out = nextStep({
      desired: undefined,
      instances: [inst('a', 'v1', 'running'), inst('b', 'v1', 'starting')],
      maxRestarts: 5,
    });
    assert.deepEqual(kinds(out.actions).sort(), ['stop:a', 'stop:b']);
  });

  it('resolves percentage budgets as Kubernetes does', () => {
    assert.equal(resolveBudget('25%', 5, 'up'), 2);
    assert.equal(resolveBudget('25%', 5, 'down'), 1);
    assert.equal(resolveBudget(2, 5, 'down'), 2);
  });
});

// A benign world: whatever is started comes up and serves; whatever is stopped goes away.
function applyWorld(
  instances: ObservedInstance[],
  actions: readonly Action[],
  hash: string,
  next: () => string,
): ObservedInstance[] {
  let world = [...instances];
  for (const a of actions) {
    if (a.kind === 'start') world.push(inst(next(), hash, 'starting'));
    if (a.kind === 'stop' || a.kind === 'forget') world = world.filter((i) => i.id !== a.id);
    if (a.kind === 'restart')
      world = world.map((i) => (i.id === a.id ? { ...i, phase: 'starting', restarts: i.restarts + 1 } : i));
  }
  return world;
}
const progress = (world: ObservedInstance[]): ObservedInstance[] =>
  world.map((i) =>
    ['provisioning', 'starting', 'ready', 'unhealthy'].includes(i.phase)
      ? { ...i, phase: 'running', restarts: 0 }
      : i,
  );

const PHASES: ObservedPhase[] = [
  'provisioning',
  'starting',
  'ready',
  'running',
  'unhealthy',
  'stopped',
  'failed',
];
const arbitraryWorld = fc.record({
  replicas: fc.integer({ min: 0, max: 6 }),
  mode: fc.constantFrom('pet' as const, 'cattle' as const),
  maxSurge: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('25%', '50%')),
  maxUnavailable: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('0%', '34%')),
  removed: fc.boolean(),
  instances: fc.array(
    fc.record({
      hash: fc.constantFrom('v1', 'v2', 'v0'),
      phase: fc.constantFrom(...PHASES),
      restarts: fc.integer({ min: 0, max: 2 }),
    }),
    { maxLength: 10 },
  ),
});

describe('nextStep, repeated over a benign world (property)', () => {
  it('converges from any observed state in a bounded number of passes, never dropping serving below the floor', () => {
    fc.assert(
      fc.property(arbitraryWorld, (w) => {
        const want = w.removed
          ? undefined
          : desired({
              replicas: w.replicas,
              mode: w.mode,
              maxSurge: w.maxSurge,
              maxUnavailable: w.maxUnavailable,
            });
        let counter = 0;
        let world = w.instances.map((i, n) => inst(`i${n}`, i.hash, i.phase, i.restarts));
        const floor = want ? want.replicas - resolveBudget(want.maxUnavailable, want.replicas, 'down') : 0;
        const bound = 3 * (w.replicas + w.instances.length) + 4;
        for (let pass = 0; pass < bound; pass++) {
          const out = nextStep({ desired: want, instances: world, maxRestarts: 3 });
          const alive = world.filter((i) => !['stopped', 'failed'].includes(i.phase));
          if (!want && alive.length === 0 && out.actions.length === 0) return true;
          if (want && out.actions.length === 0 && (out.settled || out.exhausted.length > 0)) return true;
          const servingBefore = world.filter((i) => i.phase === 'running').length;
          world = applyWorld(world, out.actions, want?.specHash ?? '-', () => `n${counter++}`);
          const servingAfter = world.filter((i) => i.phase === 'running').length;
          if (want && servingAfter < Math.min(servingBefore, floor)) return false;
          world = progress(world);
        }
        return false;
      }),
      { numRuns: 2000 },
    );
  });
});
