// The live service map: spans in, edges out, compared on request with the dependsOn of
// the current revision. Matching happens as spans arrive; a one-second tick ends the wait
// of halves whose partner never came.
import { buildGraph } from '../../domain/graph/dependency-graph.ts';
import type { Manifest } from '../../domain/manifest/model.ts';
import { EdgeMatcher, type EdgeObservation } from '../../domain/telemetry/edge-matcher.ts';
import { ServiceMap, type Declared, type ServiceMapSnapshot } from '../../domain/telemetry/service-map.ts';
import type { SpanRecord } from '../../domain/telemetry/span.ts';
import type { Clock, Timer } from '../../ports/clock.ts';

export interface LiveMapOptions {
  /** How long a client or server span waits for its other half. */
  readonly pairWindowMs: number;
  readonly maxPending: number;
  /** The sliding window of the figures on each edge. */
  readonly windowMs: number;
  /** How recently an edge must have carried traffic to count as observed (drift). */
  readonly observedForMs: number;
  readonly maxEdges: number;
}

export const DEFAULT_LIVE_MAP_OPTIONS: LiveMapOptions = {
  pairWindowMs: 15_000,
  maxPending: 100_000,
  windowMs: 60_000,
  observedForMs: 15 * 60_000,
  maxEdges: 10_000,
};

export interface LiveMapSnapshot extends ServiceMapSnapshot {
  /** The revision whose dependsOn the drift compares with; null before the first apply. */
  readonly revision: number | null;
}

export interface LiveMapDependencies {
  readonly clock: Clock;
  /** The current revision (a RevisionEngine does). */
  readonly revisions: { latest(): Promise<{ number: number; manifest: Manifest } | undefined> };
  readonly onEdge?: ((edge: EdgeObservation) => void) | undefined;
  readonly options?: Partial<LiveMapOptions> | undefined;
}

const TICK_MS = 1_000;

export class LiveMap {
  readonly #deps: LiveMapDependencies;
  readonly #matcher: EdgeMatcher;
  readonly #map: ServiceMap;
  #timer: Timer | undefined;

  constructor(deps: LiveMapDependencies) {
    this.#deps = deps;
    const options = { ...DEFAULT_LIVE_MAP_OPTIONS, ...deps.options };
    this.#matcher = new EdgeMatcher({ windowMs: options.pairWindowMs, maxPending: options.maxPending });
    this.#map = new ServiceMap(options, this.#now());
    this.#schedule();
  }

  observe(span: SpanRecord): void {
    const now = this.#now();
    const edge = this.#matcher.add(span, now);
    if (edge) this.#record(edge, now);
  }

  pendingSpans(): number {
    const { waitingClients, waitingServers } = this.#matcher.counts();
    return waitingClients + waitingServers;
  }

  async snapshot(): Promise<LiveMapSnapshot> {
    const latest = await this.#deps.revisions.latest();
    const declared: Declared = latest ? buildGraph(latest.manifest) : { services: [], edges: [] };
    return { revision: latest?.number ?? null, ...this.#map.snapshot(this.#now(), declared) };
  }

  close(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #tick(): void {
    const now = this.#now();
    for (const edge of this.#matcher.expire(now)) this.#record(edge, now);
    this.#map.prune(now);
  }

  #record(edge: EdgeObservation, now: number): void {
    this.#map.record(edge, now);
    this.#deps.onEdge?.(edge);
  }

  #schedule(): void {
    this.#timer = this.#deps.clock.setTimeout(() => {
      this.#tick();
      this.#schedule();
    }, TICK_MS);
  }

  #now(): number {
    return this.#deps.clock.now().getTime();
  }
}
