// Randomness for fault tests that can be replayed: a small PRNG (mulberry32) from a seed
// that is either given (BATON_TEST_SEED) or drawn, and named in the failure of the test
// that used it, so that a failing run can be run again as it was.
import { randomInt } from 'node:crypto';

export interface SeededRandom {
  readonly seed: number;
  /** [0, 1), like Math.random. */
  next(): number;
  /** An integer in [0, max). */
  int(max: number): number;
}

export function seededRandom(seed = seedFromEnvironment()): SeededRandom {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return { seed, next, int: (max) => Math.floor(next() * max) };
}

function seedFromEnvironment(): number {
  const given = process.env['BATON_TEST_SEED'];
  return given !== undefined && /^\d+$/.test(given) ? Number(given) : randomInt(2 ** 31);
}

/** Runs a test body with a seeded random; a failure says which seed to replay it with. */
export async function withSeed(work: (random: SeededRandom) => Promise<void>): Promise<void> {
  const random = seededRandom();
  try {
    await work(random);
  } catch (error) {
    const replay = `random seed ${random.seed}: replay with BATON_TEST_SEED=${random.seed}`;
    if (error instanceof Error) error.message = `${error.message}\n  ${replay}`;
    else console.error(replay);
    throw error;
  }
}
