// One failing endpoint must not take its service down (issue 13, item 5). Before, every
// attempt of every route counted toward one breaker and one outlier history per service,
// and plain 500s were retried: a single endpoint answering 500 (a bug, or one client's bad
// input) opened the circuit for the whole service within a second. Now breakers and
// ejections are per route, a plain 500 is not retried unless the route opts in, and a 4xx
// never counts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { staticSource } from '../../src/engines/gateway/gateway.ts';
import type { UpstreamHandler } from './support.ts';
import { gatewayWith, send, snapshotOf, startUpstream } from './support.ts';

/** Sum of a metric's samples whose line starts with `prefix` (labels included). */
function metric(text: string, prefix: string): number {
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith(prefix)) total += Number(line.split(' ').pop());
  return total;
}

const app: UpstreamHandler = (req, res) => {
  if (req.url?.startsWith('/broken')) return void res.writeHead(500).end('bug');
  // A caller's mistake: many 4xx must never count against the route either.
  if (req.url?.startsWith('/orders/unknown')) return void res.writeHead(404).end('no such order');
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
};

describe('route isolation', () => {
  it('under load, one route answering 500 to everything opens only its own circuit', async () => {
    const a = await startUpstream('a', app);
    const b = await startUpstream('b', app);
    // The default policies (5 failures in a row eject; 50% errors over 20 requests open).
    const gateway = await gatewayWith(
      staticSource(
        snapshotOf({
          routes: [
            { service: 's', path: '/broken' },
            { service: 's', path: '/catalog' },
            { service: 's', path: '/orders' },
          ],
          services: { s: { endpoints: [a, b] } },
        }),
      ),
      { adminPort: 0 },
    );
    try {
      const clients = 8;
      const rounds = 60;
      const byPath = new Map<string, number[]>();
      const client = async (c: number) => {
        for (let i = 0; i < rounds; i++) {
          // Half of all traffic hits the broken route; the rest is spread over the healthy ones.
          const path = i % 2 === 0 ? `/broken/${c}` : i % 4 === 1 ? `/catalog/${i}` : `/orders/unknown-${i}`;
          const status = (await send(`${gateway.url}${path}`)).status;
          const route = path.split('/')[1]!;
          byPath.set(route, [...(byPath.get(route) ?? []), status]);
        }
      };
      await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));

      assert.deepEqual(new Set(byPath.get('catalog')), new Set([200]), 'the healthy route always answered');
      assert.deepEqual(
        new Set(byPath.get('orders')),
        new Set([404]),
        "the callers' 404s went through as they were",
      );
      const text = await (await send(`${gateway.adminUrl}/metrics`)).text;
      for (const route of ['/catalog', '/orders']) {
        assert.equal(
          metric(text, `baton_gateway_errors_total{route="${route}",service="s",reason="circuit-open"}`),
          0,
        );
        assert.equal(
          metric(text, `baton_gateway_ejections_total{route="${route}"`),
          0,
          `${route}: no ejection`,
        );
      }
      // The broken route's own circuit did open: its failures were counted, on it alone.
      const broken = byPath.get('broken')!;
      assert.ok(broken.includes(503), 'the broken route was cut off by its own breaker');
      assert.ok(
        metric(text, 'baton_gateway_errors_total{route="/broken",service="s",reason="circuit-open"}') > 0,
      );
      assert.equal(metric(text, 'baton_gateway_retries_total'), 0, 'a plain 500 is not retried');
      const reached = [...a.seen, ...b.seen].filter((r) => r.url.startsWith('/broken')).length;
      assert.ok(reached < broken.length, 'the open circuit kept requests off the instances');
    } finally {
      await gateway.close();
      await a.close();
      await b.close();
    }
  });
});
