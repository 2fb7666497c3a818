// The gateway's state between requests: the routing state compiled from the latest
// snapshot, the per-service and per-route runtimes and upstream pools carried across
// snapshots, and the
// process-wide counters load shedding reads. A new snapshot is compiled aside and swapped
// in with one assignment, so a request sees either the old state or the new one, and
// requests in flight keep the runtimes and pools they hold.
import type { Logger } from 'pino';
import type { Random } from '../../domain/gateway/balancers.ts';
import { compileFaults } from '../../domain/gateway/fault-injection.ts';
import { LoadShedder } from '../../domain/gateway/load-shedder.ts';
import { KeyedRateLimiter, TokenBucket } from '../../domain/gateway/rate-limiter.ts';
import type { BucketRate } from '../../domain/gateway/rate-limiter.ts';
import { compileRouteTable, routePrefix } from '../../domain/gateway/route-table.ts';
import type { RouteTable } from '../../domain/gateway/route-table.ts';
import type { GatewayRoute, GatewaySnapshot } from '../../domain/gateway/snapshot.ts';
import { DEFAULT_EAST_WEST_MODE } from '../../domain/gateway/east-west.ts';
import type { EastWestMode } from '../../domain/gateway/east-west.ts';
import { DeadlineWheel } from './deadline-wheel.ts';
import { EastWestEdge } from './east-west-edge.ts';
import type { GatewayMetrics, RouteMetrics } from './metrics.ts';
import { RouteRuntime, routeKey } from './route-runtime.ts';
import { ServiceRuntime } from './service-runtime.ts';
import type { Waiter } from './service-runtime.ts';
import { Upstream, upstreamKey } from './upstream.ts';
import type { PoolOptions } from './upstream.ts';

export interface RouteLimiter {
  readonly rate: BucketRate;
  /** RateLimit-Limit, ready to send. */
  readonly limitText: string;
  /** 'route': the one bucket below; 'ip' or a header name: per-key buckets. */
  readonly key: 'route' | 'ip' | { readonly header: string };
  readonly bucket: TokenBucket | undefined;
  readonly keyed: KeyedRateLimiter | undefined;
}

export interface CompiledRoute {
  readonly route: GatewayRoute;
  /** Undefined when the snapshot routes to a service it does not describe. */
  readonly service: ServiceRuntime | undefined;
  /** The route's breaker, retries and ejections; undefined exactly when `service` is. */
  readonly runtime: RouteRuntime | undefined;
  readonly serviceName: string;
  readonly prefix: string;
  readonly stripPrefix: boolean;
  readonly timeoutMs: number;
  readonly limiter: RouteLimiter | undefined;
  readonly metrics: RouteMetrics;
  /** East-west: the caller's dependsOn range, which filters the callee's endpoints. */
  readonly range?: string | undefined;
  /** East-west: the calling service. */
  readonly caller?: string | undefined;
}

export interface RoutingState {
  readonly sequence: number;
  readonly epoch: string | undefined;
  readonly revision: number;
  readonly table: RouteTable<CompiledRoute>;
  readonly shedder: LoadShedder;
  readonly services: ReadonlyMap<string, ServiceRuntime>;
  /** East-west listeners by port. */
  readonly eastWest: ReadonlyMap<number, EastWestEdge>;
  readonly eastWestMode: EastWestMode;
}

export interface CoreOptions {
  readonly pool: PoolOptions;
  /** Deadline of a route without `timeout`. */
  readonly defaultTimeoutMs: number;
  readonly random: Random;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
}

export class GatewayCore {
  state: RoutingState | undefined;
  /** Requests in flight in this process (load shedding and drain read it). */
  inFlight = 0;
  draining = false;
  readonly options: CoreOptions;
  readonly deadlines = new DeadlineWheel();
  /** Metrics of requests no route took (404s, and everything before the first snapshot). */
  readonly unrouted: RouteMetrics;
  readonly #services = new Map<string, ServiceRuntime>();
  readonly #upstreams = new Map<string, Upstream>();
  readonly #limiters = new Map<string, RouteLimiter>();
  readonly #routeMetrics = new Map<string, RouteMetrics>();
  readonly #routes = new Map<string, RouteRuntime>();
  readonly #edges = new Map<number, EastWestEdge>();
  readonly #closing = new Set<Promise<void>>();

  constructor(options: CoreOptions) {
    this.options = options;
    this.unrouted = options.metrics.route('', '');
  }

