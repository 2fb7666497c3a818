import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { DEFAULT_NORMALISE_LIMITS, normaliseExportRequest, type NormaliseResult } from './otlp-normalise.ts';
import { countEncodedSpans, decodeExportRequest } from './otlp-proto.ts';
import type { SpanRecord } from './span.ts';

/** Real spans from the OTel SDK, the way a traced service makes them. */
function sdkSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'orders',
      'service.instance.id': 'orders-7f3a',
      'service.version': '2.1.0',
      'host.name': 'box',
    }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('test');
  const server = tracer.startSpan('POST /orders', {
    kind: SpanKind.SERVER,
    startTime: 1_700_000_000_123.456,
    attributes: {
      'http.request.method': 'POST',
      'http.route': '/orders',
      'http.response.status_code': 201,
      ratio: 0.25,
      ok: true,
      tags: ['a', 'b'],
      big: 9_007_199_254_740_991,
      negative: -42,
    },
  });
  server.addEvent('reserved', { sku: 'tea' }, 1_700_000_000_124);
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'ledger down' });
  server.end(1_700_000_000_130.5);
  tracer.startSpan('child', { kind: SpanKind.CLIENT, startTime: 1_700_000_000_124 }).end(1_700_000_000_125);
  return exporter.getFinishedSpans() as ReadableSpan[];
}

const protobuf = (spans: ReadableSpan[]) =>
  decodeExportRequest(ProtobufTraceSerializer.serializeRequest(spans)!);
const json = (spans: ReadableSpan[]) =>
  JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)!)) as unknown;

function ok(result: NormaliseResult): SpanRecord[] {
  assert.ok(result.ok, result.ok ? '' : result.reason);
  return result.spans;
}

function reason(request: unknown, encoding: 'json' | 'protobuf' = 'json'): string {
  const result = normaliseExportRequest(request, encoding);
  assert.equal(result.ok, false, 'refused');
  return result.ok ? '' : result.reason;
}

