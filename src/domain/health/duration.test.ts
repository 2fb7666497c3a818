import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it('converts every unit to milliseconds', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('5s'), 5000);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('0s'), 0);
    assert.equal(parseDuration('007s'), 7000);
  });

  it('throws on anything the schema would have rejected', () => {
    for (const bad of ['', '5', 's', '5 s', '1.5s', '-1s', '5sec', '5S', '1d', ' 5s', '5s ', '5m5s']) {
      assert.throws(() => parseDuration(bad), /not a duration/, bad);
    }
  });

  it('throws instead of losing precision on an absurdly long number', () => {
    assert.throws(() => parseDuration('99999999999999999h'), /out of range/);
  });

  it('agrees with a spelled-out unit conversion', () => {
    const units = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), fc.constantFrom('ms', 's', 'm', 'h' as const), (n, unit) => {
        assert.equal(parseDuration(`${n}${unit}`), n * units[unit]);
      }),
    );
  });
});
