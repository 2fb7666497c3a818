// The controller's work queue, after Kubernetes' client-go workqueue and controller-runtime:
// the item is only a key (a service name), because the reconciler re-reads desired and
// observed state on every pass (level-triggered). So many adds of one key collapse into one
// run, and a key is never reconciled twice at once — a key added while it runs is marked
// dirty and queued again when the run ends, behind the keys already waiting.
//
// Time comes only from the Clock port: retries, delayed adds and the resync are clock
// timers, so tests drive them with a FakeClock and never sleep.
import type { ReconcileResult } from '../../domain/reconcile/result.ts';
import type { Clock, Timer } from '../../ports/clock.ts';

export type { ReconcileResult } from '../../domain/reconcile/result.ts';

export interface WorkQueueOptions {
  clock: Clock;
  /** How many different keys may be reconciled at once (≥ 1). */
  concurrency: number;
  /**
   * One pass for one key. Throwing (or rejecting) means "retry with backoff";
   * `terminal` means "retrying will not help": recorded, and the key waits for a new add.
   */
  reconcile: (key: string) => Promise<ReconcileResult>;
  /** First retry delay; doubles with each consecutive failure. Default 100. */
  baseBackoffMs?: number;
  /** Cap on the retry delay. Default 60_000. */
  maxBackoffMs?: number;
  /** Every this many ms, re-add every known key that nothing else will run. 0 = off (the default). */
  resyncMs?: number;
  /**
   * A reconcile failed. `attempt` counts consecutive failures of the key (1 = first);
   * `retryInMs` is when it runs again (nothing is scheduled for a forgotten key or after stop()).
   */
  onError?: (key: string, error: unknown, attempt: number, retryInMs: number) => void;
  onTerminal?: (key: string, error: string) => void;
}

export interface WorkQueueStats {
  /** Keys waiting for a worker. */
  readonly queued: number;
  /** Keys being reconciled now. */
  readonly running: number;
  /** Keys tracked (added and not forgotten): what a resync re-adds. */
  readonly known: number;
  /** Reconcile passes finished, whatever their outcome. */
  readonly processed: number;
  /** Adds that queued a key (or marked a running one to run again): new work, not duplicates. */
  readonly adds: number;
  /** Keys scheduled again after a failed pass. */
  readonly retries: number;
}

interface KeyState {
  /** Added and not forgotten since. */
  known: boolean;
  /** In the FIFO. */
  queued: boolean;
  running: boolean;
  /** Added while running: goes back in the FIFO when the run ends. */
  dirty: boolean;
  /** The last run was terminal and nothing has added the key since: resync leaves it alone. */
  parked: boolean;
  /** Consecutive failures, for the backoff. */
  failures: number;
  /** The pending delayed add (retry, requeue-after or addAfter), if any; only the earliest is kept. */
  timer: Timer | undefined;
  dueAt: number;
}

type Outcome = ReconcileResult | { readonly kind: 'error'; readonly error: unknown };

// Node runs a longer setTimeout after 1 ms instead; clamp so a huge delay stays huge.
const MAX_DELAY_MS = 2_147_483_647;
// Retries are spread over the top fifth of the backoff window so that keys which failed
// together (the database went away) do not all come back in the same millisecond.
const JITTER = 0.2;
// Compact the FIFO's consumed prefix once it is this long and more than half the array.
const COMPACT_AT = 1024;

export class WorkQueue {
  readonly #clock: Clock;
  readonly #concurrency: number;
  readonly #reconcile: (key: string) => Promise<ReconcileResult>;
  readonly #baseBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #resyncMs: number;
  readonly #onError: WorkQueueOptions['onError'];
  readonly #onTerminal: WorkQueueOptions['onTerminal'];

