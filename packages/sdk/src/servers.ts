// BATON_SERVER names the control plane: one URL, or every replica's URL comma-separated (as
// the CLI and the gateway take it; Baton gives its instances the replicas on their machine,
// their own first). A client stays with one replica while it answers and moves to the next
// when it does not, around the list; only a whole round of failures waits before the next.

/** The URLs in BATON_SERVER (or an option), trimmed, without trailing slashes; [] when unset. */
export function serverList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((url) => url.trim().replace(/\/+$/, ''))
    .filter((url) => url !== '');
}

export class Replicas {
  readonly #urls: readonly string[];
  #current = 0;
  #failedInRow = 0;

  constructor(urls: readonly string[]) {
    if (urls.length === 0) throw new RangeError('no control-plane URL');
    this.#urls = urls;
  }

  get urls(): readonly string[] {
    return this.#urls;
  }

  /** The replica to use now. */
  get current(): string {
    return this.#urls[this.#current]!;
  }

  /** The current one answered: it stays. */
  succeeded(): void {
    this.#failedInRow = 0;
  }

  /**
   * The current one failed: move to the next. True when every replica has failed since the
   * last success, so that the caller backs off before going round again.
   */
  failed(): boolean {
    this.#current = (this.#current + 1) % this.#urls.length;
    this.#failedInRow++;
    if (this.#failedInRow < this.#urls.length) return false;
    this.#failedInRow = 0;
    return true;
  }
}
