// Explicit HTTP instrumentation: wrap the server's request listener, wrap each outgoing
// call. Why not OpenTelemetry's auto-instrumentation: under ESM, instrumentation-http only
// patches node:http when the process starts with a module hook (`--import` registering
// import-in-the-middle), and it never sees global fetch (undici), which is what services
// use to call each other; a trace would break at the first fetch. Explicit wrappers work
// the same under ESM and CommonJS, with or without flags (test/telemetry-sdk.test.ts
// shows both sides). Every helper passes the request through untouched when tracing is off,
// and tracing code that fails never fails the request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';

const TRACER_NAME = '@baton/sdk';
const tracer = () => trace.getTracer(TRACER_NAME, '0.1.0');

/**
 * Now, in epoch ms to the µs. Given explicitly to every span's start and end: the OTel SDK
 * otherwise starts spans at Date.now(), whole milliseconds, which skews a call tree of
 * millisecond calls (children appear to start before their parents, gaps round to 1 ms).
 */
const preciseNow = () => performance.timeOrigin + performance.now();

/** The user agent of Baton's health prober (`baton-probe/0.1`). */
const PROBE_AGENT = 'baton-probe/';

/**
 * Whether a request is one of Baton's own health probes. Probes are not traffic: one every
 * few seconds per instance would bury a quiet service's real requests in traces and RED.
 */
export function isBatonProbe(request: IncomingMessage): boolean {
  const agent = request.headers['user-agent'];
  return typeof agent === 'string' && agent.startsWith(PROBE_AGENT);
}

/** Server spans this module started, with their method, so setRoute can rename them. */
const serverSpans = new WeakMap<Span, string>();

/**
 * Wraps a node:http request listener: each request runs inside a SERVER span that
 * continues the caller's `traceparent`, ending when the response finishes (or the
 * connection closes first). Name it with setRoute() once the route is known. Baton's
 * health probes, and requests `ignore` selects (other health checks), are served without
 * a span.
 */
export function traceRequests<R extends IncomingMessage, S extends ServerResponse>(
  listener: (request: R, response: S) => void,
  options: { readonly ignore?: ((request: R) => boolean) | undefined } = {},
): (request: R, response: S) => void {
  return (request, response) => {
    // Health probes every few seconds would bury the traffic worth seeing.
    if (isBatonProbe(request) || options.ignore?.(request)) return listener(request, response);
    let span: Span;
    let active: ReturnType<typeof context.active>;
    try {
      const parent = propagation.extract(ROOT_CONTEXT, request.headers);
      const method = request.method ?? 'GET';
      const path = (request.url ?? '/').split('?')[0]!;
      span = tracer().startSpan(
        method,
        {
          kind: SpanKind.SERVER,
          startTime: preciseNow(),
          attributes: {
            'http.request.method': method,
            'url.path': path,
            'url.scheme': 'http',
            ...(request.socket.localPort ? { 'server.port': request.socket.localPort } : {}),
            ...(request.socket.remoteAddress ? { 'client.address': request.socket.remoteAddress } : {}),
            ...(typeof request.headers['user-agent'] === 'string'
              ? { 'user_agent.original': request.headers['user-agent'] }
              : {}),
          },
        },
        parent,
      );
      serverSpans.set(span, method);
      active = trace.setSpan(parent, span);
      let ended = false;
      const end = (aborted: boolean, at: number) => {
        if (ended) return;
        ended = true;
        const status = response.statusCode;
        span.setAttribute('http.response.status_code', status);
        if (aborted)
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: 'connection closed before the response ended',
          });
        else if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end(at);
      };
      // Timed when the handler ends the response, before the bytes go out: 'finish' (or any
      // time taken after the write) comes late whenever the event loop is busy, or the OS
      // hands the CPU to the caller the write just woke, and a server span would then
      // outlast its caller's call.
      const originalEnd = response.end;
      response.end = function (this: S, ...args: unknown[]) {
        const at = preciseNow();
        const result = (originalEnd as (...a: unknown[]) => S).apply(this, args);
        end(false, at);
        return result;
      } as typeof response.end;
      response.once('close', () => end(!response.writableEnded, preciseNow()));
    } catch {
      return listener(request, response);
    }
    context.with(active, () => listener(request, response));
  };
}

