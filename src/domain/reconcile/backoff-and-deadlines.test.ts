// A rollout simulated over time, from the pure decisions alone: nextStep says what to do and
// when to look again, rolloutVerdict whether the rollout still goes. The world is random —
// new instances that come up, or a broken version whose instances die at start, or one whose
// readiness never passes — and time jumps from one event to the next, as a fake clock would.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { nextStep, type DesiredService, type ObservedInstance } from './next-step.ts';
import { earliest } from './result.ts';
import { DEFAULT_RESTART_POLICY, restartBackoffMs } from './restart-backoff.ts';
import { rolloutVerdict, type RolloutVerdict } from './rollout-verdict.ts';

type Kind = 'healthy' | 'crashes' | 'never-ready';

const worlds = fc.record({
  replicas: fc.integer({ min: 1, max: 4 }),
  mode: fc.constantFrom('pet' as const, 'cattle' as const),
  maxSurge: fc.integer({ min: 0, max: 2 }),
  maxUnavailable: fc.integer({ min: 0, max: 2 }),
  kind: fc.constantFrom<Kind>('healthy', 'crashes', 'never-ready'),
  readyAfterMs: fc.integer({ min: 50, max: 5_000 }),
  dieAfterMs: fc.integer({ min: 1, max: 3_000 }),
  crashLoopLimit: fc.integer({ min: 1, max: 6 }),
  deadlineMs: fc.integer({ min: 1_000, max: 600_000 }),
});

interface Outcome {
  readonly verdict: RolloutVerdict;
  readonly atMs: number;
  /** Processes launched: starts, replacements and restarts. */
  readonly launches: number;
}

const policy = { ...DEFAULT_RESTART_POLICY, maxRestarts: 1_000 };

type World = {
  replicas: number;
  mode: 'pet' | 'cattle';
  maxSurge: number;
  maxUnavailable: number;
  kind: Kind;
  readyAfterMs: number;
  dieAfterMs: number;
  crashLoopLimit: number;
  deadlineMs: number;
};

function run(w: World): Outcome {
  const desired: DesiredService = {
    service: 's',
    specHash: 'new',
    replicas: w.replicas,
    mode: w.mode,
    maxSurge: w.maxSurge,
    maxUnavailable: w.maxUnavailable,
  };
  let world: ObservedInstance[] = Array.from({ length: w.replicas }, (_, n) => ({
    id: `old${n}`,
    specHash: 'old',
    phase: 'running' as const,
    restarts: 0,
    sinceMs: 0,
  }));
  let now = 0;
  let ids = 0;
  let earlyDeaths = 0;
  let launches = 0;
  const deadlineAtMs = now + w.deadlineMs;
  for (let pass = 0; pass < 5_000; pass++) {
    const step = nextStep({ desired, instances: world, restart: policy, nowMs: now });
    for (const action of step.actions) {
      if (action.kind === 'restart' || action.kind === 'replace') {
        const dead = world.find((i) => i.id === action.id)!;
        // Never before its backoff is over.
        assert.ok(
          now >= dead.sinceMs + restartBackoffMs(dead.restarts, policy),
          `${action.kind} of ${dead.id} at ${now}, backoff until ${dead.sinceMs + restartBackoffMs(dead.restarts, policy)}`,
        );
      }
    }
    // Whatever waits out a backoff is looked at again no later than when the backoff ends.
    for (const { atMs } of step.backingOff)
      assert.ok(step.recheckInMs !== undefined && now + step.recheckInMs <= atMs);

    for (const action of step.actions) {
      if (action.kind === 'start' || action.kind === 'replace' || action.kind === 'restart') launches++;
      switch (action.kind) {
        case 'start':
          world.push({ id: `n${ids++}`, specHash: 'new', phase: 'starting', restarts: 0, sinceMs: now });
          break;
        case 'replace': {
          const dead = world.find((i) => i.id === action.id)!;
          world = world.filter((i) => i.id !== action.id);
          world.push({
            id: `n${ids++}`,
            specHash: 'new',
            phase: 'starting',
            restarts: dead.restarts + 1,
            sinceMs: now,
          });
          break;
        }
        case 'restart':
          world = world.map((i) =>
            i.id === action.id ? { ...i, phase: 'starting', restarts: i.restarts + 1, sinceMs: now } : i,
          );
          break;
        case 'stop':
        case 'forget':
          world = world.filter((i) => i.id !== action.id);
          break;
        case 'fail':
          world = world.map((i) => (i.id === action.id ? { ...i, phase: 'failed', sinceMs: now } : i));
          break;
        case 'reset-restarts':
          world = world.map((i) => (i.id === action.id ? { ...i, restarts: 0 } : i));
          break;
      }
    }
    const verdict = rolloutVerdict({
      nowMs: now,
      deadlineAtMs,
      deadline: `${w.deadlineMs}ms`,
      settled: step.settled && world.every((i) => i.specHash === 'new'),
      earlyDeaths,
      crashLoopLimit: w.crashLoopLimit,
    });
    if (verdict.kind !== 'progressing') return { verdict, atMs: now, launches };
    // The pass's own requeue never sleeps past the deadline.
    const requeue = earliest(step.recheckInMs, verdict.recheckInMs)!;
    assert.ok(now + requeue <= deadlineAtMs);

    // The world's next event: an instance comes up or dies.
    const happens = (i: ObservedInstance): number | undefined => {
      if (i.phase !== 'starting') return undefined;
      if (w.kind === 'healthy') return i.sinceMs + w.readyAfterMs;
      if (w.kind === 'crashes') return i.sinceMs + w.dieAfterMs;
      return undefined;
    };
    // What the actions changed brings the controller back at once (a stop's end queues the service).
    if (step.actions.length > 0) continue;
    const next = Math.min(now + requeue, ...world.map((i) => happens(i) ?? Infinity));
    now = Math.max(now, next);
    world = world.map((i) => {
      if (happens(i) !== now) return i;
      if (w.kind === 'healthy') {
        earlyDeaths = 0;
        return { ...i, phase: 'running', sinceMs: now };
      }
      earlyDeaths++;
      return { ...i, phase: 'failed', sinceMs: now };
    });
  }
  assert.fail('the rollout neither settled nor failed');
}

