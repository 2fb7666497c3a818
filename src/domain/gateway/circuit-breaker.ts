// A circuit breaker per service: when the share of failed attempts over a sliding window
// crosses the threshold, stop sending for a while (fail fast, let the service recover),
// then let a single probe through; its outcome closes the circuit or opens it again.
import type { TrafficPolicy } from './snapshot.ts';

export type BreakerPolicy = TrafficPolicy['circuitBreaker'];
export type BreakerState = 'closed' | 'open' | 'half-open';

/** What `allow` grants: a normal pass, the one half-open probe, or nothing. */
export const PASS = 1;
export const PROBE = 2;
export const DENY = 0;
export type Admission = typeof PASS | typeof PROBE | typeof DENY;

const BUCKETS = 10;

export class CircuitBreaker {
  #policy: BreakerPolicy;
  #state: BreakerState = 'closed';
  #openedAt = 0;
  #probing = false;
  // The window as BUCKETS time slices; each slice remembers which slice-epoch it holds so
  // stale slices are recognised without a timer.
  readonly #total = new Float64Array(BUCKETS);
  readonly #failed = new Float64Array(BUCKETS);
  readonly #epoch = new Float64Array(BUCKETS).fill(-Infinity);

  constructor(policy: BreakerPolicy) {
    this.#policy = policy;
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** A new policy keeps the current state and window (a snapshot changed, not the service). */
  configure(policy: BreakerPolicy): void {
    if (policy.windowMs !== this.#policy.windowMs) this.#clearWindow();
    this.#policy = policy;
  }

  allow(now: number): Admission {
    if (this.#state === 'closed') return PASS;
    if (this.#state === 'open') {
      if (now - this.#openedAt < this.#policy.openForMs) return DENY;
      this.#state = 'half-open';
    }
    if (this.#probing) return DENY;
    this.#probing = true;
    return PROBE;
  }

  /** Milliseconds until a probe may go, for Retry-After. */
  retryAfterMs(now: number): number {
    if (this.#state !== 'open') return 0;
    return Math.max(0, this.#openedAt + this.#policy.openForMs - now);
  }

  /** The outcome of an attempt admitted with `admission`. */
  record(admission: Admission, ok: boolean, now: number): void {
    if (admission === PROBE) {
      this.#probing = false;
      if (ok) {
        this.#state = 'closed';
        this.#clearWindow();
      } else this.#open(now);
      return;
    }
    // Attempts admitted before the circuit opened say nothing new.
    if (this.#state !== 'closed') return;
    const slice = this.#sliceMs();
    const epoch = Math.floor(now / slice);
    const i = epoch % BUCKETS;
    if (this.#epoch[i] !== epoch) {
      this.#epoch[i] = epoch;
      this.#total[i] = 0;
      this.#failed[i] = 0;
    }
    this.#total[i]!++;
    if (ok) return;
    this.#failed[i]!++;
    let total = 0;
    let failed = 0;
    for (let b = 0; b < BUCKETS; b++) {
      if (epoch - this.#epoch[b]! < BUCKETS) {
        total += this.#total[b]!;
        failed += this.#failed[b]!;
      }
    }
    if (total >= this.#policy.minRequests && (failed * 100) / total > this.#policy.errorRatePercent) {
      this.#open(now);
    }
  }

  /** A probe that ended without an outcome (the client left): let another request probe. */
  abandon(admission: Admission): void {
    if (admission === PROBE) this.#probing = false;
  }

  #open(now: number): void {
    this.#state = 'open';
    this.#openedAt = now;
    this.#clearWindow();
  }

  #sliceMs(): number {
    return Math.max(1, this.#policy.windowMs / BUCKETS);
  }

  #clearWindow(): void {
    this.#epoch.fill(-Infinity);
  }
}