describe('normaliseExportRequest', () => {
  it('reads the official exporters’ protobuf and JSON into the same records', () => {
    const spans = sdkSpans();
    const fromProto = ok(normaliseExportRequest(protobuf(spans), 'protobuf'));
    const fromJson = ok(normaliseExportRequest(json(spans), 'json'));
    assert.deepEqual(fromProto, fromJson);

    const server = fromProto.find((s) => s.kind === 'server')!;
    assert.equal(server.traceId, spans[0]!.spanContext().traceId);
    assert.equal(server.spanId, spans[0]!.spanContext().spanId);
    assert.equal(server.parentSpanId, undefined);
    assert.equal(server.service, 'orders');
    assert.equal(server.instance, 'orders-7f3a');
    assert.equal(server.version, '2.1.0');
    assert.equal(server.resource['host.name'], 'box');
    assert.equal(server.resource['service.name'], undefined, 'the identity is not repeated');
    assert.equal(server.startUs, 1_700_000_000_123_456);
    assert.equal(server.durationUs, 7_044);
    assert.equal(server.status, 'error');
    assert.equal(server.statusMessage, 'ledger down');
    assert.deepEqual(server.attributes, {
      'http.request.method': 'POST',
      'http.route': '/orders',
      'http.response.status_code': 201,
      ratio: 0.25,
      ok: true,
      tags: ['a', 'b'],
      big: 9_007_199_254_740_991,
      negative: -42,
    });
    assert.deepEqual(server.events, [
      { timeUs: 1_700_000_000_124_000, name: 'reserved', attributes: { sku: 'tea' } },
    ]);
    assert.equal(fromProto.find((s) => s.kind === 'client')?.durationUs, 1_000);
  });

  it('counts the spans of an encoded request without decoding them', () => {
    const spans = sdkSpans();
    assert.equal(countEncodedSpans(ProtobufTraceSerializer.serializeRequest(spans)!), 2);
    assert.equal(countEncodedSpans(new Uint8Array(0)), 0);
    assert.equal(
      countEncodedSpans(Uint8Array.of(0x0a, 0x05, 0x12)),
      undefined,
      'a frame longer than the body',
    );
  });

  const span = (fields: Record<string, unknown>) => ({
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: [
              {
                traceId: '5b8efff798038103d269b633813fc60c',
                spanId: 'eee19b7ec3c1b174',
                name: 'x',
                startTimeUnixNano: '1700000000000000000',
                endTimeUnixNano: '1700000000001000000',
                ...fields,
              },
            ],
          },
        ],
      },
    ],
  });

  it('accepts OTLP/JSON variants: numeric times, enum names, upper-case hex, int64 as strings', () => {
    const [record] = ok(
      normaliseExportRequest(
        span({
          traceId: '5B8EFFF798038103D269B633813FC60C',
          startTimeUnixNano: 1_700_000_000_000_000_000,
          kind: 'SPAN_KIND_SERVER',
          status: { code: 'STATUS_CODE_OK' },
          attributes: [
            { key: 'n', value: { intValue: '9223372036854775807' } },
            { key: 'd', value: { doubleValue: 'NaN' } },
            { key: 'kv', value: { kvlistValue: { values: [{ key: 'a', value: { boolValue: false } }] } } },
            { key: 'empty', value: {} },
          ],
        }),
        'json',
      ),
    );
    assert.equal(record!.traceId, '5b8efff798038103d269b633813fc60c');
    assert.equal(record!.kind, 'server');
    assert.equal(record!.status, 'ok');
    assert.equal(record!.service, 'unknown_service');
    assert.deepEqual(record!.attributes, {
      n: '9223372036854775807',
      d: 'NaN',
      kv: { a: false },
      empty: null,
    });
  });

  it('refuses invalid ids with the path to the field', () => {
    assert.match(reason(span({ traceId: '' })), /spans\[0\]\.traceId: is missing/);
    assert.match(
      reason(span({ traceId: '00000000000000000000000000000000' })),
      /traceId: must not be all zeros/,
    );
    assert.match(
      reason(span({ spanId: 'eee19b7ec3c1b17' })),
      /spanId: must be 16 hex digits, got "eee19b7ec3c1b17"/,
    );
    assert.match(reason(span({ spanId: 'zzz19b7ec3c1b174' })), /spanId: must be 16 hex digits/);
    assert.match(reason(span({ parentSpanId: 42 })), /parentSpanId: must be 16 hex digits, got 42/);
  });

  it('refuses wrong shapes and types, each with its reason', () => {
    assert.match(reason([]), /\(root\): must be an object, got an array/);
    assert.match(reason({ resourceSpans: {} }), /resourceSpans: must be an array/);
    assert.match(
      reason(span({ startTimeUnixNano: 'yesterday' })),
      /startTimeUnixNano: must be an unsigned integer/,
    );
    assert.match(reason(span({ startTimeUnixNano: undefined })), /startTimeUnixNano: is missing/);
    assert.match(reason(span({ name: 7 })), /\.name: must be a string/);
    assert.match(reason(span({ kind: true })), /\.kind: must be an enum number/);
    assert.match(reason(span({ attributes: [{ key: 1 }] })), /attributes\[0\]\.key: must be a string/);
    assert.match(
      reason(span({ attributes: [{ key: 'a', value: { intValue: 1.5 } }] })),
      /intValue: must be an integer/,
    );
    assert.match(
      reason(span({ attributes: [{ key: 'a', value: { mystery: 1 } }] })),
      /unknown value type "mystery"/,
    );
  });

  it('refuses nesting deeper than the limit and more spans than the limit, as too large', () => {
    let value: unknown = { stringValue: 'deep' };
    for (let i = 0; i < 20; i++) value = { arrayValue: { values: [value] } };
    assert.match(reason(span({ attributes: [{ key: 'a', value }] })), /nested deeper than 8/);

    const many = span({});
    const spans = (many.resourceSpans[0]!.scopeSpans[0]!.spans as unknown[]).concat(
      Array.from({ length: 10 }, () => many.resourceSpans[0]!.scopeSpans[0]!.spans[0]),
    );
    many.resourceSpans[0]!.scopeSpans[0]!.spans =
      spans as (typeof many.resourceSpans)[0]['scopeSpans'][0]['spans'];
    const result = normaliseExportRequest(many, 'json', { ...DEFAULT_NORMALISE_LIMITS, maxSpans: 5 });
    assert.deepEqual(result, { ok: false, reason: 'the request holds more than 5 spans', tooLarge: true });
  });

  it('cuts long strings and drops attributes past the limit instead of refusing', () => {
    const attributes = Array.from({ length: 200 }, (_, i) => ({
      key: `k${i}`,
      value: { stringValue: 'x'.repeat(10_000) },
    }));
    const [record] = ok(normaliseExportRequest(span({ attributes }), 'json'));
    assert.equal(Object.keys(record!.attributes).length, 128);
    assert.equal((record!.attributes.k0 as string).length, 8_193);
  });

  it('refuses protobuf ids of the wrong length', () => {
    const request = protobuf(sdkSpans()) as {
      resourceSpans: { scopeSpans: { spans: { spanId: Uint8Array }[] }[] }[];
    };
    request.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.spanId = new Uint8Array(4).fill(1);
    assert.match(reason(request, 'protobuf'), /spanId: must be 8 bytes, got 4/);
  });
});
