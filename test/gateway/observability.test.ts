// Observability over real sockets: W3C traceparent (continued or started, the gateway's
// span as the upstream's parent), x-request-id, forwarding headers, one access-log line per
// request without credentials, and Prometheus metrics on the admin port.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { staticSource } from '../../src/engines/gateway/gateway.ts';
import type { GatewayHandle } from '../../src/engines/gateway/gateway.ts';
import type { TestUpstream } from './support.ts';
import { capturingLogger, gatewayWith, send, snapshotOf, startUpstream, until } from './support.ts';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

describe('gateway observability', () => {
  let upstream: TestUpstream;
  let gateway: GatewayHandle;
  const { logger, lines } = capturingLogger();
  const requestLines = () => lines.filter((l) => l.msg === 'request');

  before(async () => {
    upstream = await startUpstream('u');
    gateway = await gatewayWith(
      staticSource(
        snapshotOf({
          routes: [{ service: 'shop', path: '/shop', stripPrefix: true }],
          services: { shop: { endpoints: [upstream] } },
        }),
      ),
      { logger, adminPort: 0 },
    );
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  const lastSeen = () => upstream.seen[upstream.seen.length - 1]!;
  const logFor = (requestId: string) =>
    until(`the access log line of ${requestId}`, () => requestLines().find((l) => l.reqId === requestId));

  it('starts a trace when the request has none, with the gateway span as the upstream parent', async () => {
    const r = await send(`${gateway.url}/shop/cart`);
    const sent = TRACEPARENT.exec(String(lastSeen().headers.traceparent));
    assert.ok(sent, 'the upstream got a valid traceparent');
    const line = await logFor(String(r.headers['x-request-id']));
    assert.equal(line.traceId, sent[1]);
    assert.equal(line.spanId, sent[2]);
    assert.equal(line.parentSpanId, undefined);
  });

  it("continues the caller's trace, replacing only the parent id", async () => {
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const r = await send(`${gateway.url}/shop/cart`, {
      headers: { traceparent: incoming, tracestate: 'vendor=1' },
    });
    const sent = TRACEPARENT.exec(String(lastSeen().headers.traceparent))!;
    assert.equal(sent[1], '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.notEqual(sent[2], '00f067aa0ba902b7');
    assert.equal(sent[3], '01');
    assert.equal(lastSeen().headers.tracestate, 'vendor=1');
    const line = await logFor(String(r.headers['x-request-id']));
    assert.equal(line.parentSpanId, '00f067aa0ba902b7');
    assert.equal(line.spanId, sent[2]);
  });

  it('starts a new trace when the incoming traceparent is invalid', async () => {
    await send(`${gateway.url}/shop/`, {
      headers: { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' },
    });
    const sent = TRACEPARENT.exec(String(lastSeen().headers.traceparent))!;
    assert.notEqual(sent[1], '00000000000000000000000000000000');
  });

  it('keeps an incoming x-request-id and creates one when absent, on both sides', async () => {
    const kept = await send(`${gateway.url}/shop/`, { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(kept.headers['x-request-id'], 'abc-123');
    assert.equal(lastSeen().headers['x-request-id'], 'abc-123');
    const created = await send(`${gateway.url}/shop/`);
    assert.match(String(created.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(lastSeen().headers['x-request-id'], created.headers['x-request-id']);
  });

  it('sets X-Forwarded-For/-Proto/-Host and Forwarded, appending to what came in', async () => {
    await send(`${gateway.url}/shop/`, {
      headers: {
        host: 'shop.example.com',
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-proto': 'https',
        forwarded: 'for=203.0.113.9',
      },
    });
    const h = lastSeen().headers;
    assert.equal(h['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http', 'the gateway says how it was reached');
    assert.equal(h['x-forwarded-host'], 'shop.example.com');
    assert.equal(h.forwarded, 'for=203.0.113.9, for=127.0.0.1;host=shop.example.com;proto=http');
    assert.equal(h.host, 'shop.example.com', 'the original Host goes upstream');
  });

  it('writes one access-log line per request, with no header values in it', async () => {
    const r = await send(`${gateway.url}/shop/orders?card=4111`, {
      headers: { authorization: 'Bearer tok-s3cr3t', cookie: 'session=c00kie-v4lue' },
    });
    const id = String(r.headers['x-request-id']);
    const line = await logFor(id);
    assert.equal(requestLines().filter((l) => l.reqId === id).length, 1);
    assert.deepEqual(
      {
        method: line.method,
        path: line.path,
        route: line.route,
        service: line.service,
        instance: line.instance,
        status: line.status,
        outcome: line.outcome,
        attempts: line.attempts,
        client: line.client,
      },
      {
        method: 'GET',
        path: '/shop/orders',
        route: '/shop',
        service: 'shop',
        instance: 'u',
        status: 200,
        outcome: 'ok',
        attempts: 1,
        client: '127.0.0.1',
      },
    );
    assert.equal(typeof line.durationMs, 'number');
    const text = JSON.stringify(line);
    for (const secret of ['tok-s3cr3t', 'c00kie-v4lue', '4111']) assert.ok(!text.includes(secret), secret);
  });

  it('exposes Prometheus metrics on the admin port, per route and service', async () => {
    await send(`${gateway.url}/shop/x`);
    await send(`${gateway.url}/nowhere`);
    const text = (await send(`${gateway.adminUrl}/metrics`)).text;
    for (const name of [
      'baton_gateway_requests_total',
      'baton_gateway_errors_total',
      'baton_gateway_request_duration_seconds',
      'baton_gateway_retries_total',
      'baton_gateway_ejections_total',
      'baton_gateway_rate_limited_total',
      'baton_gateway_shed_total',
      'baton_gateway_in_flight',
      'baton_gateway_snapshot_sequence',
    ]) {
      assert.match(text, new RegExp(`# TYPE ${name} `), name);
    }
    assert.match(text, /baton_gateway_requests_total\{route="\/shop",service="shop",code="2xx"\} \d+/);
    assert.match(text, /baton_gateway_request_duration_seconds_count\{route="\/shop",service="shop"\} \d+/);
  });
});
