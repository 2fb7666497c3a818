// The service map as data: nodes (services with health) and edges (dependencies), before
// any layout. Edges are declared (`dependsOn`); what traces observe (GET /v1/map) adds
// `observed`, `rps`, `errorRate`, `p50`, `p99` to the same edge, or adds edges that only
// traffic shows (drift). Everything here is pure so it can be tested without a browser.
import type {
  DependencyEdge,
  GraphResponse,
  LiveMapResponse,
  ObservedMapEdge,
  ServiceState,
  Tier,
} from '../api/types.ts';
import { serviceHealth, type Health } from '../health.ts';
import { percentText, rateText } from '../telemetry/figures.ts';

export interface MapNode {
  readonly id: string;
  readonly version: string;
  readonly tier: Tier;
  readonly health: Health;
  readonly state: ServiceState | undefined;
}

export interface MapEdge {
  /** `from->to`: the consumer calls the provider. */
  readonly id: string;
  readonly from: string;
  readonly to: string;
  /** In the manifest's `dependsOn`; false for an edge only traffic has shown. */
  readonly declared: boolean;
  readonly range?: string | undefined;
  readonly optional: boolean;
  /**
   * Seen in traces (recently: GET /v1/map's observation period). False: declared, but no
   * traffic seen. Undefined until telemetry reports on it.
   */
  readonly observed?: boolean | undefined;
  /** Requests per second over the telemetry window. */
  readonly rps?: number | undefined;
  /** Share of failed requests, 0..1. */
  readonly errorRate?: number | undefined;
  /** Median latency as the caller saw it, milliseconds. */
  readonly p50?: number | undefined;
  /** 99th percentile latency, milliseconds. */
  readonly p99?: number | undefined;
  /** A hard dependency that a critical-tier service needs, directly or through others. */
  readonly critical: boolean;
}

/** What telemetry will report about a call path; merged into the declared edges. */
export interface ObservedEdge {
  readonly from: string;
  readonly to: string;
  readonly rps?: number | undefined;
  readonly errorRate?: number | undefined;
  readonly p50?: number | undefined;
  readonly p99?: number | undefined;
}

export interface MapModel {
  readonly nodes: readonly MapNode[];
  readonly edges: readonly MapEdge[];
}

export const edgeId = (from: string, to: string) => `${from}->${to}`;

/**
 * `observed`: edges traffic showed; `unobserved`: declared edges telemetry saw no traffic
 * on (marked `observed: false`). Without either, edges carry no telemetry at all.
 */
export function buildMapModel(
  graph: Pick<GraphResponse, 'services' | 'edges'>,
  states: readonly ServiceState[] = [],
  observed: readonly ObservedEdge[] = [],
  unobserved: readonly { readonly from: string; readonly to: string }[] = [],
): MapModel {
  const stateOf = new Map(states.map((s) => [s.service, s]));
  const nodes = graph.services.map((s): MapNode => ({
    id: s.name,
    version: s.version,
    tier: s.tier,
    state: stateOf.get(s.name),
    health: serviceHealth(stateOf.get(s.name)),
  }));
  const known = new Set(nodes.map((n) => n.id));
  const seen = new Map(observed.map((o) => [edgeId(o.from, o.to), o]));
  const silent = new Set(unobserved.map((u) => edgeId(u.from, u.to)));
  const critical = criticalEdges(nodes, graph.edges);
  const edges: MapEdge[] = graph.edges.map((e: DependencyEdge) => {
    const id = edgeId(e.from, e.to);
    const o = seen.get(id);
    seen.delete(id);
    return {
      id,
      from: e.from,
      to: e.to,
      declared: true,
      range: e.range,
      optional: e.optional,
      critical: critical.has(id),
      ...(o
        ? { observed: true, rps: o.rps, errorRate: o.errorRate, p50: o.p50, p99: o.p99 }
        : silent.has(id)
          ? { observed: false }
          : {}),
    };
  });
  for (const [id, o] of seen) {
    if (!known.has(o.from) || !known.has(o.to)) continue;
    edges.push({ id, declared: false, optional: false, critical: false, ...o, observed: true });
  }
  return { nodes, edges };
}

/**
 * The critical paths: every hard (non-optional) dependency a critical-tier service needs,
 * directly or through other services. If one of these breaks, a critical service breaks.
 */
export function criticalEdges(
  nodes: readonly { readonly id: string; readonly tier: Tier }[],
  edges: readonly { readonly from: string; readonly to: string; readonly optional: boolean }[],
): Set<string> {
  const hard = new Map<string, string[]>();
  for (const e of edges) if (!e.optional) hard.set(e.from, [...(hard.get(e.from) ?? []), e.to]);
  const result = new Set<string>();
  const visited = new Set<string>();
  const queue = nodes.filter((n) => n.tier === 'critical').map((n) => n.id);
  for (const id of queue) visited.add(id);
  for (let i = 0; i < queue.length; i++) {
    const from = queue[i]!;
    for (const to of hard.get(from) ?? []) {
      result.add(edgeId(from, to));
      if (!visited.has(to)) {
        visited.add(to);
        queue.push(to);
      }
    }
  }
  return result;
}

export interface Affected {
  /** `down`: fails with it; `degraded`: only optionally depends on something down, keeps serving. */
  readonly impact: 'down' | 'degraded';
  /** 1 = calls the service directly. */
  readonly distance: number;
  /** The service it reaches the origin through. */
  readonly via: string;
}

