// Prometheus metrics of one gateway process, on a registry of its own (never the global
// one, so that embedding the gateway in another process adds nothing to that process's
// metrics). Label children are created once per route and service and cached: resolving
// labels per request would cost more than the rest of the bookkeeping together.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Tier } from '../../domain/manifest/schema.ts';

type Inc = { inc(value?: number): void };
type Observe = { observe(value: number): void };

/** Seconds; dense below 100 ms, where a gateway's requests mostly live. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'service' | 'code'>;
  readonly errors: Counter<'route' | 'service' | 'reason'>;
  readonly duration: Histogram<'route' | 'service'>;
  readonly retries: Counter<'service'>;
  readonly ejections: Counter<'service'>;
  readonly rateLimited: Counter<'route' | 'service'>;
  readonly shed: Counter<'service' | 'tier'>;

  constructor(gauges: { inFlight: () => number; sequence: () => number; loopDelayMs: () => number }) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'baton_gateway_requests_total',
      help: 'Requests answered, by route, service and status class (2xx, 4xx, 5xx…).',
      labelNames: ['route', 'service', 'code'],
      registers,
    });
    this.errors = new Counter({
      name: 'baton_gateway_errors_total',
      help: 'Requests that did not get a successful answer from the service, by reason.',
      labelNames: ['route', 'service', 'reason'],
      registers,
    });
    this.duration = new Histogram({
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
      help: 'Endpoints taken out of rotation by outlier detection, by service.',
      labelNames: ['service'],
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
    return new RouteMetrics(this, route, service);
  }

  service(service: string, tier: Tier): ServiceMetrics {
    return {
      retries: this.retries.labels(service),
      ejections: this.ejections.labels(service),
      shed: this.shed.labels(service, tier),
    };
  }
}

export interface ServiceMetrics {
  readonly retries: Inc;
  readonly ejections: Inc;
  readonly shed: Inc;
}

export class RouteMetrics {
  readonly #metrics: GatewayMetrics;
  readonly #route: string;
  readonly #service: string;
  readonly #byClass: (Inc | undefined)[] = [];
  readonly #errors = new Map<string, Inc>();
  #duration: Observe | undefined;
  #rateLimited: Inc | undefined;

  constructor(metrics: GatewayMetrics, route: string, service: string) {
    this.#metrics = metrics;
    this.#route = route;
    this.#service = service;
  }

  /** One answered request: its status, its duration, and why it failed ('' when it did not). */
  answered(status: number, seconds: number, reason: string): void {
    const cls = Math.min(5, Math.max(1, Math.floor(status / 100)));
    let counter = this.#byClass[cls];
    if (counter === undefined) {
      counter = this.#metrics.requests.labels(this.#route, this.#service, `${cls}xx`);
      this.#byClass[cls] = counter;
    }
    counter.inc();
    this.#duration ??= this.#metrics.duration.labels(this.#route, this.#service);
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
}
