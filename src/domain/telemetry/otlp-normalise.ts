// OTLP ExportTraceServiceRequest → SpanRecord[], for both encodings at once: the protobuf
// request as protobufjs decodes it (ids as bytes, times as Long) and the OTLP/JSON request
// as JSON.parse returns it (ids as hex, times as decimal strings or numbers). One walker
// validates both, so a malformed request gets the same precise reason whichever way it came.
//
// This is the ingest's hot path (tens of thousands of spans a second): the happy path builds
// no strings it does not keep. Where a field is wrong is only worked out when it is wrong,
// each level adding its part of the path as the error passes through it.
import type {
  Attributes,
  AttributeValue,
  SpanEvent,
  SpanKind,
  SpanLink,
  SpanRecord,
  SpanStatus,
} from './span.ts';
import { SPAN_KINDS, SPAN_STATUSES } from './span.ts';

export type OtlpEncoding = 'protobuf' | 'json';

export interface NormaliseLimits {
  /** More spans than this in one request is refused as too large. */
  readonly maxSpans: number;
  /** Longer strings are cut (and marked with `…`): a span is a record, not a blob store. */
  readonly maxStringLength: number;
  /** Attributes beyond this many per span (or event, link, resource) are dropped. */
  readonly maxAttributes: number;
  /** Nested arrays and key-value lists deeper than this are refused. */
  readonly maxDepth: number;
}

export const DEFAULT_NORMALISE_LIMITS: NormaliseLimits = {
  maxSpans: 10_000,
  maxStringLength: 8_192,
  maxAttributes: 128,
  maxDepth: 8,
};

export type NormaliseResult =
  | { readonly ok: true; readonly spans: SpanRecord[] }
  | { readonly ok: false; readonly reason: string; readonly tooLarge?: boolean };

/** The OTel SDKs' `service.name` when none was configured. */
export const UNKNOWN_SERVICE = 'unknown_service';

/** A wrong field; the path to it is prepended level by level as the error propagates. */
class Invalid extends Error {
  readonly tooLarge: boolean;
  readonly #path: string[] = [];
  readonly #problem: string;

  constructor(field: string | undefined, problem: string, tooLarge = false) {
    super(problem);
    if (field !== undefined) this.#path.push(field);
    this.#problem = problem;
    this.tooLarge = tooLarge;
  }

  static at(error: unknown, segment: string): unknown {
    if (error instanceof Invalid && !error.tooLarge) error.#path.unshift(segment);
    return error;
  }

  get reason(): string {
    const path = this.#path.reduce(
      (out, part) => (part.startsWith('[') || out === '' ? out + part : `${out}.${part}`),
      '',
    );
    return path === '' ? this.#problem : `${path}: ${this.#problem}`;
  }
}

type Obj = Readonly<Record<string, unknown>>;

const IDENTITY_KEYS = new Set(['service.name', 'service.instance.id', 'service.version']);
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
const HEX = /^[0-9a-fA-F]+$/;
const ANY_VALUE_KEYS = [
  'stringValue',
  'intValue',
  'boolValue',
  'doubleValue',
  'arrayValue',
  'kvlistValue',
  'bytesValue',
] as const;
const SPAN_KIND_NAMES: Readonly<Record<string, number>> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODE_NAMES: Readonly<Record<string, number>> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};

export function normaliseExportRequest(
  request: unknown,
  encoding: OtlpEncoding,
  limits: NormaliseLimits = DEFAULT_NORMALISE_LIMITS,
): NormaliseResult {
  try {
    return { ok: true, spans: new Walker(encoding, limits).request(request) };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, reason: error.reason, tooLarge: error.tooLarge };
    // A stack overflow on absurd nesting, or anything unforeseen in hostile input: still a 400.
    return { ok: false, reason: `the request could not be read: ${(error as Error).message}` };
  }
}

type Identity = Pick<SpanRecord, 'service' | 'instance' | 'version' | 'resource'>;

class Walker {
  readonly #json: boolean;
  readonly #limits: NormaliseLimits;
  readonly #out: SpanRecord[] = [];

  constructor(encoding: OtlpEncoding, limits: NormaliseLimits) {
    this.#json = encoding === 'json';
    this.#limits = limits;
  }

