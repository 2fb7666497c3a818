// The order in which a change to the architecture is carried out, one service at a time,
// and whether every `dependsOn` range holds after each step.
//
// The planner is greedy: it always takes the first step, in a fixed preference order, that
// breaks no range that was holding. That single rule sends upgrades providers-first and
// rollbacks consumers-first without knowing which is which. Only the ranges between the
// stepped service and its neighbours can change, so each candidate keeps a count of the
// ranges it would break, updated edge by edge: planning is linear in the number of edges.
import { buildGraph, topologicalOrder } from '../graph/dependency-graph.ts';
import type { Manifest, ServiceSpec } from '../manifest/model.ts';
import { diffManifests, type ManifestDiff, type ServiceDiff } from './diff.ts';
import { createMinHeap } from './min-heap.ts';
import { createRangeChecker, type RangeChecker } from './range-check.ts';

/** `scale` = only `instances` changed. */
export type StepAction = 'add' | 'update' | 'scale' | 'remove';

export interface RolloutStep {
  /** 1-based. */
  readonly index: number;
  readonly service: string;
  readonly action: StepAction;
  readonly fromVersion?: string;
  readonly toVersion?: string;
}

export interface RangeBreak {
  readonly step: number;
  readonly consumer: string;
  readonly consumerVersion: string;
  readonly provider: string;
  /** null = absent. */
  readonly providerVersion: string | null;
  readonly range: string;
  readonly message: string;
}

export interface RolloutPlan {
  readonly steps: readonly RolloutStep[];
  readonly breaks: readonly RangeBreak[];
  readonly ok: boolean;
  readonly diff: ManifestDiff;
}

interface Candidate {
  readonly service: string;
  readonly action: StepAction;
  /** The spec after the step; undefined for a removal. */
  readonly spec: ServiceSpec | undefined;
}

export function planRollout(current: Manifest | undefined, target: Manifest): RolloutPlan {
  const diff = diffManifests(current, target);
  const candidates = preferenceOrder(current, target, diff);
  const state = new Map<string, ServiceSpec>(Object.entries(current?.services ?? {}));
  const dependents = dependentsIndex(current, target);
  const checker = createRangeChecker();
  const edges = rangeEdges(state, checker);

  const pending = new Map<string, number>();
  candidates.forEach((c, i) => pending.set(c.service, i));
  const breakCount = candidates.map((c) => edges.breaking(c, dependents.get(c.service) ?? []).length);
  const safe = createMinHeap();
  breakCount.forEach((count, i) => {
    if (count === 0) safe.push(i);
  });

  const steps: RolloutStep[] = [];
  const breaks: RangeBreak[] = [];
  let firstPending = 0;
  while (pending.size > 0) {
    let chosen = safe.pop();
    while (chosen !== undefined && !(pending.has(candidates[chosen]!.service) && breakCount[chosen] === 0)) {
      chosen = safe.pop();
    }
    if (chosen === undefined) {
      while (!pending.has(candidates[firstPending]!.service)) firstPending++;
      chosen = firstPending;
    }
    const candidate = candidates[chosen]!;
    const step = toStep(steps.length + 1, candidate, state.get(candidate.service));
    steps.push(step);
    for (const pair of edges.breaking(candidate, dependents.get(candidate.service) ?? [])) {
      breaks.push(describeBreak(step, pair));
    }
    pending.delete(candidate.service);

    // Every range whose truth this step can change, seen from the candidates still to come.
    const affected: { readonly index: number; readonly consumer: string; readonly provider: string }[] = [];
    for (const consumer of dependents.get(candidate.service) ?? []) {
      const index = pending.get(consumer);
      if (index !== undefined) affected.push({ index, consumer, provider: candidate.service });
    }
    for (const provider of providersOf(state.get(candidate.service), candidate.spec)) {
      const index = pending.get(provider);
      if (index !== undefined) affected.push({ index, consumer: candidate.service, provider });
    }
    for (const a of affected) {
      breakCount[a.index]! -= edges.breaks(candidates[a.index]!, a.consumer, a.provider);
    }
    if (candidate.spec) state.set(candidate.service, candidate.spec);
    else state.delete(candidate.service);
    for (const a of affected) {
      breakCount[a.index]! += edges.breaks(candidates[a.index]!, a.consumer, a.provider);
      if (breakCount[a.index] === 0) safe.push(a.index);
    }
  }
  return { steps, breaks, ok: breaks.length === 0, diff };
}

/** The state of one range before and after a candidate step, against the running state. */
interface BrokenPair {
  readonly consumer: string;
  readonly consumerSpec: ServiceSpec;
  readonly provider: string;
  readonly providerSpec: ServiceSpec | undefined;
  readonly range: string;
}

interface RangeEdges {
  /** 1 when taking `candidate` now would break the range consumer → provider, else 0. */
  breaks(candidate: Candidate, consumer: string, provider: string): 0 | 1;
  /** The ranges that taking `candidate` now would break (held before, broken after). */
  breaking(candidate: Candidate, dependents: readonly string[]): BrokenPair[];
}

