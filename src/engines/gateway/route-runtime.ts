// The failure accounting of one route: its circuit breaker, which statuses it retries, and
// which instances outlier detection has taken out of its rotation. Counted per route, not
// per service: one failing endpoint of a service (a bug, or one client's bad input) opens
// its own circuit and ejects instances from its own rotation only, and the service's other
// routes go on. A runtime outlives snapshots for as long as its route stays (a route
// change elsewhere must not close an open circuit); it is keyed by the route's identity,
// so the east-west data plane can key the same state by caller and route.
import { CircuitBreaker } from '../../domain/gateway/circuit-breaker.ts';
import type { Admission } from '../../domain/gateway/circuit-breaker.ts';
import {
  inPanic,
  newOutlierState,
  recordFailure,
  recordSuccess,
  releaseIfDue,
} from '../../domain/gateway/outlier-detector.ts';
import type { OutlierState } from '../../domain/gateway/outlier-detector.ts';
import { retryStatuses } from '../../domain/gateway/retry-policy.ts';
import type { GatewayRoute } from '../../domain/gateway/snapshot.ts';
import type { RouteMetrics } from './metrics.ts';
import type { EndpointGroup, ServiceRuntime } from './service-runtime.ts';
import type { Upstream } from './upstream.ts';

export class RouteRuntime {
  service: ServiceRuntime;
  metrics: RouteMetrics;
  readonly breaker: CircuitBreaker;
  /** Statuses a failed attempt of this route is retried on. */
  retryOn: ReadonlySet<number>;
  /** Per endpoint, created at its first failure on this route. */
  readonly #outliers = new Map<Upstream, OutlierState>();
  readonly #ejected = new Set<Upstream>();
  /** Each endpoint group without this route's ejected endpoints; reset when ejections change. */
  #usable = new WeakMap<EndpointGroup, readonly Upstream[]>();
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(service: ServiceRuntime, route: GatewayRoute, metrics: RouteMetrics) {
    this.service = service;
    this.metrics = metrics;
    this.breaker = new CircuitBreaker(service.policy.circuitBreaker);
    this.retryOn = retryStatuses(route.retryOn ?? service.policy.retries.on);
  }

  /** A new snapshot: the service's policy may have changed, and endpoints may have left. */
  configure(service: ServiceRuntime, route: GatewayRoute, metrics: RouteMetrics): void {
    this.service = service;
    this.metrics = metrics;
    this.breaker.configure(service.policy.circuitBreaker);
    this.retryOn = retryStatuses(route.retryOn ?? service.policy.retries.on);
    const current = new Set(service.upstreams);
    for (const upstream of this.#outliers.keys()) {
      if (!current.has(upstream)) {
        this.#outliers.delete(upstream);
        this.#ejected.delete(upstream);
      }
    }
    this.#usable = new WeakMap();
  }

  /** The endpoints of `group` this route may use: all but those it ejected (unless in panic). */
  usable(group: EndpointGroup): readonly Upstream[] {
    if (this.#ejected.size === 0) return group.all;
    let usable = this.#usable.get(group);
    if (usable === undefined) {
      const healthy = group.all.filter((u) => !this.#ejected.has(u));
      const panic = this.service.policy.outlierDetection.panicThresholdPercent;
      usable = inPanic(panic, healthy.length, group.all.length) ? group.all : healthy;
      this.#usable.set(group, usable);
    }
    return usable;
  }

  /** The outcome of one attempt on `upstream`, admitted by the breaker with `admission`. */
  record(upstream: Upstream, admission: Admission, ok: boolean, now: number): void {
    this.breaker.record(admission, ok, now);
    const outlier = this.#outliers.get(upstream);
    if (ok) {
      if (outlier !== undefined && outlier.consecutiveFailures !== 0) recordSuccess(outlier);
      return;
    }
    const upstreams = this.service.upstreams;
    if (!upstreams.includes(upstream)) return; // left with the last snapshot
    let state = outlier;
    if (state === undefined) {
      state = newOutlierState();
      this.#outliers.set(upstream, state);
    }
    const policy = this.service.policy.outlierDetection;
    const until = recordFailure(state, policy, now, this.#ejected.size, upstreams.length);
    if (until === 0) return;
    this.#ejected.add(upstream);
    this.#usable = new WeakMap();
    this.metrics.ejected();
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      // Timers may fire a hair early by the clock; this timer is for this very ejection.
      if (releaseIfDue(state, until) && this.#ejected.delete(upstream)) this.#usable = new WeakMap();
    }, until - now).unref();
    this.#timers.add(timer);
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}

/** Same service, host, path, methods and headers: the same route, whatever else changed. */
export function routeKey(route: GatewayRoute): string {
  return JSON.stringify([route.service, route.host, route.path, route.methods, route.headers]);
}
