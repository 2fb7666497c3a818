import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { KeyedRateLimiter, TokenBucket } from './rate-limiter.ts';

describe('TokenBucket', () => {
  it('admits a burst, then refuses until tokens refill', () => {
    const rate = { requestsPerSecond: 2, burst: 3 };
    const bucket = new TokenBucket(rate, 0);
    assert.deepEqual(
      [0, 0, 0, 0].map(() => bucket.take(rate, 0)),
      [true, true, true, false],
    );
    assert.equal(bucket.remaining(), 0);
    assert.equal(bucket.secondsUntilToken(rate), 1);
    assert.equal(bucket.secondsUntilFull(rate), 2);
    assert.equal(bucket.take(rate, 499), false);
    assert.equal(bucket.take(rate, 500), true);
    assert.equal(bucket.take(rate, 10_000), true);
    assert.equal(bucket.remaining(), 2);
  });

  it('reports a Retry-After of several seconds when the rate is below one per second', () => {
    const rate = { requestsPerSecond: 0.25, burst: 1 };
    const bucket = new TokenBucket(rate, 0);
    assert.equal(bucket.take(rate, 0), true);
    assert.equal(bucket.take(rate, 0), false);
    assert.equal(bucket.secondsUntilToken(rate), 4);
  });

  it('never admits more than burst + rate × elapsed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 300 }),
        (rps, burst, gaps) => {
          const rate = { requestsPerSecond: rps, burst };
          const bucket = new TokenBucket(rate, 0);
          let now = 0;
          let admitted = 0;
          for (const gap of gaps) {
            now += gap;
            if (bucket.take(rate, now)) admitted++;
          }
          assert.ok(admitted <= burst + (rps * now) / 1000 + 1e-9);
        },
      ),
    );
  });
});

describe('KeyedRateLimiter', () => {
  it('keeps one bucket per key', () => {
    const limiter = new KeyedRateLimiter({ requestsPerSecond: 1, burst: 1 });
    assert.equal(limiter.bucket('a', 0).take(limiter.rate, 0), true);
    assert.equal(limiter.bucket('a', 0).take(limiter.rate, 0), false);
    assert.equal(limiter.bucket('b', 0).take(limiter.rate, 0), true);
  });

  it('forgets the least recently used key beyond its bound', () => {
    const limiter = new KeyedRateLimiter({ requestsPerSecond: 1, burst: 1 }, 2);
    limiter.bucket('a', 0).take(limiter.rate, 0);
    limiter.bucket('b', 0).take(limiter.rate, 0);
    limiter.bucket('a', 0); // a is now more recent than b
    limiter.bucket('c', 0).take(limiter.rate, 0);
    assert.equal(limiter.size, 2);
    assert.equal(limiter.bucket('a', 0).take(limiter.rate, 0), false, 'a was kept, still empty');
    assert.equal(limiter.bucket('b', 0).take(limiter.rate, 0), true, 'b was forgotten, starts full');
  });
});
