/// <reference types="node" />
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  barOf,
  descendantCounts,
  MIN_BAR_WIDTH,
  serviceSlots,
  ticks,
  visibleRows,
  type TreeRow,
} from './waterfall.ts';

// The shop's checkout, depth-first as GET /v1/traces/{id} returns it.
const row = (spanId: string, depth: number, startMs = 0, durationMs = 1): TreeRow => ({
  spanId,
  depth,
  startMs,
  durationMs,
});
const CHECKOUT: readonly TreeRow[] = [
  row('web', 0, 0, 24),
  row('web>orders', 1, 0.5, 23),
  row('orders', 2, 2, 19),
  row('orders>inventory', 3, 3, 4),
  row('inventory', 4, 4, 0.6),
  row('orders>payments', 3, 7, 8),
  row('payments', 4, 11, 1.3),
  row('web>audit', 1, 23, 1),
];

describe('the waterfall', () => {
  it('places a bar by its start and sizes it by its duration, in percent of the trace', () => {
    assert.deepEqual(barOf({ startMs: 0, durationMs: 24 }, 24), { left: 0, width: 100 });
    assert.deepEqual(barOf({ startMs: 6, durationMs: 12 }, 24), { left: 25, width: 50 });
    assert.deepEqual(barOf({ startMs: 2, durationMs: 1 }, 3), { left: 66.667, width: 33.333 });
  });

  it('keeps a very short span visible without pushing it past the end', () => {
    assert.deepEqual(barOf({ startMs: 12, durationMs: 0.001 }, 24), { left: 50, width: MIN_BAR_WIDTH });
    const last = barOf({ startMs: 24, durationMs: 0 }, 24);
    assert.equal(last.width, MIN_BAR_WIDTH);
    assert.equal(last.left + last.width, 100);
  });

  it('fills the track for a trace of no duration', () => {
    assert.deepEqual(barOf({ startMs: 0, durationMs: 0 }, 0), { left: 0, width: 100 });
  });

  it('never draws outside the track, even for a span that outlives the trace it was measured against', () => {
    const bar = barOf({ startMs: 20, durationMs: 30 }, 24);
    assert.ok(bar.left >= 0 && bar.left + bar.width <= 100, JSON.stringify(bar));
  });

  it('marks the scale at round steps up to the trace duration', () => {
    assert.deepEqual(ticks(24.7), [0, 5, 10, 15, 20]);
    assert.deepEqual(ticks(1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(ticks(3500), [0, 1000, 2000, 3000]);
    assert.deepEqual(ticks(0), [0]);
  });
});

describe('the call tree', () => {
  it('counts the spans under every span', () => {
    assert.deepEqual(Object.fromEntries(descendantCounts(CHECKOUT)), {
      web: 7,
      'web>orders': 5,
      orders: 4,
      'orders>inventory': 1,
      inventory: 0,
      'orders>payments': 1,
      payments: 0,
      'web>audit': 0,
    });
  });

  it('hides the subtree of a collapsed span, and only that', () => {
    const ids = (collapsed: string[]) => visibleRows(CHECKOUT, new Set(collapsed)).map((r) => r.spanId);
    assert.deepEqual(
      ids([]),
      CHECKOUT.map((r) => r.spanId),
    );
    assert.deepEqual(ids(['orders>inventory']), [
      'web',
      'web>orders',
      'orders',
      'orders>inventory',
      'orders>payments',
      'payments',
      'web>audit',
    ]);
    assert.deepEqual(ids(['web>orders']), ['web', 'web>orders', 'web>audit']);
    assert.deepEqual(ids(['web']), ['web']);
    // A collapsed span inside a collapsed one changes nothing more, and opens nothing.
    assert.deepEqual(ids(['web>orders', 'orders']), ['web', 'web>orders', 'web>audit']);
  });

  it('folds each of several roots on its own (orphans are roots too)', () => {
    const rows = [row('a', 0), row('a1', 1), row('b', 0), row('b1', 1)];
    assert.deepEqual(
      visibleRows(rows, new Set(['a'])).map((r) => r.spanId),
      ['a', 'b', 'b1'],
    );
  });

  it('gives each service of a trace its own colour, the same whatever the order', () => {
    const slots = serviceSlots(['web', 'orders', 'inventory']);
    assert.deepEqual(Object.fromEntries(slots), { inventory: 0, orders: 1, web: 2 });
    assert.deepEqual(
      Object.fromEntries(serviceSlots(['inventory', 'web', 'orders'])),
      Object.fromEntries(slots),
    );
    assert.equal(serviceSlots(['a', 'b', 'c'], 2).get('c'), 0);
  });
});
