// A span as Baton keeps it: OTLP flattened to one record per span, with the resource's
// Baton identity (service, instance, version) copied in, and times in microseconds since
// the epoch (integers: exact, and far inside 2^53 for the next few thousand years).

export const SPAN_KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
/** OTLP's SpanKind, by its proto number (0–5). */
export type SpanKind = (typeof SPAN_KINDS)[number];

export const SPAN_STATUSES = ['unset', 'ok', 'error'] as const;
/** OTLP's StatusCode, by its proto number (0–2). */
export type SpanStatus = (typeof SPAN_STATUSES)[number];

/** An attribute value as JSON: OTLP's AnyValue without the wrapper (bytes as base64). */
export type AttributeValue =
  string | number | boolean | null | readonly AttributeValue[] | { readonly [key: string]: AttributeValue };

export type Attributes = Readonly<Record<string, AttributeValue>>;

export interface SpanEvent {
  readonly timeUs: number;
  readonly name: string;
  readonly attributes?: Attributes | undefined;
}

export interface SpanLink {
  readonly traceId: string;
  readonly spanId: string;
  readonly attributes?: Attributes | undefined;
}

export interface SpanRecord {
  /** 32 lowercase hex digits, never all zeros. */
  readonly traceId: string;
  /** 16 lowercase hex digits, never all zeros. */
  readonly spanId: string;
  /** Absent for a root span. */
  readonly parentSpanId: string | undefined;
  /** The resource's `service.name` (OTel's `unknown_service` when it has none). */
  readonly service: string;
  readonly instance: string | undefined;
  readonly version: string | undefined;
  readonly name: string;
  readonly kind: SpanKind;
  readonly startUs: number;
  /** Never negative: a span that ends before it starts is stored as lasting 0. */
  readonly durationUs: number;
  readonly status: SpanStatus;
  readonly statusMessage?: string | undefined;
  readonly attributes: Attributes;
  readonly events?: readonly SpanEvent[] | undefined;
  readonly links?: readonly SpanLink[] | undefined;
  /** The resource's attributes beyond the Baton identity; stored once per distinct resource. */
  readonly resource: Attributes;
}

export function endUs(span: Pick<SpanRecord, 'startUs' | 'durationUs'>): number {
  return span.startUs + span.durationUs;
}

function numberAttribute(attributes: Attributes, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const value = attributes[key];
    if (typeof value === 'number') return value;
    if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  }
  return undefined;
}

function stringAttribute(attributes: Attributes, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = attributes[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** `http.response.status_code` (or the older `http.status_code`), when the span has one. */
export function httpStatusOf(span: Pick<SpanRecord, 'attributes'>): number | undefined {
  return numberAttribute(span.attributes, 'http.response.status_code', 'http.status_code');
}

/**
 * Whether a span counts as failed in Baton's figures (error rates, the error flag of a
 * trace): a 5xx answer, or an ERROR status that is not a 4xx. A 4xx is the caller's
 * mistake (a declined card, an unknown id), not the callee failing, even though OTel's
 * HTTP conventions mark a client span with a 4xx as ERROR.
 */
export function isError(span: Pick<SpanRecord, 'status' | 'attributes'>): boolean {
  const code = httpStatusOf(span);
  if (code !== undefined && code >= 500) return true;
  return span.status === 'error' && !(code !== undefined && code >= 400 && code < 500);
}

/**
 * What a span served, for RED figures and search: `METHOD /route/:template` when the span
 * has `http.route`, else its name (instrumentations already name server spans that way).
 */
export function routeOf(span: Pick<SpanRecord, 'attributes' | 'name'>): string {
  const route = stringAttribute(span.attributes, 'http.route');
  if (route === undefined) return span.name;
  const method = stringAttribute(span.attributes, 'http.request.method', 'http.method');
  return method ? `${method} ${route}` : route;
}

/**
 * Who a client span called, when its server side is not in the trace: `peer.service`, else
 * the address it connected to (`host:port`).
 */
export function peerOf(span: Pick<SpanRecord, 'attributes'>): string | undefined {
  const peer = stringAttribute(span.attributes, 'peer.service');
  if (peer !== undefined) return peer;
  const host = stringAttribute(span.attributes, 'server.address', 'net.peer.name');
  if (host === undefined) return undefined;
  const port = numberAttribute(span.attributes, 'server.port', 'net.peer.port');
  return port === undefined ? host : `${host}:${port}`;
}

/** What Baton's health prober sends as its user agent (`baton-probe/0.1`). */
export const PROBE_USER_AGENT = 'baton-probe/';

/**
 * Whether a span served one of Baton's own health probes: they are not traffic, and a probe
 * every few seconds would otherwise outnumber a quiet service's real requests.
 */
export function isProbe(span: Pick<SpanRecord, 'attributes'>): boolean {
  return (
    stringAttribute(span.attributes, 'user_agent.original', 'http.user_agent')?.startsWith(
      PROBE_USER_AGENT,
    ) === true
  );
}

/**
 * A call the data plane carried, as it saw it: its span names both ends (`baton.caller`,
 * `baton.callee`), so it is an edge by itself, with no other half to wait for.
 */
export function dataPlaneCall(
  span: Pick<SpanRecord, 'attributes' | 'kind'>,
): { readonly caller: string; readonly callee: string } | undefined {
  if (span.kind !== 'client') return undefined;
  const caller = stringAttribute(span.attributes, 'baton.caller');
  const callee = stringAttribute(span.attributes, 'baton.callee');
  return caller !== undefined && callee !== undefined ? { caller, callee } : undefined;
}
