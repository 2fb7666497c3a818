// The engine's event stream for one owner's containers: how an exit is seen at once rather
// than at the next poll. When the stream breaks (the engine restarts, a proxy drops it), it is
// opened again from the time of the last event seen, and the runtime is told to look at what
// it tracks, since an event may still have slipped between the two.
import type Docker from 'dockerode';
import type { Clock, Timer } from '../../../ports/clock.ts';

export interface ContainerEvent {
  readonly action: 'start' | 'die' | 'oom' | 'destroy';
  readonly containerId: string;
  /** The container's labels (the engine sends them as attributes). */
  readonly attributes: Readonly<Record<string, string>>;
  /** Nanoseconds since the epoch. */
  readonly timeNano: number;
}

const RECONNECT_MS = 1_000;

export interface EngineEventsOptions {
  readonly docker: Docker;
  /** `key=value` labels every reported container carries. */
  readonly label: string;
  readonly clock: Clock;
  readonly onEvent: (event: ContainerEvent) => void;
  /** After a reconnection: look again at everything tracked. */
  readonly onResync: () => void;
  readonly onError?: ((error: unknown) => void) | undefined;
}

export class EngineEvents {
  readonly #o: EngineEventsOptions;
  #stream: NodeJS.ReadableStream | undefined;
  #sinceNano: number | undefined;
  #retry: Timer | undefined;
  #closed = false;

  constructor(options: EngineEventsOptions) {
    this.#o = options;
  }

  /** Resolves once the engine streams: nothing that happens afterwards is missed. */
  async open(): Promise<void> {
    const filters = {
      type: ['container' as const],
      label: [this.#o.label],
      event: ['start', 'die', 'oom', 'destroy'],
    };
    // Seconds; an event replayed at the boundary finds nothing tracked, or an instance already ended.
    const since = this.#sinceNano === undefined ? undefined : this.#sinceNano / 1e9;
    const stream: NodeJS.ReadableStream = await this.#o.docker.getEvents({
      filters,
      ...(since === undefined ? {} : { since }),
    });
    if (this.#closed) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      return;
    }
    this.#stream = stream;
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line !== '') this.#receive(line);
      }
    });
    const broken = () => {
      if (this.#stream !== stream) return;
      this.#stream = undefined;
      this.#reconnectLater();
    };
    stream.once('end', broken);
    stream.once('close', broken);
    stream.once('error', (error) => {
      this.#o.onError?.(error);
      broken();
    });
  }

  close(): void {
    this.#closed = true;
    this.#retry?.cancel();
    const stream = this.#stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    this.#stream = undefined;
    stream?.destroy?.();
  }

  #receive(line: string): void {
    let raw: {
      Type?: string;
      Action?: string;
      Actor?: { ID?: string; Attributes?: Record<string, string> };
      timeNano?: number;
    };
    try {
      raw = JSON.parse(line);
    } catch {
      return;
    }
    const action = raw.Action;
    if (raw.Type !== 'container' || !raw.Actor?.ID) return;
    if (action !== 'start' && action !== 'die' && action !== 'oom' && action !== 'destroy') return;
    if (raw.timeNano !== undefined) this.#sinceNano = Math.max(this.#sinceNano ?? 0, raw.timeNano);
    this.#o.onEvent({
      action,
      containerId: raw.Actor.ID,
      attributes: raw.Actor.Attributes ?? {},
      timeNano: raw.timeNano ?? 0,
    });
  }

  #reconnectLater(): void {
    if (this.#closed) return;
    this.#retry = this.#o.clock.setTimeout(() => {
      this.open().then(
        () => this.#o.onResync(),
        (error: unknown) => {
          this.#o.onError?.(error);
          this.#reconnectLater();
        },
      );
    }, RECONNECT_MS);
  }
}
