// Baton's gateway: the door through which outside traffic reaches the services. It holds no
// state of its own: it routes by the latest snapshot its source delivers, so any number of
// gateways can run side by side, and a new snapshot applies without a restart and without
// disturbing requests in flight.
//
// Two listeners: the traffic port, which only ever forwards to routed services (nothing of
// the gateway or the control plane is reachable through it), and an optional admin port
// with GET /metrics (Prometheus; a token beyond loopback) and GET /healthz.
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { adminBindProblem, createAdminServer } from './admin-server.ts';
import { gatewayProblem } from './problem-response.ts';
import type { GatewayProblemBody } from './problem-response.ts';
import { pathTemplate } from '../../domain/gateway/path-template.ts';
import type { GatewaySnapshot } from '../../domain/gateway/snapshot.ts';
import { GatewayCore } from './core.ts';
import { Exchange } from './exchange.ts';
import type { ExchangeContext } from './exchange.ts';
import { EastWestListeners } from './east-west-listeners.ts';
import { LoadMonitor } from './load-monitor.ts';
import { GatewayMetrics } from './metrics.ts';
import type { SnapshotSource } from './snapshot-source.ts';
import { UpgradeProxy, isTunnel } from './upgrade.ts';
import { accessLog } from './access-log.ts';
import type { GatewaySpan, SpanExport } from './span-export.ts';
import type { AccessRecord } from './access-log.ts';
import type { PoolOptions } from './upstream.ts';

export { staticSource, updatableSource } from './snapshot-source.ts';
export type { SnapshotSource, UpdatableSource } from './snapshot-source.ts';

export interface GatewayLimits {
  /** Request head size; beyond it, 431. Default 16 KiB. */
  readonly maxHeaderBytes: number;
  /** Request body size; beyond it, 413. Default 10 MiB. */
  readonly maxBodyBytes: number;
  /** Time a client has to send the request head; beyond it, 408. Default 10 s. */
  readonly headersTimeoutMs: number;
  /** Time a client has to send the whole request; beyond it, 408. Default 60 s. */
  readonly requestTimeoutMs: number;
  /** Idle time before a client's keep-alive connection is closed. Default 5 s. */
  readonly keepAliveTimeoutMs: number;
}

export interface GatewayOptions {
  readonly host: string;
  /** 0 picks a free port (see `url`). */
  readonly port: number;
  readonly source: SnapshotSource;
  readonly logger: Logger;
  /** Serves GET /metrics and GET /healthz on this port (0: any free port); none if absent. */
  readonly adminPort?: number | undefined;
  readonly adminHost?: string | undefined;
  /**
   * Bearer token GET /metrics requires. Required when the admin port is bound beyond
   * loopback (startGateway refuses otherwise); optional on loopback.
   */
  readonly metricsToken?: string | undefined;
  /** One line per request at info; default: `logger` itself. false turns it off. */
  readonly accessLog?: Logger | false | undefined;
  /** Where the gateway's own span of each sampled request goes; none when absent. */
  readonly spans?: SpanExport | undefined;
  readonly limits?: Partial<GatewayLimits> | undefined;
  readonly upstream?: Partial<PoolOptions> | undefined;
  /** Deadline of a route without `timeout`. Default 15 s. */
  readonly defaultTimeoutMs?: number | undefined;
  /** How long close() waits for requests in flight before cutting them. Default 30 s. */
  readonly drainTimeoutMs?: number | undefined;
  /** Uniform draws for balancing and splits; injected by tests only. */
  readonly random?: (() => number) | undefined;
  /**
   * Where the east-west listeners (one port per declared dependency, one egress per service,
   * from the snapshot) listen: the address instances reach the node's data plane at.
   * 127.0.0.1 by default; false for none (a second gateway on the same node).
   */
  readonly eastWestHost?: string | false | undefined;
  /** How long to wait before trying again to listen on a port something else holds. Default 5 s. */
  readonly eastWestRetryMs?: number | undefined;
}

export interface GatewayHandle {
  /** Base URL of the traffic port. */
  readonly url: string;
  /** Base URL of the admin port, when there is one. */
  readonly adminUrl?: string | undefined;
  /** The gateway's Prometheus registry, for a host process that serves metrics itself. */
  readonly registry: Registry;
  /** Sequence of the snapshot in use; 0 before the first. */
  readonly sequence: number;
  /** Requests in flight right now. */
  readonly inFlight: number;
  /** The east-west ports listening right now. */
  readonly eastWestPorts: readonly number[];
  /**
   * Graceful drain: stop accepting connections, let requests in flight finish (up to the
   * drain timeout), close connections, then the upstream pools.
   */
  close(): Promise<void>;
}

