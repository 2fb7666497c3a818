// Span export across control-plane replicas: one OTLP exporter per replica; a batch the
// current one fails to deliver goes to the next at once (each replica once per batch), and
// later batches stay with the one that took it. The OTel exporter retries a replica that is
// overloaded (429, 503) by itself; a refused connection or a timeout comes back here.
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/** ExportResultCode.SUCCESS, without importing @opentelemetry/core's values at load time. */
const SUCCESS = 0;

export class FailoverExporter implements SpanExporter {
  readonly #exporters: readonly SpanExporter[];
  #current = 0;

  constructor(exporters: readonly SpanExporter[]) {
    if (exporters.length === 0) throw new RangeError('no exporter');
    this.#exporters = exporters;
  }

  /** Which replica takes the next batch first (an index into the list). */
  get current(): number {
    return this.#current;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const attempt = (tried: number, at: number) => {
      this.#exporters[at]!.export(spans, (result) => {
        if (result.code === SUCCESS) {
          this.#current = at;
          return done(result);
        }
        if (tried + 1 >= this.#exporters.length) return done(result);
        attempt(tried + 1, (at + 1) % this.#exporters.length);
      });
    };
    attempt(0, this.#current);
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.#exporters.map((e) => e.shutdown()));
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.#exporters.map((e) => e.forceFlush?.()));
  }
}
