// The declared dependency graph of a manifest. An edge goes from the consumer (the
// service that declares `dependsOn`) to the provider it calls, so "providers first" is
// the order in which a whole architecture can be brought up.
import type { Manifest } from '../manifest/model.ts';
import { TIER_RANK } from '../manifest/schema.ts';
import type { Tier } from '../manifest/schema.ts';
import { analysisOf, withAnalysis } from './analysis.ts';
import { isCyclic } from './condensation.ts';
import type { Condensation } from './condensation.ts';
import type { GraphIndex } from './graph-index.ts';

export interface DependencyEdge {
  readonly from: string;
  readonly to: string;
  readonly range: string;
  readonly optional: boolean;
}

export interface DependencyGraph {
  /** Sorted. */
  readonly services: readonly string[];
  /** Only edges whose target is a service of the manifest; sorted by consumer, then provider. */
  readonly edges: readonly DependencyEdge[];
  /** Edges from `service`: what it depends on. */
  providersOf(service: string): readonly DependencyEdge[];
  /** Edges to `service`: what depends on it. */
  consumersOf(service: string): readonly DependencyEdge[];
}

const NO_EDGES: readonly DependencyEdge[] = Object.freeze([]);

export function buildGraph(manifest: Manifest): DependencyGraph {
  const services = Object.keys(manifest.services).sort();
  const known = new Set(services);
  const edges: DependencyEdge[] = [];
  const outgoing = new Map<string, DependencyEdge[]>();
  const incoming = new Map<string, DependencyEdge[]>();
  for (const from of services) {
    const dependsOn = manifest.services[from]!.dependsOn;
    for (const to of Object.keys(dependsOn).sort()) {
      if (!known.has(to)) continue;
      const { range, optional } = dependsOn[to]!;
      const edge: DependencyEdge = { from, to, range, optional };
      edges.push(edge);
      append(outgoing, from, edge);
      append(incoming, to, edge);
    }
  }
  return withAnalysis<DependencyGraph>({
    services,
    edges,
    providersOf: (service) => outgoing.get(service) ?? NO_EDGES,
    consumersOf: (service) => incoming.get(service) ?? NO_EDGES,
  });
}

function append(map: Map<string, DependencyEdge[]>, key: string, edge: DependencyEdge): void {
  const list = map.get(key);
  if (list) list.push(edge);
  else map.set(key, [edge]);
}

/**
 * One representative cycle per strongly connected component: the shortest cycle through
 * the component's smallest name, starting and ending there, e.g.
 * ['ledger', 'orders', 'payments', 'ledger']. A service that depends on itself is ['a', 'a'].
 * Sorted by first name. Every elementary cycle is not needed: breaking the reported one
 * and re-checking reveals the next.
 */
export function findCycles(graph: DependencyGraph): string[][] {
  const { index, condensation } = analysisOf(graph);
  return cyclesOf(index, condensation);
}

function cyclesOf(index: GraphIndex, condensation: Condensation): string[][] {
  const { components, componentOf } = condensation;
  const parent: number[] = new Array<number>(index.names.length).fill(-1);
  const cycles: string[][] = [];
  components.forEach((members, id) => {
    if (!isCyclic(index, members)) return;
    const start = members[0]!;
    const cycle = members.length === 1 ? [start, start] : shortestCycleThrough(start, id);
    cycles.push(cycle.map((node) => index.names[node]!));
  });
  return cycles.sort((a, b) => compareNames(a[0]!, b[0]!));

  // Breadth-first inside the component, ignoring self-loops: the component has several
  // members, so a cycle of at least two services passes through `start`.
  function shortestCycleThrough(start: number, id: number): number[] {
    const queue = [start];
    parent[start] = start;
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head]!;
      for (const next of index.providers[node]!) {
        if (componentOf[next] !== id) continue;
        if (next === start) {
          if (node === start) continue;
          const back: number[] = [];
          for (let at = node; at !== start; at = parent[at]!) back.push(at);
          return [start, ...back.reverse(), start];
        }
        if (parent[next] === -1) {
          parent[next] = node;
          queue.push(next);
        }
      }
    }
    throw new Error(`no cycle through ${index.names[start]} inside its strongly connected component`);
  }
}

/** Providers before consumers; among services that are ready at the same time, by name. */
export function topologicalOrder(
  graph: DependencyGraph,
): { ok: true; order: string[] } | { ok: false; cycles: string[][] } {
  const { index, condensation } = analysisOf(graph);
  if (condensation.components.some((members) => isCyclic(index, members))) {
    return { ok: false, cycles: cyclesOf(index, condensation) };
  }
  return { ok: true, order: condensation.order.map((id) => index.names[condensation.components[id]![0]!]!) };
}

