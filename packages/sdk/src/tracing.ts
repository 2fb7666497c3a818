// Turning tracing on for a service: its Baton identity from the environment as resource
// attributes, W3C trace context, and spans exported as OTLP/protobuf to the control plane
// (with several replicas in BATON_SERVER, to the next when one does not take a batch).
// Tracing must never break a service: without BATON_SERVER it stays off (the helpers then
// pass requests through untouched), and an unreachable or old control plane only costs the
// spans (the exporter's failures are swallowed, the queue is bounded).
//
// The OTel SDK and exporter cost ~200 ms of CPU to load: they are imported only when
// tracing is on, so a service run without Baton starts as fast as before.
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { FailoverExporter } from './failover-exporter.ts';
import { serverList } from './servers.ts';

export interface TracingOptions {
  /** Defaults to process.env: BATON_SERVICE, BATON_INSTANCE, BATON_VERSION, BATON_SERVER, BATON_TOKEN. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** The service name when BATON_SERVICE is not set (started by hand). */
  readonly service?: string | undefined;
  /** The version when BATON_VERSION is not set. */
  readonly version?: string | undefined;
  /** Export here instead of OTLP to BATON_SERVER (tests); tracing is then on even without BATON_SERVER. */
  readonly exporter?: SpanExporter | undefined;
  /** How long spans wait to be batched. Default 1000 ms (OTel's 5 s makes the live map lag). */
  readonly scheduledDelayMillis?: number | undefined;
  /** Told (at most every 30 s) when exporting fails. Default: silence. */
  readonly onError?: ((message: string) => void) | undefined;
}

export interface Tracing {
  readonly enabled: boolean;
  /** Where spans go first: `${BATON_SERVER}/v1/traces` (its first replica), or undefined when off or exporting elsewhere. */
  readonly endpoint: string | undefined;
  /**
   * Settles once spans are being recorded (at once when off; never rejects). Requests served
   * before are not traced: start listening after it.
   */
  readonly ready: Promise<void>;
  /** Exports what is queued now. */
  flush(): Promise<void>;
  /** Exports what is queued and stops; gives up after `timeoutMs`. Never rejects. */
  shutdown(timeoutMs?: number): Promise<void>;
}

const DISABLED: Tracing = {
  enabled: false,
  endpoint: undefined,
  ready: Promise.resolve(),
  flush: async () => {},
  shutdown: async () => {},
};

let active: Tracing | undefined;

/** Starts tracing for this process (once: later calls return the first result). */
export function startTracing(options: TracingOptions = {}): Tracing {
  if (active) return active;
  const env = options.env ?? process.env;
  const servers = serverList(env.BATON_SERVER);
  if (servers.length === 0 && !options.exporter) return (active = DISABLED);
  const endpoints = options.exporter ? [] : servers.map((server) => `${server}/v1/traces`);
  const endpoint = endpoints[0];
  let provider: NodeTracerProvider | undefined;
  const ready = start(options, env, endpoints).then(
    (started) => void (provider = started),
    (error: unknown) => options.onError?.(`tracing is off: ${(error as Error).message}`),
  );
  const whenReady = async <T>(work: (p: NodeTracerProvider) => Promise<T>) => {
    await ready;
    if (provider) await work(provider).catch(() => {});
  };
  active = {
    enabled: true,
    endpoint,
    ready,
    flush: () => whenReady((p) => p.forceFlush()),
    shutdown: (timeoutMs = 2_000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref();
        void whenReady((p) => p.shutdown()).finally(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
  return active;
}

async function start(
  options: TracingOptions,
  env: Readonly<Record<string, string | undefined>>,
  endpoints: readonly string[],
): Promise<NodeTracerProvider> {
  const [{ OTLPTraceExporter }, { resourceFromAttributes }, { BatchSpanProcessor }, { NodeTracerProvider }] =
    await Promise.all([
      import('@opentelemetry/exporter-trace-otlp-proto'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/sdk-trace-node'),
    ]);
  const token = env.BATON_TOKEN;
  const toReplica = (url: string) =>
    new OTLPTraceExporter({
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      timeoutMillis: 5_000,
    });
  const exporter =
    options.exporter ??
    (endpoints.length === 1 ? toReplica(endpoints[0]!) : new FailoverExporter(endpoints.map(toReplica)));
  const attributes: Record<string, string> = {};
  const service = env.BATON_SERVICE ?? options.service;
  const version = env.BATON_VERSION ?? options.version;
  if (service) attributes['service.name'] = service;
  if (env.BATON_INSTANCE) attributes['service.instance.id'] = env.BATON_INSTANCE;
  if (version) attributes['service.version'] = version;
  if (env.BATON_REVISION) attributes['baton.revision'] = env.BATON_REVISION;

  if (options.onError) diag.setLogger(throttled(options.onError), DiagLogLevel.ERROR);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes(attributes),
    spanProcessors: [
      new BatchSpanProcessor(exporter, {
        scheduledDelayMillis: options.scheduledDelayMillis ?? 1_000,
        maxQueueSize: 2_048,
        maxExportBatchSize: 512,
        // Each replica has 5 s (its exporter retries a refused connection meanwhile) before the
        // batch moves on to the next: the batch's own deadline covers every replica.
        exportTimeoutMillis: 5_000 * Math.max(1, endpoints.length),
      }),
    ],
  });
  // The AsyncLocalStorage context manager (a request's span follows its awaits) and the W3C
  // trace-context propagator.
  provider.register();
  return provider;
}

/** OTel reports export failures through its diag logger; this turns a flood into one line per 30 s. */
function throttled(report: (message: string) => void): DiagLogger {
  let last = -Infinity;
  const error = (message: string, ...args: unknown[]) => {
    const now = Date.now();
    if (now - last < 30_000) return;
    last = now;
    report([message, ...args.map((a) => (a instanceof Error ? a.message : String(a)))].join(' '));
  };
  const ignore = () => {};
  return { error, warn: ignore, info: ignore, debug: ignore, verbose: ignore };
}
