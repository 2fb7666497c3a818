// The access log: one pino line per request, with ids, route, outcome and timing, and never
// a header value (headers carry credentials and personal data; the query string is left out
// for the same reason).
//
// At thousands of requests per second pino's general-purpose serialisation (a dozen checks
// per field) and one stream write per line cost more than routing the request. When the
// logger is configured plainly (no redaction, mixin, log formatter, hooks or multistream),
// each line is assembled directly from the logger's own pieces (level, time, bindings,
// message key) — the same bytes pino would write — and the lines of one event-loop turn go
// to its stream in one write. Otherwise each record goes through logger.info.
import type { Logger } from 'pino';
import { symbols } from 'pino';

export interface AccessRecord {
  readonly reqId: string;
  readonly traceId: string;
  readonly spanId: string;
  /** '' when the gateway started the trace. */
  readonly parentSpanId: string;
  readonly client: string;
  /** East-west: the calling service (the listener names it). */
  readonly caller?: string | undefined;
  readonly method: string;
  /** '' when the request named no host. */
  readonly host: string;
  readonly path: string;
  readonly route: string | undefined;
  readonly service: string | undefined;
  readonly instance: string | undefined;
  readonly version: string | undefined;
  readonly status: number;
  /** 'ok', or why not (a gateway problem code, upstream-5xx, client-closed, …). */
  readonly outcome: string;
  readonly attempts: number;
  readonly bytesOut: number;
  readonly durationMs: number;
}

export interface AccessLog {
  /** False when nothing would be written: callers skip building the record. */
  enabled(): boolean;
  write(record: AccessRecord): void;
  /** Hands buffered lines to the logger's stream now (on close). */
  flush(): void;
}

/** Lines are handed to the stream once per event-loop turn, or sooner past this size. */
const BATCH_CHARS = 64 * 1024;

const MESSAGE = 'request';
const INFO = 30;

type Internals = {
  [symbols.lsCacheSym]: Record<number, string>;
  [symbols.timeSym]: () => string;
  [symbols.chindingsSym]: string;
  [symbols.endSym]: string;
  [symbols.messageKeySym]: string;
  [symbols.streamSym]: { write(line: string): unknown; [symbols.needsMetadataGsym]?: boolean };
  [symbols.mixinSym]: unknown;
  [symbols.formattersSym]: { log?: unknown };
  [symbols.hooksSym]: { logMethod?: unknown; streamWrite?: unknown };
  [symbols.stringifiersSym]: object;
};

export function accessLog(logger: Logger | false): AccessLog {
  if (logger === false) return { enabled: () => false, write: () => {}, flush: () => {} };
  const internals = logger as unknown as Internals;
  const plain =
    !internals[symbols.mixinSym] &&
    internals[symbols.formattersSym]?.log === undefined &&
    internals[symbols.hooksSym]?.logMethod === undefined &&
    internals[symbols.hooksSym]?.streamWrite === undefined &&
    Object.getOwnPropertySymbols(internals[symbols.stringifiersSym] ?? {}).length === 0 &&
    Object.keys(internals[symbols.stringifiersSym] ?? {}).length === 0 &&
    typeof internals[symbols.streamSym]?.write === 'function' &&
    // pino.multistream routes each line by level metadata set by logger calls.
    internals[symbols.streamSym][symbols.needsMetadataGsym] !== true;
  const enabled = () => logger.isLevelEnabled('info');
  if (!plain) {
    return {
      enabled,
      write: (record) => {
        if (enabled()) logger.info(fields(record), MESSAGE);
      },
      flush: () => {},
    };
  }
  // One write per event-loop turn instead of one per request: a write to a pino destination
  // costs several microseconds however short the line (a system call when synchronous).
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending === '') return;
    const batch = pending;
    pending = '';
    internals[symbols.streamSym].write(batch);
  };
  const write = (record: AccessRecord) => {
    if (!enabled()) return;
    pending +=
      internals[symbols.lsCacheSym][INFO]! +
      internals[symbols.timeSym]() +
      internals[symbols.chindingsSym] +
      encode(record) +
      `,${str(internals[symbols.messageKeySym])}:"${MESSAGE}"` +
      internals[symbols.endSym];
    if (pending.length >= BATCH_CHARS) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return { enabled, write, flush };
}

/** The record as pino would log it: absent values left out. */
function fields(r: AccessRecord): Record<string, unknown> {
  return {
    reqId: r.reqId,
    traceId: r.traceId,
    spanId: r.spanId,
    parentSpanId: r.parentSpanId || undefined,
    client: r.client,
    caller: r.caller,
    method: r.method,
    host: r.host || undefined,
    path: r.path,
    route: r.route,
    service: r.service,
    instance: r.instance,
    version: r.version,
    status: r.status,
    outcome: r.outcome,
    attempts: r.attempts,
    bytesOut: r.bytesOut,
    durationMs: r.durationMs,
  };
}

function encode(r: AccessRecord): string {
  let out = `,"reqId":${str(r.reqId)},"traceId":"${r.traceId}","spanId":"${r.spanId}"`;
  if (r.parentSpanId !== '') out += `,"parentSpanId":"${r.parentSpanId}"`;
  out += `,"client":${str(r.client)}`;
  if (r.caller !== undefined) out += `,"caller":${str(r.caller)}`;
  out += `,"method":${str(r.method)}`;
  if (r.host !== '') out += `,"host":${str(r.host)}`;
  out += `,"path":${str(r.path)}`;
  if (r.route !== undefined) out += `,"route":${str(r.route)}`;
  if (r.service !== undefined) out += `,"service":${str(r.service)}`;
  if (r.instance !== undefined) out += `,"instance":${str(r.instance)}`;
  if (r.version !== undefined) out += `,"version":${str(r.version)}`;
  return (
    out +
    `,"status":${r.status},"outcome":${str(r.outcome)},"attempts":${r.attempts},` +
    `"bytesOut":${r.bytesOut},"durationMs":${Number.isFinite(r.durationMs) ? r.durationMs : null}`
  );
}

/** A JSON string literal; a plain copy between quotes when nothing needs escaping. */
function str(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 || c === 34 || c === 92 || c > 126) return JSON.stringify(text);
  }
  return `"${text}"`;
}
