import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { GatewayRoute } from './snapshot.ts';
import type { RouteRequest } from './route-table.ts';
import { compileRouteTable, hostOf, normalizePath, routePrefix, upstreamPath } from './route-table.ts';

interface Entry {
  readonly route: GatewayRoute;
  readonly id: string;
}

function entries(...routes: (Partial<GatewayRoute> & { id: string })[]): Entry[] {
  return routes.map(({ id, ...route }) => ({
    id,
    route: { service: route.service ?? 'svc', path: route.path ?? '/', stripPrefix: false, ...route },
  }));
}

function request(
  path: string,
  options: { host?: string; method?: string; headers?: Record<string, string> } = {},
): RouteRequest {
  const headers = options.headers ?? {};
  return {
    host: options.host ?? '',
    path,
    method: options.method ?? 'GET',
    header: (name) => headers[name],
  };
}

describe('compileRouteTable', () => {
  it('matches path prefixes on segment boundaries only', () => {
    const table = compileRouteTable(entries({ id: 'api', path: '/api' }));
    assert.equal(table.match(request('/api'))?.id, 'api');
    assert.equal(table.match(request('/api/'))?.id, 'api');
    assert.equal(table.match(request('/api/x/y'))?.id, 'api');
    assert.equal(table.match(request('/apix')), undefined);
    assert.equal(table.match(request('/')), undefined);
  });

  it('treats a trailing slash on the route as the same prefix', () => {
    const table = compileRouteTable(entries({ id: 'api', path: '/api/' }));
    assert.equal(table.match(request('/api'))?.id, 'api');
    assert.equal(table.match(request('/api/v1'))?.id, 'api');
  });

  it('prefers the longer prefix, and the root catches everything else', () => {
    const table = compileRouteTable(
      entries({ id: 'root', path: '/' }, { id: 'api', path: '/api' }, { id: 'v2', path: '/api/v2' }),
    );
    assert.equal(table.match(request('/api/v2/orders'))?.id, 'v2');
    assert.equal(table.match(request('/api/v1/orders'))?.id, 'api');
    assert.equal(table.match(request('/shop'))?.id, 'root');
  });

  it('prefers a host match over a longer path without host', () => {
    const table = compileRouteTable(
      entries({ id: 'deep', path: '/api/v2' }, { id: 'host', path: '/', host: 'shop.example.com' }),
    );
    assert.equal(table.match(request('/api/v2', { host: 'shop.example.com' }))?.id, 'host');
    assert.equal(table.match(request('/api/v2', { host: 'other.example.com' }))?.id, 'deep');
    // A host route whose path does not match falls back to routes without host.
    const narrow = compileRouteTable(
      entries({ id: 'any', path: '/' }, { id: 'host', path: '/admin', host: 'shop.example.com' }),
    );
    assert.equal(narrow.match(request('/cart', { host: 'shop.example.com' }))?.id, 'any');
  });

  it('prefers a method list, then more header conditions', () => {
    const table = compileRouteTable(
      entries(
        { id: 'plain', path: '/api' },
        { id: 'post', path: '/api', methods: ['POST'] },
        { id: 'tenant', path: '/api', headers: { 'x-tenant': 'acme' } },
        { id: 'post-tenant', path: '/api', methods: ['POST'], headers: { 'x-tenant': 'acme' } },
      ),
    );
    assert.equal(table.match(request('/api'))?.id, 'plain');
    assert.equal(table.match(request('/api', { method: 'POST' }))?.id, 'post');
    assert.equal(table.match(request('/api', { headers: { 'x-tenant': 'acme' } }))?.id, 'tenant');
    assert.equal(
      table.match(request('/api', { method: 'POST', headers: { 'x-tenant': 'acme' } }))?.id,
      'post-tenant',
    );
    assert.equal(table.match(request('/api', { headers: { 'x-tenant': 'other' } }))?.id, 'plain');
  });

  it('returns nothing when the only route for a path excludes the method', () => {
    const table = compileRouteTable(entries({ id: 'get', path: '/api', methods: ['GET'] }));
    assert.equal(table.match(request('/api', { method: 'DELETE' })), undefined);
  });

  it('breaks ties by service name, then manifest order, whatever order routes arrive in', () => {
    const routes = entries(
      { id: 'b1', service: 'b', path: '/x' },
      { id: 'a1', service: 'a', path: '/x' },
      { id: 'a2', service: 'a', path: '/x' },
    );
    assert.equal(compileRouteTable(routes).match(request('/x'))?.id, 'a1');
    assert.equal(compileRouteTable([routes[2]!, routes[0]!, routes[1]!]).match(request('/x'))?.id, 'a2');
  });

  it('agrees with a brute-force reference on random tables and requests', () => {
    const segment = fc.constantFrom('a', 'b', 'ab');
    const path = fc.array(segment, { maxLength: 3 }).map((s) => `/${s.join('/')}`);
    const route = fc.record({
      service: fc.constantFrom('s1', 's2', 's3'),
      path,
      host: fc.option(fc.constantFrom('h1', 'h2'), { nil: undefined }),
      methods: fc.option(fc.subarray(['GET', 'POST'], { minLength: 1 }), { nil: undefined }),
      headers: fc.option(
        fc.dictionary(fc.constantFrom('x', 'y'), fc.constantFrom('1', '2'), { maxKeys: 2 }),
        {
          nil: undefined,
        },
      ),
    });
    const req = fc.record({
      path,
      host: fc.constantFrom('', 'h1', 'h2'),
      method: fc.constantFrom('GET', 'POST'),
      headers: fc.dictionary(fc.constantFrom('x', 'y'), fc.constantFrom('1', '2')),
    });
    fc.assert(
      fc.property(
        fc.array(route, { maxLength: 12 }),
        fc.array(req, { maxLength: 10 }),
        (routes, requests) => {
          const list = routes.map((r, i) => ({ id: String(i), route: { ...r, stripPrefix: false } }));
          const table = compileRouteTable(list);
          for (const r of requests) {
            const got = table.match(request(r.path, r))?.id;
            assert.equal(got, reference(list, r)?.id);
          }
        },
      ),
    );
  });
});