/**
 * Everything a failure of `service` reaches, as on the server: consumers over hard edges go
 * down with it, transitively; a consumer whose edge is optional is degraded and stops the
 * spread. An edge only traffic has shown counts as hard (nothing says the call is optional).
 */
export function blastRadius(model: MapModel, service: string): Map<string, Affected> {
  const consumers = new Map<string, MapEdge[]>();
  for (const e of model.edges) consumers.set(e.to, [...(consumers.get(e.to) ?? []), e]);
  const reached = new Map<string, Affected>();
  const queue = [service];
  const distance = new Map([[service, 0]]);
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!;
    const edges = (consumers.get(node) ?? []).sort((a, b) => a.from.localeCompare(b.from));
    for (const edge of edges) {
      if (edge.optional || distance.has(edge.from)) continue;
      const d = distance.get(node)! + 1;
      distance.set(edge.from, d);
      reached.set(edge.from, { impact: 'down', distance: d, via: node });
      queue.push(edge.from);
    }
  }
  for (const node of queue) {
    const edges = (consumers.get(node) ?? []).sort((a, b) => a.from.localeCompare(b.from));
    for (const edge of edges) {
      if (!edge.optional || distance.has(edge.from) || reached.has(edge.from)) continue;
      reached.set(edge.from, { impact: 'degraded', distance: distance.get(node)! + 1, via: node });
    }
  }
  return reached;
}

/** The longest chain of dependencies (consumer first); cycles are cut where they close. */
export function deepestChain(model: MapModel): string[] {
  const providers = new Map<string, string[]>();
  for (const e of model.edges)
    if (e.declared) providers.set(e.from, [...(providers.get(e.from) ?? []), e.to]);
  const memo = new Map<string, string[]>();
  const onPath = new Set<string>();
  const longest = (id: string): string[] => {
    const known = memo.get(id);
    if (known) return known;
    onPath.add(id);
    let best: string[] = [];
    for (const next of (providers.get(id) ?? []).sort()) {
      if (onPath.has(next)) continue;
      const chain = longest(next);
      if (chain.length > best.length) best = chain;
    }
    onPath.delete(id);
    const chain = [id, ...best];
    memo.set(id, chain);
    return chain;
  };
  let best: string[] = [];
  for (const n of [...model.nodes].sort((a, b) => a.id.localeCompare(b.id))) {
    const chain = longest(n.id);
    if (chain.length > best.length) best = chain;
  }
  return best;
}

/** A short caption for an edge's traffic, or undefined when telemetry has nothing on it. */
export function trafficCaption(edge: Pick<MapEdge, 'rps' | 'errorRate' | 'p99'>): string | undefined {
  const parts = trafficLines(edge).join(' · ');
  return parts === '' ? undefined : parts;
}

/** The caption in two short lines (rate and errors; latency), for a label on the map. */
export function trafficLines(edge: Pick<MapEdge, 'rps' | 'errorRate' | 'p99'>): string[] {
  const first: string[] = [];
  if (edge.rps !== undefined) first.push(`${rateText(edge.rps)} rps`);
  if (edge.errorRate !== undefined)
    first.push(`${edge.errorRate === 0 ? '0.0%' : percentText(edge.errorRate)} err`);
  const lines = first.length > 0 ? [first.join(' · ')] : [];
  if (edge.p99 !== undefined) lines.push(`p99 ${latencyText(edge.p99)} ms`);
  return lines;
}

/**
 * What the map writes beside an edge: its range (or that it is undeclared), then its traffic
 * or that none was seen. At most three lines; the layout reserves room for them.
 */
export function edgeLabelLines(edge: MapEdge): string[] {
  const lines = [edge.declared ? (edge.range ?? '') : 'undeclared'];
  if (edge.observed === false) lines.push('never observed');
  else lines.push(...trafficLines(edge));
  return lines.filter((l) => l !== '');
}

/** The lines of `edgeLabelLines` at their widest, so figures changing never need a new layout. */
export function edgeLabelTemplate(edge: MapEdge): string[] {
  const lines = [edge.declared ? (edge.range ?? '') : 'undeclared'];
  if (edge.observed === false) lines.push('never observed');
  else if (edge.observed) lines.push('000 rps · 00.0% err', 'p99 0000 ms');
  return lines.filter((l) => l !== '');
}

/** Traffic from GET /v1/map, ready for buildMapModel: callees outside the manifest apart. */
export function observationsOf(map: Pick<LiveMapResponse, 'edges' | 'drift'>): {
  observed: ObservedEdge[];
  unobserved: { from: string; to: string }[];
  external: ObservedMapEdge[];
} {
  const live = map.edges.filter((e) => e.observed);
  return {
    observed: live
      .filter((e) => !e.external)
      .map((e) => ({
        from: e.from,
        to: e.to,
        rps: e.ratePerSecond,
        errorRate: e.errorRate,
        p50: e.p50Ms ?? undefined,
        p99: e.p99Ms ?? undefined,
      })),
    unobserved: map.drift.unobserved.map((e) => ({ from: e.from, to: e.to })),
    external: live.filter((e) => e.external),
  };
}

function latencyText(ms: number): string {
  return ms < 10 ? ms.toFixed(1) : String(Math.round(ms));
}