/** Names the current SERVER span after its route template (`/orders/:id`), for RED per route. */
export function setRoute(route: string): void {
  const span = trace.getActiveSpan();
  const method = span && serverSpans.get(span);
  if (!span || method === undefined) return;
  span.setAttribute('http.route', route);
  span.updateName(`${method} ${route}`);
}

export interface OutgoingCall {
  readonly method: string;
  readonly url: string | URL;
  /** The Baton service being called: names the edge even if the callee is not traced. */
  readonly peerService?: string | undefined;
}

/**
 * Runs one outgoing HTTP call inside a CLIENT span: `send` receives the headers to add
 * (`traceparent`, `tracestate`) and returns whatever the call produces; `statusOf` reads
 * the HTTP status from it. Works for any client: fetch, node:http's request, undici.
 * The span covers all of `send`, so read the body inside it to count the transfer too.
 */
export async function traceOutgoing<T>(
  call: OutgoingCall,
  send: (headers: Record<string, string>) => Promise<T>,
  statusOf: (result: T) => number | undefined = () => undefined,
): Promise<T> {
  let span: Span;
  const headers: Record<string, string> = {};
  let active: ReturnType<typeof context.active>;
  try {
    const url = new URL(call.url);
    const method = call.method.toUpperCase();
    const attributes: Attributes = {
      'http.request.method': method,
      'url.full': `${url.origin}${url.pathname}`,
      'server.address': url.hostname.replace(/^\[|\]$/g, ''),
      'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    };
    if (call.peerService) attributes['peer.service'] = call.peerService;
    span = tracer().startSpan(`${method} ${call.peerService ?? url.host}`, {
      kind: SpanKind.CLIENT,
      attributes,
      startTime: preciseNow(),
    });
    active = trace.setSpan(context.active(), span);
    propagation.inject(active, headers);
  } catch {
    return send({});
  }
  try {
    const result = await context.with(active, () => send(headers));
    const status = statusOf(result);
    if (status !== undefined) {
      span.setAttribute('http.response.status_code', status);
      // OTel's HTTP conventions: for a client, 4xx is an error too.
      if (status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    return result;
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end(preciseNow());
  }
}

/**
 * fetch() in a CLIENT span, with the trace context in its headers. The span ends when the
 * response headers arrive; to count the body too, use traceOutgoing and read it inside.
 */
export function tracedFetch(
  input: string | URL,
  init: RequestInit = {},
  options: { readonly peerService?: string | undefined } = {},
): Promise<Response> {
  return traceOutgoing(
    { method: init.method ?? 'GET', url: input, peerService: options.peerService },
    (headers) => {
      const merged = new Headers(init.headers);
      for (const [name, value] of Object.entries(headers)) merged.set(name, value);
      return fetch(input, { ...init, headers: merged });
    },
    (response) => response.status,
  );
}

/** A discovery lookup as an INTERNAL span: `discover payments`, failed when the lookup fails. */
export async function traceDiscovery<T>(service: string, lookup: () => Promise<T>): Promise<T> {
  let span: Span;
  try {
    span = tracer().startSpan(`discover ${service}`, {
      kind: SpanKind.INTERNAL,
      attributes: { 'baton.discovery.service': service },
      startTime: preciseNow(),
    });
  } catch {
    return lookup();
  }
  try {
    return await context.with(trace.setSpan(context.active(), span), lookup);
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end(preciseNow());
  }
}

/** The current trace id (32 hex digits), for log lines; undefined outside a traced request. */
export function currentTraceId(): string | undefined {
  const context = trace.getActiveSpan()?.spanContext();
  return context && trace.isSpanContextValid(context) ? context.traceId : undefined;
}