export const DEFAULT_LIMITS: GatewayLimits = {
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 10 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
};

export const DEFAULT_POOL: PoolOptions = {
  connections: 128,
  connectTimeoutMs: 5_000,
  bodyTimeoutMs: 60_000,
  keepAliveTimeoutMs: 4_000,
};

export async function startGateway(options: GatewayOptions): Promise<GatewayHandle> {
  const logger = options.logger;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  if (options.adminPort !== undefined) {
    const problem = adminBindProblem(options.adminHost ?? options.host, options.metricsToken);
    if (problem !== undefined) throw new Error(problem);
  }
  const loadMonitor = new LoadMonitor();
  // The gauges read the core only when scraped, by which time it exists.
  const metrics: GatewayMetrics = new GatewayMetrics({
    inFlight: () => core.inFlight,
    sequence: () => core.state?.sequence ?? 0,
    loopDelayMs: () => loadMonitor.delayMs,
  });
  const core: GatewayCore = new GatewayCore({
    pool: { ...DEFAULT_POOL, ...options.upstream },
    defaultTimeoutMs: options.defaultTimeoutMs ?? 15_000,
    random: options.random ?? Math.random,
    logger,
    metrics,
  });
  const log = accessLog(options.accessLog === undefined ? logger : options.accessLog);
  const spans = options.spans;

  let drained: (() => void) | undefined;
  const ctx: ExchangeContext = {
    core,
    maxBodyBytes: limits.maxBodyBytes,
    loopDelayMs: () => loadMonitor.delayMs,
    log: (exchange) => {
      if (log.enabled()) log.write(exchangeRecord(exchange));
      // Only traces the caller (or the gateway) marked sampled: flags 01.
      if (spans !== undefined && exchange.traceFlags === '01') spans.add(gatewaySpan(exchange));
    },
    done: () => {
      if (drained !== undefined && core.inFlight === 0) drained();
    },
  };

  const serverOptions: http.ServerOptions = {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requireHostHeader: false,
    connectionsCheckingInterval: Math.max(
      10,
      Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 10)),
    ),
  };
  const server = http.createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // A missing Host is answered by the gateway (problem+json), not by Node's bare 400.
      requireHostHeader: false,
      // Only a bodiless GET becomes a tunnel; other requests naming an Upgrade are forwarded
      // as plain requests.
      shouldUpgradeCallback: isTunnel,
      // How often Node checks the two timeouts above; a tenth of the shorter one.
      connectionsCheckingInterval: Math.max(
        10,
        Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 10)),
      ),
    },
    (req: IncomingMessage, res: ServerResponse) => {
      core.inFlight++;
      const exchange = new Exchange(ctx, req, res);
      try {
        exchange.start();
      } catch (error) {
        logger.error({ err: error, reqId: exchange.requestId }, 'gateway failed on a request');
        exchange.reject('internal', 'the gateway failed on this request');
      }
    },
  );
  const eastWest =
    options.eastWestHost === false
      ? undefined
      : new EastWestListeners({
          host: options.eastWestHost ?? '127.0.0.1',
          serverOptions,
          retryMs: options.eastWestRetryMs ?? 5_000,
          logger,
          // Whatever listener a request came in by, the same exchange serves it; its port
          // says which edge it travels.
          onRequest: (req, res) => {
            core.inFlight++;
            const exchange = new Exchange(ctx, req, res);
            exchange.listenerPort = req.socket.localPort ?? -1;
            try {
              exchange.start();
            } catch (error) {
              logger.error({ err: error, reqId: exchange.requestId }, 'gateway failed on a request');
              exchange.reject('internal', 'the gateway failed on this request');
            }
          },
          onClientError: answerClientError,
          onConnect: (_req: IncomingMessage, socket: Duplex) =>
            answerRaw(
              socket,
              gatewayProblem('method-not-allowed', 'the data plane does not forward CONNECT'),
            ),
        });
  const upgrades = new UpgradeProxy(core, log);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    upgrades.handle(req, socket, head),
  );
  server.on('clientError', answerClientError);
  // A reverse proxy is no tunnel to arbitrary hosts: CONNECT gets a problem, not a silent close.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) =>
    answerRaw(socket, gatewayProblem('method-not-allowed', 'the gateway does not forward CONNECT')),
  );

  const unsubscribe = options.source.subscribe((snapshot: GatewaySnapshot) => {
    try {
      if (core.apply(snapshot)) {
        eastWest?.sync(snapshot.eastWest?.listeners.map((l) => l.port) ?? []);
        logger.info(
          {
            sequence: snapshot.sequence,
            revision: snapshot.revision,
            routes: snapshot.routes.length,
            eastWest: snapshot.eastWest?.listeners.length ?? 0,
          },
          'gateway snapshot applied',
        );
      }
    } catch (error) {
      // A snapshot the gateway cannot compile is skipped: the previous one keeps routing.
      logger.error({ err: error, sequence: snapshot.sequence }, 'gateway snapshot rejected');
    }
  });
  loadMonitor.start();

  await listen(server, { host: options.host, port: options.port });
  const url = baseUrl(options.host, (server.address() as AddressInfo).port);

  let admin: http.Server | undefined;
  let adminUrl: string | undefined;
  if (options.adminPort !== undefined) {
    admin = createAdminServer(
      {
        metrics: async () => ({
          text: await metrics.registry.metrics(),
          contentType: metrics.registry.contentType,
        }),
        health: () => {
          const ready = core.state !== undefined && !core.draining;
          const status = ready ? 'ok' : core.draining ? 'draining' : 'no-snapshot';
          return { ok: ready, body: { status, sequence: core.state?.sequence ?? 0 } };
        },
      },
      options.metricsToken,
    );
    const adminHost = options.adminHost ?? options.host;
    await listen(admin, { host: adminHost, port: options.adminPort });
    adminUrl = baseUrl(adminHost, (admin.address() as AddressInfo).port);
  }
  logger.info({ url, adminUrl }, 'gateway listening');

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    core.draining = true;
    unsubscribe();
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const eastWestStopped = eastWest?.close();
    if (core.inFlight > 0) {
      const drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainTimeoutMs).unref();
        drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    server.closeAllConnections();
    eastWest?.closeAllConnections();
    upgrades.destroyAll();
    await stopped;
    await eastWestStopped;
    loadMonitor.stop();
    log.flush();
    await core.close();
    if (admin !== undefined) {
      const adminServer = admin;
      await new Promise<void>((resolve) => adminServer.close(() => resolve()));
      adminServer.closeAllConnections();
    }
    logger.info({ url }, 'gateway closed');
  };

  return {
    url,
    adminUrl,
    registry: metrics.registry,
    get sequence() {
      return core.state?.sequence ?? 0;
    },
    get inFlight() {
      return core.inFlight;
    },
    get eastWestPorts() {
      return eastWest?.ports() ?? [];
    },
    close: () => (closing ??= close()),
  };
}

