import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileFaults, decideFault } from './fault-injection.ts';
import type { FaultInjection } from './snapshot.ts';

const base = { createdBy: 'alice', expiresAt: '2030-01-01T00:00:00Z' };
const now = Date.parse('2029-01-01T00:00:00Z');
const always = () => 0;
const never = () => 0.9999;

describe('fault injection', () => {
  it('aborts or delays the matching share of requests', () => {
    const faults = compileFaults(
      [
        { ...base, id: 'f1', service: 'cart', abort: { status: 503, percent: 50 } },
        { ...base, id: 'f2', service: 'pay', delay: { ms: 200, percent: 100 } },
      ],
      now,
    );
    assert.deepEqual(decideFault(faults.get('cart'), '/cart', now, always), {
      id: 'f1',
      delayMs: 0,
      abortStatus: 503,
    });
    assert.equal(decideFault(faults.get('cart'), '/cart', now, never), undefined);
    assert.deepEqual(decideFault(faults.get('pay'), '/x', now, never), {
      id: 'f2',
      delayMs: 200,
      abortStatus: 0,
    });
    assert.equal(decideFault(faults.get('web'), '/x', now, always), undefined);
  });

  it('applies a path-scoped fault on its prefix only, preferring the most specific', () => {
    const faults = compileFaults(
      [
        { ...base, id: 'all', service: 'cart', delay: { ms: 10, percent: 100 } },
        {
          ...base,
          id: 'checkout',
          service: 'cart',
          path: '/cart/checkout',
          abort: { status: 500, percent: 100 },
        },
      ],
      now,
    ).get('cart');
    assert.equal(decideFault(faults, '/cart/checkout/1', now, always)?.id, 'checkout');
    assert.equal(decideFault(faults, '/cart/checkoutx', now, always)?.id, 'all');
    assert.equal(decideFault(faults, '/cart', now, always)?.id, 'all');
  });

  it('ignores expired faults, at compile time and later', () => {
    const list: FaultInjection[] = [
      {
        ...base,
        id: 'old',
        service: 'cart',
        expiresAt: '2020-01-01T00:00:00Z',
        abort: { status: 500, percent: 100 },
      },
      {
        ...base,
        id: 'soon',
        service: 'cart',
        expiresAt: '2029-01-01T00:01:00Z',
        abort: { status: 500, percent: 100 },
      },
    ];
    const faults = compileFaults(list, now).get('cart');
    assert.equal(faults?.length, 1);
    assert.equal(decideFault(faults, '/', now, always)?.id, 'soon');
    assert.equal(decideFault(faults, '/', now + 60_000, always), undefined);
  });
});
