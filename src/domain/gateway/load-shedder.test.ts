import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TIERS, TIER_RANK } from '../manifest/schema.ts';
import { LoadShedder, smoothDelay } from './load-shedder.ts';

describe('LoadShedder', () => {
  const shedder = new LoadShedder({ maxInFlight: 100, maxLatencyMs: 500 });

  it('sheds nothing under the limits', () => {
    for (const tier of TIERS) assert.equal(shedder.shed(tier, 10, 5), false);
  });

  it('sheds low first as requests in flight rise, critical only at the limit', () => {
    const firstShedAt = (tier: (typeof TIERS)[number]) => {
      for (let n = 0; n <= 100; n++) if (shedder.shed(tier, n, 0)) return n;
      return Infinity;
    };
    assert.deepEqual(
      TIERS.map((t) => firstShedAt(t)),
      [100, 90, 80, 70],
    );
  });

  it('sheds by queueing delay in the same order', () => {
    assert.equal(shedder.shed('low', 0, 360), true);
    assert.equal(shedder.shed('medium', 0, 360), false);
    assert.equal(shedder.shed('critical', 0, 499), false);
    assert.equal(shedder.shed('critical', 0, 500), true);
  });

  it('never sheds a more critical tier while admitting a less critical one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20_000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.nat(30_000),
        fc.nat(6000),
        (maxInFlight, maxLatencyMs, inFlight, latency) => {
          const s = new LoadShedder({ maxInFlight, maxLatencyMs });
          for (const a of TIERS)
            for (const b of TIERS)
              if (TIER_RANK[a] < TIER_RANK[b] && s.shed(a, inFlight, latency))
                assert.equal(s.shed(b, inFlight, latency), true);
        },
      ),
    );
  });
});

describe('smoothDelay', () => {
  it('shrugs off a single stall but follows sustained delay', () => {
    const shedder = new LoadShedder({ maxInFlight: 100, maxLatencyMs: 500 });
    const afterStall = smoothDelay(0, 600);
    assert.equal(shedder.shed('medium', 0, afterStall), false, 'one 600 ms hiccup sheds nothing');
    let estimate = 0;
    let ticks = 0;
    while (!shedder.shed('medium', 0, estimate)) {
      estimate = smoothDelay(estimate, 600);
      ticks++;
    }
    assert.ok(ticks > 1 && ticks < 10, `${ticks} samples of 600 ms delay before shedding`);
    for (let i = 0; i < 20; i++) estimate = smoothDelay(estimate, 0);
    assert.equal(shedder.shed('low', 0, estimate), false, 'and it recovers');
  });
});
