// Where spans are kept: the embedded SQLite file by default, another store later. Traces are
// written far more than read, so the port is shaped for the write path (one call per OTLP
// request, atomic) and for the few searches the API serves; nothing else is indexed.
import type { SpanRecord } from '../domain/telemetry/span.ts';

export interface TraceQuery {
  /** Traces with at least one span of this service. */
  readonly service?: string | undefined;
  /** Traces whose root span served this route (`METHOD /route`, or the root span's name). */
  readonly route?: string | undefined;
  readonly status?: 'error' | 'ok' | undefined;
  readonly minDurationUs?: number | undefined;
  readonly maxDurationUs?: number | undefined;
  /** Trace start, µs since the epoch, inclusive. */
  readonly sinceUs?: number | undefined;
  readonly untilUs?: number | undefined;
  readonly limit: number;
}

export interface TraceSummary {
  readonly traceId: string;
  readonly start: string;
  readonly durationMs: number;
  readonly spanCount: number;
  readonly errorCount: number;
  readonly error: boolean;
  /**
   * The root span's service and route. Until the root arrives (it usually ends, and so is
   * exported, last), the best candidate so far: `complete` says which.
   */
  readonly root: { readonly service: string; readonly route: string; readonly complete: boolean };
  readonly services: readonly string[];
}

export interface RetentionPolicy {
  /** Traces that started longer ago than this are deleted. */
  readonly maxAgeMs: number;
  /** Past this many bytes of live pages, the oldest traces are deleted. */
  readonly maxBytes: number;
}

export interface RetentionPass {
  readonly deletedTraces: number;
  readonly deletedSpans: number;
  /** False when the chunk was full: call again (after yielding) to delete more. */
  readonly done: boolean;
}

export interface SpanStore {
  /**
   * Stores a request's spans in one transaction and returns those that were new: a span
   * already stored (same trace and span id, e.g. an exporter's retry) is skipped.
   */
  append(spans: readonly SpanRecord[]): Promise<readonly SpanRecord[]>;
  /** Newest first. */
  searchTraces(query: TraceQuery): Promise<readonly TraceSummary[]>;
  /** Every span of one trace (32 hex digits), in no particular order; empty when unknown. */
  getTrace(traceId: string): Promise<readonly SpanRecord[]>;
  /** Deletes at most `chunk` whole traces that break the policy, oldest first. */
  enforceRetention(policy: RetentionPolicy, nowMs: number, chunk: number): Promise<RetentionPass>;
  /** Bytes of the pages holding data (the file may be larger by its free pages). */
  sizeBytes(): Promise<number>;
  close(): Promise<void>;
}
