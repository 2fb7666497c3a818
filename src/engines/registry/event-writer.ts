// Writes registry transitions to the event log in the order they happened, batched: a
// rollout of many instances makes one store write per tick, not one per transition.
import type { Logger } from 'pino';
import type { NewEvent, Store } from '../../ports/store.ts';
import type { TransitionReport } from './registry.ts';

export class EventWriter {
  readonly #store: Store;
  readonly #logger: Logger;
  #buffer: NewEvent[] = [];
  #flushing: Promise<void> | undefined;

  constructor(store: Store, logger: Logger) {
    this.#store = store;
    this.#logger = logger;
  }

  push(event: NewEvent): void {
    this.#buffer.push(event);
    this.#flushing ??= this.#flush();
  }

  /** Resolves once everything pushed so far is stored. */
  async drain(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async #flush(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.#buffer.length > 0) {
      const batch = this.#buffer;
      this.#buffer = [];
      try {
        await this.#store.appendEvents(batch);
      } catch (error) {
        // The registry stays right; only the audit trail misses these. Say so loudly.
        this.#logger.error({ err: error, lost: batch.length }, 'could not record instance events');
      }
    }
    this.#flushing = undefined;
  }
}

/** An instance transition as an event: what happened, to which instance, and why. */
export function transitionEvent(report: TransitionReport, time: string): NewEvent {
  const { record, from, cause, detail } = report;
  return {
    kind: `instance.${record.phase}`,
    service: record.service,
    revision: record.revision,
    actor: cause === 'readiness-passed' || cause.startsWith('probe') ? 'health' : 'controller',
    message: `${record.id} ${from} → ${record.phase} (${cause}${detail ? `: ${detail}` : ''})`,
    data: {
      instance: record.id,
      version: record.version,
      from,
      to: record.phase,
      cause,
      ...(detail ? { detail } : {}),
    },
    time,
  };
}
