// The data plane between services, on real sockets: each east-west listener (a port per
// declared dependency and range, an egress per service) reaches only what its caller
// declares, within its range, under the callee's traffic policy.
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { EastWestListener, EastWestMode } from '../../src/domain/gateway/east-west.ts';
import type { GatewaySnapshot } from '../../src/domain/gateway/snapshot.ts';
import { updatableSource } from '../../src/engines/gateway/gateway.ts';
import type { GatewayHandle } from '../../src/engines/gateway/gateway.ts';
import { gatewayWith, send, snapshotOf, startUpstream, until } from './support.ts';
import type { SnapshotSketch, TestUpstream } from './support.ts';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function withEastWest(
  sketch: SnapshotSketch,
  listeners: EastWestListener[],
  mode: EastWestMode = 'enforce',
): GatewaySnapshot {
  return { ...snapshotOf(sketch), eastWest: { mode, listeners } };
}

describe('east-west listeners', () => {
  const source = updatableSource();
  let gateway: GatewayHandle;
  let v1a: TestUpstream;
  let v1b: TestUpstream;
  let v2: TestUpstream;
  let payments: TestUpstream;
  const ports = { web: 0, tour: 0, audit: 0, egress: 0 };
  let listeners: EastWestListener[];
  let sketch: SnapshotSketch;

  before(async () => {
    const broken = (name: string) => async () =>
      startUpstream(name, (req, res) => {
        res.writeHead(req.url?.startsWith('/broken') ? 500 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ upstream: name, url: req.url }));
      });
    [v1a, v1b, v2, payments] = await Promise.all([
      broken('hotel-1a')(),
      broken('hotel-1b')(),
      broken('hotel-2')(),
      startUpstream('payments'),
    ]);
    for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
    listeners = [
      { port: ports.web, caller: 'web', callee: 'hotel', range: '^1.0.0' },
      { port: ports.tour, caller: 'tour', callee: 'hotel', range: '>=1.0.0' },
      { port: ports.audit, caller: 'audit', callee: 'hotel', range: '^3.0.0' },
      { port: ports.egress, caller: 'web' },
    ];
    sketch = {
      routes: [],
      services: {
        hotel: {
          endpoints: [
            { upstream: v1a, version: '1.4.0' },
            { upstream: v1b, version: '1.4.0' },
            { upstream: v2, version: '2.0.0' },
          ],
          // A canary of the new major takes half of the traffic it may take.
          split: { '1.4.0': 50, '2.0.0': 50 },
        },
        payments: { endpoints: [payments] },
      },
    };
    source.publish(withEastWest(sketch, listeners));
    gateway = await gatewayWith(source, { accessLog: false });
    await until('every east-west port listening', () =>
      gateway.eastWestPorts.length === listeners.length ? true : undefined,
    );
  });

  after(async () => {
    await gateway.close();
    await Promise.all([v1a, v1b, v2, payments].map((u) => u.close()));
  });

  it('keeps a caller within its range during a canary of a new major, and lets a wider range reach it', async () => {
    const reached = async (port: number) => {
      const counts: Record<string, number> = {};
      for (let i = 0; i < 400; i++) {
        const answer = await send(`http://127.0.0.1:${port}/rooms/7`);
        assert.equal(answer.status, 200, answer.text);
        const upstream = answer.json<{ upstream: string }>().upstream;
        counts[upstream] = (counts[upstream] ?? 0) + 1;
      }
      return counts;
    };
    const pinned = await reached(ports.web);
    assert.equal(pinned['hotel-2'], undefined, `^1.0.0 reached the 2.0.0 canary: ${JSON.stringify(pinned)}`);
    assert.ok(pinned['hotel-1a']! > 0 && pinned['hotel-1b']! > 0, JSON.stringify(pinned));
    const wide = await reached(ports.tour);
    assert.ok(wide['hotel-2']! > 0, `>=1.0.0 never reached the canary: ${JSON.stringify(wide)}`);
  });

  it('fails fast with a problem naming the range when no instance is within it', async () => {
    const answer = await send(`http://127.0.0.1:${ports.audit}/rooms/7`);
    assert.equal(answer.status, 503);
    const problem = answer.json<{ code: string; detail: string }>();
    assert.equal(problem.code, 'no-matching-version');
    assert.match(problem.detail, /\^3\.0\.0/);
    assert.match(problem.detail, /audit/);
  });

  it('refuses a call to an undeclared service in enforce mode, naming the missing dependsOn', async () => {
    const refused = await send(`http://127.0.0.1:${ports.egress}/charge`, {
      headers: { 'x-baton-service': 'payments' },
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers['content-type'], 'application/problem+json');
    const problem = refused.json<{ code: string; detail: string }>();
    assert.equal(problem.code, 'undeclared-dependency');
    assert.match(problem.detail, /services\.web\.dependsOn/);
    assert.equal(payments.seen.length, 0);
    // A declared one, named by Host, goes through within the caller's range.
    const declared = await send(`http://127.0.0.1:${ports.egress}/rooms/1`, { headers: { host: 'hotel' } });
    assert.equal(declared.status, 200);
    assert.notEqual(declared.json<{ upstream: string }>().upstream, 'hotel-2');
  });

  it('forwards an undeclared call in observe mode', async () => {
    source.publish({ ...withEastWest(sketch, listeners, 'observe'), sequence: 2 });
    await until('observe mode', async () => {
      const answer = await send(`http://127.0.0.1:${ports.egress}/charge`, {
        headers: { 'x-baton-service': 'payments' },
      });
      return answer.status === 200 ? answer : undefined;
    });
    assert.ok(payments.seen.some((r) => r.url === '/charge'));
    source.publish({ ...withEastWest(sketch, listeners), sequence: 3 });
  });

  it("keeps one failing endpoint's circuit to itself: no circuit-open on the caller's other paths", async () => {
    let healthy = 0;
    let circuitOpen = 0;
    let brokenOpen = 0;
    const pump = async (path: string, n: number) => {
      for (let i = 0; i < n; i++) {
        const answer = await send(`http://127.0.0.1:${ports.tour}${path}`);
        const code =
          answer.status >= 500 && answer.text.startsWith('{"type"') ? answer.json().code : undefined;
        if (path.startsWith('/broken')) {
          if (code === 'circuit-open') brokenOpen++;
        } else if (code === 'circuit-open') circuitOpen++;
        else if (answer.status === 200) healthy++;
      }
    };
    await Promise.all([
      pump('/broken/1', 200),
      pump('/rooms/1', 200),
      pump('/broken/2', 200),
      pump('/rooms/2', 200),
    ]);
    assert.ok(brokenOpen > 0, 'the failing endpoint never opened its circuit');
    assert.equal(circuitOpen, 0);
    assert.equal(healthy, 400);
  });

  it('applies a fault set on the callee to east-west calls', async () => {
    source.publish({
      ...withEastWest(
        {
          ...sketch,
          faults: [
            {
              id: 'f1',
              service: 'payments',
              abort: { status: 503, percent: 100 },
              expiresAt: new Date(Date.now() + 60_000).toISOString(),
              createdBy: 'test',
            },
          ],
        },
        listeners,
        'observe',
      ),
      sequence: 4,
    });
    const answer = await until('the fault to act', async () => {
      const a = await send(`http://127.0.0.1:${ports.egress}/charge`, {
        headers: { 'x-baton-service': 'payments' },
      });
      return a.status === 503 ? a : undefined;
    });
    assert.equal(answer.json().code, 'fault-injected');
  });

  it('closes a listener that leaves the snapshot', async () => {
    source.publish({ ...withEastWest(sketch, listeners.slice(0, 3)), sequence: 5 });
    await until('the egress port closed', () =>
      gateway.eastWestPorts.includes(ports.egress) ? undefined : true,
    );
    await assert.rejects(send(`http://127.0.0.1:${ports.egress}/rooms/1`, { headers: { host: 'hotel' } }));
  });
});