function gatewaySpan(ex: Exchange): GatewaySpan {
  const route = ex.route;
  return {
    traceId: ex.traceId,
    spanId: ex.spanId,
    parentSpanId: ex.parentSpanId,
    method: ex.method,
    path: ex.path,
    template: pathTemplate(ex.path),
    route: route === undefined ? undefined : `${route.route.host ?? ''}${route.route.path}`,
    service: route?.serviceName ?? ex.callee,
    instance: ex.upstream?.instanceId,
    caller: ex.caller,
    range: route?.range,
    undeclared: ex.undeclared,
    status: ex.status,
    outcome: ex.outcome || 'ok',
    attempts: ex.attempts,
    endUnixMs: Date.now(),
    durationMs: ex.durationMs,
  };
}

function exchangeRecord(ex: Exchange): AccessRecord {
  const route = ex.route;
  return {
    reqId: ex.requestId,
    traceId: ex.traceId,
    spanId: ex.spanId,
    parentSpanId: ex.parentSpanId,
    client: ex.clientIp,
    ...(ex.caller !== undefined ? { caller: ex.caller } : {}),
    method: ex.method,
    host: ex.host,
    path: ex.path,
    route: route === undefined ? undefined : `${route.route.host ?? ''}${route.route.path}`,
    service: route?.serviceName,
    instance: ex.upstream?.instanceId,
    version: ex.upstream?.version,
    status: ex.status,
    outcome: ex.outcome || 'ok',
    attempts: ex.attempts,
    bytesOut: ex.bytesOut,
    durationMs: Math.round(ex.durationMs * 1000) / 1000,
  };
}

/**
 * Errors Node meets before there is a request to hand over: a head too large (431), a
 * client too slow to send its request (408), or a malformed one (400).
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const pending = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || pending?.headersSent === true) {
    socket.destroy();
    return;
  }
  const code =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'headers-too-large'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'request-timeout'
        : 'bad-request';
  answerRaw(
    socket,
    gatewayProblem(code, error.code === undefined ? 'malformed request' : `rejected: ${error.code}`),
  );
}

/** A problem written straight to a socket Node's HTTP server has let go of; then it closes. */
function answerRaw(socket: Duplex, problem: GatewayProblemBody): void {
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${problem.status} ${http.STATUS_CODES[problem.status] ?? ''}\r\n` +
      `content-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );
}

function listen(server: http.Server, options: { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function baseUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
