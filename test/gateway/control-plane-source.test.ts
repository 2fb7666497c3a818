// The control-plane source against a tiny server speaking the protocol: GET
// /v1/gateway/snapshot, then SSE on /v1/gateway/watch, with a bearer token; stale and
// invalid snapshots ignored; the last snapshot kept while the control plane is away, and
// the watch resumed when it is back.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { GatewaySnapshot } from '../../src/domain/gateway/snapshot.ts';
import { controlPlaneSource } from '../../src/engines/gateway/control-plane-source.ts';
import type { GatewayHandle } from '../../src/engines/gateway/gateway.ts';
import type { TestUpstream } from './support.ts';
import { capturingLogger, gatewayWith, send, snapshotOf, startUpstream, until } from './support.ts';

const TOKEN = 'cp-t0ken-value';

class FakeControlPlane {
  current: GatewaySnapshot;
  down = false;
  readonly watchers = new Set<ServerResponse>();
  readonly unauthorized: string[] = [];
  watches = 0;
  url = '';
  readonly #server = http.createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      this.unauthorized.push(req.url ?? '');
      return void res.writeHead(401).end();
    }
    if (this.down) return void res.writeHead(503).end('down');
    if (req.url === '/v1/gateway/snapshot') {
      return void res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(this.current));
    }
    if (req.url === '/v1/gateway/watch') {
      this.watches++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': hello\n\n');
      this.watchers.add(res);
      res.on('close', () => this.watchers.delete(res));
      return;
    }
    res.writeHead(404).end();
  });

  constructor(initial: GatewaySnapshot) {
    this.current = initial;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Sends an event to every watcher; split in two writes to exercise reassembly. */
  push(data: string): void {
    const text = `event: snapshot\ndata: ${data}\n\n`;
    for (const w of this.watchers) {
      w.write(text.slice(0, 10));
      w.write(text.slice(10));
    }
  }

  dropWatchers(): void {
    for (const w of this.watchers) w.destroy();
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

describe('controlPlaneSource', () => {
  let a: TestUpstream;
  let b: TestUpstream;
  let plane: FakeControlPlane;
  let gateway: GatewayHandle;
  const { logger, lines } = capturingLogger();
  const snap = (sequence: number, upstream: TestUpstream) =>
    snapshotOf({ sequence, routes: [{ service: 's' }], services: { s: { endpoints: [upstream] } } });
  const who = async () => (await send(`${gateway.url}/`)).json<{ upstream: string }>().upstream;

  before(async () => {
    [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
    plane = new FakeControlPlane(snap(1, a));
    await plane.start();
    gateway = await gatewayWith(
      controlPlaneSource({ url: plane.url, token: TOKEN, logger, initialBackoffMs: 20, maxBackoffMs: 100 }),
      { logger },
    );
  });
  after(async () => {
    await gateway.close();
    await plane.close();
    await Promise.all([a.close(), b.close()]);
  });

  it('loads the current snapshot, then follows the watch stream', async () => {
    await until('sequence 1', () => (gateway.sequence === 1 ? true : undefined));
    assert.equal(await who(), 'a');
    await until('the watch', () => (plane.watchers.size === 1 ? true : undefined));
    plane.current = snap(2, b);
    plane.push(JSON.stringify(plane.current));
    await until('sequence 2', () => (gateway.sequence === 2 ? true : undefined));
    assert.equal(await who(), 'b');
    assert.deepEqual(plane.unauthorized, [], 'the bearer token went with every request');
  });

  it('ignores snapshots that are older or invalid', async () => {
    plane.push('{"not":"a snapshot"}');
    await until('the invalid snapshot to be reported', () =>
      lines.some((l) => l.msg === 'ignoring an invalid gateway snapshot') ? true : undefined,
    );
    plane.push('this is not json');
    await until('the malformed event to be reported', () =>
      lines.some((l) => l.msg === 'ignoring a gateway snapshot event that is not JSON') ? true : undefined,
    );
    plane.push(JSON.stringify(snap(1, a)));
    const marker = snap(3, b);
    plane.current = marker;
    plane.push(JSON.stringify(marker));
    await until('sequence 3', () => (gateway.sequence === 3 ? true : undefined));
    assert.equal(await who(), 'b');
  });

  it('keeps routing by the last snapshot while the control plane is away, and catches up after', async () => {
    const watchesBefore = plane.watches;
    plane.down = true;
    plane.dropWatchers();
    // Reconnection attempts fail (503) for a while; the gateway keeps serving.
    await until('a failed reconnection', () =>
      lines.some((l) => String(l.msg).startsWith('gateway lost')) ? true : undefined,
    );
    for (let i = 0; i < 5; i++) assert.equal(await who(), 'b');
    plane.current = snap(4, a);
    plane.down = false;
    await until('sequence 4 after reconnecting', () => (gateway.sequence === 4 ? true : undefined));
    assert.equal(await who(), 'a');
    await until('a new watch', () => (plane.watches > watchesBefore ? true : undefined));
    assert.ok(!JSON.stringify(lines).includes(TOKEN), 'the token never appears in logs');
  });

  it('follows a restarted control plane, whose sequence starts again in a new epoch', async () => {
    assert.equal(gateway.sequence, 4);
    plane.current = { ...snap(1, b), epoch: 'after-restart' };
    plane.dropWatchers();
    await until('the new epoch', () => (gateway.sequence === 1 ? true : undefined));
    assert.equal(await who(), 'b');
  });
});
