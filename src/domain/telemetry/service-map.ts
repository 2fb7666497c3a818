// The live service map: observed edges with their figures over a sliding window, compared
// with the edges the manifest declares (drift), and the cycles traffic really takes.
import { findCycles, type DependencyGraph } from '../graph/dependency-graph.ts';
import type { EdgeObservation } from './edge-matcher.ts';
import { WindowedStats, type WindowFigures } from './windowed-stats.ts';

export interface ServiceMapOptions {
  /** Figures (rate, errors, p50/p99) cover this sliding window: 6 slots of a sixth each. */
  readonly windowMs: number;
  /** An edge counts as observed while it carried traffic this recently. */
  readonly observedForMs: number;
  /** At most this many edges are kept; the least recently seen goes first. */
  readonly maxEdges: number;
}

interface EdgeState {
  readonly caller: string;
  readonly callee: string;
  readonly window: WindowedStats;
  requests: number;
  errors: number;
  paired: boolean;
  readonly firstSeenMs: number;
  lastSeenMs: number;
}

export interface MapEdge extends WindowFigures {
  readonly from: string;
  readonly to: string;
  /** The manifest declares `to` in `from`'s dependsOn. */
  readonly declared: boolean;
  /** Optional in the manifest (`optional: true`); false when not declared. */
  readonly optional: boolean;
  /** Seen within the observation period. */
  readonly observed: boolean;
  /** `to` is not a service of the manifest (a peer named by the client span alone). */
  readonly external: boolean;
  /** Totals since the control plane started. */
  readonly totalRequests: number;
  readonly totalErrors: number;
  readonly firstSeen: string | null;
  readonly lastSeen: string | null;
}

export interface Declared {
  readonly services: readonly string[];
  readonly edges: readonly { readonly from: string; readonly to: string; readonly optional: boolean }[];
}

export interface ServiceMapSnapshot {
  readonly at: string;
  readonly windowSeconds: number;
  readonly observedForSeconds: number;
  /** When observation began (the control plane's start): "never observed" means since then. */
  readonly observingSince: string;
  readonly services: readonly string[];
  readonly edges: readonly MapEdge[];
  readonly drift: {
    /** Traffic between two services of the manifest that dependsOn does not declare. */
    readonly undeclared: readonly MapEdge[];
    /** Declared, but no traffic within the observation period. */
    readonly unobserved: readonly MapEdge[];
  };
  /** Cycles among observed edges, each as a path that returns to its start. */
  readonly cycles: readonly string[][];
}

export class ServiceMap {
  readonly #options: ServiceMapOptions;
  readonly #edges = new Map<string, EdgeState>();
  readonly #since: number;

  constructor(options: ServiceMapOptions, nowMs: number) {
    this.#options = options;
    this.#since = nowMs;
  }

  record(edge: EdgeObservation, nowMs: number): void {
    const key = `${edge.caller}\u0000${edge.callee}`;
    let state = this.#edges.get(key);
    if (state === undefined) {
      state = {
        caller: edge.caller,
        callee: edge.callee,
        window: new WindowedStats({ slotMs: this.#options.windowMs / 6, slots: 6 }),
        requests: 0,
        errors: 0,
        paired: false,
        firstSeenMs: nowMs,
        lastSeenMs: nowMs,
      };
      if (this.#edges.size >= this.#options.maxEdges) this.#evictLeastRecent();
    } else this.#edges.delete(key); // re-inserted at the back: the map stays in recency order
    this.#edges.set(key, state);
    state.window.record(nowMs, edge.durationMs, edge.error, nowMs);
    state.requests++;
    if (edge.error) state.errors++;
    state.paired ||= edge.paired;
    state.lastSeenMs = nowMs;
  }

  snapshot(nowMs: number, declared: Declared): ServiceMapSnapshot {
    const known = new Set(declared.services);
    const declaredEdges = new Map(declared.edges.map((e) => [`${e.from}\u0000${e.to}`, e]));
    const edges: MapEdge[] = [];
    for (const [key, state] of this.#edges) {
      const decl = declaredEdges.get(key);
      edges.push({
        from: state.caller,
        to: state.callee,
        declared: decl !== undefined,
        optional: decl?.optional ?? false,
        observed: nowMs - state.lastSeenMs <= this.#options.observedForMs,
        external: !known.has(state.callee),
        ...state.window.figures(nowMs),
        totalRequests: state.requests,
        totalErrors: state.errors,
        firstSeen: new Date(state.firstSeenMs).toISOString(),
        lastSeen: new Date(state.lastSeenMs).toISOString(),
      });
    }
    for (const [key, decl] of declaredEdges) {
      if (this.#edges.has(key)) continue;
      edges.push({
        from: decl.from,
        to: decl.to,
        declared: true,
        optional: decl.optional,
        observed: false,
        external: false,
        count: 0,
        errors: 0,
        errorRate: 0,
        ratePerSecond: 0,
        p50Ms: null,
        p99Ms: null,
        totalRequests: 0,
        totalErrors: 0,
        firstSeen: null,
        lastSeen: null,
      });
    }
    edges.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));

    const observed = edges.filter((e) => e.observed);
    const services = [...new Set([...declared.services, ...observed.flatMap((e) => [e.from, e.to])])].sort();
    return {
      at: new Date(nowMs).toISOString(),
      windowSeconds: this.#options.windowMs / 1000,
      observedForSeconds: this.#options.observedForMs / 1000,
      observingSince: new Date(this.#since).toISOString(),
      services,
      edges,
      drift: {
        undeclared: observed.filter((e) => !e.declared && known.has(e.from) && known.has(e.to)),
        unobserved: edges.filter((e) => e.declared && !e.observed),
      },
      cycles: observedCycles(services, observed),
    };
  }

  /** Forgets edges silent for longer than the observation period. */
  prune(nowMs: number): void {
    for (const [key, state] of this.#edges) {
      if (nowMs - state.lastSeenMs <= this.#options.observedForMs) break;
      this.#edges.delete(key);
    }
  }

  #evictLeastRecent(): void {
    const oldest = this.#edges.keys().next().value;
    if (oldest !== undefined) this.#edges.delete(oldest);
  }
}

/** Reuses the manifest's cycle finder on the graph traffic draws. */
function observedCycles(services: readonly string[], edges: readonly MapEdge[]): string[][] {
  const graphEdges = edges.map((e) => ({ from: e.from, to: e.to, range: '*', optional: false }));
  const graph: DependencyGraph = {
    services,
    edges: graphEdges,
    providersOf: (s) => graphEdges.filter((e) => e.from === s),
    consumersOf: (s) => graphEdges.filter((e) => e.to === s),
  };
  return findCycles(graph);
}
