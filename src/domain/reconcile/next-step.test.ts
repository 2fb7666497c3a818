import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  nextStep as decide,
  resolveBudget,
  type Action,
  type DesiredService,
  type ObservedInstance,
  type ObservedPhase,
  type StepInput,
} from './next-step.ts';
import { DEFAULT_RESTART_POLICY, restartBackoffMs, type RestartPolicy } from './restart-backoff.ts';

const policy = (maxRestarts = 5): RestartPolicy => ({ ...DEFAULT_RESTART_POLICY, maxRestarts });
/** The decision at a time long after every instance entered its phase, unless said otherwise. */
const nextStep = (input: Omit<StepInput, 'restart' | 'nowMs'> & { maxRestarts?: number; nowMs?: number }) =>
  decide({ ...input, restart: policy(input.maxRestarts), nowMs: input.nowMs ?? 1_000_000 });

const desired = (over: Partial<DesiredService> = {}): DesiredService => ({
  service: 'orders',
  specHash: 'v2',
  replicas: 3,
  mode: 'cattle',
  maxSurge: 1,
  maxUnavailable: 0,
  ...over,
});
const inst = (
  id: string,
  specHash: string,
  phase: ObservedPhase,
  restarts = 0,
  sinceMs = 0,
): ObservedInstance => ({ id, specHash, phase, restarts, sinceMs });
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

  it('waits for whatever the caller says it waits for: no start, no retirement, first deployment or not', () => {
    const update = nextStep({
      desired: desired({ replicas: 1, maxUnavailable: 1 }),
      instances: [inst('a', 'v1', 'running')],
      waitingFor: ['payments'],
    });
    assert.deepEqual(update.actions, [], 'the step has not begun: the old one is not retired either');
    const first = nextStep({ desired: desired({ replicas: 1 }), instances: [], waitingFor: ['payments'] });
    assert.deepEqual(first.actions, []);
    assert.equal(first.settled, false);
  });

  it('starts nothing of a spec that cannot start at all, and keeps the old one serving', () => {
    const out = nextStep({
      desired: desired({ replicas: 1, maxUnavailable: 1 }),
      instances: [inst('a', 'v1', 'running'), inst('b', 'v2', 'failed')],
      halted: true,
    });
    assert.deepEqual(out.actions, []);
  });

  it('replaces a dead cattle instance and restarts a dead pet in place, until its restarts run out', () => {
    const cattle = nextStep({ desired: desired({ replicas: 1 }), instances: [inst('a', 'v2', 'failed')] });
    assert.deepEqual(kinds(cattle.actions), ['replace:a'], 'one fresh instance in its slot, no twin');
    const pet = nextStep({
      desired: desired({ replicas: 1, mode: 'pet' }),
      instances: [inst('a', 'v2', 'failed', 2)],
    });
    assert.deepEqual(kinds(pet.actions), ['restart:a'], 'no twin is started beside a restarting pet');
    const exhausted = nextStep({
      desired: desired({ replicas: 1, mode: 'pet' }),
      instances: [inst('a', 'v2', 'failed', 5)],
    });
    assert.deepEqual(exhausted.actions, []);
    assert.deepEqual(exhausted.exhausted, ['a']);
    assert.equal(exhausted.settled, false);
  });

  it('backs off before bringing back a dead instance, cattle exactly as pets, and says when to look again', () => {
    for (const mode of ['cattle', 'pet'] as const) {
      const want = desired({ replicas: 1, mode });
      const dead = [inst('a', 'v2', 'failed', 3, 10_000)];
      const wait = restartBackoffMs(3, DEFAULT_RESTART_POLICY);
      const early = nextStep({ desired: want, instances: dead, nowMs: 10_000 + wait - 1 });
      assert.deepEqual(early.actions, [], `${mode}: nothing before the backoff is over`);
      assert.equal(early.recheckInMs, 1);
      assert.deepEqual(early.backingOff, [{ id: 'a', atMs: 10_000 + wait }]);
      assert.equal(early.settled, false);
      const due = nextStep({ desired: want, instances: dead, nowMs: 10_000 + wait });
      assert.deepEqual(kinds(due.actions), [mode === 'pet' ? 'restart:a' : 'replace:a']);
    }
  });

  it('replaces (cattle) or fails (pets) an instance unhealthy past its grace, and never with readiness alone', () => {
    const sick = [inst('a', 'v2', 'unhealthy', 0, 0)];
    const cattle = desired({ replicas: 1, unhealthyGraceMs: 6_000 });
    const within = nextStep({ desired: cattle, instances: sick, nowMs: 5_000 });
    assert.deepEqual(within.actions, []);
    assert.equal(within.recheckInMs, 1_000);
    assert.deepEqual(kinds(nextStep({ desired: cattle, instances: sick, nowMs: 6_000 }).actions), ['stop:a']);
    const pet = desired({ replicas: 1, mode: 'pet', unhealthyGraceMs: 6_000 });
    assert.deepEqual(kinds(nextStep({ desired: pet, instances: sick, nowMs: 6_000 }).actions), ['fail:a']);
    const readinessOnly = desired({ replicas: 1, unhealthyGraceMs: undefined });
    assert.deepEqual(nextStep({ desired: readinessOnly, instances: sick, nowMs: 60_000 }).actions, []);
  });

  it('gives a restart count back once the instance has served for the stable period', () => {
    const want = desired({ replicas: 1 });
    const up = [inst('a', 'v2', 'running', 4, 0)];
    const soon = nextStep({ desired: want, instances: up, nowMs: 59_000 });
    assert.deepEqual(soon.actions, []);
    assert.equal(soon.recheckInMs, 1_000);
    assert.equal(soon.settled, true, 'bookkeeping to come does not unsettle a service');
    const later = nextStep({ desired: want, instances: up, nowMs: 60_000 });
    assert.deepEqual(kinds(later.actions), ['reset-restarts:a']);
    assert.equal(later.settled, true);
  });

  it('with a fixed port, stops the old instance first and starts the new one only once the old is gone', () => {
    const want = desired({ replicas: 1, fixedPort: true, maxSurge: 1, maxUnavailable: 0 });
    const first = nextStep({ desired: want, instances: [inst('a', 'v1', 'running')] });
    assert.deepEqual(kinds(first.actions), ['stop:a'], 'no surge on a fixed port');
    const draining = nextStep({ desired: want, instances: [inst('a', 'v1', 'draining')] });
    assert.deepEqual(draining.actions, [], 'a draining instance still holds the port');
    const stopping = nextStep({ desired: want, instances: [inst('a', 'v1', 'stopped')] });
    assert.deepEqual(stopping.actions, [], 'nor does a stopped one whose process may not be gone yet');
    assert.deepEqual(kinds(nextStep({ desired: want, instances: [] }).actions), ['start']);
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
    if (a.kind === 'replace') {
      const dead = world.find((i) => i.id === a.id)!;
      world = [...world.filter((i) => i.id !== a.id), inst(next(), hash, 'starting', dead.restarts + 1)];
    }
    if (a.kind === 'restart')
      world = world.map((i) => (i.id === a.id ? { ...i, phase: 'starting', restarts: i.restarts + 1 } : i));
    if (a.kind === 'fail') world = world.map((i) => (i.id === a.id ? { ...i, phase: 'failed' } : i));
    if (a.kind === 'reset-restarts') world = world.map((i) => (i.id === a.id ? { ...i, restarts: 0 } : i));
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