/** When the `limit`-th early death happens at the latest, one slot dying after another. */
function crashLoopBound(w: World): number {
  let at = 0;
  for (let death = 0; death < w.crashLoopLimit; death++)
    at += w.dieAfterMs + (death > 0 ? restartBackoffMs(death - 1, policy) : 0);
  return at;
}

describe('backoff and deadlines, over a simulated rollout (property)', () => {
  it('never restarts before the backoff, never oversleeps a backoff or the deadline, and fails a crash loop early', () => {
    fc.assert(
      fc.property(worlds, (w) => {
        const { verdict, atMs } = run(w);
        switch (w.kind) {
          case 'healthy':
            // Nothing in a healthy world fails but the clock: a deadline shorter than the rollout.
            if (verdict.kind === 'failed') assert.equal(verdict.cause, 'deadline');
            break;
          case 'never-ready':
            // Readiness that never passes: failed exactly at the deadline, not a pass later.
            assert.equal(verdict.kind, 'failed');
            assert.equal(verdict.kind === 'failed' && verdict.cause, 'deadline');
            assert.equal(atMs, w.deadlineMs);
            break;
          case 'crashes': {
            assert.equal(verdict.kind, 'failed');
            const bound = crashLoopBound(w);
            if (bound < w.deadlineMs) {
              assert.equal(verdict.kind === 'failed' && verdict.cause, 'crash-loop');
              assert.ok(atMs <= bound, `failed at ${atMs}, crash loop evident by ${bound}`);
            }
            break;
          }
        }
        return true;
      }),
      { numRuns: 1_000 },
    );
  });

  it('launches a crash-looping version at most as often as the backoff allows, pets and cattle alike', () => {
    fc.assert(
      fc.property(worlds, (w) => {
        // Dies at start, forever: no crash-loop limit, ten minutes to the deadline.
        const world: World = { ...w, kind: 'crashes', crashLoopLimit: 1_000_000, deadlineMs: 600_000 };
        const { launches } = run(world);
        let perSlot = 0;
        for (let k = 0, at = 0; at <= world.deadlineMs; k++, perSlot++)
          at += world.dieAfterMs + restartBackoffMs(k, policy);
        // Every slot (replicas plus surge) at most that often; a spawn loop would be thousands.
        const slots = w.replicas + Math.max(1, w.maxSurge);
        assert.ok(launches <= slots * perSlot, `${launches} launches, at most ${slots} × ${perSlot}`);
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
