// The gateway's own span of each request, exported to the control plane over OTLP/HTTP
// (JSON), so that a trace entering through the gateway has its real root: the services'
// server spans name the gateway's span as their parent. Spans are batched once a second;
// a full queue drops (and counts) rather than growing, and a failing receiver costs the
// spans, never a request. With several control-plane replicas, a batch one refuses or does
// not answer goes to the next at once, and later batches stay with the one that took it.
import type { Logger } from 'pino';
import { request } from 'undici';

/** What the gateway knows of a request once it has answered. */
export interface GatewaySpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' when the gateway started the trace. */
  readonly parentSpanId: string;
  readonly method: string;
  readonly path: string;
  /** The path as a low-cardinality template (`/api/orders/{id}`): the span's name and http.route. */
  readonly template: string;
  /** The matched route (`/api/orders`), or undefined when none matched. */
  readonly route: string | undefined;
  readonly service: string | undefined;
  readonly instance: string | undefined;
  /** East-west: the calling service; undefined for a request through the gateway's door. */
  readonly caller?: string | undefined;
  /** East-west: the caller's dependsOn range on the callee. */
  readonly range?: string | undefined;
  /** East-west, observe mode: the caller does not declare the callee. */
  readonly undeclared?: boolean | undefined;
  readonly status: number;
  readonly outcome: string;
  readonly attempts: number;
  readonly endUnixMs: number;
  readonly durationMs: number;
}

export interface SpanExport {
  add(span: GatewaySpan): void;
  /** Sends what is queued and stops. */
  close(): Promise<void>;
  readonly dropped: number;
}

export interface SpanExportOptions {
  /** The control plane's replicas, in order of preference: spans go to `${url}/v1/traces`. */
  readonly urls: readonly string[];
  readonly token?: string | undefined;
  readonly logger: Logger;
  /** Names this gateway process in its spans' resource. */
  readonly instanceId: string;
  readonly flushMs?: number | undefined;
  readonly maxQueue?: number | undefined;
}

const SERVER = 2;
const CLIENT = 3;
const STATUS_ERROR = 2;

export function otlpSpanExport(options: SpanExportOptions): SpanExport {
  const endpoints = options.urls.map((url) => `${url.replace(/\/+$/, '')}/v1/traces`);
  if (endpoints.length === 0) throw new RangeError('span export needs a control-plane URL');
  const maxQueue = options.maxQueue ?? 8_192;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  let queue: GatewaySpan[] = [];
  let dropped = 0;
  let warned = false;
  let sending: Promise<void> | undefined;
  /** The replica that took the last batch: the next one goes there first. */
  let current = 0;

  const send = async (endpoint: string, body: string): Promise<void> => {
    const response = await request(endpoint, {
      method: 'POST',
      headers,
      body,
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    });
    await response.body.dump();
    if (response.statusCode >= 300) throw new Error(`the control plane answered ${response.statusCode}`);
  };

  const flush = async (): Promise<void> => {
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    const body = JSON.stringify(otlpRequest(batch, options.instanceId));
    let failure: unknown;
    // Each replica once, from the one that last worked: a dead replica costs one refused
    // connection per batch until it is passed, never the batch.
    for (let tried = 0; tried < endpoints.length; tried++) {
      const at = (current + tried) % endpoints.length;
      try {
        await send(endpoints[at]!, body);
        current = at;
        warned = false;
        return;
      } catch (error) {
        failure = error;
      }
    }
    if (!warned) options.logger.warn({ err: (failure as Error).message }, 'gateway spans not exported');
    warned = true;
  };
  const timer = setInterval(() => {
    sending ??= flush().finally(() => (sending = undefined));
  }, options.flushMs ?? 1_000).unref();

  return {
    add(span) {
      if (queue.length >= maxQueue) dropped++;
      else queue.push(span);
    },
    async close() {
      clearInterval(timer);
      await sending;
      await flush();
    },
    get dropped() {
      return dropped;
    },
  };
}

const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
const int = (key: string, value: number) => ({ key, value: { intValue: String(value) } });

/**
 * The gateway's own spans under its own name; an east-west call's under its caller's, as the
 * client span the caller would have sent itself: so an application with no instrumentation
 * at all shows its calls, under its own services, in traces and on the map.
 */
function otlpRequest(spans: readonly GatewaySpan[], instanceId: string): unknown {
  const byService = Map.groupBy(spans, (span) => span.caller ?? 'gateway');
  return {
    resourceSpans: [...byService].map(([service, list]) => ({
      resource: {
        attributes: [
          str('service.name', service),
          str('service.instance.id', service === 'gateway' ? instanceId : `${instanceId}/data-plane`),
        ],
      },
      scopeSpans: [{ scope: { name: 'baton-gateway' }, spans: list.map(otlpSpan) }],
    })),
  };
}

function otlpSpan(span: GatewaySpan): unknown {
  const endNs = BigInt(Math.round(span.endUnixMs * 1000)) * 1000n;
  const startNs = endNs - BigInt(Math.round(span.durationMs * 1_000_000));
  const attributes: { key: string; value: Record<string, unknown> }[] = [
    str('http.request.method', span.method),
    str('url.path', span.path),
    // The template, not the route: a route is a prefix, and a catch-all would name every
    // request `GET /`.
    str('http.route', span.template),
    int('http.response.status_code', span.status),
    int('baton.attempts', span.attempts),
  ];
  if (span.caller !== undefined) {
    // What the live map draws an edge from at once (no pairing wait), and telemetry's RED
    // counts for a callee that sends no spans of its own.
    attributes.push(str('baton.caller', span.caller));
    if (span.service !== undefined)
      attributes.push(str('baton.callee', span.service), str('peer.service', span.service));
    if (span.range !== undefined) attributes.push(str('baton.range', span.range));
    if (span.undeclared === true) attributes.push({ key: 'baton.undeclared', value: { boolValue: true } });
  } else if (span.route !== undefined) attributes.push(str('baton.route', span.route));
  if (span.service !== undefined) attributes.push(str('baton.upstream.service', span.service));
  if (span.instance !== undefined) attributes.push(str('baton.upstream.instance', span.instance));
  if (span.outcome !== 'ok') attributes.push(str('baton.outcome', span.outcome));
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
    name: `${span.method} ${span.template}`,
    kind: span.caller !== undefined ? CLIENT : SERVER,
    startTimeUnixNano: startNs.toString(),
    endTimeUnixNano: endNs.toString(),
    attributes,
    status: span.status >= 500 ? { code: STATUS_ERROR, message: span.outcome } : {},
  };
}
