// The gateway's queueing delay, for load shedding: how late a periodic timer fires. In a
// single-threaded process every request waits behind the same event loop, so this lateness
// is the time a new request spends queued before the gateway even looks at it.
import { smoothDelay } from '../../domain/gateway/load-shedder.ts';

const INTERVAL_MS = 50;

export class LoadMonitor {
  /** Current estimate in ms, smoothed over a few ticks (see smoothDelay). */
  delayMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #last = 0;

  start(): void {
    this.#last = performance.now();
    this.#timer = setInterval(() => {
      const now = performance.now();
      const lag = Math.max(0, now - this.#last - INTERVAL_MS);
      this.#last = now;
      this.delayMs = smoothDelay(this.delayMs, lag);
    }, INTERVAL_MS).unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
