// Request deadlines without a Node timer per request. Deadlines fall into slots of a few
// milliseconds, and one interval per gateway expires the slots whose time has come; setting
// and clearing a deadline is an array push and a store, where setTimeout and clearTimeout
// cost a timer object and trips into libuv on every request. A deadline fires up to one
// slot late, which no route timeout is fine-grained enough to notice.

export interface Expiring {
  /** The wheel's bookkeeping: where this item waits. */
  wheelSlot: (Expiring | undefined)[] | undefined;
  wheelIndex: number;
  expire(): void;
}

export class DeadlineWheel {
  readonly #slotMs: number;
  readonly #now: () => number;
  readonly #slots = new Map<number, (Expiring | undefined)[]>();
  #timer: NodeJS.Timeout | undefined;
  /** The first slot not yet expired. */
  #next: number;
  #pending = 0;

  constructor(slotMs = 10, now: () => number = () => performance.now()) {
    this.#slotMs = slotMs;
    this.#now = now;
    this.#next = Math.floor(now() / slotMs);
  }

  get pending(): number {
    return this.#pending;
  }

  /** `deadline` on the clock given to the constructor (performance.now by default). */
  add(item: Expiring, deadline: number): void {
    if (item.wheelSlot !== undefined) this.cancel(item);
    // A slot expires once its start has passed, so a deadline goes to the slot after it.
    const slot = Math.max(this.#next, Math.ceil(deadline / this.#slotMs));
    let list = this.#slots.get(slot);
    if (list === undefined) {
      list = [];
      this.#slots.set(slot, list);
    }
    item.wheelSlot = list;
    item.wheelIndex = list.push(item) - 1;
    this.#pending++;
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.expireDue(this.#now()), this.#slotMs).unref();
    }
  }

  cancel(item: Expiring): void {
    const list = item.wheelSlot;
    if (list === undefined) return;
    list[item.wheelIndex] = undefined;
    item.wheelSlot = undefined;
    this.#pending--;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Expires every item whose slot has passed by `now` (the interval calls this). */
  expireDue(now: number): void {
    const current = Math.floor(now / this.#slotMs);
    for (; this.#next <= current; this.#next++) {
      const list = this.#slots.get(this.#next);
      if (list === undefined) continue;
      this.#slots.delete(this.#next);
      for (const item of list) {
        if (item === undefined) continue;
        item.wheelSlot = undefined;
        this.#pending--;
        item.expire();
      }
    }
    // Idle: no timer runs until the next deadline is set.
    if (this.#pending === 0) this.stop();
  }
}
