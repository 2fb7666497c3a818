// The order services move in, across services. Two rules, both pure:
//
// 1. A revision's steps (the rollout plan, the one `baton apply --dry-run` prints) keep
//    every `dependsOn` range satisfied after each step: providers first on the way up,
//    consumers first on the way down. A step waits until the earlier steps of the services
//    it shares a range with (its providers and consumers, before or after the change) have
//    settled. Only those ranges can change with its step, so every range goes through
//    exactly the states the plan checked, while steps that share no range roll side by side.
// 2. A service with nothing serving (a first deployment, a cold start, everything dead)
//    starts only once its hard providers serve — docker compose's `service_healthy`: real
//    apps read their dependencies' addresses and fetch from them at boot. Optional
//    dependencies never block.
import type { Manifest, ServiceSpec } from '../manifest/model.ts';
import { planRollout } from '../revisions/rollout-plan.ts';

export interface DependencyOrder {
  /** Per moved service: those it shares a range with whose steps come earlier (it waits for them). */
  readonly predecessors: ReadonlyMap<string, readonly string[]>;
  /** Per moved service: those whose steps come later and wait for it. */
  readonly successors: ReadonlyMap<string, readonly string[]>;
}

export function dependencyOrder(
  steps: readonly string[],
  parent: Manifest | undefined,
  latest: Manifest,
): DependencyOrder {
  const order = new Map(steps.map((service, i) => [service, i]));
  const predecessors = new Map<string, string[]>();
  const successors = new Map<string, string[]>();
  for (const later of steps) {
    const neighbours = new Set([
      ...Object.keys(latest.services[later]?.dependsOn ?? {}),
      ...Object.keys(parent?.services[later]?.dependsOn ?? {}),
    ]);
    for (const neighbour of neighbours) {
      const at = order.get(neighbour);
      if (at === undefined || neighbour === later) continue;
      const [first, second] = at < order.get(later)! ? [neighbour, later] : [later, neighbour];
      append(predecessors, second, first);
      append(successors, first, second);
    }
  }
  return { predecessors, successors };
}

export interface WaitInput {
  /** The service's plan predecessors (rule 1). */
  readonly predecessors: readonly string[];
  readonly isSettled: (service: string) => boolean;
  /** Its own instances serving now: with none, rule 2 applies. */
  readonly serving: number;
  /** Its hard (non-optional) providers in the current revision. */
  readonly hardProviders: readonly string[];
  /** A provider serves (or wants no instance at all, so there is nothing to wait for). */
  readonly providerReady: (service: string) => boolean;
}

/** What a service waits for before anything of it may start; empty when it may go. */
export function waitingFor(input: WaitInput): string[] {
  const waits = input.predecessors.filter((other) => !input.isSettled(other));
  if (input.serving === 0)
    for (const provider of input.hardProviders)
      if (!waits.includes(provider) && !input.providerReady(provider)) waits.push(provider);
  return waits;
}

/** The providers a service cannot start without. */
export function hardProviders(spec: ServiceSpec | undefined): string[] {
  if (spec === undefined) return [];
  return Object.entries(spec.dependsOn)
    .filter(([, dependency]) => !dependency.optional)
    .map(([provider]) => provider);
}

/**
 * The services of the rollout plan from `from` to `to`, in step order. Planning orders the
 * changed services over the whole graph; a change of one service — the usual apply — has
 * only one order, and finding which one changed is a comparison, not a plan.
 */
export function planSteps(from: Manifest | undefined, to: Manifest): string[] {
  const changed: string[] = [];
  for (const [service, spec] of Object.entries(to.services))
    if (!sameJson(spec, from?.services[service])) changed.push(service);
  for (const service of Object.keys(from?.services ?? {}))
    if (to.services[service] === undefined) changed.push(service);
  if (changed.length <= 1) return changed;
  return planRollout(from, to).steps.map((step) => step.service);
}

/** Deep equality of JSON values, as the manifest diff sees it: key order and absent-vs-undefined ignored. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const isArray = Array.isArray(a);
  if (isArray !== Array.isArray(b)) return false;
  if (isArray) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameJson(x[i], y[i])) return false;
    return true;
  }
  // Plain objects (parsed JSON): the same defined keys, with equal values.
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let keys = 0;
  for (const key in x) {
    if (x[key] === undefined) continue;
    keys++;
    if (!sameJson(x[key], y[key])) return false;
  }
  for (const key in y) if (y[key] !== undefined) keys--;
  return keys === 0;
}

function append(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
