// A bulkhead per service: at most `limit` requests in flight, then at most `queue` waiting
// for a slot, first come first served; beyond that, refuse at once. One slow service thus
// cannot hold every connection and every byte of memory of the gateway.

export class Bulkhead<T> {
  active = 0;
  #limit: number;
  #queueLimit: number;
  // A growable ring would be faster; waiting is the rare path and queues are short.
  #waiting: T[] = [];
  #head = 0;

  constructor(limit: number, queue: number) {
    this.#limit = limit;
    this.#queueLimit = queue;
  }

  get queued(): number {
    return this.#waiting.length - this.#head;
  }

  configure(limit: number, queue: number): void {
    this.#limit = limit;
    this.#queueLimit = queue;
  }

  /** Takes a slot if one is free. */
  tryAcquire(): boolean {
    if (this.active >= this.#limit || this.queued > 0) return false;
    this.active++;
    return true;
  }

  /** Waits for a slot; false when the queue is full. */
  enqueue(waiter: T): boolean {
    if (this.queued >= this.#queueLimit) return false;
    this.#waiting.push(waiter);
    return true;
  }

  /**
   * Gives a slot back. Returns the waiter that now holds it (the slot passes straight to
   * it), or undefined when nobody was waiting.
   */
  release(): T | undefined {
    if (this.queued > 0 && this.active <= this.#limit) {
      const next = this.#waiting[this.#head++]!;
      this.#compact();
      return next;
    }
    if (this.active > 0) this.active--;
    return undefined;
  }

  /** Hands free slots (after the limit was raised) to waiters; returns them. */
  admitWaiting(): T[] {
    const admitted: T[] = [];
    while (this.queued > 0 && this.active < this.#limit) {
      this.active++;
      admitted.push(this.#waiting[this.#head++]!);
    }
    this.#compact();
    return admitted;
  }

  /** Removes a waiter that gave up (deadline, client gone); false if it was not waiting. */
  remove(waiter: T): boolean {
    const i = this.#waiting.indexOf(waiter, this.#head);
    if (i === -1) return false;
    this.#waiting.splice(i, 1);
    return true;
  }

  #compact(): void {
    if (this.#head === this.#waiting.length) {
      this.#waiting = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
  }
}
