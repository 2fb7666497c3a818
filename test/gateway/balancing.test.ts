// Load balancing over real sockets: round robin, least-request (power of two choices),
// consistent hashing on a header or a cookie (stable when an endpoint leaves), and
// keep-alive connections to upstreams.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { staticSource, updatableSource } from '../../src/engines/gateway/gateway.ts';
import type { TestUpstream } from './support.ts';
import { gatewayWith, holding, send, snapshotOf, startUpstream, tally, until } from './support.ts';

describe('gateway load balancing', () => {
  let upstreams: TestUpstream[];
  before(async () => {
    upstreams = await Promise.all(['u0', 'u1', 'u2', 'u3'].map((n) => startUpstream(n)));
  });
  after(async () => {
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('round robin spreads sequential requests exactly evenly', async () => {
    const three = upstreams.slice(0, 3);
    const gateway = await gatewayWith(
      staticSource(snapshotOf({ routes: [{ service: 's' }], services: { s: { endpoints: three } } })),
    );
    try {
      const answers = [];
      for (let i = 0; i < 30; i++) answers.push(await send(`${gateway.url}/`));
      assert.deepEqual(tally(answers), { u0: 10, u1: 10, u2: 10 });
    } finally {
      await gateway.close();
    }
  });

  it('least-request sends new requests away from an endpoint that is busy', async () => {
    const slow = holding();
    const busy = await startUpstream('busy', slow.handler);
    const gateway = await gatewayWith(
      staticSource(
        snapshotOf({
          routes: [{ service: 's' }],
          services: {
            s: { policy: { loadBalancing: { kind: 'least-request' } }, endpoints: [busy, upstreams[0]!] },
          },
        }),
      ),
    );
    try {
      // Send until one request is stuck on the busy endpoint.
      const pending = [];
      while (slow.held() === 0) {
        const r = send(`${gateway.url}/`);
        pending.push(r);
        await Promise.race([r, until('a held request', () => (slow.held() > 0 ? true : undefined))]);
      }
      const answers = [];
      for (let i = 0; i < 20; i++) answers.push(await send(`${gateway.url}/`));
      assert.deepEqual(tally(answers), { u0: 20 });
      slow.release();
      await Promise.all(pending);
    } finally {
      await gateway.close();
      await busy.close();
    }
  });

  for (const by of ['header', 'cookie'] as const) {
    it(`consistent hashing on a ${by} keeps a key on one endpoint, and moves only the keys of one that leaves`, async () => {
      const lb =
        by === 'header'
          ? { kind: 'hash' as const, header: 'x-user' }
          : { kind: 'hash' as const, cookie: 'session' };
      const snap = (endpoints: TestUpstream[], sequence: number) =>
        snapshotOf({
          sequence,
          routes: [{ service: 's' }],
          services: { s: { policy: { loadBalancing: lb }, endpoints } },
        });
      const source = updatableSource(snap(upstreams, 1));
      const gateway = await gatewayWith(source);
      const ask = async (user: string) => {
        const headers: Record<string, string> =
          by === 'header' ? { 'x-user': user } : { cookie: `theme=dark; session=${user}` };
        return (await send(`${gateway.url}/`, { headers })).json<{ upstream: string }>().upstream;
      };
      try {
        const owner = new Map<string, string>();
        for (let u = 0; u < 40; u++) {
          const user = `user-${u}`;
          const first = await ask(user);
          for (let i = 0; i < 3; i++) assert.equal(await ask(user), first, `${user} moved`);
          owner.set(user, first);
        }
        assert.ok(new Set(owner.values()).size >= 3, 'keys spread over the endpoints');

        const leaving = owner.get('user-0')!;
        source.publish(
          snap(
            upstreams.filter((u) => u.name !== leaving),
            2,
          ),
        );
        for (const [user, before] of owner) {
          const now = await ask(user);
          if (before === leaving) assert.notEqual(now, leaving);
          else assert.equal(now, before, `${user} moved although ${before} stayed`);
        }
      } finally {
        await gateway.close();
      }
    });
  }

  it('reuses keep-alive connections to an upstream', async () => {
    const fresh = await startUpstream('fresh');
    const gateway = await gatewayWith(
      staticSource(snapshotOf({ routes: [{ service: 's' }], services: { s: { endpoints: [fresh] } } })),
    );
    try {
      for (let i = 0; i < 50; i++) assert.equal((await send(`${gateway.url}/`)).status, 200);
      assert.equal(fresh.connections, 1);
    } finally {
      await gateway.close();
      await fresh.close();
    }
  });
});
