// Keeps the span store within its age and size limits: every so often, delete the oldest
// whole traces in bounded chunks, yielding between chunks so ingest and queries never wait
// behind one long delete.
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../ports/clock.ts';
import type { RetentionPolicy, SpanStore } from '../../ports/span-store.ts';

export const DEFAULT_RETENTION: RetentionPolicy = {
  maxAgeMs: 3 * 24 * 3_600_000,
  maxBytes: 1024 * 1024 * 1024,
};

const CHUNK_TRACES = 500;

export class RetentionLoop {
  readonly #store: SpanStore;
  readonly #policy: RetentionPolicy;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #everyMs: number;
  #timer: Timer | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(options: {
    store: SpanStore;
    policy: RetentionPolicy;
    clock: Clock;
    logger: Logger;
    everyMs: number;
  }) {
    this.#store = options.store;
    this.#policy = options.policy;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#everyMs = options.everyMs;
    this.#schedule();
  }

  /** One full pass: chunks until nothing breaks the policy. */
  runOnce(): Promise<void> {
    this.#running ??= this.#pass().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#timer?.cancel();
    await this.#running;
  }

  async #pass(): Promise<void> {
    let traces = 0;
    let spans = 0;
    try {
      while (!this.#closed) {
        const pass = await this.#store.enforceRetention(
          this.#policy,
          this.#clock.now().getTime(),
          CHUNK_TRACES,
        );
        traces += pass.deletedTraces;
        spans += pass.deletedSpans;
        if (pass.done) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (traces > 0) this.#logger.info({ traces, spans }, 'trace retention deleted old traces');
    } catch (error) {
      this.#logger.error({ err: error }, 'trace retention failed; will try again');
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#clock.setTimeout(() => {
      void this.runOnce().then(() => this.#schedule());
    }, this.#everyMs);
  }
}
