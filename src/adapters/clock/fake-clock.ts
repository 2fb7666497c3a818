// A clock that moves only when told to: for the controller, probers and the simulated
// runtime in tests and scale benchmarks.
import type { Clock, Timer } from '../../ports/clock.ts';

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #pending: Pending[] = [];

  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.#now = start;
  }

  now(): Date {
    return new Date(this.#now);
  }

  setTimeout(callback: () => void, ms: number): Timer {
    const entry: Pending = { at: this.#now + Math.max(0, ms), seq: this.#seq++, callback, cancelled: false };
    this.#pending.push(entry);
    return { cancel: () => void (entry.cancelled = true) };
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.#pending.filter((p) => !p.cancelled).length;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order (ties in creation order). Timers
   * that callbacks create inside the window fire too. Awaits microtasks between timers so
   * that async work a timer starts can settle before the next one.
   */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    // Promises that resolved before this call may still create timers due in this window.
    await settle();
    for (;;) {
      this.#pending = this.#pending.filter((p) => !p.cancelled);
      const next = this.#pending.reduce<Pending | undefined>(
        (a, b) => (a === undefined || b.at < a.at || (b.at === a.at && b.seq < a.seq) ? b : a),
        undefined,
      );
      if (next === undefined || next.at > until) break;
      this.#pending.splice(this.#pending.indexOf(next), 1);
      this.#now = next.at;
      next.callback();
      await settle();
    }
    this.#now = until;
    await settle();
  }
}

/** Lets pending promise chains run to completion (several hops of microtasks and I/O-free awaits). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
