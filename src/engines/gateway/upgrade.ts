// Upgrades (WebSocket and any other protocol switch of a GET) pass through as a byte tunnel:
// the request is routed, rate-limited and balanced like any other, its head rewritten
// (forwarding and trace headers, Connection: upgrade kept), and sent upstream.
//
// Bytes are piped only once the upstream has switched protocols (101). Until then, anything
// else the client sends on the connection can only be its next HTTP request, which must be
// routed like every request; piped straight to the upstream, it would reach paths and
// methods no route allows, past rate limits and the access log (request smuggling). So
// when the upstream answers anything but 101, that answer is relayed and the connection
// closed: Node's parser let go of the connection at the upgrade, and the client simply
// sends its next request on a new one.
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { DENY } from '../../domain/gateway/circuit-breaker.ts';
import type { Admission } from '../../domain/gateway/circuit-breaker.ts';
import type { GatewayErrorCode } from '../../domain/errors.ts';
import { upstreamPath } from '../../domain/gateway/route-table.ts';
import type { AccessLog, AccessRecord } from './access-log.ts';
import type { CompiledRoute, GatewayCore } from './core.ts';
import { gatewayProblem } from './problem-response.ts';
import { RequestHead } from './request-head.ts';
import type { Upstream } from './upstream.ts';

/**
 * Which upgrade requests become tunnels (Node's `shouldUpgradeCallback`): a GET without a
 * body. Any other request naming an Upgrade is forwarded as a plain request, its Upgrade
 * header dropped as hop-by-hop.
 */
export function isTunnel(req: IncomingMessage): boolean {
  return (
    req.method === 'GET' &&
    req.headers['content-length'] === undefined &&
    req.headers['transfer-encoding'] === undefined
  );
}

/** Response headers that describe the upstream's connection, not the answer. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export class UpgradeProxy {
  readonly #core: GatewayCore;
  readonly #log: AccessLog;
  readonly #tunnels = new Set<Duplex>();

  constructor(core: GatewayCore, log: AccessLog) {
    this.#core = core;
    this.#log = log;
  }

  get open(): number {
    return this.#tunnels.size;
  }

  handle(req: IncomingMessage, client: Duplex, head: Buffer): void {
    // Nothing the client sends next is read until the upstream has switched protocols.
    client.pause();
    new Upgrade(this.#core, this.#log, this.#tunnels, req, client, head).start();
  }

  /** Ends every tunnel (the gateway is closing and its drain time is up). */
  destroyAll(): void {
    for (const tunnel of this.#tunnels) tunnel.destroy();
    this.#tunnels.clear();
  }
}

class Upgrade {
  readonly #core: GatewayCore;
  readonly #log: AccessLog;
  readonly #tunnels: Set<Duplex>;
  readonly #client: Duplex;
  readonly #head: Buffer;
  readonly #rh: RequestHead;
  readonly #startedAt = performance.now();
  #route: CompiledRoute | undefined;
  #upstream: Upstream | undefined;
  #admission: Admission = DENY;
  #request: http.ClientRequest | undefined;
  /** Whether anything of an answer went to the client. */
  #answered = false;
  #done = false;

  constructor(
    core: GatewayCore,
    log: AccessLog,
    tunnels: Set<Duplex>,
    req: IncomingMessage,
    client: Duplex,
    head: Buffer,
  ) {
    this.#core = core;
    this.#log = log;
    this.#tunnels = tunnels;
    this.#client = client;
    this.#head = head;
    this.#rh = new RequestHead(req);
  }

  start(): void {
    const rh = this.#rh;
    rh.readHead();
    const core = this.#core;
    const state = core.state;
    if (state === undefined || core.draining) return this.#refuse('not-ready', 'the gateway is not routing');
    const problem = rh.malformed ?? rh.readTarget();
    if (problem !== undefined) return this.#refuse('bad-request', problem);
    const route = state.table.match(rh);
    if (route === undefined) return this.#refuse('no-route', `no route matches ${rh.method} ${rh.path}`);
    this.#route = route;
    const runtime = route.runtime;
    const group = route.service?.group(rh.pin);
    if (runtime === undefined || group === undefined || group === null) {
      return this.#refuse('no-healthy-instance', `service ${route.serviceName} has no healthy instance`);
    }
    const now = performance.now();
    const limiter = route.limiter;
    if (limiter !== undefined) {
      const bucket = limiter.bucket ?? limiter.keyed!.bucket(rh.rateLimitKey(limiter.key), now);
      if (!bucket.take(limiter.rate, now)) {
        route.metrics.rateLimited();
        return this.#refuse('rate-limited', 'rate limit exceeded');
      }
    }
    const admission = runtime.breaker.allow(now);
    if (admission === DENY) {
      return this.#refuse(
        'circuit-open',
        `the circuit of route ${route.route.path} of service ${route.serviceName} is open`,
      );
    }
    this.#admission = admission;
    const upstream = group.balancer.pick(runtime.usable(group), undefined, undefined);
    if (upstream === undefined) {
      runtime.breaker.abandon(admission);
      return this.#refuse('no-healthy-instance', `service ${route.serviceName} has no healthy instance`);
    }
    this.#upstream = upstream;
    upstream.active++;