  /** Compiles and swaps in a snapshot; older or equal sequences of the same epoch are ignored. */
  apply(snapshot: GatewaySnapshot): boolean {
    if (!isNewer(snapshot, this.state)) return false;
    const { random, metrics, pool } = this.options;
    const now = performance.now();

    const upstreams = new Map<string, Upstream>();
    const services = new Map<string, ServiceRuntime>();
    const admitted: Waiter[] = [];
    for (const [name, service] of Object.entries(snapshot.services)) {
      const list: Upstream[] = [];
      for (const endpoint of service.endpoints) {
        const key = upstreamKey(endpoint);
        if (upstreams.has(key)) continue;
        const upstream = this.#upstreams.get(key) ?? new Upstream(endpoint, pool);
        upstreams.set(key, upstream);
        list.push(upstream);
      }
      const runtime = this.#services.get(name) ?? new ServiceRuntime(name, service, random, metrics);
      admitted.push(...runtime.update(service, list));
      services.set(name, runtime);
    }
    const faults = compileFaults(snapshot.faults, Date.now());
    for (const [name, runtime] of services) runtime.faults = faults.get(name);

    const limiters = new Map<string, RouteLimiter>();
    const routeMetrics = new Map<string, RouteMetrics>();
    const routes = new Map<string, RouteRuntime>();
    const entries: CompiledRoute[] = snapshot.routes.map((route) => {
      let limiter: RouteLimiter | undefined;
      if (route.rateLimit !== undefined) {
        const key = limiterKey(route);
        limiter = limiters.get(key) ?? this.#limiters.get(key) ?? newLimiter(route.rateLimit, now);
        limiters.set(key, limiter);
      }
      const label = `${route.host ?? ''}${route.path}`;
      const metricsKey = `${route.service} ${label}`;
      const children =
        routeMetrics.get(metricsKey) ??
        this.#routeMetrics.get(metricsKey) ??
        metrics.route(label, route.service);
      routeMetrics.set(metricsKey, children);
      const service = services.get(route.service);
      let runtime: RouteRuntime | undefined;
      if (service !== undefined) {
        const key = routeKey(route);
        runtime = routes.get(key);
        if (runtime === undefined) {
          runtime = this.#routes.get(key);
          if (runtime === undefined) runtime = new RouteRuntime(service, route, children);
          else runtime.configure(service, route, children);
          routes.set(key, runtime);
        }
      }
      return {
        route,
        service,
        runtime,
        serviceName: route.service,
        prefix: routePrefix(route.path),
        stripPrefix: route.stripPrefix,
        timeoutMs: route.timeoutMs ?? this.options.defaultTimeoutMs,
        limiter,
        metrics: children,
      };
    });

    const edges = this.#compileEastWest(snapshot, services);

    this.state = {
      sequence: snapshot.sequence,
      epoch: snapshot.epoch,
      revision: snapshot.revision,
      table: compileRouteTable(entries),
      shedder: new LoadShedder(snapshot.settings.shedding),
      services,
      eastWest: edges,
      eastWestMode: snapshot.eastWest?.mode ?? DEFAULT_EAST_WEST_MODE,
    };

    // Retire what the snapshot no longer holds. Pools close gracefully: requests already
    // sent to a departing instance finish first.
    for (const [key, upstream] of this.#upstreams) if (!upstreams.has(key)) this.#retire(upstream);
    for (const [key, runtime] of this.#routes) if (!routes.has(key)) runtime.close();
    this.#replace(this.#upstreams, upstreams);
    this.#replace(this.#services, services);
    this.#replace(this.#routes, routes);
    this.#replace(this.#limiters, limiters);
    this.#replace(this.#routeMetrics, routeMetrics);
    for (const [port, edge] of this.#edges) if (edges.get(port) !== edge) edge.close();
    this.#replace(this.#edges, edges);
    for (const waiter of admitted) waiter.admit();
    return true;
  }

  /** Listeners kept by port while their caller stays, so their breakers and ejections survive. */
  #compileEastWest(
    snapshot: GatewaySnapshot,
    services: ReadonlyMap<string, ServiceRuntime>,
  ): Map<number, EastWestEdge> {
    const listeners = snapshot.eastWest?.listeners ?? [];
    const declared = new Map<string, Map<string, string>>();
    for (const listener of listeners) {
      if (listener.callee === undefined || listener.range === undefined) continue;
      const ranges = declared.get(listener.caller) ?? new Map<string, string>();
      ranges.set(listener.callee, listener.range);
      declared.set(listener.caller, ranges);
    }
    const edges = new Map<number, EastWestEdge>();
    for (const listener of listeners) {
      let edge = this.#edges.get(listener.port);
      if (edge === undefined || edge.caller !== listener.caller)
        edge = new EastWestEdge(listener, this.options.defaultTimeoutMs);
      edge.configure(listener, declared.get(listener.caller) ?? new Map(), services);
      edges.set(listener.port, edge);
    }
    return edges;
  }

  /** Closes every pool once its requests are done. */
  async close(): Promise<void> {
    this.deadlines.stop();
    for (const upstream of this.#upstreams.values()) this.#retire(upstream);
    this.#upstreams.clear();
    for (const runtime of this.#routes.values()) runtime.close();
    for (const edge of this.#edges.values()) edge.close();
    await Promise.all(this.#closing);
  }

  #retire(upstream: Upstream): void {
    const closing = upstream.close().catch((error: unknown) => {
      this.options.logger.warn({ err: error, upstream: upstream.key }, 'closing an upstream pool failed');
    });
    this.#closing.add(closing);
    void closing.finally(() => this.#closing.delete(closing));
  }

  #replace<K, V>(target: Map<K, V>, source: Map<K, V>): void {
    target.clear();
    for (const [k, v] of source) target.set(k, v);
  }
}

export function isNewer(
  snapshot: Pick<GatewaySnapshot, 'sequence' | 'epoch'>,
  current: Pick<GatewaySnapshot, 'sequence' | 'epoch'> | undefined,
): boolean {
  return current === undefined || snapshot.epoch !== current.epoch || snapshot.sequence > current.sequence;
}

function newLimiter(rate: NonNullable<GatewayRoute['rateLimit']>, now: number): RouteLimiter {
  const bucketRate = { requestsPerSecond: rate.requestsPerSecond, burst: rate.burst };
  return {
    rate: bucketRate,
    limitText: String(bucketRate.burst),
    key: rate.key,
    bucket: rate.key === 'route' ? new TokenBucket(bucketRate, now) : undefined,
    keyed: rate.key === 'route' ? undefined : new KeyedRateLimiter(bucketRate),
  };
}

/** Same route, same limit: the buckets carry over to the next snapshot. */
function limiterKey(route: GatewayRoute): string {
  return JSON.stringify([
    route.service,
    route.host,
    route.path,
    route.methods,
    route.headers,
    route.rateLimit,
  ]);
}
