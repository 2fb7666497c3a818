// Request smuggling through the upgrade tunnel (issue 11, finding 3). A request naming
// `Upgrade: websocket` that the upstream answers with anything but 101 must not leave the
// connection piped: whatever the client sends next on it is its next request, and must
// never reach the upstream unrouted (paths and methods no route allows, past rate limits
// and the access log). Shown with the example shop's orders service (a real process, routed
// as examples/shop/baton.yaml routes it: GET /api/orders only) and with a plain upstream.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { resolveGateway } from '../../src/domain/gateway/resolve.ts';
import type { GatewaySnapshot } from '../../src/domain/gateway/snapshot.ts';
import { parseManifest } from '../../src/domain/manifest/index.ts';
import { staticSource } from '../../src/engines/gateway/gateway.ts';
import type { GatewayHandle } from '../../src/engines/gateway/gateway.ts';
import type { TestUpstream } from './support.ts';
import { capturingLogger, gatewayWith, snapshotOf, startUpstream, until } from './support.ts';

const SHOP = join(import.meta.dirname, '../../examples/shop');
const portOf = (url: string) => Number(new URL(url).port);

const UPGRADE =
  'Host: shop.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

/** A request the routes forbid (orders' route is GET /api/orders only). */
const SMUGGLED_POST =
  'POST /orders HTTP/1.1\r\nHost: shop.example\r\ncontent-type: application/json\r\n' +
  'content-length: 58\r\n\r\n{"sku":"tea-sencha","quantity":1,"card":"4242424242424242"}';
const SMUGGLED_GET = 'GET /orders/smuggled HTTP/1.1\r\nHost: shop.example\r\n\r\n';

interface Conversation {
  /** Everything received, as latin1. */
  readonly text: () => string;
  readonly closed: () => boolean;
  write(text: string): void;
  destroy(): void;
}

function converse(port: number, first: string): Conversation {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  let closed = false;
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  socket.write(first);
  return {
    text: () => received,
    closed: () => closed,
    write: (text) => {
      if (!socket.destroyed) socket.write(text);
    },
    destroy: () => socket.destroy(),
  };
}

/** Status lines of the HTTP answers in a byte stream (one per answer). */
function statusLines(text: string): string[] {
  return [...text.matchAll(/HTTP\/1\.1 \d{3}[^\r]*/g)].map((m) => m[0]);
}

/** The answer is in and the gateway closed the connection, or a second answer came: either ends the wait. */
async function settled(conversation: Conversation): Promise<void> {
  await until('the connection to close (or a smuggled answer)', () =>
    conversation.closed() || statusLines(conversation.text()).length > 1 ? true : undefined,
  );
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((closed) => server.close(closed));
  return port;
}