export interface BlastRadiusEntry {
  readonly service: string;
  readonly tier: Tier;
  /**
   * `down`: it hard-depends on a service that is down, so it fails too. `degraded`: it only
   * optionally depends on one: it keeps serving without it, and its own consumers are fine.
   */
  readonly impact: 'down' | 'degraded';
  /** 1 for a direct consumer, 2 for a consumer of a consumer, … */
  readonly distance: number;
  /** The provider it reaches the failed service through on a shortest path (the smallest name if several). */
  readonly via: string;
}

/**
 * What a failure of `service` takes down: its hard consumers, theirs, and so on; and who is
 * degraded on the way (an optional dependency on a service that is down). Down first, then
 * nearest, most critical, by name.
 */
export function blastRadius(manifest: Manifest, graph: DependencyGraph, service: string): BlastRadiusEntry[] {
  if (!graph.services.includes(service)) return [];
  // Breadth-first over hard edges only: an optional dependency does not take its consumer down.
  const down = new Map<string, number>([[service, 0]]);
  const queue = [service];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    for (const edge of graph.consumersOf(node)) {
      if (edge.optional || down.has(edge.from)) continue;
      down.set(edge.from, down.get(node)! + 1);
      queue.push(edge.from);
    }
  }
  const entries: BlastRadiusEntry[] = [];
  for (const [name, distance] of down) {
    if (name === service) continue;
    // The smallest-named hard provider one step nearer: a real path, the same every time.
    const via = graph
      .providersOf(name)
      .filter((edge) => !edge.optional && down.get(edge.to) === distance - 1)
      .map((edge) => edge.to)
      .sort(compareNames)[0]!;
    entries.push({ service: name, tier: tierOf(manifest, name), impact: 'down', distance, via });
  }
  const degraded = new Map<string, { distance: number; via: string }>();
  for (const node of queue) {
    for (const edge of graph.consumersOf(node)) {
      if (!edge.optional || down.has(edge.from)) continue;
      const distance = down.get(node)! + 1;
      const known = degraded.get(edge.from);
      if (
        !known ||
        distance < known.distance ||
        (distance === known.distance && compareNames(node, known.via) < 0)
      )
        degraded.set(edge.from, { distance, via: node });
    }
  }
  for (const [name, at] of degraded)
    entries.push({ service: name, tier: tierOf(manifest, name), impact: 'degraded', ...at });
  return entries.sort(
    (a, b) =>
      (a.impact === b.impact ? 0 : a.impact === 'down' ? -1 : 1) ||
      a.distance - b.distance ||
      TIER_RANK[a.tier] - TIER_RANK[b.tier] ||
      compareNames(a.service, b.service),
  );
}

function tierOf(manifest: Manifest, service: string): Tier {
  if (!Object.hasOwn(manifest.services, service)) {
    throw new Error(`the graph has a service \`${service}\` that the manifest does not declare`);
  }
  return manifest.services[service]!.tier;
}

export interface ServiceMetrics {
  /** How many services depend on it. */
  readonly fanIn: number;
  /** How many services it depends on. */
  readonly fanOut: number;
  /** The longest provider chain below it; 0 for a leaf. Services of one cycle share a depth. */
  readonly depth: number;
}

export function graphMetrics(graph: DependencyGraph): Record<string, ServiceMetrics> {
  const { index, condensation } = analysisOf(graph);
  const { components, componentOf, order } = condensation;
  // The condensation is a DAG visited providers first, so each component's depth is final
  // before any consumer reads it; a cycle counts as one link of the chain.
  const depth: number[] = new Array<number>(components.length).fill(0);
  for (const id of order) {
    let deepest = 0;
    for (const node of components[id]!) {
      for (const provider of index.providers[node]!) {
        const other = componentOf[provider]!;
        if (other !== id) deepest = Math.max(deepest, depth[other]! + 1);
      }
    }
    depth[id] = deepest;
  }
  const metrics: Record<string, ServiceMetrics> = {};
  index.names.forEach((name, node) => {
    metrics[name] = {
      fanIn: index.consumers[node]!.length,
      fanOut: index.providers[node]!.length,
      depth: depth[componentOf[node]!]!,
    };
  });
  return metrics;
}

/** The same order as `Array.prototype.sort()`, which sorted `services`. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
