// A clock that moves only when told to: for the controller, probers and the simulated
// runtime in tests and scale benchmarks.
//
// Pending timers live in a binary min-heap ordered by (due time, creation order): a scale
// run has one timer per watched instance (100,000 health probes), so finding the next one
// must not scan them all. A cancelled timer stays in the heap and is skipped when it
// surfaces; the heap is rebuilt once most of it is cancelled.
import type { Clock, Timer } from '../../ports/clock.ts';

/** A pending timer is its own handle: one object per timer, 100,000 of them at scale. */
class Pending implements Timer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
  readonly #onCancel: () => void;
  /** Cancelled, or fired: either way it must not count or fire again. */
  done = false;

  constructor(at: number, seq: number, callback: () => void, onCancel: () => void) {
    this.at = at;
    this.seq = seq;
    this.callback = callback;
    this.#onCancel = onCancel;
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.#onCancel();
  }
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #heap: Pending[] = [];
  /** Entries in the heap not yet fired or cancelled. */
  #live = 0;

  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.#now = start;
  }

  now(): Date {
    return new Date(this.#now);
  }

  setTimeout(callback: () => void, ms: number): Timer {
    const entry = new Pending(this.#now + Math.max(0, ms), this.#seq++, callback, this.#cancelled);
    this.#push(entry);
    this.#live++;
    return entry;
  }

  readonly #cancelled = (): void => {
    this.#live--;
    if (this.#heap.length > 1024 && this.#live * 2 < this.#heap.length) this.#rebuild();
  };

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.#live;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order (ties in creation order). Timers
   * that callbacks create inside the window fire too. Awaits microtasks between timers so
   * that async work a timer starts can settle before the next one: between timers due at
   * the same instant, one macrotask turn (every promise chain that waits on nothing else
   * completes — Node itself runs only microtasks there); before time moves on, several.
   */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    // Promises that resolved before this call may still create timers due in this window.
    await settle();
    for (;;) {
      const next = this.#peek();
      if (next === undefined || next.at > until) break;
      this.#pop();
      next.done = true;
      this.#live--;
      this.#now = next.at;
      next.callback();
      if (this.#peek()?.at === next.at) await turn();
      else await settle();
    }
    this.#now = until;
    await settle();
  }

  /** The earliest live entry, with cancelled ones above it dropped. */
  #peek(): Pending | undefined {
    while (this.#heap.length > 0 && this.#heap[0]!.done) this.#pop();
    return this.#heap[0];
  }

  #push(entry: Pending): void {
    const heap = this.#heap;
    let i = heap.push(entry) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }

  #rebuild(): void {
    const live = this.#heap.filter((p) => !p.done);
    this.#heap = [];
    for (const entry of live) this.#push(entry);
  }
}

function before(a: Pending, b: Pending): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** One macrotask turn: every microtask queued until then, and those they queue, run first. */
function turn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** Lets pending promise chains run to completion (several hops of microtasks and I/O-free awaits). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await turn();
}
