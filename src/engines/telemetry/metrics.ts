// Telemetry as Prometheus metrics, in a registry of its own that the control plane exposes
// at /metrics: RED per service and route, per edge of the service map, and the health of
// the ingest itself. Label children are cached: prom-client hashes labels on every
// `labels()` call, and these counters move for every span.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EdgeObservation } from '../../domain/telemetry/edge-matcher.ts';
import { OTHER, type RedSample } from '../../domain/telemetry/red.ts';
import type { ForwardResult } from './forwarder.ts';

const MAX_EDGE_LABELS = 10_000;
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type RejectReason =
  'bad-request' | 'unsupported-media-type' | 'payload-too-large' | 'unauthorized' | 'forbidden';

export class TelemetryMetrics {
  readonly registry = new Registry();
  readonly #spans = new Counter({
    name: 'baton_otlp_spans_received_total',
    help: 'Spans accepted by the OTLP ingest (new ones; a span sent twice counts once).',
    labelNames: ['encoding'] as const,
    registers: [this.registry],
  });
  readonly #rejected = new Counter({
    name: 'baton_otlp_requests_rejected_total',
    help: 'OTLP export requests refused, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly #forwarded = new Counter({
    name: 'baton_otlp_forward_requests_total',
    help: 'Export requests forwarded to the external OTLP endpoint: sent, failed, or dropped on a full queue.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly #requests = new Counter({
    name: 'baton_service_requests_total',
    help: 'Requests served, from SERVER spans, by service, route and outcome (error: 5xx or an error status).',
    labelNames: ['service', 'route', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #duration = new Histogram({
    name: 'baton_service_request_duration_seconds',
    help: 'How long requests took to serve, from SERVER spans.',
    labelNames: ['service', 'route'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly #edgeRequests = new Counter({
    name: 'baton_edge_requests_total',
    help: 'Calls from one service to another, observed in traces, by outcome.',
    labelNames: ['caller', 'callee', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #edgeDuration = new Histogram({
    name: 'baton_edge_request_duration_seconds',
    help: 'How long calls between services took, as the caller saw them.',
    labelNames: ['caller', 'callee'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly #serviceChildren = new Map<
    string,
    { ok: Counter.Internal; error: Counter.Internal; duration: Histogram.Internal<string> }
  >();
  readonly #edgeChildren = new Map<
    string,
    { ok: Counter.Internal; error: Counter.Internal; duration: Histogram.Internal<string> }
  >();

  constructor(sources: { storeBytes: () => Promise<number>; pendingSpans: () => number }) {
    new Gauge({
      name: 'baton_trace_store_bytes',
      help: 'Bytes of live pages in the embedded span store.',
      registers: [this.registry],
      async collect() {
        this.set(await sources.storeBytes());
      },
    });
    new Gauge({
      name: 'baton_service_map_pending_spans',
      help: 'Client and server spans waiting for their other half to draw an edge.',
      registers: [this.registry],
      collect() {
        this.set(sources.pendingSpans());
      },
    });
  }

  spansReceived(encoding: string, count: number): void {
    this.#spans.labels(encoding).inc(count);
  }

  rejected(reason: RejectReason): void {
    this.#rejected.labels(reason).inc();
  }

  forwarded(result: ForwardResult): void {
    this.#forwarded.labels(result).inc();
  }

  /** `as`: the service and route RED counted it under (capped, like the RED figures). */
  served(sample: RedSample, as: { readonly service: string; readonly route: string }): void {
    const key = `${as.service}\u0000${as.route}`;
    let children = this.#serviceChildren.get(key);
    if (children === undefined) {
      children = {
        ok: this.#requests.labels(as.service, as.route, 'ok'),
        error: this.#requests.labels(as.service, as.route, 'error'),
        duration: this.#duration.labels(as.service, as.route),
      };
      this.#serviceChildren.set(key, children);
    }
    (sample.error ? children.error : children.ok).inc();
    children.duration.observe(sample.durationMs / 1000);
  }

  edge(edge: EdgeObservation): void {
    // Service names come from the network: past the cap, new edges share one label set.
    const known = this.#edgeChildren.size < MAX_EDGE_LABELS;
    const [caller, callee] = known ? [edge.caller, edge.callee] : [OTHER, OTHER];
    const key = `${caller}\u0000${callee}`;
    let children = this.#edgeChildren.get(key);
    if (children === undefined) {
      children = {
        ok: this.#edgeRequests.labels(caller, callee, 'ok'),
        error: this.#edgeRequests.labels(caller, callee, 'error'),
        duration: this.#edgeDuration.labels(caller, callee),
      };
      this.#edgeChildren.set(key, children);
    }
    (edge.error ? children.error : children.ok).inc();
    children.duration.observe(edge.durationMs / 1000);
  }
}
