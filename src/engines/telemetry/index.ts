// Telemetry, wired: OTLP requests in; spans stored, turned into the live service map and
// RED figures, and optionally forwarded; the Prometheus registry. `createTelemetry` is what
// the composition root calls, with the span store it chose; the HTTP interface serves it.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { BatonError } from '../../domain/errors.ts';
import type { Manifest } from '../../domain/manifest/model.ts';
import {
  DEFAULT_RED_OPTIONS,
  RedAggregator,
  dataPlaneSampleOf,
  mergeReports,
  redSampleOf,
  type RedReport,
} from '../../domain/telemetry/red.ts';
import { InstanceRed } from '../../domain/telemetry/instance-red.ts';
import type { SpanRecord } from '../../domain/telemetry/span.ts';
import type { SeriesPoint } from '../../domain/telemetry/windowed-stats.ts';
import type { Clock, Timer } from '../../ports/clock.ts';
import type { RetentionPolicy, SpanStore } from '../../ports/span-store.ts';
import { OtlpForwarder } from './forwarder.ts';
import { LiveMap, type LiveMapOptions, type LiveMapSnapshot } from './live-map.ts';
import { TelemetryMetrics, type RejectReason } from './metrics.ts';
import {
  DEFAULT_INGEST_LIMITS,
  decodeOtlpRequest,
  otlpEncodingOf,
  type IngestLimits,
} from './otlp-request.ts';
import { DEFAULT_RETENTION, RetentionLoop } from './retention.ts';

export interface TelemetryOptions {
  /** Where spans go; telemetry closes it with itself. */
  readonly spanStore: SpanStore;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Where the current revision comes from (the RevisionEngine), for drift. */
  readonly engine: { latest(): Promise<{ number: number; manifest: Manifest } | undefined> };
  /** Also send every accepted request to this OTLP/HTTP traces URL. */
  readonly forwardTo?: string | undefined;
  readonly forwardHeaders?: Readonly<Record<string, string>> | undefined;
  readonly retention?: Partial<RetentionPolicy> | undefined;
  readonly retentionEveryMs?: number | undefined;
  readonly limits?: Partial<IngestLimits> | undefined;
  readonly map?: Partial<LiveMapOptions> | undefined;
}

export interface IngestRequest {
  readonly body: Uint8Array;
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  /**
   * When the sender is one service's instance: every span must be that service's, or the
   * whole request is refused (a service cannot speak for another's health).
   */
  readonly onlyService?: string | undefined;
}

export interface IngestOutcome {
  readonly encoding: 'protobuf' | 'json';
  /** Spans in the request. */
  readonly received: number;
  /** Spans that were new (not already stored). */
  readonly stored: number;
}

export interface Telemetry {
  readonly store: SpanStore;
  readonly limits: IngestLimits;
  /** Decodes, stores and observes one OTLP/HTTP request; throws a BatonError (400/413/415) when it is bad. */
  ingest(request: IngestRequest): Promise<IngestOutcome>;
  map(): Promise<LiveMapSnapshot>;
  red(service?: string): RedReport;
  /** The figures of these instances together, one point per 10-second slot, oldest first. */
  instanceSeries(instances: readonly string[]): SeriesPoint[];
  /** Telemetry's Prometheus registry (RED, edges, ingest health), for /metrics. */
  readonly metrics: Registry;
  /** Counts a refused request that never reached `ingest` (auth, body limit). */
  rejected(reason: RejectReason): void;
  close(): Promise<void>;
}

const PRUNE_EVERY_MS = 60_000;

export async function createTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const { clock, logger } = options;
  const store = options.spanStore;
  const limits = { ...DEFAULT_INGEST_LIMITS, ...options.limits };
  const red = new RedAggregator(DEFAULT_RED_OPTIONS);
  // What the data plane saw services answer: the figures of services that send no spans.
  const observedRed = new RedAggregator(DEFAULT_RED_OPTIONS);
  // Per instance: what a gray config release's instances answered, apart from the others.
  const instanceRed = new InstanceRed();
  let liveMap: LiveMap | undefined = undefined;
  const metrics = new TelemetryMetrics({
    storeBytes: () => store.sizeBytes(),
    pendingSpans: () => liveMap?.pendingSpans() ?? 0,
  });
  liveMap = new LiveMap({
    clock,
    revisions: options.engine,
    onEdge: (edge) => metrics.edge(edge),
    options: options.map,
  });
  const map = liveMap;
  const forwarder = options.forwardTo
    ? new OtlpForwarder({
        url: options.forwardTo,
        headers: options.forwardHeaders,
        logger,
        clock,
        onResult: (result) => metrics.forwarded(result),
      })
    : undefined;
  const retention = new RetentionLoop({
    store,
    policy: { ...DEFAULT_RETENTION, ...options.retention },
    clock,
    logger,
    everyMs: options.retentionEveryMs ?? 30_000,
  });
  let pruneTimer: Timer | undefined;
  const schedulePrune = () => {
    pruneTimer = clock.setTimeout(() => {
      red.prune(clock.now().getTime());
      observedRed.prune(clock.now().getTime());
      instanceRed.prune(clock.now().getTime());
      schedulePrune();
    }, PRUNE_EVERY_MS);
  };
  schedulePrune();

  const observe = (spans: readonly SpanRecord[]) => {
    const now = clock.now().getTime();
    for (const span of spans) {
      map.observe(span);
      const sample = redSampleOf(span);
      if (sample) metrics.served(sample, red.record(sample, now));
      const observed = dataPlaneSampleOf(span);
      if (observed) observedRed.record(observed, now);
      instanceRed.observe(span, now);
    }
  };

  const telemetry: Telemetry = {
    store,
    limits,
    async ingest(request) {
      let encoding: 'protobuf' | 'json';
      let spans: SpanRecord[];
      try {
        encoding = otlpEncodingOf(request.contentType);
        spans = await decodeOtlpRequest(
          request.body,
          { contentType: request.contentType, contentEncoding: request.contentEncoding },
          limits,
        );
      } catch (error) {
        if (error instanceof BatonError) metrics.rejected(error.code as RejectReason);
        throw error;
      }
      const foreign =
        request.onlyService === undefined ? undefined : spans.find((s) => s.service !== request.onlyService);
      if (foreign !== undefined) {
        metrics.rejected('forbidden');
        throw new BatonError(
          'forbidden',
          `${request.onlyService}'s token may not send spans of ${foreign.service}`,
          {
            hint: "each instance sends its own service's spans (service.name as BATON_SERVICE)",
          },
        );
      }
      const stored = await store.append(spans);
      metrics.spansReceived(encoding, stored.length);
      observe(stored);
      forwarder?.enqueue(request.body, request.contentType ?? '', request.contentEncoding);
      return { encoding, received: spans.length, stored: stored.length };
    },
    map: () => map.snapshot(),
    red: (service) => {
      const now = clock.now().getTime();
      return mergeReports(red.report(now, service), observedRed.report(now, service));
    },
    instanceSeries: (instances) => instanceRed.series(instances, clock.now().getTime()),
    metrics: metrics.registry,
    rejected: (reason) => metrics.rejected(reason),
    async close() {
      map.close();
      pruneTimer?.cancel();
      await retention.close();
      await forwarder?.close();
      await store.close();
    },
  };
  return telemetry;
}
