import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TrafficSplitter, pinnedVersions } from './traffic-split.ts';

function shares(splitter: TrafficSplitter, draws = 10_000): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < draws; i++) {
    const v = splitter.pick((i + 0.5) / draws) ?? 'any';
    counts[v] = (counts[v] ?? 0) + 1;
  }
  for (const v of Object.keys(counts)) counts[v] = Math.round((counts[v]! * 100) / draws);
  return counts;
}

describe('TrafficSplitter', () => {
  it('splits by weight', () => {
    const s = new TrafficSplitter({ '1.0.0': 90, '2.0.0': 10 }, ['1.0.0', '2.0.0']);
    assert.deepEqual(shares(s), { '1.0.0': 90, '2.0.0': 10 });
    assert.equal(s.even, false);
  });

  it('gives what the weights leave to the versions they do not name', () => {
    const s = new TrafficSplitter({ '2.0.0': 5 }, ['1.0.0', '2.0.0']);
    assert.deepEqual(shares(s), { '1.0.0': 95, '2.0.0': 5 });
  });

  it('redistributes the share of a version without endpoints', () => {
    const s = new TrafficSplitter({ '1.0.0': 50, '2.0.0': 25, '3.0.0': 25 }, ['1.0.0', '2.0.0']);
    assert.deepEqual(shares(s), { '1.0.0': 67, '2.0.0': 33 });
  });

  it('spreads evenly without weights, or when no weighted version has endpoints', () => {
    assert.equal(new TrafficSplitter(undefined, ['1.0.0', '2.0.0']).pick(0.3), undefined);
    assert.equal(new TrafficSplitter({ '3.0.0': 100 }, ['1.0.0']).pick(0.3), undefined);
    assert.equal(new TrafficSplitter({ '3.0.0': 100 }, ['1.0.0']).even, true);
  });

  it('lands every draw on a version that has endpoints, in proportion to its weight', () => {
    const all = ['1.0.0', '2.0.0', '3.0.0'];
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...all), fc.integer({ min: 0, max: 100 })),
        fc.subarray(all, { minLength: 1 }),
        (weights, present) => {
          // The documented rule, spelled out: named versions keep their weight, the rest of
          // 100 goes evenly to present versions the weights do not name.
          const named = Object.values(weights).reduce((a, b) => a + b, 0);
          const unnamed = present.filter((v) => !(v in weights));
          const expected: Record<string, number> = {};
          for (const v of present) {
            expected[v] = v in weights ? weights[v]! : Math.max(0, 100 - named) / unnamed.length;
          }
          const total = Object.values(expected).reduce((a, b) => a + b, 0);
          const splitter = new TrafficSplitter(weights, present);
          const draws = 1000;
          const counts: Record<string, number> = {};
          for (let i = 0; i < draws; i++) {
            const v = splitter.pick((i + 0.5) / draws) ?? 'any';
            counts[v] = (counts[v] ?? 0) + 1;
          }
          if (total === 0) return assert.deepEqual(counts, { any: draws });
          for (const v of present) {
            assert.ok(
              Math.abs((counts[v] ?? 0) - (draws * expected[v]!) / total) <= 1,
              JSON.stringify(counts),
            );
          }
        },
      ),
    );
  });
});

describe('pinnedVersions', () => {
  const present = ['1.4.2', '2.0.0', '2.1.0', '2.1.1'];
  it('pins an exact version or a range', () => {
    assert.deepEqual(pinnedVersions('2.1.0', present), ['2.1.0']);
    assert.deepEqual(pinnedVersions('^2.1.0', present), ['2.1.0', '2.1.1']);
    assert.deepEqual(pinnedVersions('>=2 <2.1', present), ['2.0.0']);
    assert.deepEqual(pinnedVersions('3.0.0', present), []);
  });

  it('rejects a pin that is neither', () => {
    assert.equal(pinnedVersions('latest!', present), undefined);
    assert.equal(pinnedVersions('', present), undefined);
  });
});
