// A service's phase, derived from facts the controller holds on every pass. Deriving it
// (rather than storing and mutating it) keeps it honest after a crash: the controller
// re-reads the facts and gets the same answer.
import { INSTANCE_PHASES, isTerminalInstancePhase, type InstancePhase } from './instance-lifecycle.ts';
import { SERVICE_PHASES, type ServiceCause, type ServicePhase } from './service-lifecycle.ts';

/** What the controller is doing with a service; at most one at a time (operations are exclusive). */
export const SERVICE_OPERATIONS = {
  deploy: 'deploy',
  rollout: 'rollout',
  rollback: 'rollback',
  scale: 'scale',
  destroy: 'destroy',
} as const;
export type ServiceOperation = (typeof SERVICE_OPERATIONS)[keyof typeof SERVICE_OPERATIONS];

export interface InstanceFact {
  readonly phase: InstancePhase;
  readonly version: string;
}

export interface ServiceFacts {
  /** How many instances the service should have now (within the manifest's min..max); 0 = none. */
  readonly desired: number;
  /** The version the current revision asks for. */
  readonly targetVersion: string;
  /** Every instance the controller tracks for the service, in any phase and version. */
  readonly instances: readonly InstanceFact[];
  /** The operation in progress, if any. */
  readonly operation?: ServiceOperation | undefined;
  /** A pet instance has used up its restarts; the controller no longer restarts it. */
  readonly restartsExhausted: boolean;
  /**
   * The target spec's instances keep dying before they serve (`crash-loop`: the controller
   * backs off between attempts), or cannot start at all (`cannot-start`: it stopped trying).
   */
  readonly failure?: 'crash-loop' | 'cannot-start' | undefined;
}

export interface ServiceStatus {
  readonly phase: ServicePhase;
  /** Which rule decided the phase: the cause to record if the phase changed. */
  readonly cause: ServiceCause;
}

const S = SERVICE_PHASES;

/**
 * The first rule that holds decides. "Live" means any instance not stopped or failed;
 * "running" means in phase `running` (registered and healthy).
 *
 * | #  | when                                              | phase        | cause                      |
 * |----|---------------------------------------------------|--------------|----------------------------|
 * | 1  | desired = 0 and nothing live                      | offline      | destroyed / scaled-to-zero |
 * | 2  | a destroy is in progress                          | destroying   | destroy                    |
 * | 3  | a rollback is in progress                         | rolling-back | rollback                   |
 * | 4  | restarts exhausted, crash loop or cannot start,   | failed       | restarts-exhausted,        |
 * |    | and nothing running                               |              | crash-loop, cannot-start   |
 * | 5  | a rollout is in progress                          | updating     | rollout                    |
 * | 6  | a scale is in progress                            | scaling      | scale                      |
 * | 7  | a deploy is in progress                           | deploying    | deploy                     |
 * | 8  | desired = 0 (instances left, nobody removing yet) | scaling      | scale                      |
 * | 9  | running on the target version ≥ desired           | running      | converged                  |
 * | 10 | otherwise (fewer running than desired, maybe 0)   | degraded     | below-desired              |
 *
 * Why this order: facts that end the story (1) beat intentions; a destroy (2) makes every
 * other concern moot; a rollback (3) is the response to trouble, so it stays visible while
 * it runs; giving up or backing off (4) must not hide behind a rollout, scale or deploy that cannot make
 * progress; without an operation, the counts decide (8–10).
 */
export function serviceStatus(facts: ServiceFacts): ServiceStatus {
  const { desired, operation } = facts;
  let live = 0;
  let running = 0;
  let runningTarget = 0;
  for (const instance of facts.instances) {
    if (!isTerminalInstancePhase(instance.phase)) live++;
    if (instance.phase === INSTANCE_PHASES.running) {
      running++;
      if (instance.version === facts.targetVersion) runningTarget++;
    }
  }

  if (desired <= 0 && live === 0) {
    return { phase: S.offline, cause: operation === 'destroy' ? 'destroyed' : 'scaled-to-zero' };
  }
  if (operation === 'destroy') return { phase: S.destroying, cause: 'destroy' };
  if (operation === 'rollback') return { phase: S['rolling-back'], cause: 'rollback' };
  if (running === 0) {
    if (facts.restartsExhausted) return { phase: S.failed, cause: 'restarts-exhausted' };
    if (facts.failure !== undefined) return { phase: S.failed, cause: facts.failure };
  }
  if (operation === 'rollout') return { phase: S.updating, cause: 'rollout' };
  if (operation === 'scale') return { phase: S.scaling, cause: 'scale' };
  if (operation === 'deploy') return { phase: S.deploying, cause: 'deploy' };
  if (desired <= 0) return { phase: S.scaling, cause: 'scale' };
  if (runningTarget >= desired) return { phase: S.running, cause: 'converged' };
  return { phase: S.degraded, cause: 'below-desired' };
}
