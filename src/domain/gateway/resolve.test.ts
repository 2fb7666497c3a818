import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeManifest } from '../manifest/model.ts';
import { ManifestSchema } from '../manifest/schema.ts';
import { DEFAULT_GATEWAY_SETTINGS, DEFAULT_TRAFFIC_POLICY, resolveGateway } from './resolve.ts';

function manifest(services: Record<string, Record<string, unknown>>, extra: Record<string, unknown> = {}) {
  const raw: Record<string, unknown> = {};
  for (const [name, fields] of Object.entries(services)) {
    raw[name] = { version: '1.0.0', tier: 'medium', run: { command: 'node' }, ...fields };
  }
  return normalizeManifest(ManifestSchema.parse({ name: 'shop', services: raw, ...extra }));
}

describe('resolveGateway', () => {
  it('gives a service without a traffic section every default', () => {
    const resolved = resolveGateway(manifest({ web: { tier: 'high' } }));
    assert.deepEqual(resolved.services, { web: { tier: 'high', policy: DEFAULT_TRAFFIC_POLICY } });
    assert.deepEqual(resolved.settings, DEFAULT_GATEWAY_SETTINGS);
    assert.deepEqual(resolved.routes, []);
    assert.deepEqual(DEFAULT_TRAFFIC_POLICY.outlierDetection, {
      consecutiveFailures: 5,
      ejectionTimeMs: 10_000,
      maxEjectedPercent: 50,
      panicThresholdPercent: 50,
    });
    assert.deepEqual(DEFAULT_GATEWAY_SETTINGS.shedding, { maxInFlight: 10_000, maxLatencyMs: 500 });
  });

  it('keeps what the manifest sets, converts durations and defaults the rest field by field', () => {
    const resolved = resolveGateway(
      manifest(
        {
          api: {
            traffic: {
              loadBalancing: { hash: { header: 'X-User' } },
              retries: { attempts: 4, backoff: '100ms', on: [500] },
              outlierDetection: { ejectionTime: '30s', panicThreshold: 0 },
              circuitBreaker: { window: '1m', errorRate: 25 },
              concurrency: { queue: 0 },
            },
          },
          cart: { traffic: { loadBalancing: { hash: { cookie: 'Session' } } } },
          lr: { traffic: { loadBalancing: 'least-request' } },
        },
        { gateway: { shedding: { maxLatency: '2s' } } },
      ),
    );
    assert.deepEqual(resolved.services.api!.policy, {
      loadBalancing: { kind: 'hash', header: 'x-user' },
      retries: { attempts: 4, budgetPercent: 20, backoffMs: 100, on: [500] },
      outlierDetection: {
        consecutiveFailures: 5,
        ejectionTimeMs: 30_000,
        maxEjectedPercent: 50,
        panicThresholdPercent: 0,
      },
      circuitBreaker: { errorRatePercent: 25, minRequests: 20, windowMs: 60_000, openForMs: 5_000 },
      concurrency: { limit: 1000, queue: 0 },
    });
    assert.deepEqual(resolved.services.cart!.policy.loadBalancing, { kind: 'hash', cookie: 'Session' });
    assert.deepEqual(resolved.services.lr!.policy.loadBalancing, { kind: 'least-request' });
    assert.deepEqual(resolved.settings.shedding, { maxInFlight: 10_000, maxLatencyMs: 2000 });
  });

  it('resolves routes: services in name order, header names lower-cased, burst defaulted', () => {
    const resolved = resolveGateway(
      manifest({
        web: { routes: [{ path: '/' }] },
        api: {
          routes: [
            {
              path: '/api',
              host: 'Shop.Example.com',
              methods: ['GET', 'POST'],
              headers: { 'X-Tenant': 'Acme' },
              stripPrefix: true,
              timeout: '2s',
              rateLimit: { requestsPerSecond: 2.5, key: { header: 'X-Api-Key' } },
            },
            {
              path: '/api/admin',
              retryOn: [500, 429],
              rateLimit: { requestsPerSecond: 10, burst: 3, key: 'ip' },
            },
          ],
        },
      }),
    );
    assert.deepEqual(resolved.routes, [
      {
        service: 'api',
        path: '/api',
        host: 'shop.example.com',
        methods: ['GET', 'POST'],
        headers: { 'x-tenant': 'Acme' },
        stripPrefix: true,
        timeoutMs: 2000,
        rateLimit: { requestsPerSecond: 2.5, burst: 3, key: { header: 'x-api-key' } },
      },
      {
        service: 'api',
        path: '/api/admin',
        stripPrefix: false,
        retryOn: [500, 429],
        rateLimit: { requestsPerSecond: 10, burst: 3, key: 'ip' },
      },
      { service: 'web', path: '/', stripPrefix: false },
    ]);
  });

  it('defaults the rate-limit key to one bucket for the whole route', () => {
    const resolved = resolveGateway(
      manifest({ web: { routes: [{ path: '/', rateLimit: { requestsPerSecond: 100 } }] } }),
    );
    assert.deepEqual(resolved.routes[0]!.rateLimit, { requestsPerSecond: 100, burst: 100, key: 'route' });
  });
});
