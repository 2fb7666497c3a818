// Traffic control over real sockets: rate limits (per route, per client IP, per header),
// the weighted canary split, version pinning, fault injection, and tier-aware shedding.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import type { FaultInjection } from '../../src/domain/gateway/snapshot.ts';
import { staticSource } from '../../src/engines/gateway/gateway.ts';
import type { GatewayHandle } from '../../src/engines/gateway/gateway.ts';
import type { Answer, TestUpstream } from './support.ts';
import { gatewayWith, holding, send, snapshotOf, startUpstream, tally, until } from './support.ts';

describe('rate limiting', () => {
  let upstream: TestUpstream;
  let gateway: GatewayHandle;
  before(async () => {
    upstream = await startUpstream('u');
    gateway = await gatewayWith(
      staticSource(
        snapshotOf({
          routes: [
            { service: 's', path: '/route', rateLimit: { requestsPerSecond: 0.5, burst: 3, key: 'route' } },
            { service: 's', path: '/ip', rateLimit: { requestsPerSecond: 0.5, burst: 2, key: 'ip' } },
            {
              service: 's',
              path: '/key',
              rateLimit: { requestsPerSecond: 0.5, burst: 2, key: { header: 'x-api-key' } },
            },
            { service: 's', path: '/free' },
          ],
          services: { s: { endpoints: [upstream] } },
        }),
      ),
      { adminPort: 0 },
    );
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  it('answers 429 with Retry-After and RateLimit headers once the bucket is empty', async () => {
    const answers: Answer[] = [];
    for (let i = 0; i < 4; i++) answers.push(await send(`${gateway.url}/route`));
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 429],
    );
    assert.deepEqual(
      answers.map((a) => a.headers['ratelimit-remaining']),
      ['2', '1', '0', '0'],
    );
    assert.ok(answers.every((a) => a.headers['ratelimit-limit'] === '3'));
    const refused = answers[3]!;
    assert.equal(refused.headers['content-type'], 'application/problem+json');
    assert.equal(refused.json().code, 'rate-limited');
    // One token every 2 s.
    assert.equal(refused.headers['retry-after'], '2');
    assert.ok(Number(refused.headers['ratelimit-reset']) >= 2);
    assert.equal(upstream.seen.filter((r) => r.url === '/route').length, 3);
    const metrics = (await send(`${gateway.adminUrl}/metrics`)).text;
    assert.match(metrics, /baton_gateway_rate_limited_total\{route="\/route",service="s"\} 1/);
    assert.equal((await send(`${gateway.url}/free`)).headers['ratelimit-limit'], undefined);
  });

  it('keeps one bucket per client IP', async () => {
    const from = (localAddress: string) => new Agent({ localAddress });
    const [a, b] = [from('127.0.0.2'), from('127.0.0.3')];
    try {
      const statuses = async (agent: Agent) => {
        const out = [];
        for (let i = 0; i < 3; i++) out.push((await send(`${gateway.url}/ip`, { dispatcher: agent })).status);
        return out;
      };
      assert.deepEqual(await statuses(a), [200, 200, 429]);
      assert.deepEqual(await statuses(b), [200, 200, 429]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('keeps one bucket per value of a header', async () => {
    const ask = async (key: string) =>
      (await send(`${gateway.url}/key`, { headers: { 'x-api-key': key } })).status;
    assert.deepEqual([await ask('alice'), await ask('alice'), await ask('alice')], [200, 200, 429]);
    assert.equal(await ask('bob'), 200);
  });
});

describe('traffic split and version pinning', () => {
  let v1: TestUpstream;
  let v2: TestUpstream;
  let gateway: GatewayHandle;
  before(async () => {
    [v1, v2] = await Promise.all([startUpstream('v1'), startUpstream('v2')]);
    gateway = await gatewayWith(
      staticSource(
        snapshotOf({
          routes: [{ service: 's' }],
          services: {
            s: {
              endpoints: [
                { upstream: v1, version: '1.4.0' },
                { upstream: v2, version: '2.1.0' },
              ],
              split: { '1.4.0': 90, '2.1.0': 10 },
            },
          },
        }),
      ),
    );
  });
  after(async () => {
    await gateway.close();
    await Promise.all([v1.close(), v2.close()]);
  });

  it('sends 10% ± 3% of 5,000 requests to the canary', async () => {
    const agent = new Agent({ connections: 32 });
    const answers: Answer[] = [];
    let next = 0;
    const worker = async () => {
      while (next++ < 5000) answers.push(await send(`${gateway.url}/`, { dispatcher: agent }));
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    await agent.close();
    const counts = tally(answers);
    assert.equal((counts.v1 ?? 0) + (counts.v2 ?? 0), 5000);
    const share = (counts.v2 ?? 0) / 5000;
    assert.ok(share >= 0.07 && share <= 0.13, `canary share ${share}`);
  });

  it('pins a request to a version or a semver range with x-baton-version', async () => {
    const pinned = async (pin: string) => {
      const answers = [];
      for (let i = 0; i < 20; i++)
        answers.push(await send(`${gateway.url}/`, { headers: { 'x-baton-version': pin } }));
      return tally(answers);
    };
    assert.deepEqual(await pinned('2.1.0'), { v2: 20 });
    assert.deepEqual(await pinned('^1.2.0'), { v1: 20 });
    // A range matching both versions spreads evenly over them, whatever the split says.
    assert.deepEqual(await pinned('>=1 <3'), { v1: 10, v2: 10 });
    const missing = await send(`${gateway.url}/`, { headers: { 'x-baton-version': '3.0.0' } });
    assert.equal(missing.status, 503);
    assert.equal(missing.json().code, 'no-matching-version');
    const bad = await send(`${gateway.url}/`, { headers: { 'x-baton-version': 'newest!' } });
    assert.equal(bad.status, 400);
  });
});

describe('fault injection', () => {
  const future = () => new Date(Date.now() + 3_600_000).toISOString();
  const fault = (f: Partial<FaultInjection> & { id: string }): FaultInjection => ({
    service: 's',
    createdBy: 'test',
    expiresAt: future(),
    ...f,
  });

  it("aborts a share of a route's requests with the chosen status, and only on its path", async () => {
    const upstream = await startUpstream('u');
    const gateway = await gatewayWith(
      staticSource(
        snapshotOf({
          routes: [{ service: 's' }],
          services: { s: { endpoints: [upstream] } },
          faults: [
            fault({ id: 'all', path: '/checkout', abort: { status: 418, percent: 100 } }),
            fault({ id: 'half', path: '/cart', abort: { status: 503, percent: 50 } }),
            fault({
              id: 'old',
              path: '/old',
              abort: { status: 500, percent: 100 },
              expiresAt: new Date(0).toISOString(),
            }),
          ],
        }),
      ),
    );
    try {
      const aborted = await send(`${gateway.url}/checkout/pay`);
      assert.equal(aborted.status, 418);
      assert.equal(aborted.json().code, 'fault-injected');
      assert.equal((await send(`${gateway.url}/checkoutx`)).status, 200);
      assert.equal((await send(`${gateway.url}/old`)).status, 200, 'an expired fault is ignored');
      let failed = 0;
      for (let i = 0; i < 400; i++) if ((await send(`${gateway.url}/cart`)).status === 503) failed++;
      assert.ok(failed > 120 && failed < 280, `${failed} of 400 aborted`);
      assert.ok(upstream.seen.every((r) => !r.url.startsWith('/checkout/')));
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });

  it('delays requests (here past the route timeout, so they never reach the service)', async () => {
    const upstream = await startUpstream('u');
    const gateway = await gatewayWith(
      staticSource(
        snapshotOf({
          routes: [
            { service: 's', path: '/slow', timeoutMs: 300 },
            { service: 's', path: '/', timeoutMs: 5000 },
          ],
          services: { s: { endpoints: [upstream] } },
          faults: [
            fault({ id: 'stall', path: '/slow', delay: { ms: 600_000, percent: 100 } }),
            fault({ id: 'lag', path: '/lag', delay: { ms: 20, percent: 100 } }),
          ],
        }),
      ),
    );
    try {
      const stalled = await send(`${gateway.url}/slow`);
      assert.equal(stalled.status, 504);
      assert.equal(upstream.seen.length, 0);
      assert.equal((await send(`${gateway.url}/lag`)).status, 200, 'a short delay, then forwarded');
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });

  it('stops applying a fault at its expiry without a new snapshot', async () => {
    const upstream = await startUpstream('u');
    const gateway = await gatewayWith(
      staticSource(
        snapshotOf({
          routes: [{ service: 's' }],
          services: { s: { endpoints: [upstream] } },
          faults: [
            fault({
              id: 'brief',
              abort: { status: 500, percent: 100 },
              expiresAt: new Date(Date.now() + 1000).toISOString(),
            }),
          ],
        }),
      ),
    );
    try {
      assert.equal((await send(`${gateway.url}/`)).status, 500);
      await until('the fault to expire', async () =>
        (await send(`${gateway.url}/`)).status === 200 ? true : undefined,
      );
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});

describe('load shedding', () => {
  it('sheds lower tiers first as requests in flight rise, critical last', async () => {
    const slowLow = holding();
    const slowCrit = holding();
    const names = ['low', 'medium', 'high', 'critical'] as const;
    const fast = await Promise.all(names.map((n) => startUpstream(n)));
    const lowHold = await startUpstream('low-hold', slowLow.handler);
    const critHold = await startUpstream('crit-hold', slowCrit.handler);
    const services: Record<string, { tier: (typeof names)[number]; endpoints: TestUpstream[] }> = {
      'low-hold': { tier: 'low', endpoints: [lowHold] },
      'crit-hold': { tier: 'critical', endpoints: [critHold] },
    };
    names.forEach((n, i) => (services[n] = { tier: n, endpoints: [fast[i]!] }));
    const gateway = await gatewayWith(
      staticSource(
        snapshotOf({
          routes: Object.keys(services).map((s) => ({ service: s, path: `/${s}` })),
          services,
          shedding: { maxInFlight: 10, maxLatencyMs: 60_000 },
        }),
      ),
      { adminPort: 0 },
    );
    const agent = new Agent({ connections: 20 });
    const probe = async () => {
      const out: Record<string, number> = {};
      for (const n of names) out[n] = (await send(`${gateway.url}/${n}`, { dispatcher: agent })).status;
      return out;
    };
    try {
      assert.deepEqual(await probe(), { low: 200, medium: 200, high: 200, critical: 200 });
      // 7 in flight: low's share (70% of 10) is used up.
      const held = Array.from({ length: 7 }, () => send(`${gateway.url}/low-hold`, { dispatcher: agent }));
      await until('7 held', () => (slowLow.held() === 7 ? true : undefined));
      assert.deepEqual(await probe(), { low: 503, medium: 200, high: 200, critical: 200 });
      const shed = await send(`${gateway.url}/low`, { dispatcher: agent });
      assert.equal(shed.json().code, 'overloaded');
      assert.ok(Number(shed.headers['retry-after']) >= 1);
      // 9 in flight: medium (80%) and high (90%) go too; critical keeps the last of it.
      held.push(...Array.from({ length: 2 }, () => send(`${gateway.url}/crit-hold`, { dispatcher: agent })));
      await until('9 held', () => (slowCrit.held() === 2 ? true : undefined));
      assert.deepEqual(await probe(), { low: 503, medium: 503, high: 503, critical: 200 });
      held.push(send(`${gateway.url}/crit-hold`, { dispatcher: agent }));
      await until('10 held', () => (slowCrit.held() === 3 ? true : undefined));
      assert.deepEqual(await probe(), { low: 503, medium: 503, high: 503, critical: 503 });
      slowLow.release();
      slowCrit.release();
      await Promise.all(held);
      assert.deepEqual(await probe(), { low: 200, medium: 200, high: 200, critical: 200 });
      const metrics = (await send(`${gateway.adminUrl}/metrics`)).text;
      assert.match(metrics, /baton_gateway_shed_total\{service="low",tier="low"\} 4/);
    } finally {
      await agent.close();
      await gateway.close();
      await Promise.all([...fast, lowHold, critHold].map((u) => u.close()));
    }
  });
});
