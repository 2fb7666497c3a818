// Prometheus metrics of one gateway process, on a registry of its own (never the global
// one, so that embedding the gateway in another process adds nothing to that process's
// metrics). What every request touches (its status-class count and its latency) is kept
// per route in plain numbers and handed to prom-client when metrics are read: prom-client
// hashes and validates label values on every increment, which on this path would cost
// more than the rest of the bookkeeping together.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { HistogramConfiguration } from 'prom-client';
import type { Tier } from '../../domain/manifest/schema.ts';

type Inc = { inc(value?: number): void };

/** Seconds; dense below 100 ms, where a gateway's requests mostly live. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'service' | 'code'>;
  readonly errors: Counter<'route' | 'service' | 'reason'>;
  readonly duration: LatencyHistogram;
  readonly retries: Counter<'service'>;
  readonly ejections: Counter<'route' | 'service'>;
  readonly rateLimited: Counter<'route' | 'service'>;
  readonly shed: Counter<'service' | 'tier'>;
  /** Every route's counts, including routes a later snapshot dropped (their totals stay). */
  readonly #routes: RouteMetrics[] = [];

  constructor(gauges: { inFlight: () => number; sequence: () => number; loopDelayMs: () => number }) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'baton_gateway_requests_total',
      help: 'Requests answered, by route, service and status class (2xx, 4xx, 5xx…).',
      labelNames: ['route', 'service', 'code'],
      registers,
      collect: () => {
        for (const route of this.#routes) route.flushRequests();
      },
    });
    this.errors = new Counter({
      name: 'baton_gateway_errors_total',
      help: 'Requests that did not get a successful answer from the service, by reason.',
      labelNames: ['route', 'service', 'reason'],
      registers,
    });
    this.duration = new LatencyHistogram({
      name: 'baton_gateway_request_duration_seconds',
      help: 'Time from the request reaching the gateway to the last byte of the answer.',
      labelNames: ['route', 'service'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.retries = new Counter({
      name: 'baton_gateway_retries_total',
      help: 'Attempts after the first, by service.',
      labelNames: ['service'],
      registers,
    });
    this.ejections = new Counter({
      name: 'baton_gateway_ejections_total',
      help: "Endpoints taken out of a route's rotation by outlier detection, by route.",
      labelNames: ['route', 'service'],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'baton_gateway_rate_limited_total',
      help: 'Requests refused by a rate limit (429), by route.',
      labelNames: ['route', 'service'],
      registers,
    });
    this.shed = new Counter({
      name: 'baton_gateway_shed_total',
      help: 'Requests shed under overload (503), by service and tier.',
      labelNames: ['service', 'tier'],
      registers,
    });
    new Gauge({
      name: 'baton_gateway_in_flight',
      help: 'Requests in flight in this gateway process.',
      registers,
      collect() {
        this.set(gauges.inFlight());
      },
    });
    new Gauge({
      name: 'baton_gateway_snapshot_sequence',
      help: 'Sequence number of the snapshot this gateway routes by (0: none yet).',
      registers,
      // Across cluster workers, the most out-of-date one is what matters.
      aggregator: 'min',
      collect() {
        this.set(gauges.sequence());
      },
    });
    new Gauge({
      name: 'baton_gateway_event_loop_delay_seconds',
      help: 'Queueing delay of this gateway process, as load shedding sees it.',
      registers,
      aggregator: 'max',
      collect() {
        this.set(gauges.loopDelayMs() / 1000);
      },
    });
  }

  route(route: string, service: string): RouteMetrics {
    const metrics = new RouteMetrics(this, route, service);
    this.#routes.push(metrics);
    return metrics;
  }

  service(service: string, tier: Tier): ServiceMetrics {
    return {
      retries: this.retries.labels(service),
      shed: this.shed.labels(service, tier),
    };
  }
}

export interface ServiceMetrics {
  readonly retries: Inc;
  readonly shed: Inc;
}

export class RouteMetrics {
  readonly #metrics: GatewayMetrics;
  readonly #route: string;
  readonly #service: string;
  /** Requests by status class (index 1–5), and how many of them prom-client has. */
  readonly #byClass = new Float64Array(6);
  readonly #flushed = new Float64Array(6);
  readonly #requestChildren: (Inc | undefined)[] = [];
  readonly #errors = new Map<string, Inc>();
  readonly #duration: LatencyChild;
  #rateLimited: Inc | undefined;
  #ejected: Inc | undefined;

  constructor(metrics: GatewayMetrics, route: string, service: string) {
    this.#metrics = metrics;
    this.#route = route;
    this.#service = service;
    this.#duration = metrics.duration.child(route, service);
  }

  /** One answered request: its status, its duration, and why it failed ('' when it did not). */
  answered(status: number, seconds: number, reason: string): void {
    this.#byClass[Math.min(5, Math.max(1, Math.floor(status / 100)))]!++;
    this.#duration.observe(seconds);
    if (reason !== '') {
      let errors = this.#errors.get(reason);
      if (errors === undefined) {
        errors = this.#metrics.errors.labels(this.#route, this.#service, reason);
        this.#errors.set(reason, errors);
      }
      errors.inc();
    }
  }

  rateLimited(): void {
    this.#rateLimited ??= this.#metrics.rateLimited.labels(this.#route, this.#service);
    this.#rateLimited.inc();
  }

  ejected(): void {
    this.#ejected ??= this.#metrics.ejections.labels(this.#route, this.#service);
    this.#ejected.inc();
  }

  /** Hands the request counts gathered since the last read to prom-client. */
  flushRequests(): void {
    for (let cls = 1; cls <= 5; cls++) {
      const delta = this.#byClass[cls]! - this.#flushed[cls]!;
      if (delta === 0) continue;
      let child = this.#requestChildren[cls];
      if (child === undefined) {
        child = this.#metrics.requests.labels(this.#route, this.#service, `${cls}xx`);
        this.#requestChildren[cls] = child;
      }
      child.inc(delta);
      this.#flushed[cls] = this.#byClass[cls]!;
    }
  }
}

/** One label set of the latency histogram, in plain numbers. */
class LatencyChild {
  readonly labels: { readonly route: string; readonly service: string };
  readonly counts: Float64Array;
  readonly #bounds: readonly number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[], labels: { route: string; service: string }) {
    this.#bounds = bounds;
    this.labels = labels;
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    if (i < bounds.length) this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/**
 * prom-client's Histogram whose label children are LatencyChild objects. The registry
 * reads a metric through get() (getForPromString() for the text format); both render the
 * children exactly as prom-client renders its own: cumulative `_bucket` values per bound,
 * `+Inf`, `_sum` and `_count`.
 */
class LatencyHistogram extends Histogram<'route' | 'service'> {
  readonly #name: string;
  readonly #help: string;
  readonly #bounds: readonly number[];
  readonly #children = new Map<string, LatencyChild>();

  constructor(config: HistogramConfiguration<'route' | 'service'> & { buckets: number[] }) {
    super(config);
    this.#name = config.name;
    this.#help = config.help;
    this.#bounds = [...config.buckets].sort((a, b) => a - b);
  }

  child(route: string, service: string): LatencyChild {
    const key = JSON.stringify([route, service]);
    let child = this.#children.get(key);
    if (child === undefined) {
      child = new LatencyChild(this.#bounds, { route, service });
      this.#children.set(key, child);
    }
    return child;
  }

  override async get(): ReturnType<Histogram<'route' | 'service'>['get']> {
    const bucket = `${this.#name}_bucket`;
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const child of this.#children.values()) {
      let cumulative = 0;
      this.#bounds.forEach((le, i) => {
        cumulative += child.counts[i]!;
        values.push({ labels: { ...child.labels, le }, value: cumulative, metricName: bucket });
      });
      values.push({ labels: { ...child.labels, le: '+Inf' }, value: child.count, metricName: bucket });
      values.push({ labels: { ...child.labels }, value: child.sum, metricName: `${this.#name}_sum` });
      values.push({ labels: { ...child.labels }, value: child.count, metricName: `${this.#name}_count` });
    }
    // prom-client's typings give `type` as a numeric enum and require `collect`; its own
    // get() returns the string 'histogram' and no collect, which is what the registry reads.
    return {
      name: this.#name,
      help: this.#help,
      type: 'histogram',
      values,
      aggregator: 'sum',
    } as unknown as Awaited<ReturnType<Histogram<'route' | 'service'>['get']>>;
  }

  getForPromString(): ReturnType<Histogram<'route' | 'service'>['get']> {
    return this.get();
  }
}
