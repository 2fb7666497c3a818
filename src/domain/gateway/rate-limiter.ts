// Token buckets: `burst` tokens at most, refilled at `requestsPerSecond`; a request takes
// one or is refused. Per route there is one bucket, or one per client key (IP, header
// value) kept in a bounded LRU so that a flood of distinct keys cannot exhaust memory.
// Limits hold per gateway process: N gateways admit up to N times the rate.

export interface BucketRate {
  readonly requestsPerSecond: number;
  readonly burst: number;
}

/** Keys remembered per keyed limiter; the least recently seen is forgotten first. */
export const DEFAULT_MAX_KEYS = 10_000;

export class TokenBucket {
  tokens: number;
  updatedAt: number;

  constructor(rate: BucketRate, now: number) {
    this.tokens = rate.burst;
    this.updatedAt = now;
  }

  /** Refills for the time elapsed, then takes a token if there is one. */
  take(rate: BucketRate, now: number): boolean {
    const elapsed = now - this.updatedAt;
    if (elapsed > 0) {
      this.tokens = Math.min(rate.burst, this.tokens + (elapsed * rate.requestsPerSecond) / 1000);
      this.updatedAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whole tokens left: RateLimit-Remaining. */
  remaining(): number {
    return Math.floor(this.tokens);
  }

  /** Seconds until the next token: Retry-After on a refusal (at least 1). */
  secondsUntilToken(rate: BucketRate): number {
    return Math.max(1, Math.ceil((1 - this.tokens) / rate.requestsPerSecond));
  }

  /** Seconds until the bucket is full again: RateLimit-Reset. */
  secondsUntilFull(rate: BucketRate): number {
    return Math.max(0, Math.ceil((rate.burst - this.tokens) / rate.requestsPerSecond));
  }
}

export class KeyedRateLimiter {
  readonly rate: BucketRate;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(rate: BucketRate, maxKeys = DEFAULT_MAX_KEYS) {
    this.rate = rate;
    this.#maxKeys = maxKeys;
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** The key's bucket, created full on first sight, now the most recently used. */
  bucket(key: string, now: number): TokenBucket {
    let bucket = this.#buckets.get(key);
    if (bucket !== undefined) {
      // Re-insert: Map keeps insertion order, so the first key is the least recently used.
      this.#buckets.delete(key);
    } else {
      bucket = new TokenBucket(this.rate, now);
      if (this.#buckets.size >= this.#maxKeys) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
    }
    this.#buckets.set(key, bucket);
    return bucket;
  }
}