  readonly #keys = new Map<string, KeyState>();
  // FIFO as an array and a read index: push and shift in O(1), compacted now and then.
  #fifo: string[] = [];
  #head = 0;
  #running = 0;
  #known = 0;
  #processed = 0;
  #adds = 0;
  #retries = 0;
  #started = false;
  #stopped = false;
  #pumping = false;
  #resyncTimer: Timer | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(options: WorkQueueOptions) {
    const { concurrency, baseBackoffMs = 100, maxBackoffMs = 60_000, resyncMs = 0 } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be an integer ≥ 1, got ${concurrency}`);
    }
    if (!(baseBackoffMs > 0) || !(maxBackoffMs >= baseBackoffMs)) {
      throw new RangeError(`need 0 < baseBackoffMs ≤ maxBackoffMs, got ${baseBackoffMs} and ${maxBackoffMs}`);
    }
    if (!(resyncMs >= 0)) throw new RangeError(`resyncMs must be ≥ 0, got ${resyncMs}`);
    this.#clock = options.clock;
    this.#concurrency = concurrency;
    this.#reconcile = options.reconcile;
    this.#baseBackoffMs = baseBackoffMs;
    this.#maxBackoffMs = maxBackoffMs;
    this.#resyncMs = resyncMs;
    this.#onError = options.onError;
    this.#onTerminal = options.onTerminal;
  }

  get stats(): WorkQueueStats {
    return {
      queued: this.#fifo.length - this.#head,
      running: this.#running,
      known: this.#known,
      processed: this.#processed,
      adds: this.#adds,
      retries: this.#retries,
    };
  }

  /** Queues `key` unless it is already queued; if it is running, runs it once more afterwards. Ignored after stop(). */
  add(key: string): void {
    if (this.#stopped) return;
    const state = this.#track(key);
    state.parked = false;
    if (state.running) {
      if (!state.dirty) this.#adds++;
      state.dirty = true;
    } else if (!state.queued) {
      this.#adds++;
      this.#enqueue(key, state);
    }
    this.#pump();
  }

  /**
   * Adds `key` after `ms` of clock time. Of several pending delayed adds of a key only the
   * earliest is kept, and a run that starts first supersedes it: that pass re-reads
   * everything, and its own result says when to come back.
   */
  addAfter(key: string, ms: number): void {
    if (this.#stopped) return;
    const delay = clampDelay(ms);
    if (delay === 0) this.add(key);
    else this.#schedule(key, this.#track(key), delay);
  }

  /** Stops tracking a deleted key: dequeues it, cancels its timer, resets its backoff. A run in progress finishes, and is not retried. */
  forget(key: string): void {
    const state = this.#keys.get(key);
    if (state === undefined) return;
    if (state.known) {
      state.known = false;
      this.#known--;
    }
    this.#cancelTimer(state);
    state.dirty = false;
    state.parked = false;
    state.failures = 0;
    if (state.queued) {
      state.queued = false;
      // O(queue length), but only for a key deleted while still waiting: rare.
      const at = this.#fifo.indexOf(key, this.#head);
      if (at >= 0) this.#fifo.splice(at, 1);
    }
    if (!state.running) this.#keys.delete(key);
  }

  /** Starts the workers (and the resync). Keys added before start() wait for it. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#scheduleResync();
    this.#pump();
  }

  /** Final: drops what is queued, cancels every timer, and resolves once in-flight reconciles end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#resyncTimer !== undefined) this.#resyncTimer.cancel();
    this.#resyncTimer = undefined;
    for (const state of this.#keys.values()) {
      this.#cancelTimer(state);
      state.queued = false;
      state.dirty = false;
    }
    this.#fifo = [];
    this.#head = 0;
    await this.idle();
  }

  /** Resolves when nothing is queued or running (delayed adds may still be pending). For tests. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #track(key: string): KeyState {
    let state = this.#keys.get(key);
    if (state === undefined) {
      state = {
        known: false,
        queued: false,
        running: false,
        dirty: false,
        parked: false,
        failures: 0,
        timer: undefined,
        dueAt: 0,
      };
      this.#keys.set(key, state);
    }
    if (!state.known) {
      state.known = true;
      this.#known++;
    }
    return state;
  }

  /** Callers make sure the key is not running (a running key is marked dirty instead). */
  #enqueue(key: string, state: KeyState): void {
    if (state.queued) return;
    state.queued = true;
    this.#fifo.push(key);
  }

  #schedule(key: string, state: KeyState, delay: number): void {
    const dueAt = this.#clock.now().getTime() + delay;
    if (state.timer !== undefined) {
      if (state.dueAt <= dueAt) return;
      state.timer.cancel();
    }
    state.dueAt = dueAt;
    state.timer = this.#clock.setTimeout(() => {
      state.timer = undefined;
      this.add(key);
    }, delay);
  }

  #cancelTimer(state: KeyState): void {
    if (state.timer === undefined) return;
    state.timer.cancel();
    state.timer = undefined;
  }

  #pump(): void {
    // A reconcile that adds keys synchronously re-enters here; the outer loop picks them up.
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (
        this.#started &&
        !this.#stopped &&
        this.#running < this.#concurrency &&
        this.#head < this.#fifo.length
      ) {
        const key = this.#fifo[this.#head++]!;
        this.#compact();
        const state = this.#keys.get(key)!;
        state.queued = false;
        state.running = true;
        this.#cancelTimer(state);
        this.#running++;
        void this.#run(key, state);
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#isIdle()) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  #compact(): void {
    if (this.#head === this.#fifo.length) {
      this.#fifo = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#fifo.length) {
      this.#fifo = this.#fifo.slice(this.#head);
      this.#head = 0;
    }
  }

  async #run(key: string, state: KeyState): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = checkResult(await this.#reconcile(key));
    } catch (error) {
      outcome = { kind: 'error', error };
    }
    state.running = false;
    this.#running--;
    this.#processed++;
    this.#settle(key, state, outcome);
    this.#pump();
  }

  #settle(key: string, state: KeyState, outcome: Outcome): void {
    // Outcomes are always reported; a forgotten key or a stopped queue schedules nothing.
    const live = state.known && !this.#stopped;
    switch (outcome.kind) {
      case 'done':
        state.failures = 0;
        break;
      case 'requeue-after':
        state.failures = 0;
        if (live) {
          const delay = clampDelay(outcome.ms);
          if (delay === 0) this.#enqueue(key, state);
          else this.#schedule(key, state, delay);
        }
        break;
      case 'terminal':
        state.failures = 0;
        state.parked = true;
        safely(() => this.#onTerminal?.(key, outcome.error));
        break;
      case 'error': {
        state.failures++;
        const delay = backoff(key, state.failures, this.#baseBackoffMs, this.#maxBackoffMs);
        if (live) {
          this.#retries++;
          this.#schedule(key, state, delay);
        }
        safely(() => this.#onError?.(key, outcome.error, state.failures, delay));
        break;
      }
    }
    if (state.dirty) {
      state.dirty = false;
      state.parked = false;
      if (live) this.#enqueue(key, state);
    }
    if (!state.known) this.#keys.delete(key);
  }

  #scheduleResync(): void {
    if (this.#resyncMs === 0 || this.#stopped) return;
    this.#resyncTimer = this.#clock.setTimeout(() => {
      this.#resyncTimer = undefined;
      if (this.#stopped) return;
      // Only keys nothing else will run: queued, running and waiting keys will run anyway,
      // and a resync must not cut a backoff short or revive a terminal key.
      for (const [key, state] of this.#keys) {
        if (state.known && !state.running && !state.parked && state.timer === undefined) {
          this.#enqueue(key, state);
        }
      }
      this.#scheduleResync();
      this.#pump();
    }, this.#resyncMs);
  }

  #isIdle(): boolean {
    return this.#running === 0 && (this.#stopped || this.#head === this.#fifo.length);
  }
}

/**
 * base·2^(attempt−1), capped at max, then lowered by up to 20% by a jitter derived from the
 * key and the attempt: spread across keys, yet the same on every run (no Math.random).
 */
function backoff(key: string, attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 60));
  return clampDelay(Math.max(1, Math.round(ceiling * (1 - JITTER * unitHash(key, attempt)))));
}

/** A number in [0, 1) from the key and attempt: FNV-1a, finished with murmur3's mix. */
function unitHash(key: string, attempt: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ attempt, 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

function clampDelay(ms: number): number {
  return ms > 0 ? Math.min(ms, MAX_DELAY_MS) : 0;
}

/** A reconciler bug (returning nothing, or an unknown kind) is retried like a thrown error. */
function checkResult(result: ReconcileResult): Outcome {
  const kind = (result as Partial<ReconcileResult> | undefined)?.kind;
  if (kind === 'done' || kind === 'requeue-after' || kind === 'terminal') return result;
  return {
    kind: 'error',
    error: new TypeError(`reconcile returned ${JSON.stringify(result)}, not a ReconcileResult`),
  };
}

/** A callback that throws or rejects must not take the queue down with it. */
function safely(callback: () => unknown): void {
  try {
    const result = callback();
    if (result instanceof Promise) result.catch(() => {});
  } catch {
    // Nowhere better to report a failing error reporter; the queue keeps going.
  }
}
