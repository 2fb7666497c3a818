/// <reference types="node" />
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GraphResponse, LiveMapResponse, ObservedMapEdge, ServiceState } from '../api/types.ts';
import {
  blastRadius,
  buildMapModel,
  criticalEdges,
  deepestChain,
  edgeLabelLines,
  edgeLabelTemplate,
  observationsOf,
  trafficCaption,
} from './graph-model.ts';

// The example shop's graph, as GET /v1/graph returns it.
const SHOP: Pick<GraphResponse, 'services' | 'edges'> = {
  services: [
    { name: 'inventory', version: '1.8.2', tier: 'critical' },
    { name: 'ledger', version: '3.2.0', tier: 'critical' },
    { name: 'notifications', version: '1.0.4', tier: 'low' },
    { name: 'orders', version: '2.1.0', tier: 'critical' },
    { name: 'payments', version: '1.5.0', tier: 'critical' },
    { name: 'web', version: '1.3.0', tier: 'critical' },
  ],
  edges: [
    { from: 'orders', to: 'inventory', range: '^1.7.0', optional: false },
    { from: 'orders', to: 'notifications', range: '^1.0.0', optional: true },
    { from: 'orders', to: 'payments', range: '^1.5.0', optional: false },
    { from: 'payments', to: 'ledger', range: '^3.0.0', optional: false },
    { from: 'web', to: 'inventory', range: '^1.8.0', optional: false },
    { from: 'web', to: 'orders', range: '^2.0.0', optional: false },
  ],
};

const state = (
  service: string,
  phase: ServiceState['phase'],
  ready: number,
  desired: number,
): ServiceState => ({
  service,
  phase,
  ready,
  desired,
  revision: 1,
  version: '1.0.0',
  settled: true,
  waitingFor: [],
});

