// W3C Trace Context (traceparent) and request ids. The gateway continues the caller's trace
// when it sent a valid traceparent and starts one otherwise; either way it creates a span of
// its own and passes that span's id upstream as the parent.
import { randomFillSync, randomUUID } from 'node:crypto';

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(?:-|$)/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';
/** Printable ASCII without spaces, and short: anything else is replaced, not forwarded. */
const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

// Ids come from one random buffer refilled 16 KiB at a time (one system call per ~680
// requests) and are hex-encoded by Buffer's own hexSlice: Number#toString(16) costs ten
// times more, and on every request.
type Hex = { hexSlice(start: number, end: number): string };
const pool = Buffer.allocUnsafe(16 * 1024);
let offset = pool.length;

function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = (pool as unknown as Hex).hexSlice(offset, offset + bytes);
  offset += bytes;
  return hex;
}

/** A traceparent this gateway may continue (version 00, or a later one read as 00). */
export function isValidTraceparent(value: string): boolean {
  if (!TRACEPARENT.test(value)) return false;
  const version = value.slice(0, 2);
  if (version === 'ff' || (version === '00' && value.length !== 55)) return false;
  return value.slice(3, 35) !== ZERO_TRACE && value.slice(36, 52) !== ZERO_SPAN;
}

export function newTraceId(): string {
  let id = randomHex(16);
  // All zeros is the one invalid trace id.
  if (id === ZERO_TRACE) id = newTraceId();
  return id;
}

export function newSpanId(): string {
  let id = randomHex(8);
  if (id === ZERO_SPAN) id = newSpanId();
  return id;
}

export function traceparent(traceId: string, spanId: string, flags: string): string {
  return `00-${traceId}-${spanId}-${flags}`;
}

/** The caller's request id when it is usable, else a new one. */
export function requestIdFrom(header: string | undefined): string {
  return header !== undefined && REQUEST_ID.test(header) ? header : randomUUID();
}
