import assert from 'node:assert/strict';
import { it } from 'node:test';
import { seededRandom, withSeed } from './seeded-random.ts';

it('gives the same sequence for the same seed, spread over [0, 1)', () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const draws = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(
    Array.from({ length: 1000 }, () => b.next()),
    draws,
  );
  assert.ok(draws.every((x) => x >= 0 && x < 1));
  assert.ok(draws.some((x) => x < 0.1) && draws.some((x) => x > 0.9));
  assert.notDeepEqual(seededRandom(43).next(), seededRandom(42).next());
});

it('names the seed in the failure of the test that used it', async () => {
  let seed = -1;
  await assert.rejects(
    withSeed(async (random) => {
      seed = random.seed;
      assert.fail('boom');
    }),
    (error: Error) => error.message.includes(`BATON_TEST_SEED=${seed}`),
  );
});