describe('the service map model', () => {
  it('colours nodes by the controller state', () => {
    const model = buildMapModel(SHOP, [state('orders', 'running', 1, 2), state('web', 'running', 2, 2)]);
    const health = Object.fromEntries(model.nodes.map((n) => [n.id, n.health]));
    assert.equal(health['orders'], 'degraded');
    assert.equal(health['web'], 'healthy');
    assert.equal(health['ledger'], 'unknown', 'a service the controller does not report yet');
  });

  it('marks the hard dependencies critical services need, transitively, as critical paths', () => {
    const critical = criticalEdges(
      [
        { id: 'a', tier: 'critical' },
        { id: 'b', tier: 'low' },
        { id: 'c', tier: 'low' },
        { id: 'd', tier: 'low' },
        { id: 'e', tier: 'low' },
      ],
      [
        { from: 'a', to: 'b', optional: false },
        { from: 'b', to: 'c', optional: false },
        { from: 'a', to: 'd', optional: true },
        { from: 'd', to: 'e', optional: false },
      ],
    );
    assert.deepEqual([...critical].sort(), ['a->b', 'b->c']);
    const shop = buildMapModel(SHOP);
    assert.deepEqual(
      shop.edges.filter((e) => !e.critical).map((e) => e.id),
      ['orders->notifications'],
      'only the optional edge to the low-tier service is off the critical paths',
    );
  });

  it('finds the blast radius as the server does: hard consumers transitively, optional ones degraded', () => {
    const model = buildMapModel(SHOP);
    assert.deepEqual(Object.fromEntries(blastRadius(model, 'ledger')), {
      payments: { impact: 'down', distance: 1, via: 'ledger' },
      orders: { impact: 'down', distance: 2, via: 'payments' },
      web: { impact: 'down', distance: 3, via: 'orders' },
    });
    assert.deepEqual(
      Object.fromEntries(blastRadius(model, 'notifications')),
      { orders: { impact: 'degraded', distance: 1, via: 'notifications' } },
      'orders only optionally needs notifications: degraded, and web is spared',
    );
    assert.equal(blastRadius(model, 'web').size, 0);
  });

  it('finds the deepest chain', () => {
    assert.deepEqual(deepestChain(buildMapModel(SHOP)), ['web', 'orders', 'payments', 'ledger']);
  });

  it('merges observed traffic into declared edges and keeps edges only traffic has shown', () => {
    const model = buildMapModel(
      SHOP,
      [],
      [
        { from: 'web', to: 'orders', rps: 12.5, errorRate: 0.01, p99: 84 },
        { from: 'notifications', to: 'ledger', rps: 0.2 },
        { from: 'ghost', to: 'ledger', rps: 1 },
      ],
    );
    const byId = new Map(model.edges.map((e) => [e.id, e]));
    assert.equal(byId.get('web->orders')?.observed, true);
    assert.equal(byId.get('web->orders')?.declared, true);
    assert.equal(trafficCaption(byId.get('web->orders')!), '13 rps · 1.0% err · p99 84 ms');
    assert.equal(byId.get('notifications->ledger')?.declared, false);
    assert.equal(byId.has('ghost->ledger'), false, 'an edge to an unknown service is dropped');
    assert.equal(byId.get('payments->ledger')?.observed, undefined);
    assert.equal(trafficCaption(byId.get('payments->ledger')!), undefined);
    assert.deepEqual(
      [...blastRadius(model, 'ledger').keys()].sort(),
      ['notifications', 'orders', 'payments', 'web'],
      'observed edges widen the blast radius',
    );
  });

  it('reads GET /v1/map: live edges as traffic, declared silent ones as never observed, outside callees apart', () => {
    const edge = (from: string, to: string, extra: Partial<ObservedMapEdge> = {}): ObservedMapEdge => ({
      from,
      to,
      declared: true,
      optional: false,
      observed: true,
      external: false,
      count: 6,
      errors: 0,
      errorRate: 0,
      ratePerSecond: 0.1,
      p50Ms: 4,
      p99Ms: 9.5,
      totalRequests: 6,
      totalErrors: 0,
      firstSeen: '2026-01-01T00:00:00.000Z',
      lastSeen: '2026-01-01T00:00:50.000Z',
      ...extra,
    });
    const silent = edge('web', 'inventory', { observed: false, count: 0, p50Ms: null, p99Ms: null });
    const map: Pick<LiveMapResponse, 'edges' | 'drift'> = {
      edges: [
        edge('web', 'orders', { ratePerSecond: 2, errorRate: 0.25, errors: 3 }),
        edge('ledger', 'payments', { declared: false, p99Ms: null }),
        edge('orders', 'smtp.example:25', { declared: false, external: true }),
        silent,
      ],
      drift: { undeclared: [], unobserved: [silent] },
    };
    const seen = observationsOf(map);
    assert.deepEqual(seen.observed, [
      { from: 'web', to: 'orders', rps: 2, errorRate: 0.25, p50: 4, p99: 9.5 },
      { from: 'ledger', to: 'payments', rps: 0.1, errorRate: 0, p50: 4, p99: undefined },
    ]);
    assert.deepEqual(seen.unobserved, [{ from: 'web', to: 'inventory' }]);
    assert.deepEqual(
      seen.external.map((e) => e.to),
      ['smtp.example:25'],
    );

    const model = buildMapModel(SHOP, [], seen.observed, seen.unobserved);
    const byId = new Map(model.edges.map((e) => [e.id, e]));
    const webOrders = byId.get('web->orders')!;
    assert.equal(webOrders.p50, 4);
    assert.deepEqual(edgeLabelLines(webOrders), ['^2.0.0', '2.0 rps · 25% err', 'p99 9.5 ms']);
    const webInventory = byId.get('web->inventory')!;
    assert.equal(webInventory.observed, false);
    assert.deepEqual(edgeLabelLines(webInventory), ['^1.8.0', 'never observed']);
    const drift = byId.get('ledger->payments')!;
    assert.equal(drift.declared, false);
    assert.deepEqual(edgeLabelLines(drift), ['undeclared', '0.1 rps · 0.0% err']);
    // Declared, and telemetry has no word on it (not in the map at all): no traffic line.
    assert.deepEqual(edgeLabelLines(byId.get('payments->ledger')!), ['^3.0.0']);
    assert.equal(byId.has('orders->smtp.example:25'), false);
  });

  it('reserves label room for the widest figures, so changing figures keep the layout', () => {
    const model = buildMapModel(
      SHOP,
      [],
      [{ from: 'web', to: 'orders', rps: 0.1, errorRate: 0, p99: 3 }],
      [{ from: 'web', to: 'inventory' }],
    );
    const byId = new Map(model.edges.map((e) => [e.id, e]));
    const template = edgeLabelTemplate(byId.get('web->orders')!);
    const widest = buildMapModel(
      SHOP,
      [],
      [{ from: 'web', to: 'orders', rps: 950, errorRate: 0.999, p99: 9999 }],
    );
    const lines = edgeLabelLines(widest.edges.find((e) => e.id === 'web->orders')!);
    assert.equal(template.length, lines.length);
    lines.forEach((line, i) => assert.ok(line.length <= template[i]!.length, `${line} fits ${template[i]}`));
    assert.deepEqual(edgeLabelTemplate(byId.get('web->inventory')!), ['^1.8.0', 'never observed']);
    assert.deepEqual(edgeLabelTemplate(byId.get('orders->payments')!), ['^1.5.0']);
  });
});
