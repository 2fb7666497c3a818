// Lines from several followed streams, handed to one reader in arrival order, until the
// reader's signal aborts (or it stops reading).
export class LineChannel<T> implements AsyncIterable<T> {
  readonly #queue: T[] = [];
  readonly #closers: (() => void)[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(signal?: AbortSignal) {
    if (signal?.aborted) this.close();
    signal?.addEventListener('abort', () => this.close(), { once: true });
  }

  push(item: T): void {
    if (this.#closed) return;
    this.#queue.push(item);
    this.#wake?.();
  }

  /** Called once the channel closes: a follower lets go of its stream. */
  onClose(closer: () => void): void {
    if (this.#closed) closer();
    else this.#closers.push(closer);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const closer of this.#closers.splice(0)) closer();
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    while (true) {
      while (this.#queue.length > 0) {
        if (this.#closed) return;
        yield this.#queue.shift()!;
      }
      if (this.#closed) return;
      await new Promise<void>((wake) => (this.#wake = wake));
      this.#wake = undefined;
    }
  }
}
