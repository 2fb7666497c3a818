// One reconcile pass for one service: read what it should be and what is observed, ask the
// pure decisions (next step, rollout verdict, why it waits), have the actuator carry out the
// actions, record the outcome, and say when to come back. Level-triggered: the work item is
// only the service's name, and every pass re-reads everything.
import { serviceOf } from '../../domain/manifest/service-lookup.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ServiceSpec } from '../../domain/manifest/model.ts';
import { sameJson } from '../../domain/reconcile/dependency-order.ts';
import { desiredService, type Overrides } from '../../domain/reconcile/desired-service.ts';
import { nextStep, type DesiredService, type ObservedInstance } from '../../domain/reconcile/next-step.ts';
import { earliest, requeueAfter, type ReconcileResult } from '../../domain/reconcile/result.ts';
import type { RestartPolicy } from '../../domain/reconcile/restart-backoff.ts';
import { rolloutVerdict } from '../../domain/reconcile/rollout-verdict.ts';
import { waitReason } from '../../domain/reconcile/wait-reason.ts';
import type { InstanceRecord, Registry } from '../registry/registry.ts';
import type { Actuator } from './actuator.ts';
import type { CanarySteps } from './canary-steps.ts';
import type { ObservedFacts } from './observed-facts.ts';
import type { OperatorIntents } from './operator-intents.ts';
import type { RevisionProgress } from './revision-progress.ts';
import type { RolloutOutcome } from './rollout-outcome.ts';

/**
 * A wait on another service is woken when that service serves or settles; this timer only
 * covers one that did so while this pass was deciding to wait (passes run in parallel).
 */
const WAITING_RECHECK_MS = 500;

export interface ReconcilePassParts {
  readonly clock: Clock;
  readonly registry: Registry;
  readonly progress: RevisionProgress;
  readonly intents: OperatorIntents;
  readonly facts: ObservedFacts;
  readonly actuator: Actuator;
  readonly canary: CanarySteps;
  readonly outcome: RolloutOutcome;
  readonly restart: RestartPolicy;
  /** The service is gone for good: stop tracking its key. */
  readonly forget: (service: string) => void;
  /** Services that may go on now. */
  readonly wake: (services: readonly string[]) => void;
  /** The runtime's: whether a fixed port is held by one instance at a time. */
  readonly addressing: 'shared' | 'per-instance';
}

export class ReconcilePass {
  readonly #p: ReconcilePassParts;
  readonly #desired: DesiredCache;

  constructor(parts: ReconcilePassParts) {
    this.#p = parts;
    this.#desired = new DesiredCache(parts.addressing);
  }

  async run(service: string): Promise<ReconcileResult> {
    const { progress, registry, outcome } = this.#p;
    const revision = progress.current;
    const spec = serviceOf(revision?.manifest, service);
    const desired = spec && this.#desired.of(service, spec, this.#p.intents.overrides(service));
    const records = registry.instances(service);
    const nowMs = this.#p.clock.now().getTime();
    const crashes = desired && this.#p.facts.crashes(service, desired.specHash);
    const serving = records.filter((r) => r.phase === 'running').length;
    const waitingFor = spec ? progress.waitingFor(service, serving) : [];
    const canary =
      spec && desired && revision
        ? await this.#p.canary.step(service, spec, desired, revision, records, nowMs)
        : undefined;
    const step = nextStep({
      desired,
      instances: records.map(observed),
      restart: this.#p.restart,
      nowMs,
      waitingFor,
      maxUpdated: canary?.maxUpdated,
      halted: crashes?.cannotStart !== undefined,
    });
    await this.#p.actuator.apply(step.actions, { service, spec, desired, revision });

    const open = spec && revision && outcome.rolloutOpen(service, revision);
    const deadlineAtMs = open ? outcome.deadlineAtMs(revision, spec) : undefined;
    const verdict =
      open && deadlineAtMs !== undefined
        ? rolloutVerdict({
            nowMs,
            deadlineAtMs,
            deadline: spec.rollout.deadline,
            settled: step.settled,
            earlyDeaths: crashes?.earlyDeaths ?? 0,
            crashLoopLimit: spec.rollout.crashLoopLimit,
            lastDeath: crashes?.lastDeath,
            cannotStart: crashes?.cannotStart,
          })
        : undefined;
    const reason = step.settled
      ? undefined
      : waitReason({
          nowMs,
          waitingFor,
          cannotStart: crashes?.cannotStart,
          instances: records.map((r) => ({
            ...observed(r),
            health: r.health,
            lastExit: r.lastExit,
            current: r.specHash === desired?.specHash,
          })),
          backingOff: step.backingOff,
        });
    const { wake, gone } = await outcome.record({
      service,
      revision,
      spec,
      step,
      instances: registry.instances(service),
      waitingFor,
      crashes,
      reason,
      deadlineAtMs,
    });
    this.#p.wake(wake);
    if (gone) {
      this.#desired.forget(service);
      this.#p.forget(service);
      return { kind: 'done' };
    }
    if (verdict?.kind === 'failed')
      await outcome.failed(service, revision!, verdict.cause, verdict.reason, crashes?.lastDeath);
    if (step.settled && revision) await outcome.maybeConverged(revision);
    if (crashes?.cannotStart !== undefined)
      return { kind: 'terminal', error: `${service} cannot start: ${crashes.cannotStart}` };
    return requeueAfter(
      earliest(
        step.recheckInMs,
        canary?.recheckInMs,
        verdict?.kind === 'progressing' ? verdict.recheckInMs : undefined,
        waitingFor.length > 0 ? WAITING_RECHECK_MS : undefined,
      ),
    );
  }
}

function observed(record: InstanceRecord): ObservedInstance {
  return {
    id: record.id,
    specHash: record.specHash,
    phase: record.phase,
    restarts: record.restarts,
    sinceMs: Date.parse(record.since),
  };
}

/**
 * What each service's spec gives, worked out once per spec (and operator intent) rather
 * than once per pass: desiredService hashes the spec.
 */
class DesiredCache {
  readonly #cache = new Map<
    string,
    { spec: ServiceSpec; overrides: Overrides | undefined; desired: DesiredService }
  >();
  readonly #addressing: 'shared' | 'per-instance';

  constructor(addressing: 'shared' | 'per-instance') {
    this.#addressing = addressing;
  }

  of(service: string, spec: ServiceSpec, overrides: Overrides | undefined): DesiredService {
    const cached = this.#cache.get(service);
    if (cached !== undefined && cached.overrides === overrides) {
      if (cached.spec === spec) return cached.desired;
      // Each revision parses its specs anew: an equal one gives the same, and comparing is far cheaper than hashing.
      if (sameJson(cached.spec, spec)) {
        cached.spec = spec;
        return cached.desired;
      }
    }
    const desired = desiredService(service, spec, overrides, this.#addressing);
    this.#cache.set(service, { spec, overrides, desired });
    return desired;
  }

  forget(service: string): void {
    this.#cache.delete(service);
  }
}
