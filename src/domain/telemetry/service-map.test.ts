import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceMap, type Declared } from './service-map.ts';

const OPTIONS = { windowMs: 60_000, observedForMs: 600_000, maxEdges: 100 };
const call = (caller: string, callee: string, error = false, durationMs = 10) => ({
  caller,
  callee,
  durationMs,
  error,
  paired: true,
});
const declared: Declared = {
  services: ['web', 'orders', 'payments', 'ledger'],
  edges: [
    { from: 'web', to: 'orders', optional: false },
    { from: 'orders', to: 'payments', optional: false },
    { from: 'orders', to: 'ledger', optional: true },
  ],
};

describe('ServiceMap', () => {
  it('gives each observed edge its figures and says whether the manifest declares it', () => {
    const map = new ServiceMap(OPTIONS, 0);
    for (let i = 0; i < 4; i++) map.record(call('web', 'orders', i === 0, 20), 1_000);
    const snapshot = map.snapshot(2_000, declared);
    const edge = snapshot.edges.find((e) => e.from === 'web' && e.to === 'orders')!;
    assert.equal(edge.declared, true);
    assert.equal(edge.observed, true);
    assert.equal(edge.count, 4);
    assert.equal(edge.errorRate, 0.25);
    assert.ok(edge.p50Ms! > 19 && edge.p50Ms! < 21);
    assert.equal(edge.totalRequests, 4);
    assert.equal(edge.lastSeen, new Date(1_000).toISOString());
  });

  it('reports drift both ways: traffic nobody declared, declarations nobody uses', () => {
    const map = new ServiceMap(OPTIONS, 0);
    map.record(call('web', 'orders'), 1_000);
    map.record(call('payments', 'ledger'), 1_000);
    map.record(call('orders', 'api.stripe.com:443'), 1_000);
    const { drift, edges } = map.snapshot(2_000, declared);
    assert.deepEqual(
      drift.undeclared.map((e) => `${e.from}→${e.to}`),
      ['payments→ledger'],
      'an external callee is not drift: the manifest cannot declare it',
    );
    assert.deepEqual(
      drift.unobserved.map((e) => [`${e.from}→${e.to}`, e.optional]),
      [
        ['orders→ledger', true],
        ['orders→payments', false],
      ],
    );
    assert.equal(edges.find((e) => e.to === 'api.stripe.com:443')?.external, true);
  });

  it('stops counting an edge as observed once it has been silent for the observation period', () => {
    const map = new ServiceMap(OPTIONS, 0);
    map.record(call('web', 'orders'), 1_000);
    const later = map.snapshot(1_000 + 600_001, declared);
    assert.deepEqual(
      later.drift.unobserved.map((e) => `${e.from}→${e.to}`),
      ['orders→ledger', 'orders→payments', 'web→orders'],
    );
    map.prune(1_000 + 600_001);
    assert.equal(
      map.snapshot(1_000 + 600_001, declared).edges.find((e) => e.from === 'web')?.totalRequests,
      0,
    );
  });

  it('flags cycles that traffic takes', () => {
    const map = new ServiceMap(OPTIONS, 0);
    map.record(call('orders', 'payments'), 1_000);
    map.record(call('payments', 'ledger'), 1_000);
    map.record(call('ledger', 'orders'), 1_000);
    map.record(call('web', 'web'), 1_000);
    assert.deepEqual(map.snapshot(1_000, declared).cycles, [
      ['ledger', 'orders', 'payments', 'ledger'],
      ['web', 'web'],
    ]);
  });

  it('keeps at most maxEdges, forgetting the least recently seen', () => {
    const map = new ServiceMap({ ...OPTIONS, maxEdges: 2 }, 0);
    map.record(call('a', 'b'), 1);
    map.record(call('a', 'c'), 2);
    map.record(call('a', 'b'), 3);
    map.record(call('a', 'd'), 4);
    const empty: Declared = { services: [], edges: [] };
    assert.deepEqual(
      map.snapshot(5, empty).edges.map((e) => e.to),
      ['b', 'd'],
    );
  });
});
