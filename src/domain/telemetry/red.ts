// RED figures (rate, errors, duration) per service and route, from the SERVER spans that
// arrive: what each service answered, as it saw it. A window of 10-second slots gives the
// dashboard its charts; a cap on routes per service keeps a service that names spans after
// raw paths (`GET /orders/8f3c…`) from growing the table without end.
import { dataPlaneCall, isError, isProbe, routeOf, type SpanRecord } from './span.ts';
import { WindowedStats, type SeriesPoint, type WindowFigures } from './windowed-stats.ts';

export interface RedOptions {
  readonly slotMs: number;
  readonly slots: number;
  /** Routes beyond this many per service are counted under OTHER. */
  readonly maxRoutesPerService: number;
  /** Services beyond this many are counted under OTHER: service names come from the network. */
  readonly maxServices: number;
}

export const DEFAULT_RED_OPTIONS: RedOptions = {
  slotMs: 10_000,
  slots: 90,
  maxRoutesPerService: 100,
  maxServices: 500,
};
/** Where routes (and services) past the caps are counted. */
export const OTHER = '(other)';

export interface RedSeries {
  readonly totals: WindowFigures;
  readonly series: readonly SeriesPoint[];
}

export interface RedRoute extends RedSeries {
  readonly route: string;
}

export interface RedService extends RedSeries {
  readonly service: string;
  readonly routes: readonly RedRoute[];
}

export interface RedReport {
  readonly at: string;
  readonly slotSeconds: number;
  readonly windowSeconds: number;
  readonly services: readonly RedService[];
}

/** A SERVER span's contribution to the RED figures; undefined for other spans. */
export interface RedSample {
  readonly service: string;
  readonly route: string;
  readonly atMs: number;
  readonly durationMs: number;
  readonly error: boolean;
}

export function redSampleOf(span: SpanRecord): RedSample | undefined {
  if (span.kind !== 'server' || isProbe(span)) return undefined;
  return {
    service: span.service,
    route: routeOf(span),
    // When it finished: that is when its answer was given.
    atMs: (span.startUs + span.durationUs) / 1000,
    durationMs: span.durationUs / 1000,
    error: isError(span),
  };
}

/**
 * What the data plane saw a service answer, for a service that sends no spans of its own:
 * an east-west call's span (its callee), or a gateway span (its upstream). Undefined for
 * every other span.
 */
export function dataPlaneSampleOf(span: SpanRecord): RedSample | undefined {
  const callee = dataPlaneCall(span)?.callee ?? gatewayUpstream(span);
  if (callee === undefined || isProbe(span)) return undefined;
  return {
    service: callee,
    route: routeOf(span),
    atMs: (span.startUs + span.durationUs) / 1000,
    durationMs: span.durationUs / 1000,
    error: isError(span),
  };
}

function gatewayUpstream(span: SpanRecord): string | undefined {
  if (span.kind !== 'server' || span.service !== 'gateway') return undefined;
  const upstream = span.attributes['baton.upstream.service'];
  return typeof upstream === 'string' && upstream !== '' ? upstream : undefined;
}

/**
 * A service's own figures where it sends spans, the data plane's where it does not: so an
 * application with no instrumentation has RED figures (and SLOs) too, and an instrumented
 * one is not counted twice.
 */
export function mergeReports(own: RedReport, observed: RedReport): RedReport {
  const named = new Set(own.services.map((s) => s.service));
  const services = [...own.services, ...observed.services.filter((s) => !named.has(s.service))];
  services.sort((a, b) => a.service.localeCompare(b.service));
  return { ...own, services };
}

export class RedAggregator {
  readonly #options: RedOptions;
  readonly #services = new Map<string, Map<string, WindowedStats>>();

  constructor(options: RedOptions = DEFAULT_RED_OPTIONS) {
    this.#options = options;
  }

  /** Returns the service and route the sample was counted under (OTHER past the caps). */
  record(sample: RedSample, nowMs: number): { readonly service: string; readonly route: string } {
    let service = sample.service;
    let routes = this.#services.get(service);
    if (routes === undefined) {
      if (this.#services.size >= this.#options.maxServices) service = OTHER;
      routes = this.#services.get(service);
      if (routes === undefined) {
        routes = new Map();
        this.#services.set(service, routes);
      }
    }
    let route = sample.route;
    let stats = routes.get(route);
    if (stats === undefined) {
      if (routes.size >= this.#options.maxRoutesPerService) route = OTHER;
      stats = routes.get(route);
      if (stats === undefined) {
        stats = new WindowedStats({ slotMs: this.#options.slotMs, slots: this.#options.slots });
        routes.set(route, stats);
      }
    }
    stats.record(sample.atMs, sample.durationMs, sample.error, nowMs);
    return { service, route };
  }

  report(nowMs: number, service?: string): RedReport {
    const services: RedService[] = [];
    const names = service === undefined ? [...this.#services.keys()].sort() : [service];
    for (const name of names) {
      const routes = this.#services.get(name);
      if (routes === undefined) continue;
      const all = new WindowedStats({ slotMs: this.#options.slotMs, slots: this.#options.slots });
      const list: RedRoute[] = [];
      for (const [route, stats] of [...routes].sort(([a], [b]) => a.localeCompare(b))) {
        if (stats.isEmpty(nowMs)) continue;
        all.mergeFrom(stats, nowMs);
        list.push({ route, totals: stats.figures(nowMs), series: stats.series(nowMs) });
      }
      if (list.length === 0) continue;
      services.push({ service: name, totals: all.figures(nowMs), series: all.series(nowMs), routes: list });
    }
    return {
      at: new Date(nowMs).toISOString(),
      slotSeconds: this.#options.slotMs / 1000,
      windowSeconds: (this.#options.slotMs * this.#options.slots) / 1000,
      services,
    };
  }

  /** Forgets routes (and services) with nothing left in the window. */
  prune(nowMs: number): void {
    for (const [service, routes] of this.#services) {
      for (const [route, stats] of routes) if (stats.isEmpty(nowMs)) routes.delete(route);
      if (routes.size === 0) this.#services.delete(service);
    }
  }
}
