// Span records for the telemetry tests: a readable sketch in, a whole SpanRecord out.
import type { SpanRecord } from './span.ts';

export const TRACE = '0af7651916cd43dd8448eb211c80319c';
const EMPTY = Object.freeze({});

/** `id` is a short label (`a`, `b1`) turned into a 16-hex-digit span id, as is `parent`. */
export function spanOf(
  sketch: Partial<Omit<SpanRecord, 'spanId' | 'parentSpanId'>> & {
    id: string;
    parent?: string | undefined;
    /** Start and duration in ms (converted to µs). */
    at?: number;
    ms?: number;
  },
): SpanRecord {
  const { id, parent, at = 0, ms = 1, ...rest } = sketch;
  return {
    traceId: TRACE,
    spanId: spanIdOf(id),
    parentSpanId: parent === undefined ? undefined : spanIdOf(parent),
    service: 'svc',
    instance: undefined,
    version: undefined,
    name: id,
    kind: 'internal',
    startUs: 1_700_000_000_000_000 + Math.round(at * 1000),
    durationUs: Math.round(ms * 1000),
    status: 'unset',
    attributes: EMPTY,
    resource: EMPTY,
    ...rest,
  };
}

export function spanIdOf(label: string): string {
  return Buffer.from(label.padEnd(8, '_').slice(0, 8)).toString('hex');
}
