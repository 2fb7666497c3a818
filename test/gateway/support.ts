// Shared pieces of the gateway's socket tests: upstreams that are tiny node:http servers on
// port 0, snapshots built from a few fields with the resolved defaults for the rest, a
// gateway started on port 0, and raw HTTP/1.1 over a socket where a client library would
// hide what is being tested (hop-by-hop headers, upgrades, slow clients).
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { Agent } from 'undici';
import { request } from 'undici';
import { DEFAULT_TRAFFIC_POLICY } from '../../src/domain/gateway/resolve.ts';
import type {
  FaultInjection,
  GatewayRoute,
  GatewaySnapshot,
  TrafficPolicy,
  TrafficSplit,
} from '../../src/domain/gateway/snapshot.ts';
import type { Tier } from '../../src/domain/manifest/schema.ts';
import { startGateway } from '../../src/engines/gateway/gateway.ts';
import type { GatewayHandle, GatewayOptions, SnapshotSource } from '../../src/engines/gateway/gateway.ts';
import { eventually } from '../support/eventually.ts';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly body: string;
}

export interface TestUpstream {
  readonly name: string;
  readonly port: number;
  readonly seen: SeenRequest[];
  /** TCP connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** Answers 200 with JSON naming itself, unless `handler` says otherwise. */
export async function startUpstream(name: string, handler?: UpstreamHandler): Promise<TestUpstream> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body,
      });
      if (handler !== undefined) return handler(req, res, body);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ upstream: name, url: req.url }));
    });
  });
  server.keepAliveTimeout = 60_000;
  const upstream = {
    name,
    port: 0,
    seen,
    connections: 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', () => upstream.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.port = (server.address() as AddressInfo).port;
  return upstream;
}

type PolicyOverrides = { [K in keyof TrafficPolicy]?: Partial<TrafficPolicy[K]> | TrafficPolicy[K] };

export interface ServiceSketch {
  readonly tier?: Tier;
  readonly policy?: PolicyOverrides;
  readonly endpoints: readonly (TestUpstream | { upstream: TestUpstream; version: string })[];
  readonly split?: Readonly<Record<string, number>>;
}

export interface SnapshotSketch {
  readonly sequence?: number;
  readonly routes: readonly (Partial<GatewayRoute> & { service: string })[];
  readonly services: Readonly<Record<string, ServiceSketch>>;
  readonly faults?: readonly FaultInjection[];
  readonly shedding?: { maxInFlight: number; maxLatencyMs: number };
}

export function snapshotOf(sketch: SnapshotSketch): GatewaySnapshot {
  const services: Record<string, GatewaySnapshot['services'][string]> = {};
  for (const [name, s] of Object.entries(sketch.services)) {
    const policy = { ...DEFAULT_TRAFFIC_POLICY } as Record<string, unknown>;
    for (const [key, value] of Object.entries(s.policy ?? {})) {
      policy[key] = { ...(DEFAULT_TRAFFIC_POLICY as unknown as Record<string, object>)[key], ...value };
    }
    const split: TrafficSplit | undefined =
      s.split === undefined
        ? undefined
        : { weights: s.split, setBy: 'test', since: new Date(0).toISOString() };
    services[name] = {
      tier: s.tier ?? 'medium',
      policy: policy as unknown as TrafficPolicy,
      endpoints: s.endpoints.map((e) => {
        const upstream = 'upstream' in e ? e.upstream : e;
        const version = 'upstream' in e ? e.version : '1.0.0';
        return { instanceId: upstream.name, address: '127.0.0.1', port: upstream.port, version };
      }),
      ...(split !== undefined ? { split } : {}),
    };
  }
  return {
    revision: 1,
    sequence: sketch.sequence ?? 1,
    settings: { shedding: sketch.shedding ?? { maxInFlight: 10_000, maxLatencyMs: 10_000 } },
    routes: sketch.routes.map((r) => ({ path: '/', stripPrefix: false, ...r })),
    services,
    faults: sketch.faults ?? [],
  };
}

export const silentLogger: Logger = pino({ level: 'silent' });

export function gatewayWith(
  source: SnapshotSource,
  options: Partial<GatewayOptions> = {},
): Promise<GatewayHandle> {
  return startGateway({ host: '127.0.0.1', port: 0, source, logger: silentLogger, ...options });
}

/** A logger whose lines (parsed) land in `lines`. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      callback();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

/** A request through undici, body read in full. */
export async function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; dispatcher?: Agent } = {},
): Promise<Answer> {
  const response = await request(url, {
    method: (options.method ?? 'GET') as 'GET',
    headers: options.headers,
    body: options.body,
    dispatcher: options.dispatcher,
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers as IncomingHttpHeaders,
    text,
    json: <T>() => JSON.parse(text) as T,
  };
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly raw: string;
}

/** Sends raw bytes and reads until the server closes the connection. */
export function rawExchange(port: number, text: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.write(text);
  });
}

export function parseRaw(raw: string): RawAnswer {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, end === -1 ? raw.length : end).split('\r\n');
  const status = Number(head[0]!.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let body = end === -1 ? '' : raw.slice(end + 4);
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  return { status, headers, body, raw };
}

function dechunk(text: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const lineEnd = text.indexOf('\r\n', at);
    if (lineEnd === -1) return out;
    const size = parseInt(text.slice(at, lineEnd), 16);
    if (!(size > 0)) return out;
    out += text.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

/** Polls until `probe` returns a value, or fails after `ms` (never a fixed sleep). */
export function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 10_000) {
  return eventually(probe, { what, timeoutMs: ms, intervalMs: 10 });
}

/** An upstream handler that holds every request until `release()`; `held` counts them. */
export function holding(): {
  handler: UpstreamHandler;
  held: () => number;
  release: (status?: number) => void;
  waiting: ServerResponse[];
} {
  const waiting: ServerResponse[] = [];
  return {
    waiting,
    handler: (_req, res) => void waiting.push(res),
    held: () => waiting.length,
    release: (status = 200) => {
      for (const res of waiting.splice(0)) {
        if (!res.destroyed)
          res.writeHead(status, { 'content-type': 'application/json' }).end('{"released":true}');
      }
    },
  };
}

/** Counts how many of `answers` each upstream produced. */
export function tally(answers: readonly Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of answers) {
    const who = a.status === 200 ? a.json<{ upstream: string }>().upstream : `status-${a.status}`;
    counts[who] = (counts[who] ?? 0) + 1;
  }
  return counts;
}
