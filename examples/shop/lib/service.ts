// What every shop service does the same way: listen on $PORT, answer /healthz, log one
// JSON line per request, carry the request id and trace along, speak problem+json, and
// stop gracefully on SIGTERM. A service file only declares its routes.
import { randomUUID } from 'node:crypto';
import {
  createServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { setRoute, startTracing, traceRequests } from '../../../packages/sdk/src/index.ts';
import type { Method } from './http.ts';
import { UpstreamError } from './http.ts';

export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface Incoming {
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly query: URLSearchParams;
  /** The parsed JSON body (undefined when empty); malformed JSON never reaches a handler. */
  readonly body: unknown;
  /** Pass these on every outgoing call so the request id and the trace follow the request. */
  readonly forward: Readonly<Record<string, string>>;
  readonly log: Logger;
}

export type Handler = (request: Incoming) => Reply | Promise<Reply>;

export interface ServiceDefinition {
  readonly name: string;
  /** Reported by /healthz unless Baton sets BATON_VERSION; keep it equal to baton.yaml. */
  readonly version: string;
  /** Used when PORT is not set, e.g. when the service is started by hand. */
  readonly defaultPort: number;
  /** Keyed by `METHOD /path`, with `:name` path parameters: `'GET /orders/:id'`. */
  readonly routes: Readonly<Record<`${Method} /${string}`, Handler>>;
}

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: Level, message: string, fields?: Record<string, unknown>) => void;

const LEVELS: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const MAX_BODY_BYTES = 64 * 1024;
const SHUTDOWN_DEADLINE_MS = 10_000;

export function json(status: number, body: unknown): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}

export function html(body: string): Reply {
  return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body };
}

export function noContent(): Reply {
  return { status: 204, headers: {}, body: '' };
}

/** An RFC 9457 problem; `code` is what clients branch on, `detail` is for people. */
export function problem(status: number, code: string, detail: string): Reply {
  const body = { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, code, detail };
  return { status, headers: { 'content-type': 'application/problem+json' }, body: JSON.stringify(body) };
}

export function badRequest(detail: string): Reply {
  return problem(400, 'bad-request', detail);
}

/** Pass another service's answer on as it is: its status, its body, its problem. */
export function relay(reply: { readonly status: number; readonly body: unknown }): Reply {
  const answer = json(reply.status, reply.body);
  return reply.status < 400 ? answer : { ...answer, headers: { 'content-type': 'application/problem+json' } };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function createLogger(service: string): Logger {
  const threshold = LEVELS[(process.env.LOG_LEVEL as Level | undefined) ?? 'info'] ?? LEVELS.info;
  return (level, message, fields = {}) => {
    if (LEVELS[level] < threshold) return;
    const line = { time: new Date().toISOString(), level, service, message, ...fields };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  };
}

export function serve(definition: ServiceDefinition): Server {
  const version = process.env.BATON_VERSION ?? definition.version;
  const port = Number(process.env.PORT ?? definition.defaultPort);
  const log = createLogger(definition.name);
  // Off without BATON_SERVER; an unreachable control plane only costs the spans.
  const tracing = startTracing({
    service: definition.name,
    version,
    onError: (error) => log('warn', 'tracing', { error }),
  });
  const routes = Object.entries(definition.routes).map(([key, handler]) => {
    const [method, pathname] = key.split(' ');
    return { method, pathname: pathname!, pattern: new URLPattern({ pathname }), handler };
  });
  let draining = false;

  async function answer(request: IncomingMessage, url: URL, forward: Incoming['forward']): Promise<Reply> {
    // Once draining, /healthz fails so Baton and the gateway send work elsewhere.
    if (url.pathname === '/healthz' && request.method === 'GET') {
      return draining
        ? problem(503, 'draining', `${definition.name} is shutting down`)
        : json(200, { status: 'ok', service: definition.name, version });
    }
    const matches = routes.flatMap((route) => {
      const match = route.pattern.exec({ pathname: url.pathname });
      return match ? [{ ...route, params: match.pathname.groups }] : [];
    });
    const route = matches.find((m) => m.method === request.method);
    if (!route) {
      if (matches.length === 0) return problem(404, 'not-found', `nothing at ${url.pathname}`);
      const refused = problem(
        405,
        'method-not-allowed',
        `${request.method} is not allowed on ${url.pathname}`,
      );
      return { ...refused, headers: { ...refused.headers, allow: matches.map((m) => m.method).join(', ') } };
    }
    setRoute(route.pathname);
    const body = await readJson(request);
    if (!body.ok) return body.reply;
    return route.handler({ params: route.params, query: url.searchParams, body: body.value, forward, log });
  }

  const listener = (request: IncomingMessage, response: ServerResponse) => {
    const started = performance.now();
    const url = new URL(request.url ?? '/', 'http://localhost');
    const requestId = header(request, 'x-request-id') ?? randomUUID();
    const traceparent = header(request, 'traceparent');
    const forward = { 'x-request-id': requestId, ...(traceparent ? { traceparent } : {}) };

    const send = (reply: Reply) => {
      response.writeHead(reply.status, {
        ...reply.headers,
        'content-length': Buffer.byteLength(reply.body),
        'x-request-id': requestId,
        // Lets keep-alive clients go, so the server can finish closing.
        ...(draining ? { connection: 'close' } : {}),
      });
      response.end(reply.body);
      log('info', 'request', {
        method: request.method,
        path: url.pathname,
        status: reply.status,
        durationMs: Math.round(performance.now() - started),
        requestId,
        ...(traceparent ? { traceparent } : {}),
      });
    };

    answer(request, url, forward)
      .catch((error: unknown) => failure(error, log, requestId))
      .then(send, (error: unknown) => log('error', 'response failed', { error: String(error), requestId }));
  };
  const server = createServer(traceRequests(listener, { ignore: (request) => request.url === '/healthz' }));

  server.on('error', (error) => {
    log('error', 'cannot listen', { port, error: error.message });
    process.exit(1);
  });
  // Once tracing is ready (at once without BATON_SERVER), so that every request is traced.
  void tracing.ready.then(() => server.listen(port, () => log('info', 'listening', { port, version })));

  const shutdown = (signal: string) => {
    if (draining) return;
    draining = true;
    log('info', 'shutting down', { signal });
    // Stop accepting, let in-flight requests finish, then exit; a stuck client cannot hold us forever.
    setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS).unref();
    server.close(() => void tracing.shutdown().finally(() => process.exit(0)));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  return server;
}

function failure(error: unknown, log: Logger, requestId: string): Reply {
  if (error instanceof UpstreamError) {
    log('warn', 'upstream failed', { upstream: error.service, failure: error.failure, requestId });
    const status = error.failure === 'timeout' ? 504 : error.failure === 'bad-response' ? 502 : 503;
    return problem(status, `upstream-${error.failure}`, error.message);
  }
  log('error', 'unhandled error', { error: error instanceof Error ? error.stack : String(error), requestId });
  return problem(500, 'internal', 'something went wrong; the logs have the details');
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

async function readJson(
  request: IncomingMessage,
): Promise<{ ok: true; value: unknown } | { ok: false; reply: Reply }> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Read to the end even when too large, so the client still gets to read the 413.
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (size > MAX_BODY_BYTES) {
    return {
      ok: false,
      reply: problem(413, 'payload-too-large', `the body must be at most ${MAX_BODY_BYTES} bytes`),
    };
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, reply: badRequest(`the body is not valid JSON: ${(error as Error).message}`) };
  }
}
