// Routing over real sockets: prefixes (with stripping), hosts, methods, headers, the most
// specific route winning, the gateway's own 404 and 503 answers, snapshot changes applied
// while requests are in flight, and nothing but routes reachable on the traffic port.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { staticSource, updatableSource } from '../../src/engines/gateway/gateway.ts';
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

describe('gateway routing', () => {
  let api: TestUpstream;
  let admin: TestUpstream;
  let web: TestUpstream;
  let tenant: TestUpstream;
  let writes: TestUpstream;
  let host: TestUpstream;
  let gateway: GatewayHandle;

  before(async () => {
    const started = await Promise.all(
      ['api', 'admin', 'web', 'tenant', 'writes', 'host'].map((n) => startUpstream(n)),
    );
    [api, admin, web, tenant, writes, host] = started as [
      TestUpstream,
      TestUpstream,
      TestUpstream,
      TestUpstream,
      TestUpstream,
      TestUpstream,
    ];
    gateway = await gatewayWith(
      staticSource(
        snapshotOf({
          routes: [
            { service: 'web', path: '/' },
            { service: 'api', path: '/api', stripPrefix: true },
            { service: 'admin', path: '/api/admin' },
            { service: 'tenant', path: '/api', headers: { 'x-tenant': 'acme' } },
            { service: 'writes', path: '/api', methods: ['POST', 'PUT'] },
            { service: 'host', path: '/', host: 'shop.example.com' },
            { service: 'empty', path: '/empty' },
          ],
          services: {
            web: { endpoints: [web] },
            api: { endpoints: [api] },
            admin: { endpoints: [admin] },
            tenant: { endpoints: [tenant] },
            writes: { endpoints: [writes] },
            host: { endpoints: [host] },
            empty: { endpoints: [] },
          },
        }),
      ),
      { adminPort: 0 },
    );
  });
  after(async () => {
    await gateway.close();
    await Promise.all([api, admin, web, tenant, writes, host].map((u) => u.close()));
  });

  it('routes by path prefix on segment boundaries and strips the prefix when asked', async () => {
    const a = await send(`${gateway.url}/api/orders/7?expand=1`);
    assert.deepEqual(a.json(), { upstream: 'api', url: '/orders/7?expand=1' });
    assert.deepEqual((await send(`${gateway.url}/api`)).json(), { upstream: 'api', url: '/' });
    // `/apix` is not under `/api`: it falls to the root route, path untouched.
    assert.deepEqual((await send(`${gateway.url}/apix`)).json(), { upstream: 'web', url: '/apix' });
    assert.deepEqual((await send(`${gateway.url}/api/admin/users`)).json(), {
      upstream: 'admin',
      url: '/api/admin/users',
    });
  });

  it('routes by header and by method, the more specific route winning', async () => {
    const byHeader = await send(`${gateway.url}/api/x`, { headers: { 'X-Tenant': 'acme' } });
    assert.equal(byHeader.json().upstream, 'tenant');
    const byMethod = await send(`${gateway.url}/api/x`, { method: 'POST', body: '{}' });
    assert.equal(byMethod.json().upstream, 'writes');
    assert.equal((await send(`${gateway.url}/api/x`, { method: 'DELETE' })).json().upstream, 'api');
  });

  it('routes by host, which beats any path without host', async () => {
    const r = await send(`${gateway.url}/api/orders`, { headers: { host: 'Shop.Example.com:8080' } });
    assert.equal(r.json().upstream, 'host');
  });

  it('answers 404 problem+json when no route matches', async () => {
    const source = staticSource(
      snapshotOf({ routes: [{ service: 'api', path: '/api' }], services: { api: { endpoints: [api] } } }),
    );
    const narrow = await gatewayWith(source);
    try {
      const r = await send(`${narrow.url}/nothing/here`);
      assert.equal(r.status, 404);
      assert.equal(r.headers['content-type'], 'application/problem+json');
      const problem = r.json();
      assert.equal(problem.code, 'no-route');
      assert.equal(problem.status, 404);
      assert.match(String(problem.detail), /GET \/nothing\/here/);
      assert.equal(problem.requestId, r.headers['x-request-id']);
    } finally {
      await narrow.close();
    }
  });

  it('answers 503 with Retry-After when the service has no healthy instance', async () => {
    const r = await send(`${gateway.url}/empty/x`);
    assert.equal(r.status, 503);
    assert.equal(r.json().code, 'no-healthy-instance');
    assert.ok(Number(r.headers['retry-after']) > 0);
  });

  it('refuses a path that climbs out of its prefix instead of routing it', async () => {
    // Raw requests: a client library would resolve the dot segments itself.
    const port = Number(new URL(gateway.url).port);
    const get = (path: string) =>
      rawExchange(port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`).then(parseRaw);
    const climbing = await get('/../../etc/passwd');
    assert.equal(climbing.status, 400);
    assert.equal(JSON.parse(climbing.body).code, 'bad-request');
    const normalised = await get('/web/%2e%2e/api/admin/x');
    assert.deepEqual(JSON.parse(normalised.body), { upstream: 'admin', url: '/api/admin/x' });
  });

  it('never serves the gateway itself on the traffic port: /metrics there is a route like any other', async () => {
    const viaTraffic = await send(`${gateway.url}/metrics`);
    assert.equal(
      viaTraffic.json().upstream,
      'web',
      'forwarded to the root route, not answered by the gateway',
    );
    const viaAdmin = await send(`${gateway.adminUrl}/metrics`);
    assert.equal(viaAdmin.status, 200);
    assert.match(viaAdmin.text, /baton_gateway_requests_total/);
    assert.equal((await send(`${gateway.adminUrl}/healthz`)).status, 200);
  });
});

describe('gateway snapshot changes', () => {
  it('applies new routes and endpoints without a restart and without dropping requests in flight', async () => {
    const slow = holding();
    const v1 = await startUpstream('v1', slow.handler);
    const v2 = await startUpstream('v2');
    const source = updatableSource(
      snapshotOf({
        sequence: 1,
        routes: [{ service: 'svc', path: '/' }],
        services: { svc: { endpoints: [v1] } },
      }),
    );
    const gateway = await gatewayWith(source);
    try {
      const inFlight = Array.from({ length: 5 }, () => send(`${gateway.url}/work`));
      await until('five requests held by v1', () => (slow.held() === 5 ? true : undefined));
      // v1 leaves the snapshot and v2 arrives, with a new route, while v1 holds five requests.
      source.publish(
        snapshotOf({
          sequence: 2,
          routes: [
            { service: 'svc', path: '/' },
            { service: 'svc', path: '/new', stripPrefix: true },
          ],
          services: { svc: { endpoints: [v2] } },
        }),
      );
      assert.equal(gateway.sequence, 2);
      assert.equal((await send(`${gateway.url}/work`)).json().upstream, 'v2');
      assert.deepEqual((await send(`${gateway.url}/new/thing`)).json(), { upstream: 'v2', url: '/thing' });
      slow.release();
      const answers = await Promise.all(inFlight);
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 200, 200, 200],
      );
      // An older snapshot arriving late changes nothing.
      source.publish(snapshotOf({ sequence: 1, routes: [], services: {} }));
      assert.equal(gateway.sequence, 2);
      assert.equal((await send(`${gateway.url}/work`)).json().upstream, 'v2');
    } finally {
      await gateway.close();
      await v1.close();
      await v2.close();
    }
  });

  it('answers 503 not-ready before the first snapshot', async () => {
    const gateway = await gatewayWith(updatableSource());
    try {
      const r = await send(`${gateway.url}/`);
      assert.equal(r.status, 503);
      assert.equal(r.json().code, 'not-ready');
    } finally {
      await gateway.close();
    }
  });
});
