// Upgrades (WebSocket and any other protocol switch) pass through as a byte tunnel: the
// request is routed and balanced like any other, its head rewritten (forwarding and trace
// headers, Connection: upgrade kept), then the two sockets are piped together and the
// upstream's answer (101 or a refusal) reaches the client as it was sent.
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { gatewayProblem } from '../../domain/gateway/problems.ts';
import type { GatewayProblemCode } from '../../domain/gateway/problems.ts';
import { upstreamPath } from '../../domain/gateway/route-table.ts';
import type { GatewayCore } from './core.ts';
import type { AccessLog, AccessRecord } from './access-log.ts';
import { RequestHead } from './request-head.ts';
import type { Upstream } from './upstream.ts';

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
    const startedAt = performance.now();
    const rh = new RequestHead(req);
    rh.readHead();
    const refuse = (code: GatewayProblemCode, detail: string, route?: string, service?: string) => {
      const problem = gatewayProblem(code, detail, rh.requestId);
      const body = JSON.stringify(problem);
      if (client.writable) {
        client.end(
          `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}\r\n` +
            `content-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
            `x-request-id: ${rh.requestId}\r\nconnection: close\r\n\r\n${body}`,
        );
      }
      this.#log.write(record(rh, route, service, undefined, problem.status, code, startedAt));
    };
    const state = this.#core.state;
    if (state === undefined || this.#core.draining) return refuse('not-ready', 'the gateway is not routing');
    const problem = rh.readTarget();
    if (problem !== undefined) return refuse('bad-request', problem);
    const route = state.table.match(rh);
    if (route === undefined) return refuse('no-route', `no route matches ${rh.method} ${rh.path}`);
    const label = `${route.route.host ?? ''}${route.route.path}`;
    const group = route.service?.group(rh.pin);
    const upstream = group?.balancer.pick(group.usable, undefined, undefined);
    if (upstream === undefined) {
      return refuse(
        'no-healthy-instance',
        `service ${route.serviceName} has no healthy instance`,
        label,
        route.serviceName,
      );
    }

    let headText = `${rh.method} ${upstreamPath(rh.url, route.prefix, route.stripPrefix)} HTTP/1.1\r\n`;
    for (let i = 0; i < rh.headers.length; i += 2) headText += `${rh.headers[i]}: ${rh.headers[i + 1]}\r\n`;
    headText += `connection: upgrade\r\nupgrade: ${rh.upgrade ?? 'websocket'}\r\n\r\n`;

    upstream.active++;
    let status = 0;
    let connected = false;
    const socket = net.connect({ host: upstream.address, port: upstream.port });
    socket.setNoDelay(true);
    // The route's deadline covers connecting and the upstream's answer, not the tunnel's life.
    socket.setTimeout(route.timeoutMs, () => socket.destroy(new Error('upstream did not answer in time')));
    this.#tunnels.add(client);
    socket.once('connect', () => {
      connected = true;
      socket.write(headText);
      if (head.length > 0) socket.write(head);
      client.pipe(socket);
    });
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      status = Number(chunk.toString('latin1', 9, 12)) || 0;
    });
    socket.pipe(client);
    let closed = false;
    const close = (error?: Error) => {
      if (closed) return;
      closed = true;
      upstream.active--;
      this.#tunnels.delete(client);
      if (!connected && error !== undefined && client.writable) {
        return refuse(
          'upstream-failed',
          `service ${route.serviceName} refused the connection`,
          label,
          route.serviceName,
        );
      }
      client.destroy();
      socket.destroy();
      this.#log.write(
        record(
          rh,
          label,
          route.serviceName,
          upstream,
          status,
          status === 101 ? 'upgraded' : 'upgrade-refused',
          startedAt,
        ),
      );
    };
    socket.on('error', close);
    socket.on('close', () => close());
    client.on('error', close);
    client.on('close', () => close());
  }

  /** Ends every tunnel (the gateway is closing and its drain time is up). */
  destroyAll(): void {
    for (const tunnel of this.#tunnels) tunnel.destroy();
    this.#tunnels.clear();
  }
}

function record(
  head: RequestHead,
  route: string | undefined,
  service: string | undefined,
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
    route,
    service,
    instance: upstream?.instanceId,
    version: upstream?.version,
    status,
    outcome,
    attempts: upstream === undefined ? 0 : 1,
    bytesOut: 0,
    durationMs: Math.round((performance.now() - startedAt) * 1000) / 1000,
  };
}