function rangeEdges(state: ReadonlyMap<string, ServiceSpec>, checker: RangeChecker): RangeEdges {
  const after = (candidate: Candidate, service: string): ServiceSpec | undefined =>
    service === candidate.service ? candidate.spec : state.get(service);
  const breaks = (candidate: Candidate, consumer: string, provider: string): 0 | 1 => {
    if (!checker.holds(state.get(consumer), provider, state.get(provider))) return 0;
    return checker.holds(after(candidate, consumer), provider, after(candidate, provider)) ? 0 : 1;
  };
  return {
    breaks,
    breaking(candidate, dependents) {
      const out: BrokenPair[] = [];
      const self = candidate.service;
      const check = (consumer: string, provider: string): void => {
        if (breaks(candidate, consumer, provider) === 0) return;
        const consumerSpec = after(candidate, consumer)!;
        const providerSpec = after(candidate, provider);
        out.push({
          consumer,
          consumerSpec,
          provider,
          providerSpec,
          range: consumerSpec.dependsOn[provider]!.range,
        });
      };
      for (const provider of providersOf(state.get(self), candidate.spec)) check(self, provider);
      for (const consumer of dependents) if (consumer !== self) check(consumer, self);
      return out;
    },
  };
}

/** Adds and updates providers-first in the target, then removals consumers-first in the current. */
function preferenceOrder(current: Manifest | undefined, target: Manifest, diff: ManifestDiff): Candidate[] {
  const changed = new Map(diff.services.map((s) => [s.service, s]));
  const out: Candidate[] = [];
  for (const service of providersFirst(target) ?? Object.keys(target.services).sort()) {
    const change = changed.get(service);
    if (change === undefined) continue;
    const spec = target.services[service]!;
    out.push({ service, action: actionOf(change), spec });
  }
  const removed = current ? (providersFirst(current)?.reverse() ?? Object.keys(current.services).sort()) : [];
  for (const service of removed) {
    if (changed.get(service)?.change === 'removed') out.push({ service, action: 'remove', spec: undefined });
  }
  return out;
}

function actionOf(change: ServiceDiff): StepAction {
  if (change.change === 'added') return 'add';
  return change.fields.every((f) => f.path.startsWith('instances.')) ? 'scale' : 'update';
}

/** Undefined when the manifest has a cycle: it has no providers-first order. */
function providersFirst(manifest: Manifest): string[] | undefined {
  const result = topologicalOrder(buildGraph(manifest));
  return result.ok ? result.order : undefined;
}

/** For each provider, every service that depends on it in the current or the target manifest. */
function dependentsIndex(current: Manifest | undefined, target: Manifest): Map<string, string[]> {
  const sets = new Map<string, Set<string>>();
  for (const manifest of [current, target]) {
    for (const [consumer, spec] of Object.entries(manifest?.services ?? {})) {
      for (const provider of Object.keys(spec.dependsOn)) {
        let set = sets.get(provider);
        if (!set) sets.set(provider, (set = new Set()));
        set.add(consumer);
      }
    }
  }
  return new Map([...sets].map(([provider, set]) => [provider, [...set]]));
}

function providersOf(before: ServiceSpec | undefined, after: ServiceSpec | undefined): Set<string> {
  return new Set([...Object.keys(before?.dependsOn ?? {}), ...Object.keys(after?.dependsOn ?? {})]);
}

function toStep(index: number, candidate: Candidate, before: ServiceSpec | undefined): RolloutStep {
  return {
    index,
    service: candidate.service,
    action: candidate.action,
    ...(before ? { fromVersion: before.version } : {}),
    ...(candidate.spec ? { toVersion: candidate.spec.version } : {}),
  };
}

function describeBreak(step: RolloutStep, pair: BrokenPair): RangeBreak {
  const providerVersion = pair.providerSpec?.version ?? null;
  const why =
    providerVersion === null
      ? `${pair.provider} is absent`
      : `${pair.provider} ${providerVersion} does not satisfy it`;
  return {
    step: step.index,
    consumer: pair.consumer,
    consumerVersion: pair.consumerSpec.version,
    provider: pair.provider,
    providerVersion,
    range: pair.range,
    message:
      `step ${step.index} (${describeStep(step)}) breaks ${pair.consumer} ${pair.consumerSpec.version}'s range ` +
      `${pair.provider} ${pair.range} (${why})`,
  };
}

function describeStep(step: RolloutStep): string {
  switch (step.action) {
    case 'add':
      return `add ${step.service} ${step.toVersion}`;
    case 'remove':
      return `remove ${step.service} ${step.fromVersion}`;
    case 'scale':
      return `scale ${step.service}`;
    case 'update':
      return `${step.service} ${step.fromVersion} → ${step.toVersion}`;
  }
}