/** Sort every route by the documented specificity and take the first that matches. */
function reference(
  list: Entry[],
  r: { path: string; host: string; method: string; headers: Record<string, string> },
): Entry | undefined {
  const matches = (e: Entry) => {
    const { route } = e;
    if (route.host !== undefined && route.host !== r.host) return false;
    const prefix = routePrefix(route.path);
    const onBoundary = prefix === '/' || r.path === prefix || r.path.startsWith(`${prefix}/`);
    if (!onBoundary) return false;
    if (route.methods !== undefined && !route.methods.includes(r.method)) return false;
    return Object.entries(route.headers ?? {}).every(([k, v]) => r.headers[k] === v);
  };
  const key = (e: Entry) => [
    e.route.host !== undefined ? 0 : 1,
    -routePrefix(e.route.path).length,
    e.route.methods !== undefined ? 0 : 1,
    -Object.keys(e.route.headers ?? {}).length,
  ];
  const sorted = [...list].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! - kb[i]!;
    if (a.route.service !== b.route.service) return a.route.service < b.route.service ? -1 : 1;
    return Number(a.id) - Number(b.id);
  });
  return sorted.find(matches);
}

describe('upstreamPath', () => {
  it('strips the prefix and keeps a leading slash and the query', () => {
    assert.equal(upstreamPath('/api/orders?x=1', '/api', true), '/orders?x=1');
    assert.equal(upstreamPath('/api', '/api', true), '/');
    assert.equal(upstreamPath('/api?x=1', '/api', true), '/?x=1');
    assert.equal(upstreamPath('/api/orders', '/api', false), '/api/orders');
    assert.equal(upstreamPath('/orders', '/', true), '/orders');
  });
});

describe('hostOf', () => {
  it('lower-cases and drops the port', () => {
    assert.equal(hostOf('Shop.Example.com:8080'), 'shop.example.com');
    assert.equal(hostOf('shop'), 'shop');
    assert.equal(hostOf('[::1]:8080'), '[::1]');
    assert.equal(hostOf(undefined), '');
  });
});

describe('normalizePath', () => {
  it('removes dot segments, encoded or not, and duplicate slashes', () => {
    assert.equal(normalizePath('/api/orders'), '/api/orders');
    assert.equal(normalizePath('/public/../admin'), '/admin');
    assert.equal(normalizePath('/public/%2e%2E/admin'), '/admin');
    assert.equal(normalizePath('/a/./b'), '/a/b');
    assert.equal(normalizePath('/a//b/'), '/a/b/');
    assert.equal(normalizePath('/a/b/..'), '/a/');
  });

  it('refuses a path that climbs above the root', () => {
    assert.equal(normalizePath('/../etc/passwd'), undefined);
    assert.equal(normalizePath('/a/../../b'), undefined);
  });
});
