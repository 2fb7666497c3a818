import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NAME_PATTERN, TIERS } from './schema.ts';
import { didYouMean, editDistance, suggestName } from './suggestions.ts';

const SERVICE_KEYS = [
  'version',
  'tier',
  'owner',
  'description',
  'run',
  'image',
  'env',
  'instances',
  'dependsOn',
];

describe('didYouMean', () => {
  for (const [typed, meant] of [
    ['depends_on', 'dependsOn'],
    ['depends-on', 'dependsOn'],
    ['DEPENDSON', 'dependsOn'],
    ['dependencies', 'dependsOn'],
    ['replicas', 'instances'],
    ['environment', 'env'],
    ['verison', 'version'],
    ['tire', 'tier'],
    ['desc', 'description'],
  ] as const) {
    it(`${typed} → ${meant}`, () => assert.equal(didYouMean(typed, SERVICE_KEYS), meant));
  }

  it('corrects enum values', () => {
    assert.equal(didYouMean('critcal', TIERS), 'critical');
    assert.equal(didYouMean('Critical', TIERS), 'critical');
    assert.equal(didYouMean('hihg', TIERS), 'high');
    assert.equal(didYouMean('crit', TIERS), 'critical');
  });

  it('stays silent when nothing is close', () => {
    assert.equal(didYouMean('zzz', SERVICE_KEYS), undefined);
    assert.equal(didYouMean('urgent', TIERS), undefined);
    assert.equal(didYouMean('', SERVICE_KEYS), undefined);
    assert.equal(didYouMean('x', []), undefined);
  });

  it('offers a synonym only where the schema allows it', () => {
    assert.equal(didYouMean('replicas', ['min', 'max']), undefined);
  });

  it('only ever suggests one of the candidates', () => {
    fc.assert(
      fc.property(fc.string(), fc.array(fc.string()), (typed, candidates) => {
        const match = didYouMean(typed, candidates);
        assert.ok(match === undefined || candidates.includes(match));
      }),
    );
  });
});

describe('editDistance', () => {
  it('counts edits, with a transposition as one', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('tier', 'tire'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('same', 'same'), 0);
  });

  it('is symmetric, zero only on equal words, and at most the longer length', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        const d = editDistance(a, b);
        assert.equal(d, editDistance(b, a));
        assert.equal(d === 0, a === b);
        assert.ok(d <= Math.max(a.length, b.length));
        assert.ok(d >= Math.abs(a.length - b.length));
      }),
    );
  });
});

describe('suggestName', () => {
  it('lower-cases and turns separators into dashes', () => {
    assert.equal(suggestName('Payments_API'), 'payments-api');
    assert.equal(suggestName('OrderService'), 'order-service');
    assert.equal(suggestName('my service.v2'), 'my-service-v2');
    assert.equal(suggestName('_internal__'), 'internal');
    assert.equal(suggestName('x'.repeat(70) + '-y'), 'x'.repeat(63));
  });

  it('has nothing to offer for a valid name or one that cannot honestly be rewritten', () => {
    assert.equal(suggestName('orders'), undefined);
    assert.equal(suggestName('2fa'), undefined);
    assert.equal(suggestName('___'), undefined);
  });

  it('only ever suggests a valid name', () => {
    fc.assert(
      fc.property(fc.string(), (raw) => {
        const name = suggestName(raw);
        assert.ok(name === undefined || NAME_PATTERN.test(name));
      }),
    );
  });
});
