// Runs the leader-only work while this control plane leads, as controller-runtime's manager
// runs its LeaderElectionRunnables: started in order once elected, stopped in reverse when
// the term ends. Instances are left running when a term is lost: whoever leads next adopts
// them.
//
// What follows a lost term depends on the leadership. With a single-writer lock (SQLite)
// another control plane took the state over: this one must go, and its owner is told
// (`onLost`; `baton server` exits). With a lease (PostgreSQL) a lost term is ordinary — the
// database was away longer than the lease, or this process was paused — so the runner stops
// the work and campaigns again (`campaignAgain`); the runnables start afresh in the next term.
import type { Logger } from 'pino';
import type { Leadership, Term } from '../../ports/leadership.ts';

export type StopReason = 'shutdown' | 'lost';

export interface LeaderRunnable {
  readonly name: string;
  start(term: Term): Promise<void>;
  stop(reason: StopReason): Promise<void>;
}

export interface LeaderRunnerOptions {
  readonly leadership: Leadership;
  readonly runnables: readonly LeaderRunnable[];
  readonly logger: Logger;
  /** After the work stopped because a term was lost. */
  readonly onLost: (reason: unknown, term: Term) => void;
  /** Once elected and the work started. */
  readonly onElected?: ((term: Term) => void) | undefined;
  /** Campaign again after a lost term instead of giving up (a lease; never a single-writer lock). */
  readonly campaignAgain?: boolean | undefined;
}

export class LeaderRunner {
  readonly #o: LeaderRunnerOptions;
  readonly #campaign = new AbortController();
  #term: Term | undefined;
  #started: LeaderRunnable[] = [];
  /** One stop at a time: shutdown and loss may race. */
  #stopping: Promise<void> | undefined;
  #loop: Promise<void> | undefined;
  /** The stop of the work of a lost term, which the next campaign waits for. */
  #lostWork: Promise<void> | undefined;

  constructor(options: LeaderRunnerOptions) {
    this.#o = options;
  }

  /** The current term, while leading. */
  get term(): Term | undefined {
    return this.#term;
  }

  /** Whether this control plane leads and may act now. */
  get leading(): boolean {
    return this.#term !== undefined && !this.#term.lost.aborted;
  }

  /**
   * Campaigns; resolves once elected and every runnable has started. Rejects when the
   * campaign is refused. With `inBackground` it resolves at once and campaigns (again and
   * again, with `campaignAgain`) behind: a replica serves while it waits to lead.
   */
  async start(options: { inBackground?: boolean } = {}): Promise<void> {
    if (options.inBackground) {
      this.#loop = this.#campaignForever();
      return;
    }
    await this.#lead();
  }

  /** Clean shutdown: stops the work, then gives leadership up so another can lead at once. */
  async stop(): Promise<void> {
    this.#campaign.abort();
    await this.#stopWork('shutdown');
    const term = this.#term;
    this.#term = undefined;
    await term?.release();
    await this.#loop;
  }

  async #campaignForever(): Promise<void> {
    while (!this.#campaign.signal.aborted) {
      try {
        const term = await this.#lead();
        await new Promise<void>((resolve) => {
          term.lost.addEventListener('abort', () => resolve(), { once: true });
          this.#campaign.signal.addEventListener('abort', () => resolve(), { once: true });
          if (term.lost.aborted || this.#campaign.signal.aborted) resolve();
        });
        await this.#lostWork;
        if (!this.#o.campaignAgain) return;
      } catch (error) {
        if (this.#campaign.signal.aborted) return;
        this.#o.logger.error({ err: error }, 'could not start leading; campaigning again');
      }
    }
  }

  async #lead(): Promise<Term> {
    const term = await this.#o.leadership.campaign(this.#campaign.signal);
    this.#term = term;
    this.#stopping = undefined;
    this.#o.logger.info({ leadership: this.#o.leadership.name, epoch: term.epoch }, 'leading');
    try {
      for (const runnable of this.#o.runnables) {
        if (term.lost.aborted) break;
        await runnable.start(term);
        this.#started.push(runnable);
      }
    } catch (error) {
      await this.#stopWork('shutdown');
      await term.release();
      this.#term = undefined;
      throw error;
    }
    const lose = () => (this.#lostWork = this.#lose(term));
    if (term.lost.aborted) void lose();
    else {
      term.lost.addEventListener('abort', lose, { once: true });
      this.#o.onElected?.(term);
    }
    return term;
  }

  async #lose(term: Term): Promise<void> {
    if (this.#term !== term) return;
    this.#term = undefined;
    this.#o.logger.error(
      { err: term.lost.reason, epoch: term.epoch },
      'leadership lost: stopping leader-only work',
    );
    await this.#stopWork('lost');
    this.#o.onLost(term.lost.reason, term);
  }

  #stopWork(reason: StopReason): Promise<void> {
    this.#stopping ??= (async () => {
      for (const runnable of this.#started.splice(0).reverse()) {
        try {
          await runnable.stop(reason);
        } catch (error) {
          this.#o.logger.error({ err: error, runnable: runnable.name }, 'leader-only work failed to stop');
        }
      }
    })();
    return this.#stopping;
  }
}