describe('upgrade smuggling, with the shop as upstream', () => {
  let orders: ChildProcess;
  /** orders' own log: one JSON line per request it served. */
  const served: { method: string; path: string }[] = [];
  let gateway: GatewayHandle;
  let log: Record<string, unknown>[];

  before(async () => {
    const port = await freePort();
    orders = spawn(process.execPath, ['services/orders.ts'], {
      cwd: SHOP,
      env: { PATH: process.env.PATH ?? '', PORT: String(port), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    createInterface({ input: orders.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { message?: string; method?: string; path?: string };
      if (entry.message === 'request') served.push({ method: entry.method!, path: entry.path! });
    });
    // The shop's own routes and policies, from its manifest; only orders has an instance.
    const parsed = parseManifest(readFileSync(join(SHOP, 'baton.yaml'), 'utf8'));
    assert.ok(parsed.ok);
    const resolved = resolveGateway(parsed.value.manifest);
    const snapshot: GatewaySnapshot = {
      revision: 1,
      sequence: 1,
      settings: resolved.settings,
      routes: resolved.routes,
      services: Object.fromEntries(
        Object.entries(resolved.services).map(([name, s]) => [
          name,
          {
            ...s,
            endpoints:
              name === 'orders'
                ? [{ instanceId: 'orders-1', address: '127.0.0.1', port, version: '2.1.0' }]
                : [],
          },
        ]),
      ),
      faults: [],
    };
    const capture = capturingLogger();
    log = capture.lines;
    gateway = await gatewayWith(staticSource(snapshot), { accessLog: capture.logger });
    await until('orders to listen', async () => {
      const socket = net.connect(port, '127.0.0.1');
      const ok = await new Promise<boolean>((resolve) => {
        socket.once('connect', () => resolve(true));
        socket.once('error', () => resolve(false));
      });
      socket.destroy();
      return ok ? true : undefined;
    });
  });

  after(async () => {
    await gateway.close();
    orders.kill('SIGKILL');
  });

  it("relays orders' refusal of the upgrade, closes, and never forwards what followed", async () => {
    const conversation = converse(
      portOf(gateway.url),
      `GET /api/orders HTTP/1.1\r\n${UPGRADE}${SMUGGLED_POST}`,
    );
    await until('an answer', () => (statusLines(conversation.text()).length > 0 ? true : undefined));
    // Sent once orders has answered: with the connection piped, this would reach orders too.
    conversation.write(SMUGGLED_GET);
    await settled(conversation);
    conversation.destroy();

    assert.deepEqual(
      statusLines(conversation.text()),
      ['HTTP/1.1 200 OK'],
      "one answer: orders' to GET /api/orders",
    );
    assert.match(conversation.text(), /connection: close/i);
    assert.match(conversation.text(), /"orders":\[\]/);
    assert.ok(conversation.closed(), 'the gateway closed the connection');
    // The upgrade request is in orders' log; nothing after it ever reached orders.
    await until('orders to log the request', () => (served.length > 0 ? true : undefined));
    assert.deepEqual(served, [{ method: 'GET', path: '/api/orders' }]);
    const line = log.find((l) => l.path === '/api/orders');
    assert.equal(line?.outcome, 'upgrade-refused');
    assert.equal(line?.status, 200);
  });
});

describe('upgrade smuggling, with a plain upstream', () => {
  let upstream: TestUpstream;
  let gateway: GatewayHandle;

  before(async () => {
    // A node:http server with no upgrade handler answers an upgrade request as a plain one.
    upstream = await startUpstream('plain');
    gateway = await gatewayWith(
      staticSource(
        snapshotOf({
          routes: [{ service: 's', path: '/public', methods: ['GET'] }],
          services: { s: { endpoints: [upstream] } },
        }),
      ),
    );
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  it('never forwards the bytes after a refused upgrade, sent together or later', async () => {
    const conversation = converse(
      portOf(gateway.url),
      `GET /public/feed HTTP/1.1\r\n${UPGRADE}DELETE /private/everything HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    await until('an answer', () => (statusLines(conversation.text()).length > 0 ? true : undefined));
    conversation.write('GET /private/secrets HTTP/1.1\r\nHost: x\r\n\r\n');
    await settled(conversation);
    conversation.destroy();
    assert.deepEqual(statusLines(conversation.text()), ['HTTP/1.1 200 OK']);
    assert.deepEqual(
      upstream.seen.map((r) => `${r.method} ${r.url}`),
      ['GET /public/feed'],
      'only the routed request reached the upstream',
    );
  });

  it('forwards an upgrade request with a body as a plain request, then closes the connection', async () => {
    const before = upstream.seen.length;
    const conversation = converse(
      portOf(gateway.url),
      'GET /public/a HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Content-Length: 2\r\n\r\nhi' +
        'GET /private/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    await until('the answer', () => (statusLines(conversation.text()).length > 0 ? true : undefined));
    await settled(conversation);
    conversation.destroy();
    // Node stops reading a connection at an upgrade it declined, so the answer closes it.
    assert.deepEqual(statusLines(conversation.text()), ['HTTP/1.1 200 OK']);
    assert.match(conversation.text(), /connection: close/i);
    const seen = upstream.seen.slice(before);
    assert.deepEqual(
      seen.map((r) => `${r.method} ${r.url}`),
      ['GET /public/a'],
    );
    assert.equal(seen[0]!.headers.upgrade, undefined, 'Upgrade is hop-by-hop on a plain request');
  });
});