  request(value: unknown): SpanRecord[] {
    const resourceSpans = list(object(value, '(root)').resourceSpans, 'resourceSpans');
    for (let i = 0; i < resourceSpans.length; i++) {
      try {
        this.#resourceSpans(object(resourceSpans[i]));
      } catch (error) {
        throw Invalid.at(error, `resourceSpans[${i}]`);
      }
    }
    return this.#out;
  }

  #resourceSpans(rs: Obj): void {
    const resource = rs.resource === undefined || rs.resource === null ? {} : object(rs.resource, 'resource');
    let attributes: Attributes;
    try {
      attributes = this.#attributes(resource.attributes, 'attributes');
    } catch (error) {
      throw Invalid.at(error, 'resource');
    }
    const identity: Identity = {
      service: text(attributes['service.name']) ?? UNKNOWN_SERVICE,
      instance: text(attributes['service.instance.id']),
      version: text(attributes['service.version']),
      resource: omit(attributes, IDENTITY_KEYS),
    };
    const scopeSpans = list(rs.scopeSpans, 'scopeSpans');
    for (let i = 0; i < scopeSpans.length; i++) {
      try {
        this.#scopeSpans(object(scopeSpans[i]), identity);
      } catch (error) {
        throw Invalid.at(error, `scopeSpans[${i}]`);
      }
    }
  }

  #scopeSpans(ss: Obj, identity: Identity): void {
    const spans = list(ss.spans, 'spans');
    if (this.#out.length + spans.length > this.#limits.maxSpans) {
      throw new Invalid(undefined, `the request holds more than ${this.#limits.maxSpans} spans`, true);
    }
    for (let i = 0; i < spans.length; i++) {
      try {
        this.#out.push(this.#span(object(spans[i]), identity));
      } catch (error) {
        throw Invalid.at(Invalid.at(error, `[${i}]`), 'spans');
      }
    }
  }

  #span(span: Obj, identity: Identity): SpanRecord {
    const startUs = this.#micros(span.startTimeUnixNano, 'startTimeUnixNano');
    if (startUs === 0) throw new Invalid('startTimeUnixNano', 'is missing');
    const endUs = this.#micros(span.endTimeUnixNano, 'endTimeUnixNano');
    const status =
      span.status === undefined || span.status === null ? undefined : object(span.status, 'status');
    const statusMessage = status === undefined ? undefined : this.#string(status.message, 'status.message');
    const events = list(span.events, 'events');
    const links = list(span.links, 'links');
    // One literal with every field: all records share one hidden class.
    return {
      traceId: this.#id(span.traceId, 16, 'traceId', true)!,
      spanId: this.#id(span.spanId, 8, 'spanId', true)!,
      parentSpanId: this.#id(span.parentSpanId, 8, 'parentSpanId', false),
      service: identity.service,
      instance: identity.instance,
      version: identity.version,
      name: this.#string(span.name, 'name') ?? '',
      kind: SPAN_KINDS[enumeration(span.kind, SPAN_KIND_NAMES, SPAN_KINDS.length, 'kind')]! as SpanKind,
      startUs,
      durationUs: Math.max(0, endUs - startUs),
      status: SPAN_STATUSES[
        status === undefined
          ? 0
          : enumeration(status.code, STATUS_CODE_NAMES, SPAN_STATUSES.length, 'status.code')
      ]! as SpanStatus,
      statusMessage: statusMessage === '' ? undefined : statusMessage,
      attributes: this.#attributes(span.attributes, 'attributes'),
      events: events.length === 0 ? undefined : this.#each(events, 'events', (e) => this.#event(e)),
      links: links.length === 0 ? undefined : this.#each(links, 'links', (l) => this.#link(l)),
      resource: identity.resource,
    };
  }

  #each<T>(values: readonly unknown[], field: string, read: (value: Obj) => T): T[] {
    const out: T[] = [];
    for (let i = 0; i < values.length; i++) {
      try {
        out.push(read(object(values[i])));
      } catch (error) {
        throw Invalid.at(Invalid.at(error, `[${i}]`), field);
      }
    }
    return out;
  }

  #event(event: Obj): SpanEvent {
    const attributes = this.#attributes(event.attributes, 'attributes');
    return {
      timeUs: this.#micros(event.timeUnixNano, 'timeUnixNano'),
      name: this.#string(event.name, 'name') ?? '',
      ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
    };
  }

  #link(link: Obj): SpanLink {
    const attributes = this.#attributes(link.attributes, 'attributes');
    return {
      traceId: this.#id(link.traceId, 16, 'traceId', true)!,
      spanId: this.#id(link.spanId, 8, 'spanId', true)!,
      ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
    };
  }

  /** Lowercase hex; `required` ids must be present and not all zeros (the spec's "invalid"). */
  #id(value: unknown, bytes: number, field: string, required: boolean): string | undefined {
    let hex: string;
    if (this.#json) {
      if (value === undefined || value === null || value === '') {
        if (required) throw new Invalid(field, 'is missing');
        return undefined;
      }
      if (typeof value !== 'string' || value.length !== bytes * 2 || !HEX.test(value)) {
        throw new Invalid(field, `must be ${bytes * 2} hex digits, got ${preview(value)}`);
      }
      hex = value.toLowerCase();
    } else {
      // protobufjs' default for an absent bytes field is an empty array, not an empty buffer.
      if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
        if (required) throw new Invalid(field, 'is missing');
        return undefined;
      }
      if (!(value instanceof Uint8Array)) throw new Invalid(field, 'must be bytes');
      if (value.length === 0) {
        if (required) throw new Invalid(field, 'is missing');
        return undefined;
      }
      if (value.length !== bytes) throw new Invalid(field, `must be ${bytes} bytes, got ${value.length}`);
      hex = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
    }
    if (hex === (bytes === 16 ? ZERO_TRACE : ZERO_SPAN)) {
      if (required) throw new Invalid(field, 'must not be all zeros');
      return undefined;
    }
    return hex;
  }

  /** fixed64 nanoseconds since the epoch → whole microseconds, exactly (no double rounding). */
  #micros(value: unknown, field: string): number {
    if (value === undefined || value === null) return 0;
    if (isLong(value)) {
      // ns = high·2^32 + low = (high·4294967)·1000 + (high·296 + low): each part exact in a double.
      const high = value.high >>> 0;
      return high * 4_294_967 + Math.floor((high * 296 + (value.low >>> 0)) / 1000);
    }
    if (this.#json) {
      if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.floor(value / 1000);
      if (typeof value === 'string' && /^\d{1,20}$/.test(value)) return Number(BigInt(value) / 1000n);
    }
    throw new Invalid(field, `must be an unsigned integer of nanoseconds, got ${preview(value)}`);
  }

  #string(value: unknown, field: string): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new Invalid(field, 'must be a string');
    return value.length > this.#limits.maxStringLength ? this.#cut(value) : value;
  }

  #cut(value: string): string {
    return `${value.slice(0, this.#limits.maxStringLength)}…`;
  }

  #attributes(value: unknown, field: string): Attributes {
    const pairs = list(value, field);
    const out: Record<string, AttributeValue> = {};
    const count = Math.min(pairs.length, this.#limits.maxAttributes);
    for (let i = 0; i < count; i++) {
      try {
        const pair = object(pairs[i]);
        if (typeof pair.key !== 'string') throw new Invalid('key', 'must be a string');
        out[pair.key] = this.#anyValue(pair.value, 0);
      } catch (error) {
        throw Invalid.at(Invalid.at(error, `[${i}]`), field);
      }
    }
    return out;
  }

  #anyValue(value: unknown, depth: number): AttributeValue {
    if (value === undefined || value === null) return null;
    if (depth > this.#limits.maxDepth)
      throw new Invalid('value', `nested deeper than ${this.#limits.maxDepth}`);
    const any = object(value, 'value');
    // Both encodings hold the set member of the oneof as the object's own property.
    let which: string | undefined;
    for (const key of ANY_VALUE_KEYS) {
      if (Object.hasOwn(any, key) && any[key] !== undefined && any[key] !== null) {
        which = key;
        break;
      }
    }
    if (which === undefined) {
      const unknown = Object.keys(any).find((k) => any[k] !== undefined && any[k] !== null);
      if (unknown !== undefined) throw new Invalid('value', `unknown value type ${preview(unknown)}`);
      return null;
    }
    const member = any[which];
    switch (which) {
      case 'stringValue':
        if (typeof member !== 'string') throw new Invalid('value.stringValue', 'must be a string');
        return member.length > this.#limits.maxStringLength ? this.#cut(member) : member;
      case 'boolValue':
        if (typeof member !== 'boolean') throw new Invalid('value.boolValue', 'must be a boolean');
        return member;
      case 'intValue':
        return integer(member, 'value.intValue');
      case 'doubleValue':
        if (typeof member === 'number') return member;
        // OTLP/JSON (proto3 JSON) spells non-finite doubles as strings.
        if (member === 'NaN' || member === 'Infinity' || member === '-Infinity') return member;
        throw new Invalid('value.doubleValue', 'must be a number');
      case 'bytesValue':
        if (member instanceof Uint8Array) return Buffer.from(member).toString('base64');
        if (typeof member === 'string') return member;
        throw new Invalid('value.bytesValue', 'must be bytes');
      case 'arrayValue': {
        const values = list(object(member, 'value.arrayValue').values, 'value.arrayValue.values');
        const out: AttributeValue[] = [];
        for (let i = 0; i < values.length; i++) {
          try {
            out.push(this.#anyValue(values[i], depth + 1));
          } catch (error) {
            throw Invalid.at(error, `value.arrayValue.values[${i}]`);
          }
        }
        return out;
      }
      default: {
        const values = list(object(member, 'value.kvlistValue').values, 'value.kvlistValue.values');
        const out: Record<string, AttributeValue> = {};
        for (let i = 0; i < values.length; i++) {
          try {
            const pair = object(values[i]);
            if (typeof pair.key !== 'string') throw new Invalid('key', 'must be a string');
            out[pair.key] = this.#anyValue(pair.value, depth + 1);
          } catch (error) {
            throw Invalid.at(error, `value.kvlistValue.values[${i}]`);
          }
        }
        return out;
      }
    }
  }
}

