// HTTP correctness over raw sockets: hop-by-hop headers removed both ways, size limits
// (431, 413), slow clients (408), upgrade passthrough, and graceful drain.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { staticSource } from '../../src/engines/gateway/gateway.ts';
import type { GatewayHandle } from '../../src/engines/gateway/gateway.ts';
import type { TestUpstream } from './support.ts';
import {
  gatewayWith,
  holding,
  parseRaw,
  rawExchange,
  send,
  snapshotOf,
  startUpstream,
  until,
} from './support.ts';

const portOf = (url: string) => Number(new URL(url).port);

describe('gateway HTTP handling', () => {
  let upstream: TestUpstream;
  let gateway: GatewayHandle;
  let port: number;

  before(async () => {
    upstream = await startUpstream('u');
    gateway = await gatewayWith(
      staticSource(snapshotOf({ routes: [{ service: 's' }], services: { s: { endpoints: [upstream] } } })),
      {
        limits: {
          maxBodyBytes: 1000,
          maxHeaderBytes: 8 * 1024,
          headersTimeoutMs: 300,
          requestTimeoutMs: 2000,
        },
      },
    );
    port = portOf(gateway.url);
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  it('removes hop-by-hop request headers, including those the Connection header names', async () => {
    const answer = parseRaw(
      await rawExchange(
        port,
        'GET /hop HTTP/1.1\r\nHost: x\r\nConnection: close, X-Private\r\nX-Private: secret\r\n' +
          'Keep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: x-sum\r\nProxy-Authorization: Basic Zm9v\r\n' +
          'Proxy-Connection: keep-alive\r\nX-Kept: yes\r\n\r\n',
      ),
    );
    assert.equal(answer.status, 200);
    const seen = upstream.seen.find((r) => r.url === '/hop')!;
    for (const name of ['x-private', 'te', 'trailer', 'proxy-authorization', 'proxy-connection']) {
      assert.equal(seen.headers[name], undefined, name);
    }
    assert.notEqual(seen.headers['keep-alive'], 'timeout=5');
    assert.notEqual(seen.headers.connection, 'close, X-Private');
    assert.equal(seen.headers['x-kept'], 'yes');
  });

  it('removes hop-by-hop response headers, including those the Connection header names', async () => {
    const raw = net.createServer((socket) => {
      socket.once('data', () =>
        socket.write(
          'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Internal\r\nX-Internal: secret\r\nKeep-Alive: timeout=99\r\n' +
            'Proxy-Authenticate: Basic\r\nX-Public: yes\r\nContent-Length: 2\r\n\r\nok',
        ),
      );
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const rawPort = (raw.address() as AddressInfo).port;
    const g = await gatewayWith(
      staticSource(
        snapshotOf({
          routes: [{ service: 'raw' }],
          services: {
            raw: {
              endpoints: [{ name: 'raw', port: rawPort, seen: [], connections: 0, close: async () => {} }],
            },
          },
        }),
      ),
    );
    try {
      const answer = parseRaw(
        await rawExchange(portOf(g.url), 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      );
      assert.equal(answer.status, 200);
      assert.equal(answer.body, 'ok');
      assert.equal(answer.headers['x-public'], 'yes');
      assert.equal(answer.headers['x-internal'], undefined);
      assert.equal(answer.headers['proxy-authenticate'], undefined);
      assert.notEqual(answer.headers['keep-alive'], 'timeout=99');
    } finally {
      await g.close();
      raw.close();
    }
  });

  it('answers 431 to a request head over the limit', async () => {
    const answer = parseRaw(
      await rawExchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(10_000)}\r\n\r\n`),
    );
    assert.equal(answer.status, 431);
    assert.equal(JSON.parse(answer.body).code, 'headers-too-large');
  });

  it('answers 413 to a declared body over the limit, without forwarding it', async () => {
    const before = upstream.seen.length;
    const answer = parseRaw(
      await rawExchange(
        port,
        'POST /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5000\r\n\r\n' +
          'a'.repeat(5000),
      ),
    );
    assert.equal(answer.status, 413);
    assert.equal(JSON.parse(answer.body).code, 'payload-too-large');
    assert.equal(upstream.seen.length, before);
  });

  it('answers 413 when a chunked body grows past the limit', async () => {
    const chunk = 'a'.repeat(600);
    const body = `258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`;
    const answer = parseRaw(
      await rawExchange(
        port,
        `PUT /chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n${body}`,
      ),
    );
    assert.equal(answer.status, 413);
    const small = parseRaw(
      await rawExchange(
        port,
        `PUT /chunked-small HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n${chunk}\r\n0\r\n\r\n`,
      ),
    );
    assert.equal(small.status, 200);
    assert.equal(upstream.seen.find((r) => r.url === '/chunked-small')?.body, chunk);
  });

  it('answers 408 to a client too slow to send its request head', async () => {
    const received = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n'); // and never the blank line
    });
    const answer = parseRaw(received);
    assert.equal(answer.status, 408);
    assert.equal(JSON.parse(answer.body).code, 'request-timeout');
  });
});

describe('gateway upgrades', () => {
  it('passes a WebSocket upgrade through as a tunnel, with forwarding headers on the handshake', async () => {
    const handshakes: http.IncomingMessage[] = [];
    const server = http.createServer((_req, res) => res.writeHead(426).end());
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
      handshakes.push(req);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      socket.on('data', (d: Buffer) => socket.write(d.toString().toUpperCase()));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const wsPort = (server.address() as AddressInfo).port;
    const gateway = await gatewayWith(
      staticSource(
        snapshotOf({
          routes: [{ service: 'ws', path: '/live', stripPrefix: true }],
          services: {
            ws: {
              endpoints: [{ name: 'ws', port: wsPort, seen: [], connections: 0, close: async () => {} }],
            },
          },
        }),
      ),
    );
    const client = net.connect(portOf(gateway.url), '127.0.0.1');
    try {
      let received = '';
      client.on('data', (d: Buffer) => (received += d.toString()));
      client.write(
        'GET /live/feed HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      await until('the 101', () => (received.includes('\r\n\r\n') ? true : undefined));
      assert.match(received, /^HTTP\/1\.1 101 /);
      client.write('hello over the tunnel');
      await until('the echo', () => (received.includes('HELLO OVER THE TUNNEL') ? true : undefined));
      const handshake = handshakes[0]!;
      assert.equal(handshake.url, '/feed');
      assert.equal(handshake.headers.upgrade, 'websocket');
      assert.equal(handshake.headers['x-forwarded-for'], '127.0.0.1');
      assert.match(String(handshake.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      assert.equal(handshake.headers['sec-websocket-key'], 'dGhlIHNhbXBsZSBub25jZQ==');
    } finally {
      client.destroy();
      await gateway.close();
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('a client that leaves', () => {
  it('aborts the upstream request and frees the gateway', async () => {
    const slow = holding();
    const upstream = await startUpstream('slow', slow.handler);
    const gateway = await gatewayWith(
      staticSource(snapshotOf({ routes: [{ service: 's' }], services: { s: { endpoints: [upstream] } } })),
    );
    try {
      const client = net.connect(portOf(gateway.url), '127.0.0.1');
      client.on('error', () => {});
      client.write('GET /wait HTTP/1.1\r\nHost: x\r\n\r\n');
      await until('the request at the upstream', () => (slow.held() === 1 ? true : undefined));
      assert.equal(gateway.inFlight, 1);
      client.destroy();
      const abandoned = slow.waiting[0]!;
      await until('the upstream request to be aborted', () =>
        abandoned.socket?.destroyed ? true : undefined,
      );
      await until('the gateway to let go', () => (gateway.inFlight === 0 ? true : undefined));
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});

describe('gateway drain', () => {
  it('on close, stops accepting, finishes the request in flight, then closes', async () => {
    const slow = holding();
    const upstream = await startUpstream('slow', slow.handler);
    const gateway = await gatewayWith(
      staticSource(snapshotOf({ routes: [{ service: 's' }], services: { s: { endpoints: [upstream] } } })),
    );
    const inFlight = send(`${gateway.url}/`);
    await until('the request at the upstream', () => (slow.held() === 1 ? true : undefined));
    let closed = false;
    const closing = gateway.close().then(() => (closed = true));
    // New connections are refused while the old request is still being served.
    await until(
      'the port to stop accepting',
      () =>
        new Promise<true | undefined>((resolve) => {
          const probe = net.connect(portOf(gateway.url), '127.0.0.1');
          probe.on('connect', () => {
            probe.destroy();
            resolve(undefined);
          });
          probe.on('error', () => resolve(true));
        }),
    );
    assert.equal(closed, false, 'close() waits for the request in flight');
    slow.release();
    const answer = await inFlight;
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.connection, 'close');
    await closing;
    assert.equal(gateway.inFlight, 0);
    await upstream.close();
  });
});
