// Forwarding to a team's own OTLP endpoint (Jaeger, Tempo, a collector): each accepted
// request body is sent on as it was received (same bytes, content type and encoding),
// after the response to the sender, from a bounded queue. A slow or dead endpoint costs
// dropped forwards, counted, never memory without bound nor latency for the services.
import type { Logger } from 'pino';
import type { Clock } from '../../ports/clock.ts';

export interface ForwarderOptions {
  /** The OTLP/HTTP traces URL, e.g. http://tempo:4318/v1/traces. */
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly maxQueued?: number | undefined;
  readonly maxQueuedBytes?: number | undefined;
  readonly concurrency?: number | undefined;
  readonly timeoutMs?: number | undefined;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly fetch?: typeof fetch | undefined;
  /** Called once per request with what became of it. */
  readonly onResult?: ((result: ForwardResult) => void) | undefined;
}

export type ForwardResult = 'sent' | 'failed' | 'dropped';

export interface ForwarderStats {
  readonly queued: number;
  readonly sent: number;
  readonly failed: number;
  readonly dropped: number;
}

interface Item {
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly contentEncoding: string | undefined;
}

const WARN_EVERY_MS = 30_000;

export class OtlpForwarder {
  readonly #options: ForwarderOptions;
  readonly #fetch: typeof fetch;
  readonly #queue: Item[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #queuedBytes = 0;
  #sent = 0;
  #failed = 0;
  #dropped = 0;
  #lastWarnMs = -Infinity;
  #closed = false;
  /** For logs: never the credentials a URL may carry. */
  readonly #where: string;

  constructor(options: ForwarderOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
    const url = new URL(options.url);
    this.#where = `${url.origin}${url.pathname}`;
  }

  /** Queues one request body; false (and counted) when the queue is full. */
  enqueue(body: Uint8Array, contentType: string, contentEncoding: string | undefined): boolean {
    const maxQueued = this.#options.maxQueued ?? 256;
    const maxBytes = this.#options.maxQueuedBytes ?? 64 * 1024 * 1024;
    if (this.#closed || this.#queue.length >= maxQueued || this.#queuedBytes + body.length > maxBytes) {
      this.#dropped++;
      this.#options.onResult?.('dropped');
      this.#warn('the forward queue is full; dropping traces');
      return false;
    }
    this.#queue.push({ body, contentType, contentEncoding });
    this.#queuedBytes += body.length;
    this.#pump();
    return true;
  }

  stats(): ForwarderStats {
    return { queued: this.#queue.length, sent: this.#sent, failed: this.#failed, dropped: this.#dropped };
  }

  /** Stops taking work, gives what is in flight until `deadlineMs`, then aborts it; the queue is dropped. */
  async close(deadlineMs = 2_000): Promise<void> {
    this.#closed = true;
    this.#dropped += this.#queue.length;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    if (this.#inFlight.size === 0) return;
    let timer: { cancel(): void } | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = this.#options.clock.setTimeout(() => {
        this.#abort.abort();
        resolve();
      }, deadlineMs);
    });
    await Promise.race([Promise.allSettled([...this.#inFlight]), deadline]);
    timer?.cancel();
  }

  #pump(): void {
    const concurrency = this.#options.concurrency ?? 2;
    while (this.#inFlight.size < concurrency && this.#queue.length > 0) {
      const item = this.#queue.shift()!;
      this.#queuedBytes -= item.body.length;
      const sending = this.#send(item).finally(() => {
        this.#inFlight.delete(sending);
        if (!this.#closed) this.#pump();
      });
      this.#inFlight.add(sending);
    }
  }

  async #send(item: Item): Promise<void> {
    const headers: Record<string, string> = { ...this.#options.headers, 'content-type': item.contentType };
    if (item.contentEncoding) headers['content-encoding'] = item.contentEncoding;
    const timeout = AbortSignal.timeout(this.#options.timeoutMs ?? 10_000);
    try {
      const response = await this.#fetch(this.#options.url, {
        method: 'POST',
        headers,
        body: item.body,
        signal: AbortSignal.any([timeout, this.#abort.signal]),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) throw new Error(`${this.#where} answered ${response.status}`);
      this.#sent++;
      this.#options.onResult?.('sent');
    } catch (error) {
      this.#failed++;
      this.#options.onResult?.('failed');
      this.#warn(`forwarding traces failed: ${(error as Error).message}`);
    }
  }

  /** At most one warning per 30 s: a dead endpoint must not flood the log. */
  #warn(message: string): void {
    const now = this.#options.clock.now().getTime();
    if (now - this.#lastWarnMs < WARN_EVERY_MS) return;
    this.#lastWarnMs = now;
    this.#options.logger.warn({ url: this.#where, ...this.stats() }, message);
  }
}