    const headers = [...rh.headers, 'connection', 'upgrade', 'upgrade', rh.upgrade ?? 'websocket'];
    const request = http.request({
      host: upstream.address,
      port: upstream.port,
      method: rh.method,
      path: upstreamPath(rh.url, route.prefix, route.stripPrefix),
      headers,
      setHost: false,
      agent: false,
    });
    this.#request = request;
    // The route's deadline covers connecting and the upstream's answer, not the tunnel's life.
    if (route.timeoutMs > 0) {
      request.setTimeout(route.timeoutMs, () => {
        this.#outcome(false);
        this.#refuse(
          'upstream-timeout',
          `service ${route.serviceName} did not answer within ${route.timeoutMs} ms`,
        );
      });
    }
    request.on('upgrade', (res: IncomingMessage, socket: Duplex, upstreamHead: Buffer) =>
      this.#tunnel(res, socket, upstreamHead),
    );
    request.on('response', (res: IncomingMessage) => this.#relay(res));
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (this.#done) return;
      this.#outcome(false);
      this.#refuse(
        'upstream-failed',
        `service ${route.serviceName} failed to answer (${error.code ?? error.message})`,
      );
    });
    this.#client.on('error', () => this.#close());
    this.#client.on('close', () => this.#close());
    this.#tunnels.add(this.#client);
    request.end();
  }

  /** 101: the two connections become one byte stream. */
  #tunnel(res: IncomingMessage, socket: Duplex, upstreamHead: Buffer): void {
    const client = this.#client;
    this.#outcome(true);
    this.#request?.setTimeout(0);
    this.#answered = true;
    if (this.#done) {
      socket.destroy();
      return;
    }
    client.write(statusLine(res) + headerLines(res.rawHeaders, false) + '\r\n');
    if (upstreamHead.length > 0) client.write(upstreamHead);
    if (this.#head.length > 0) socket.write(this.#head);
    socket.on('error', () => this.#close());
    socket.on('close', () => this.#close());
    client.on('close', () => socket.destroy());
    socket.pipe(client);
    client.pipe(socket);
    client.resume();
    this.#finish(101, 'upgraded', '');
  }

  /** Anything but 101: the upstream's answer goes back as it is, then the connection closes. */
  #relay(res: IncomingMessage): void {
    const status = res.statusCode ?? 502;
    this.#outcome(status < 500);
    this.#request?.setTimeout(0);
    const client = this.#client;
    if (this.#done || !client.writable) {
      res.destroy();
      return;
    }
    this.#answered = true;
    client.write(
      statusLine(res) +
        headerLines(res.rawHeaders, true) +
        `x-request-id: ${this.#rh.requestId}\r\nconnection: close\r\n\r\n`,
    );
    res.on('data', (chunk: Buffer) => {
      if (!client.write(chunk)) {
        res.pause();
        client.once('drain', () => res.resume());
      }
    });
    res.on('end', () => client.end());
    res.on('error', () => client.destroy());
    this.#finish(status, 'upgrade-refused', status >= 500 ? 'upstream-5xx' : '');
  }

  /** Counts the attempt's outcome for the route's breaker and outlier detection, once. */
  #outcome(ok: boolean): void {
    const upstream = this.#upstream;
    if (upstream === undefined || this.#admission === DENY) return;
    this.#route!.runtime!.record(upstream, this.#admission, ok, performance.now());
    this.#admission = DENY;
  }

  #refuse(code: GatewayErrorCode, detail: string): void {
    const client = this.#client;
    const problem = gatewayProblem(code, detail, this.#rh.requestId);
    if (!this.#answered && client.writable) {
      this.#answered = true;
      const body = JSON.stringify(problem);
      client.end(
        `HTTP/1.1 ${problem.status} ${http.STATUS_CODES[problem.status] ?? ''}\r\n` +
          `content-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
          `x-request-id: ${this.#rh.requestId}\r\nconnection: close\r\n\r\n${body}`,
      );
    } else {
      client.destroy();
    }
    this.#request?.destroy();
    this.#finish(problem.status, code, code);
  }

  #close(): void {
    this.#tunnels.delete(this.#client);
    this.#request?.destroy();
    this.#client.destroy();
    if (!this.#done) this.#finish(499, 'client-closed', 'client-closed');
    const upstream = this.#upstream;
    if (upstream !== undefined) {
      upstream.active--;
      this.#upstream = undefined;
    }
  }

  /**
   * Counts the request and writes its access-log line, once; the connection may live on (a
   * tunnel, a relayed body). `reason` is the metrics' error reason, '' when none.
   */
  #finish(status: number, outcome: string, reason: string): void {
    if (this.#done) return;
    this.#done = true;
    const route = this.#route;
    if (this.#admission !== DENY) route?.runtime?.breaker.abandon(this.#admission);
    const metrics = route?.metrics ?? this.#core.unrouted;
    metrics.answered(status, (performance.now() - this.#startedAt) / 1000, reason);
    this.#log.write(record(this.#rh, route, this.#upstream, status, outcome, this.#startedAt));
  }
}

function statusLine(res: IncomingMessage): string {
  return `HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}\r\n`;
}

/** The upstream's headers as it sent them; for an answer relayed as is, without hop-by-hop ones. */
function headerLines(raw: readonly string[], relay: boolean): string {
  let text = '';
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (relay && (HOP_BY_HOP.has(lower) || lower === 'x-request-id')) continue;
    text += `${name}: ${raw[i + 1]!}\r\n`;
  }
  return text;
}

function record(
  head: RequestHead,
  route: CompiledRoute | undefined,
  upstream: Upstream | undefined,
  status: number,
  outcome: string,
  startedAt: number,
): AccessRecord {
  return {
    reqId: head.requestId,
    traceId: head.traceId,
    spanId: head.spanId,
    parentSpanId: head.parentSpanId,
    client: head.clientIp,
    method: head.method,
    host: head.host,
    path: head.path,
    route: route === undefined ? undefined : `${route.route.host ?? ''}${route.route.path}`,
    service: route?.serviceName,
    instance: upstream?.instanceId,
    version: upstream?.version,
    status,
    outcome,
    attempts: upstream === undefined ? 0 : 1,
    bytesOut: 0,
    durationMs: Math.round((performance.now() - startedAt) * 1000) / 1000,
  };
}
