// The gateway's admin listener: GET /metrics (Prometheus) and GET /healthz, never on the
// traffic port. Metrics name every route and service and their error rates: on loopback
// they are open to a local Prometheus; bound anywhere else, a bearer token is required
// (the gateway refuses to start without one), as a scraper's `authorization` setting sends.
// /healthz stays open: load balancers probe it without credentials, and it tells only
// whether this gateway routes.
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface AdminHandlers {
  /** The metrics text and its content type. */
  metrics(): Promise<{ text: string; contentType: string }>;
  health(): { ok: boolean; body: Record<string, unknown> };
}

/** Loopback addresses: reachable only from this machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^(::ffff:)?127\./.test(bare);
}

/**
 * Refuses an admin listener beyond loopback without a metrics token: a message saying
 * what to do, or undefined when the combination is fine.
 */
export function adminBindProblem(host: string, token: string | undefined): string | undefined {
  if (isLoopbackHost(host) || (token !== undefined && token !== '')) return undefined;
  return (
    `the admin address ${host} is reachable beyond this machine, so /metrics needs a token; ` +
    'give one (baton gateway --metrics-token-file FILE, or BATON_METRICS_TOKEN) or bind the admin port to 127.0.0.1'
  );
}

export function createAdminServer(handlers: AdminHandlers, token: string | undefined): http.Server {
  const expected = token ? digest(token) : undefined;
  return http.createServer((req, res) => void serve(req, res, handlers, expected));
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  handlers: AdminHandlers,
  expected: Buffer | undefined,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/metrics') {
    if (expected !== undefined && !authorized(req.headers.authorization, expected)) {
      res
        .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="baton-gateway"' })
        .end('a bearer token is required for /metrics\n');
      return;
    }
    try {
      const { text, contentType } = await handlers.metrics();
      res.writeHead(200, { 'content-type': contentType }).end(text);
    } catch {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
    }
    return;
  }
  if (req.method === 'GET' && path === '/healthz') {
    const { ok, body } = handlers.health();
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
}

function authorized(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined || !/^bearer /i.test(header)) return false;
  // Digests of equal length, so the comparison takes the same time whatever was sent.
  return timingSafeEqual(digest(header.slice(7).trim()), expected);
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
