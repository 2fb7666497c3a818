// Resilience over real sockets: outlier ejection, retries (budget, shared deadline, never
// the same instance twice in a row), per-route timeouts, the bulkhead's queue, and the
// circuit breaker's open and half-open states.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { staticSource } from '../../src/engines/gateway/gateway.ts';
import type { Answer, SnapshotSketch, TestUpstream, UpstreamHandler } from './support.ts';
import { gatewayWith, holding, send, snapshotOf, startUpstream, tally, until } from './support.ts';

const fail500: UpstreamHandler = (_req, res) => void res.writeHead(500).end('broken');
const fail503: UpstreamHandler = (_req, res) => void res.writeHead(503).end('unavailable');

/** Policies that stay out of the way of the one under test. */
const QUIET = {
  outlierDetection: { consecutiveFailures: 1_000_000 },
  circuitBreaker: { minRequests: 1_000_000 },
};

async function withGateway(
  upstreams: TestUpstream[],
  sketch: SnapshotSketch,
  test: (url: string, metrics: () => Promise<string>) => Promise<void>,
) {
  const gateway = await gatewayWith(staticSource(snapshotOf(sketch)), { adminPort: 0 });
  try {
    await test(gateway.url, async () => (await send(`${gateway.adminUrl}/metrics`)).text);
  } finally {
    await gateway.close();
    await Promise.all(upstreams.map((u) => u.close()));
  }
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

const attemptOf = (r: { headers: Record<string, unknown> }) => Number(r.headers['x-baton-attempt'] ?? 1);

describe('outlier detection', () => {
  it('ejects an upstream after five 503s in a row and moves its traffic elsewhere', async () => {
    const bad = await startUpstream('bad', fail503);
    const good = await startUpstream('good');
    await withGateway(
      [bad, good],
      { routes: [{ service: 's' }], services: { s: { endpoints: [bad, good] } } },
      async (url, metrics) => {
        const answers: Answer[] = [];
        for (let i = 0; i < 40; i++) answers.push(await send(`${url}/`));
        // Every failure was retried on the good upstream, so the client saw none.
        assert.deepEqual(tally(answers), { good: 40 });
        assert.equal(bad.seen.length, 5, 'the bad upstream got exactly five requests, then none');
        const text = await metrics();
        assert.equal(metric(text, 'baton_gateway_ejections_total{route="/",service="s"}'), 1);
        assert.equal(metric(text, 'baton_gateway_retries_total{service="s"}'), 5);
      },
    );
  });

  it('without retries the client sees the five 500s, then only the healthy upstream', async () => {
    const bad = await startUpstream('bad', fail500);
    const good = await startUpstream('good');
    await withGateway(
      [bad, good],
      {
        routes: [{ service: 's' }],
        services: { s: { policy: { retries: { attempts: 0 } }, endpoints: [bad, good] } },
      },
      async (url) => {
        const statuses: number[] = [];
        for (let i = 0; i < 30; i++) statuses.push((await send(`${url}/`)).status);
        assert.equal(statuses.filter((s) => s === 500).length, 5);
        assert.deepEqual(statuses.slice(10), Array(20).fill(200));
      },
    );
  });
});

describe('retries', () => {
  it('retries a plain 500 only on a route that opts in with retryOn', async () => {
    const bad = await startUpstream('bad', fail500);
    const good = await startUpstream('good');
    await withGateway(
      [bad, good],
      {
        routes: [
          { service: 's', path: '/plain' },
          { service: 's', path: '/opted', retryOn: [500] },
        ],
        services: { s: { policy: QUIET, endpoints: [bad, good] } },
      },
      async (url) => {
        const plain: number[] = [];
        for (let i = 0; i < 6; i++) plain.push((await send(`${url}/plain`)).status);
        assert.deepEqual(plain.sort(), [200, 200, 200, 500, 500, 500], 'a 500 goes back to the client');
        for (let i = 0; i < 6; i++) assert.equal((await send(`${url}/opted`)).status, 200);
        assert.ok(good.seen.some((r) => r.url === '/opted' && attemptOf(r) === 2));
        assert.ok(good.seen.every((r) => r.url !== '/plain' || attemptOf(r) === 1));
      },
    );
  });

  it('never retries beyond the budget: 20% of requests plus 3 per second', async () => {
    const down = (_req: unknown, res: ServerResponse) => void res.writeHead(503).end('down');
    const a = await startUpstream('a', down);
    const b = await startUpstream('b', down);
    await withGateway(
      [a, b],
      { routes: [{ service: 's' }], services: { s: { policy: QUIET, endpoints: [a, b] } } },
      async (url, metrics) => {
        // Everything fails, so every request would retry twice without a budget.
        const requests = 200;
        for (let i = 0; i < requests; i++) {
          const r = await send(`${url}/`, { headers: { 'x-request-id': `r${i}` } });
          assert.equal(r.status, 503);
        }
        const seen = [...a.seen, ...b.seen];
        const retriesOf = new Map<string, number>();
        for (const r of seen) {
          const id = String(r.headers['x-request-id']);
          retriesOf.set(id, (retriesOf.get(id) ?? 0) + (attemptOf(r) > 1 ? 1 : 0));
        }
        // At every point, the retries so far stay within 20% of the requests so far plus the
        // 30 the window always allows (3 per second over 10 s).
        let retries = 0;
        for (let i = 0; i < requests; i++) {
          retries += retriesOf.get(`r${i}`) ?? 0;
          assert.ok(
            retries <= Math.floor(((i + 1) * 20) / 100) + 30,
            `${retries} retries after ${i + 1} requests`,
          );
        }
        assert.ok(retries >= 60, `the budget was not used (${retries} retries)`);
        assert.equal(seen.length, requests + retries);
        assert.equal(metric(await metrics(), 'baton_gateway_retries_total{service="s"}'), retries);
      },
    );
  });

  it('shares one deadline between all attempts', async () => {
    // Each attempt fails after 150 ms; with a 400 ms deadline no more than three attempts can
    // start, however many retries are allowed.
    const slowFail: UpstreamHandler = (_req, res) => void setTimeout(() => res.writeHead(503).end(), 150);
    const a = await startUpstream('a', slowFail);
    const b = await startUpstream('b', slowFail);
    await withGateway(
      [a, b],
      {
        routes: [{ service: 's', timeoutMs: 400 }],
        services: { s: { policy: { ...QUIET, retries: { attempts: 10, backoffMs: 1 } }, endpoints: [a, b] } },
      },
      async (url) => {
        const r = await send(`${url}/`);
        const attempts = a.seen.length + b.seen.length;
        assert.ok(attempts >= 2 && attempts <= 3, `${attempts} attempts`);
        assert.ok(r.status === 504 || r.status === 503, `status ${r.status}`);
        if (r.status === 504) assert.equal(r.json().code, 'upstream-timeout');
      },
    );
  });

  it('never retries on the instance that just failed when another exists', async () => {
    const bad = await startUpstream('bad', fail503);
    const others = await Promise.all(['o1', 'o2'].map((n) => startUpstream(n)));
    const all = [bad, ...others];
    await withGateway(
      all,
      {
        routes: [{ service: 's' }],
        services: {
          s: { policy: { ...QUIET, loadBalancing: { kind: 'hash', header: 'x-user' } }, endpoints: all },
        },
      },
      async (url) => {
        for (let u = 0; u < 60; u++) {
          const r = await send(`${url}/`, { headers: { 'x-user': `user-${u}`, 'x-request-id': `req-${u}` } });
          assert.equal(r.status, 200);
        }
        const retried = bad.seen.map((r) => r.headers['x-request-id']);
        assert.ok(retried.length > 5, 'some keys hash to the bad upstream');
        for (const id of retried) {
          const retry = others.flatMap((o) => o.seen).find((r) => r.headers['x-request-id'] === id);
          assert.equal(
            retry === undefined ? undefined : attemptOf(retry),
            2,
            `${String(id)} was retried elsewhere`,
          );
        }
        assert.ok(bad.seen.every((r) => attemptOf(r) === 1));
      },
    );
  });

  it('does not retry a non-idempotent request', async () => {
    const bad = await startUpstream('bad', fail503);
    const good = await startUpstream('good');
    await withGateway(
      [bad, good],
      { routes: [{ service: 's' }], services: { s: { policy: QUIET, endpoints: [bad, good] } } },
      async (url) => {
        const statuses = [];
        for (let i = 0; i < 4; i++)
          statuses.push((await send(`${url}/`, { method: 'POST', body: 'x' })).status);
        assert.deepEqual(statuses.sort(), [200, 200, 503, 503]);
        // A PUT with a small body is idempotent: buffered, retried elsewhere, body intact.
        for (let i = 0; i < 4; i++)
          assert.equal((await send(`${url}/`, { method: 'PUT', body: 'same' })).status, 200);
        assert.ok(good.seen.filter((r) => r.method === 'PUT').every((r) => r.body === 'same'));
      },
    );
  });
});

describe('timeouts and the bulkhead', () => {
  it('answers 504 at the route timeout and abandons the upstream request', async () => {
    const slow = holding();
    const upstream = await startUpstream('slow', slow.handler);
    await withGateway(
      [upstream],
      { routes: [{ service: 's', timeoutMs: 200 }], services: { s: { endpoints: [upstream] } } },
      async (url) => {
        const r = await send(`${url}/`);
        assert.equal(r.status, 504);
        assert.equal(r.json().code, 'upstream-timeout');
        const abandoned = slow.waiting[0]!;
        await until('the upstream request to be aborted', () =>
          abandoned.socket?.destroyed ? true : undefined,
        );
      },
    );
  });

  it('queues beyond the concurrency limit and refuses with 503 when the queue is full', async () => {
    const slow = holding();
    const upstream = await startUpstream('slow', slow.handler);
    await withGateway(
      [upstream],
      {
        routes: [{ service: 's' }],
        services: { s: { policy: { concurrency: { limit: 2, queue: 1 } }, endpoints: [upstream] } },
      },
      async (url) => {
        const answered: Answer[] = [];
        const pending = Array.from({ length: 4 }, () => send(`${url}/`).then((a) => void answered.push(a)));
        await until('two held, one refused', () =>
          slow.held() === 2 && answered.length === 1 ? true : undefined,
        );
        assert.equal(answered[0]!.status, 503);
        assert.equal(answered[0]!.json().code, 'service-busy');
        assert.ok(Number(answered[0]!.headers['retry-after']) >= 1);
        // Releasing the two lets the queued one through.
        slow.release();
        await until('the queued request at the upstream', () => (slow.held() === 1 ? true : undefined));
        slow.release();
        await Promise.all(pending);
        assert.deepEqual(answered.map((a) => a.status).sort(), [200, 200, 200, 503]);
        assert.equal(upstream.seen.length, 3);
      },
    );
  });
});

describe('requests with a body', () => {
  it('give back their bulkhead slot and are recorded once answered', async () => {
    const upstream = await startUpstream('echo', (_req, res, body) => {
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ length: body.length }));
    });
    await withGateway(
      [upstream],
      {
        routes: [{ service: 's' }],
        services: { s: { policy: { concurrency: { limit: 1, queue: 0 } }, endpoints: [upstream] } },
      },
      async (url, metrics) => {
        // One slot: a POST that never gave its slot back would make the next one 503.
        for (let i = 0; i < 5; i++) {
          const answer = await send(`${url}/orders`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ sku: 'tea', i }),
          });
          assert.equal(answer.status, 201, answer.text);
        }
        const text = await metrics();
        assert.match(text, /baton_gateway_requests_total\{[^}]*code="2xx"[^}]*\} 5/);
        assert.match(text, /baton_gateway_in_flight 0/);
      },
    );
  });
});

