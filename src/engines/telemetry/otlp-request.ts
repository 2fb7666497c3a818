// An OTLP/HTTP trace export request, from raw bytes to span records: content type and
// encoding negotiated, gzip inflated under a ceiling (a gzip bomb stops at the ceiling, it
// is never inflated in full), spans counted before they are decoded, every field checked.
// Every way a request can be wrong ends as a BatonError with the reason, never a crash.
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { BatonError } from '../../domain/errors.ts';
import {
  DEFAULT_NORMALISE_LIMITS,
  normaliseExportRequest,
  type OtlpEncoding,
} from '../../domain/telemetry/otlp-normalise.ts';
import { countEncodedSpans, decodeExportRequest } from '../../domain/telemetry/otlp-proto.ts';
import type { SpanRecord } from '../../domain/telemetry/span.ts';

const inflate = promisify(gunzip);

export interface IngestLimits {
  /** The body as sent (compressed or not). */
  readonly maxBodyBytes: number;
  /** The body once inflated. */
  readonly maxDecodedBytes: number;
  readonly maxSpans: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  maxBodyBytes: 2 * 1024 * 1024,
  maxDecodedBytes: 8 * 1024 * 1024,
  maxSpans: DEFAULT_NORMALISE_LIMITS.maxSpans,
};

const PROTOBUF_TYPES = new Set(['application/x-protobuf', 'application/protobuf']);

/** Which encoding a Content-Type names; a 415 for anything OTLP/HTTP does not define. */
export function otlpEncodingOf(contentType: string | undefined): OtlpEncoding {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (PROTOBUF_TYPES.has(type)) return 'protobuf';
  if (type === 'application/json') return 'json';
  throw new BatonError('unsupported-media-type', `content type \`${type || '(none)'}\` is not OTLP`, {
    hint: 'send application/x-protobuf or application/json (OTLP/HTTP), optionally gzip-encoded',
  });
}

export async function decodeOtlpRequest(
  body: Uint8Array,
  headers: { readonly contentType: string | undefined; readonly contentEncoding: string | undefined },
  limits: IngestLimits = DEFAULT_INGEST_LIMITS,
): Promise<SpanRecord[]> {
  const encoding = otlpEncodingOf(headers.contentType);
  if (body.length > limits.maxBodyBytes) throw tooLarge(`the body exceeds ${limits.maxBodyBytes} bytes`);
  const bytes = await inflated(body, headers.contentEncoding, limits.maxDecodedBytes);

  let request: unknown;
  if (encoding === 'protobuf') {
    const count = countEncodedSpans(bytes);
    if (count !== undefined && count > limits.maxSpans) {
      throw tooLarge(`the request holds ${count} spans; at most ${limits.maxSpans} are accepted per request`);
    }
    try {
      request = decodeExportRequest(bytes);
    } catch (error) {
      throw badRequest(`the body is not an OTLP ExportTraceServiceRequest: ${(error as Error).message}`);
    }
  } else {
    try {
      request = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
    } catch (error) {
      throw badRequest(`the body is not valid JSON: ${(error as Error).message}`);
    }
  }
  const result = normaliseExportRequest(request, encoding, {
    ...DEFAULT_NORMALISE_LIMITS,
    maxSpans: limits.maxSpans,
  });
  if (!result.ok) throw result.tooLarge ? tooLarge(result.reason) : badRequest(result.reason);
  return result.spans;
}

async function inflated(
  body: Uint8Array,
  contentEncoding: string | undefined,
  max: number,
): Promise<Uint8Array> {
  const coding = (contentEncoding ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') {
    if (body.length > max) throw tooLarge(`the body exceeds ${max} bytes`);
    return body;
  }
  if (coding !== 'gzip' && coding !== 'x-gzip') {
    throw new BatonError('unsupported-media-type', `content encoding \`${coding}\` is not supported`, {
      hint: 'send the body gzip-encoded or not encoded at all',
    });
  }
  try {
    // maxOutputLength makes zlib stop as soon as the output would pass the ceiling.
    return await inflate(body, { maxOutputLength: max });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw tooLarge(`the body inflates to more than ${max} bytes`);
    }
    throw badRequest(`the body is not valid gzip: ${(error as Error).message}`);
  }
}

function badRequest(message: string): BatonError {
  return new BatonError('bad-request', message, {
    hint: 'send an OTLP ExportTraceServiceRequest (https://opentelemetry.io/docs/specs/otlp/)',
  });
}

function tooLarge(message: string): BatonError {
  return new BatonError('payload-too-large', message, {
    hint: 'send smaller batches (the OTel SDK: maxExportBatchSize)',
  });
}
