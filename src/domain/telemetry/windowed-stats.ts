// Request counts, errors and latency over a sliding window: a ring of fixed time slots,
// each with its own histogram, so the oldest slot falls off as time moves on and the whole
// window is a merge of at most `slots` small histograms. Time is passed in (ms since the
// epoch); nothing here reads a clock.
import { LogHistogram } from './histogram.ts';

interface Slot {
  index: number;
  count: number;
  errors: number;
  histogram: LogHistogram;
}

export interface WindowFigures {
  readonly count: number;
  readonly errors: number;
  /** errors / count; 0 when there was no request. */
  readonly errorRate: number;
  readonly ratePerSecond: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

export interface SeriesPoint {
  /** The slot's start, ms since the epoch. */
  readonly startMs: number;
  readonly count: number;
  readonly errors: number;
  readonly ratePerSecond: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

export class WindowedStats {
  readonly slotMs: number;
  readonly slots: number;
  readonly #ring: (Slot | undefined)[];

  constructor(options: { slotMs: number; slots: number }) {
    this.slotMs = options.slotMs;
    this.slots = options.slots;
    this.#ring = new Array<Slot | undefined>(options.slots);
  }

  get windowMs(): number {
    return this.slotMs * this.slots;
  }

  /** Records one request that happened at `atMs`; ignored if it is already out of the window of `nowMs`. */
  record(atMs: number, durationMs: number, error: boolean, nowMs: number = atMs): void {
    const index = Math.floor(Math.min(atMs, nowMs) / this.slotMs);
    if (index <= Math.floor(nowMs / this.slotMs) - this.slots) return;
    const position = index % this.slots;
    let slot = this.#ring[position];
    if (slot === undefined || slot.index < index) {
      slot = { index, count: 0, errors: 0, histogram: new LogHistogram() };
      this.#ring[position] = slot;
    } else if (slot.index > index) return; // its place already holds a newer slot
    slot.count++;
    if (error) slot.errors++;
    slot.histogram.record(durationMs);
  }

  /** The whole window ending at `nowMs`, merged. */
  figures(nowMs: number): WindowFigures {
    const merged = new LogHistogram();
    let errors = 0;
    for (const slot of this.#live(nowMs)) {
      merged.merge(slot.histogram);
      errors += slot.errors;
    }
    // The current slot is only partly over: divide by the time the window really covers.
    const current = Math.floor(nowMs / this.slotMs);
    const coveredMs = (this.slots - 1) * this.slotMs + (nowMs - current * this.slotMs);
    return {
      count: merged.count,
      errors,
      errorRate: merged.count === 0 ? 0 : errors / merged.count,
      ratePerSecond: merged.count / Math.max(coveredMs / 1000, 1),
      p50Ms: merged.quantile(0.5),
      p99Ms: merged.quantile(0.99),
    };
  }

  /** One point per slot, oldest first, empty slots included: a chart's x axis. */
  series(nowMs: number): SeriesPoint[] {
    const current = Math.floor(nowMs / this.slotMs);
    const points: SeriesPoint[] = [];
    for (let index = current - this.slots + 1; index <= current; index++) {
      const slot = this.#ring[index % this.slots];
      const live = slot !== undefined && slot.index === index;
      points.push({
        startMs: index * this.slotMs,
        count: live ? slot.count : 0,
        errors: live ? slot.errors : 0,
        ratePerSecond: live ? slot.count / (this.slotMs / 1000) : 0,
        p50Ms: live ? slot.histogram.quantile(0.5) : null,
        p99Ms: live ? slot.histogram.quantile(0.99) : null,
      });
    }
    return points;
  }

  /** Adds another window's slots into this one (same slot size): a service from its routes. */
  mergeFrom(other: WindowedStats, nowMs: number): void {
    for (const slot of other.#live(nowMs)) {
      const position = slot.index % this.slots;
      let mine = this.#ring[position];
      if (mine === undefined || mine.index < slot.index) {
        mine = { index: slot.index, count: 0, errors: 0, histogram: new LogHistogram() };
        this.#ring[position] = mine;
      } else if (mine.index > slot.index) continue;
      mine.count += slot.count;
      mine.errors += slot.errors;
      mine.histogram.merge(slot.histogram);
    }
  }

  /** True when nothing in the window of `nowMs` was recorded. */
  isEmpty(nowMs: number): boolean {
    return this.#live(nowMs).length === 0;
  }

  #live(nowMs: number): Slot[] {
    const oldest = Math.floor(nowMs / this.slotMs) - this.slots + 1;
    return this.#ring.filter((slot): slot is Slot => slot !== undefined && slot.index >= oldest);
  }
}
