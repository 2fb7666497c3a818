// node:test's describe/it return promises that the runner itself awaits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { closestName, editDistance } from './closest-name.ts';

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    assert.equal(editDistance('payments', 'payments'), 0);
    assert.equal(editDistance('paymnets', 'payments'), 2);
    assert.equal(editDistance('order', 'orders'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });

  it('stops at the limit without under-reporting', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), fc.nat(6), (a, b, limit) => {
        assert.equal(editDistance(a, b, limit), Math.min(editDistance(a, b), limit));
      }),
    );
  });
});

describe('closestName', () => {
  it('suggests the nearest name within the typo budget', () => {
    assert.equal(closestName('paymnets', ['orders', 'payments', 'ledger']), 'payments');
    assert.equal(closestName('ordrs', ['orders', 'ledger']), 'orders');
  });

  it('suggests nothing when no name is close', () => {
    assert.equal(closestName('warehouse', ['orders', 'payments']), undefined);
    assert.equal(
      closestName(
        'db',
        ['ab', 'cd'].map((s) => s + 'xyz'),
      ),
      undefined,
    );
  });

  it('breaks ties by name', () => {
    assert.equal(closestName('cat', ['hat', 'bat']), 'bat');
  });
});
