import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { FakeClock } from '../../adapters/clock/fake-clock.ts';
import { openSqliteSpanStore } from '../../adapters/span-store/sqlite-span-store.ts';
import { createTelemetry } from './index.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');

/** An OTLP/JSON request: web's server span at `atMs` and, when asked, its call to orders. */
function request(traceId: string, atMs: number, withCall = true): Uint8Array {
  const ns = (ms: number) => String(BigInt(ms) * 1_000_000n);
  const server = (service: string, spanId: string, parentSpanId: string | undefined, route: string) => ({
    resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
    scopeSpans: [
      {
        spans: [
          {
            traceId,
            spanId,
            ...(parentSpanId ? { parentSpanId } : {}),
            name: route,
            kind: 2,
            startTimeUnixNano: ns(atMs),
            endTimeUnixNano: ns(atMs + 20),
            attributes: [{ key: 'http.response.status_code', value: { intValue: 200 } }],
          },
        ],
      },
    ],
  });
  const client = {
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'web' } }] },
    scopeSpans: [
      {
        spans: [
          {
            traceId,
            spanId: 'cccccccccccccccc',
            parentSpanId: 'aaaaaaaaaaaaaaaa',
            name: 'POST orders',
            kind: 3,
            startTimeUnixNano: ns(atMs + 1),
            endTimeUnixNano: ns(atMs + 19),
          },
        ],
      },
    ],
  };
  const resourceSpans = [server('web', 'aaaaaaaaaaaaaaaa', undefined, 'POST /api/checkout')];
  if (withCall)
    resourceSpans.push(
      client as never,
      server('orders', 'bbbbbbbbbbbbbbbb', 'cccccccccccccccc', 'POST /orders'),
    );
  return new TextEncoder().encode(JSON.stringify({ resourceSpans }));
}

describe('createTelemetry', () => {
  it('stores, maps and measures what it ingests, and keeps the store within its age limit', async () => {
    const clock = new FakeClock(NOW);
    const telemetry = await createTelemetry({
      logger: pino({ level: 'silent' }),
      clock,
      engine: { latest: async () => undefined },
      spanStore: await openSqliteSpanStore({ path: ':memory:' }),
      retention: { maxAgeMs: 3_600_000 },
      retentionEveryMs: 60_000,
    });
    const old = '11111111111111111111111111111111';
    const fresh = '22222222222222222222222222222222';
    const ingest = (body: Uint8Array) =>
      telemetry.ingest({ body, contentType: 'application/json', contentEncoding: undefined });
    assert.deepEqual(await ingest(request(old, NOW - 2 * 3_600_000, false)), {
      encoding: 'json',
      received: 1,
      stored: 1,
    });
    assert.deepEqual(await ingest(request(fresh, NOW - 1_000)), { encoding: 'json', received: 3, stored: 3 });
    assert.deepEqual(await ingest(request(fresh, NOW - 1_000)), { encoding: 'json', received: 3, stored: 0 });

    const map = await telemetry.map();
    assert.deepEqual(
      map.edges.map((e) => [`${e.from}→${e.to}`, e.count]),
      [['web→orders', 1]],
      'a resent request counts once',
    );
    const red = telemetry.red('orders');
    assert.equal(red.services[0]?.routes[0]?.route, 'POST /orders');
    assert.match(await telemetry.metrics.metrics(), /baton_otlp_spans_received_total\{encoding="json"\} 4/);

    assert.equal((await telemetry.store.searchTraces({ limit: 10 })).length, 2);
    await clock.advance(60_000);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      (await telemetry.store.searchTraces({ limit: 10 })).map((t) => t.traceId),
      [fresh],
      'the old trace went at the next retention pass',
    );
    await telemetry.close();
    assert.equal(clock.pending, 0, 'every timer cancelled');
  });
});
