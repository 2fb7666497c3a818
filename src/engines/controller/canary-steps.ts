// Canary steps: a service whose revision rolls it out with `strategy: canary` moves traffic
// step by step (domain/reconcile/canary.ts decides; this applies). The rollout's split is
// set when a step begins and cleared when done — or when a revision that is no canary, such
// as a rollback, takes over — and the step caps the updated instances meanwhile.
import type { TrafficSplit } from '../../domain/gateway/snapshot.ts';
import { parseDuration } from '../../domain/health/duration.ts';
import type { ServiceSpec } from '../../domain/manifest/model.ts';
import { DEFAULT_CANARY_PAUSE, DEFAULT_CANARY_STEPS } from '../../domain/manifest/schema.ts';
import { CANARY_ACTOR, canaryStep, type CanaryDecision } from '../../domain/reconcile/canary.ts';
import type { DesiredService } from '../../domain/reconcile/next-step.ts';
import type { Revision } from '../../domain/revisions/revision.ts';
import type { InstanceRecord } from '../registry/registry.ts';

/** What a canary rollout needs of traffic control: the split of a service, set and cleared. */
export interface RolloutTraffic {
  split(service: string): TrafficSplit | undefined;
  setSplit(service: string, weights: Record<string, number>, actor: string): Promise<unknown>;
  clearSplit(service: string, actor: string): Promise<void>;
}

/** Phases of instances on their way out (or gone): not the old version a canary compares with. */
const LEFT: ReadonlySet<InstanceRecord['phase']> = new Set(['draining', 'stopped', 'failed']);

export class CanarySteps {
  readonly #traffic: RolloutTraffic | undefined;

  /** Without traffic control a canary rolls as `rolling`. */
  constructor(traffic: RolloutTraffic | undefined) {
    this.#traffic = traffic;
  }

  async step(
    service: string,
    spec: ServiceSpec,
    desired: DesiredService,
    revision: Revision,
    instances: readonly InstanceRecord[],
    nowMs: number,
  ): Promise<CanaryDecision | undefined> {
    const traffic = this.#traffic;
    if (traffic === undefined) return undefined;
    const split = traffic.split(service);
    if (spec.rollout.strategy !== 'canary' || revision.source.kind !== 'apply') {
      if (split?.setBy === CANARY_ACTOR) await traffic.clearSplit(service, CANARY_ACTOR);
      return undefined;
    }
    const alive = instances.filter((i) => !LEFT.has(i.phase));
    const serving = alive.filter((i) => i.specHash === desired.specHash && i.phase === 'running');
    const decision = canaryStep({
      steps: spec.rollout.canarySteps ?? DEFAULT_CANARY_STEPS,
      pauseMs: parseDuration(spec.rollout.canaryPause ?? DEFAULT_CANARY_PAUSE),
      replicas: desired.replicas,
      newVersion: spec.version,
      oldVersions: alive.filter((i) => i.specHash !== desired.specHash).map((i) => i.version),
      split: split && { weights: split.weights, setBy: split.setBy, sinceMs: Date.parse(split.since) },
      updatedServing: serving.length,
      lastServingSinceMs:
        serving.length > 0 ? Math.max(...serving.map((i) => Date.parse(i.since))) : undefined,
      nowMs,
    });
    if (decision.setWeights) await traffic.setSplit(service, { ...decision.setWeights }, CANARY_ACTOR);
    else if (decision.clear) await traffic.clearSplit(service, CANARY_ACTOR);
    return decision;
  }
}