describe('circuit breaker', () => {
  it('opens on the error rate, half-opens after the open time with one probe, closes on its success', async () => {
    let mode: 'fail' | 'hold' | 'ok' = 'fail';
    const slow = holding();
    const upstream = await startUpstream('flaky', (req, res, body) => {
      if (mode === 'fail') return void res.writeHead(500).end();
      if (mode === 'hold') return slow.handler(req, res, body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"upstream":"flaky"}');
    });
    await withGateway(
      [upstream],
      {
        routes: [{ service: 's' }],
        services: {
          s: {
            policy: {
              retries: { attempts: 0 },
              outlierDetection: { consecutiveFailures: 1_000_000 },
              circuitBreaker: { errorRatePercent: 50, minRequests: 5, windowMs: 10_000, openForMs: 300 },
            },
            endpoints: [upstream],
          },
        },
      },
      async (url) => {
        for (let i = 0; i < 5; i++) assert.equal((await send(`${url}/`)).status, 500);
        const open = await send(`${url}/`);
        assert.equal(open.status, 503);
        assert.equal(open.json().code, 'circuit-open');
        assert.ok(Number(open.headers['retry-after']) >= 1);
        assert.equal(upstream.seen.length, 5, 'the open circuit sent nothing upstream');

        // Half-open: the first request through is the probe; hold it, and others are refused.
        mode = 'hold';
        // (Wrapped: an async function returning the promise itself would wait for it.)
        const { probe } = await until('the probe to reach the upstream', async () => {
          const r = send(`${url}/`);
          const held = until('held', () => (slow.held() > 0 ? 'held' : undefined), 1000).catch(
            () => undefined,
          );
          return (await Promise.race([r, held])) === 'held' ? { probe: r } : undefined;
        });
        const during = await send(`${url}/`);
        assert.equal(during.json().code, 'circuit-open', 'only one probe at a time');
        slow.release();
        assert.equal((await probe).status, 200);
        mode = 'ok';
        for (let i = 0; i < 5; i++) assert.equal((await send(`${url}/`)).status, 200);
      },
    );
  });

  it('opens again when the probe fails', async () => {
    const upstream = await startUpstream('down', fail500);
    await withGateway(
      [upstream],
      {
        routes: [{ service: 's' }],
        services: {
          s: {
            policy: {
              retries: { attempts: 0 },
              outlierDetection: { consecutiveFailures: 1_000_000 },
              circuitBreaker: { errorRatePercent: 50, minRequests: 3, windowMs: 10_000, openForMs: 200 },
            },
            endpoints: [upstream],
          },
        },
      },
      async (url) => {
        for (let i = 0; i < 3; i++) await send(`${url}/`);
        assert.equal((await send(`${url}/`)).json().code, 'circuit-open');
        await until('the probe (a 500 from the upstream)', async () =>
          (await send(`${url}/`)).status === 500 ? true : undefined,
        );
        assert.equal(upstream.seen.length, 4);
        assert.equal((await send(`${url}/`)).json().code, 'circuit-open', 'the failed probe reopened it');
      },
    );
  });
});
