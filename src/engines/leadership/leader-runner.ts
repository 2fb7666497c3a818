// Runs the leader-only work while this control plane leads, as controller-runtime's manager
// runs its LeaderElectionRunnables: started in order once elected, stopped in reverse when
// the term ends. A term lost (not released) is the end of this process as a leader — like
// controller-runtime, which exits when it stops leading: the work stops at once, instances
// are left running for whoever leads next, and the owner is told (`baton server` exits).
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
  /** After the work stopped because leadership was lost. */
  readonly onLost: (reason: unknown) => void;
}

export class LeaderRunner {
  readonly #o: LeaderRunnerOptions;
  readonly #campaign = new AbortController();
  #term: Term | undefined;
  #started: LeaderRunnable[] = [];
  /** One stop at a time: shutdown and loss may race. */
  #stopping: Promise<void> | undefined;

  constructor(options: LeaderRunnerOptions) {
    this.#o = options;
  }

  /** The current term, while leading. */
  get term(): Term | undefined {
    return this.#term;
  }

  /** Campaigns; resolves once elected and every runnable has started. Rejects when the campaign is refused. */
  async start(): Promise<void> {
    const term = await this.#o.leadership.campaign(this.#campaign.signal);
    this.#term = term;
    this.#o.logger.info({ leadership: this.#o.leadership.name, epoch: term.epoch }, 'leading');
    try {
      for (const runnable of this.#o.runnables) {
        await runnable.start(term);
        this.#started.push(runnable);
      }
    } catch (error) {
      await this.#stopWork('shutdown');
      await term.release();
      this.#term = undefined;
      throw error;
    }
    term.lost.addEventListener('abort', () => void this.#lose(term), { once: true });
  }

  /** Clean shutdown: stops the work, then gives leadership up so another can lead at once. */
  async stop(): Promise<void> {
    this.#campaign.abort();
    await this.#stopWork('shutdown');
    const term = this.#term;
    this.#term = undefined;
    await term?.release();
  }

  async #lose(term: Term): Promise<void> {
    if (this.#term !== term) return;
    this.#term = undefined;
    this.#o.logger.error(
      { err: term.lost.reason, epoch: term.epoch },
      'leadership lost: stopping leader-only work',
    );
    await this.#stopWork('lost');
    this.#o.onLost(term.lost.reason);
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