interface LongLike {
  readonly low: number;
  readonly high: number;
  readonly unsigned?: boolean;
}

function isLong(value: unknown): value is LongLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as LongLike).low === 'number' &&
    typeof (value as LongLike).high === 'number'
  );
}

function integer(value: unknown, field: string): number | string {
  if (isLong(value)) {
    // Small values (almost all of them) need no BigInt.
    if (value.high === 0 && value.low >= 0) return value.low;
    const n = BigInt.asIntN(64, (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0));
    return Number.isSafeInteger(Number(n)) ? Number(n) : n.toString();
  }
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  // Past 2^53 an int64 stays exact as its decimal string.
  if (typeof value === 'string' && /^-?\d{1,19}$/.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value;
  }
  throw new Invalid(field, `must be an integer, got ${preview(value)}`);
}

function enumeration(
  value: unknown,
  names: Readonly<Record<string, number>>,
  size: number,
  field: string,
): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isInteger(value)) {
    // proto3 keeps unknown enum numbers; an unknown kind or status means nothing Baton can use.
    return value >= 0 && value < size ? value : 0;
  }
  if (typeof value === 'string' && names[value] !== undefined) return names[value];
  throw new Invalid(field, `must be an enum number, got ${preview(value)}`);
}

function object(value: unknown, field?: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Invalid(field, `must be an object, got ${preview(value)}`);
  }
  return value as Obj;
}

const NONE: readonly unknown[] = Object.freeze([]);

function list(value: unknown, field: string): readonly unknown[] {
  if (value === undefined || value === null) return NONE;
  if (!Array.isArray(value)) throw new Invalid(field, `must be an array, got ${preview(value)}`);
  return value;
}

function text(value: AttributeValue | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function omit(attributes: Attributes, keys: ReadonlySet<string>): Attributes {
  const out: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(attributes)) if (!keys.has(key)) out[key] = value;
  return out;
}

function preview(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const shown = JSON.stringify(value) ?? String(value);
  return shown.length > 40 ? `${shown.slice(0, 40)}…` : shown;
}
