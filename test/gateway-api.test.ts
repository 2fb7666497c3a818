// The control plane's gateway side over real HTTP: the snapshot gateways follow, its watch,
// traffic splits and fault injections (as events in the audit log).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { FaultInjection, GatewaySnapshot } from '../src/domain/gateway/snapshot.ts';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { until } from './gateway/support.ts';
import { authedFetch } from './support/api-token.ts';

const MANIFEST = `
name: mini
services:
  api:
    version: 2.1.0
    tier: critical
    run: { command: node, args: [api.js] }
    instances: 2
    health: { http: { path: /healthz }, interval: 1s }
    routes:
      - path: /api
        stripPrefix: true
        timeout: 2s
        rateLimit: { requestsPerSecond: 50, key: ip }
    traffic:
      loadBalancing: least-request
      retries: { attempts: 1 }
  batch:
    version: 1.0.0
    tier: low
    run: { command: node, args: [batch.js] }
    routes: [{ path: /batch, methods: [POST] }]
    dependsOn: { pricing: ^1.0.0 }
  pricing:
    version: 1.2.0
    tier: low
    run: { command: node, args: [pricing.js] }
  ledger:
    version: 1.0.0
    tier: low
    run: { command: node, args: [ledger.js] }
`;

describe('gateway side of the control plane', () => {
  let plane: ControlPlane;
  let dir: string;
  const api = (path: string, init: RequestInit = {}) =>
    authedFetch(plane.token)(plane.url + path, {
      ...init,
      headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-gateway-api-'));
    plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir: dir,
      runtime: 'simulated',
      stopInstancesOnClose: true,
      logger: pino({ level: 'silent' }),
    });
    const applied = await api('/v1/apply', { method: 'POST', body: JSON.stringify({ manifest: MANIFEST }) });
    assert.equal(applied.status, 201);
  });
  after(async () => {
    await plane.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves a snapshot with resolved routes, policies and the healthy endpoints', async () => {
    const snapshot = await until(
      'both api instances healthy',
      async () => {
        const s = (await (await api('/v1/gateway/snapshot')).json()) as GatewaySnapshot;
        return s.services['api']?.endpoints.length === 2 ? s : undefined;
      },
      15_000,
    );
    assert.equal(snapshot.revision, 1);
    const route = snapshot.routes.find((r) => r.service === 'api')!;
    assert.equal(route.stripPrefix, true);
    assert.equal(route.timeoutMs, 2000);
    assert.deepEqual(route.rateLimit, { requestsPerSecond: 50, burst: 50, key: 'ip' });
    assert.deepEqual(snapshot.routes.find((r) => r.service === 'batch')?.methods, ['POST']);
    const policy = snapshot.services['api']!.policy;
    assert.equal(policy.loadBalancing.kind, 'least-request');
    assert.equal(policy.retries.attempts, 1);
    assert.ok(policy.outlierDetection.consecutiveFailures > 0, 'defaults filled in');
    assert.equal(snapshot.services['batch']!.tier, 'low');
    for (const endpoint of snapshot.services['api']!.endpoints) {
      assert.equal(endpoint.version, '2.1.0');
      assert.ok(endpoint.port > 0 && endpoint.instanceId.startsWith('api-'));
    }
  });

  it('streams a new snapshot on every change, and records splits as events', async () => {
    const abort = new AbortController();
    const response = await authedFetch(plane.token)(plane.url + '/v1/gateway/watch', {
      signal: abort.signal,
    });
    assert.equal(response.headers.get('content-type')?.split(';')[0], 'text/event-stream');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    const nextSnapshot = async (): Promise<GatewaySnapshot> => {
      for (;;) {
        const end = buffered.indexOf('\n\n');
        if (end >= 0) {
          const message = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = message.split('\n').find((l) => l.startsWith('data: '));
          if (message.includes('event: snapshot') && data)
            return JSON.parse(data.slice(6)) as GatewaySnapshot;
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('watch ended');
        buffered += value;
      }
    };
    const first = await nextSnapshot();
    assert.equal(first.services['api']?.split, undefined);

    const set = await api('/v1/services/api/traffic', {
      method: 'PUT',
      body: JSON.stringify({ weights: { '2.1.0': 90, '2.2.0': 10 } }),
    });
    assert.equal(set.status, 200);
    let next = await nextSnapshot();
    while (next.services['api']?.split === undefined) next = await nextSnapshot();
    assert.ok(next.sequence > first.sequence);
    assert.deepEqual(next.services['api']!.split!.weights, { '2.1.0': 90, '2.2.0': 10 });
    assert.equal(next.services['api']!.split!.setBy, 'admin');
    abort.abort();

    const events = (await (await api('/v1/events?kind=traffic.split-set')).json()) as {
      events: { kind: string; actor: string; service: string }[];
    };
    assert.ok(events.events.some((e) => e.actor === 'admin' && e.service === 'api'));

    assert.equal((await api('/v1/services/api/traffic', { method: 'DELETE' })).status, 204);
    const cleared = (await (await api('/v1/services/api/traffic')).json()) as { split: unknown };
    assert.equal(cleared.split, null);
  });

  it('refuses splits that do not add up, and services that do not exist', async () => {
    const bad = await api('/v1/services/api/traffic', {
      method: 'PUT',
      body: JSON.stringify({ weights: { '2.1.0': 90, '2.2.0': 20 } }),
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { detail: string }).detail, /add up to 110/);
    const notVersion = await api('/v1/services/api/traffic', {
      method: 'PUT',
      body: JSON.stringify({ weights: { latest: 100 } }),
    });
    assert.equal(notVersion.status, 400);
    const unknown = await api('/v1/services/nope/traffic', {
      method: 'PUT',
      body: JSON.stringify({ weights: { '1.0.0': 100 } }),
    });
    assert.equal(unknown.status, 404);
  });

  it('injects faults that show in the snapshot, end on request and expire by themselves', async () => {
    const created = await api('/v1/faults', {
      method: 'POST',
      body: JSON.stringify({
        service: 'api',
        path: '/api/slow',
        delay: { ms: 300, percent: 50 },
        duration: '10m',
      }),
    });
    assert.equal(created.status, 201);
    const fault = (await created.json()) as FaultInjection;
    const snapshot = (await (await api('/v1/gateway/snapshot')).json()) as GatewaySnapshot;
    assert.deepEqual(
      snapshot.faults.map((f) => f.id),
      [fault.id],
    );
    assert.equal((await api(`/v1/faults/${fault.id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await api(`/v1/faults/${fault.id}`, { method: 'DELETE' })).status, 404);

    const brief = (await (
      await api('/v1/faults', {
        method: 'POST',
        body: JSON.stringify({ service: 'batch', abort: { status: 503, percent: 100 }, duration: '300ms' }),
      })
    ).json()) as FaultInjection;
    await until(
      'the brief fault to expire',
      async () => {
        const { faults } = (await (await api('/v1/faults')).json()) as { faults: FaultInjection[] };
        return faults.some((f) => f.id === brief.id) ? undefined : true;
      },
      15_000,
    );

    const empty = await api('/v1/faults', { method: 'POST', body: JSON.stringify({ service: 'api' }) });
    assert.equal(empty.status, 400);
    const tooLong = await api('/v1/faults', {
      method: 'POST',
      body: JSON.stringify({ service: 'api', abort: { status: 500, percent: 1 }, duration: '48h' }),
    });
    assert.equal(tooLong.status, 400);
  });

  it('refuses a split or fault on a service no route and no consumer reaches, and gives east-west listeners for the rest', async () => {
    for (const [path, body] of [
      ['/v1/faults', { service: 'ledger', abort: { status: 503, percent: 10 } }],
      ['/v1/faults', { service: 'ledger', delay: { ms: 2000, percent: 100 } }],
    ] as const) {
      const refused = await api(path, { method: 'POST', body: JSON.stringify(body) });
      assert.equal(refused.status, 409);
      const problem = (await refused.json()) as { code: string; detail: string; hint: string };
      assert.equal(problem.code, 'service-unreachable');
      assert.match(problem.detail, /no gateway route leads to it and no service declares it in dependsOn/);
    }
    const split = await api('/v1/services/ledger/traffic', {
      method: 'PUT',
      body: JSON.stringify({ weights: { '1.0.0': 100 } }),
    });
    assert.equal(split.status, 409);
    // pricing has no route, but batch calls it through the data plane: a fault there acts.
    const reachable = await api('/v1/faults', {
      method: 'POST',
      body: JSON.stringify({ service: 'pricing', delay: { ms: 2000, percent: 100 }, duration: '1m' }),
    });
    assert.equal(reachable.status, 201);
    const snapshot = await until('east-west listeners in the snapshot', async () => {
      const s = (await (await api('/v1/gateway/snapshot')).json()) as GatewaySnapshot;
      return (s.eastWest?.listeners.length ?? 0) > 0 ? s : undefined;
    });
    assert.deepEqual(
      snapshot.eastWest?.listeners
        .filter((l) => l.callee !== undefined)
        .map((l) => [l.caller, l.callee, l.range]),
      [['batch', 'pricing', '^1.0.0']],
    );
    assert.equal(snapshot.eastWest?.mode, 'enforce');
  });
});
