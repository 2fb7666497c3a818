// OTLP ingest over a real socket: what the official OpenTelemetry JS exporters send is
// accepted as it is (protobuf and JSON, gzip or not), every kind of bad request is refused
// with its status and reason and never takes the server down, and accepted requests are
// forwarded byte for byte to an external collector.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { context, SpanKind, trace, type Attributes } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { createHttpApp } from '../src/interfaces/http/app.ts';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { asCaller, authedFetch, bearer } from './support/api-token.ts';
import { tempDir } from './support/baton-process.ts';

interface Problem {
  status: number;
  code: string;
  detail: string;
}

/** `count` finished spans of one trace, from the real OTel SDK. */
function sdkSpans(service: string, count = 3, attributes: Attributes = {}): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('ingest-test');
  const root = tracer.startSpan('GET /root', { kind: SpanKind.SERVER, attributes });
  for (let i = 1; i < count; i++) {
    tracer
      .startSpan(`step ${i}`, { kind: SpanKind.INTERNAL, attributes }, trace.setSpan(context.active(), root))
      .end();
  }
  root.end();
  return memory.getFinishedSpans() as ReadableSpan[];
}

function exportWith(exporter: SpanExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

describe('OTLP ingest', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let plane: ControlPlane;
  let collector: Server;
  const forwarded: { body: Buffer; type: string | undefined; encoding: string | undefined }[] = [];
  let url: string;

  before(async () => {
    collector = createServer((request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        forwarded.push({
          body: Buffer.concat(chunks),
          type: request.headers['content-type'],
          encoding: request.headers['content-encoding'],
        });
        response.writeHead(200).end();
      });
    }).listen(0, '127.0.0.1');
    await once(collector, 'listening');
    dir = await tempDir('telemetry-ingest');
    plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir: join(dir.path, 'state'),
      runtime: 'simulated',
      logger: pino({ level: 'silent' }),
      forwardTracesTo: `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`,
    });
    url = `${plane.url}/v1/traces`;
  });
  const api = (target: string, init?: RequestInit) => authedFetch(plane.token)(target, init);
  const headers = () => bearer(plane.token);

  after(async () => {
    await plane?.close();
    collector?.close();
    await dir.remove();
  });

  const stored = async (traceId: string) => {
    const response = await api(`${plane.url}/v1/traces/${traceId}`);
    return response.status === 200 ? ((await response.json()) as { spanCount: number }).spanCount : 0;
  };

  for (const [name, make] of [
    ['exporter-trace-otlp-proto', () => new ProtoExporter({ url, headers: headers() })],
    [
      'exporter-trace-otlp-proto with gzip',
      () => new ProtoExporter({ url, headers: headers(), compression: 'gzip' as never }),
    ],
    ['exporter-trace-otlp-http (JSON)', () => new HttpJsonExporter({ url, headers: headers() })],
    [
      'exporter-trace-otlp-http (JSON) with gzip',
      () => new HttpJsonExporter({ url, headers: headers(), compression: 'gzip' as never }),
    ],
  ] as const) {
    it(`accepts what the official ${name} sends, as it is`, async () => {
      const spans = sdkSpans(name, 4);
      const exporter = make();
      const result = await exportWith(exporter, spans);
      await exporter.shutdown();
      assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
      assert.equal(await stored(spans[0]!.spanContext().traceId), 4);
    });
  }

  it('forwards every accepted request to the external collector, byte for byte', async () => {
    const body = gzipSync(ProtobufTraceSerializer.serializeRequest(sdkSpans('forwarded', 2))!);
    forwarded.length = 0;
    const response = await api(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      body,
    });
    assert.equal(response.status, 200);
    const deadline = Date.now() + 5_000;
    while (forwarded.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(forwarded.length, 1);
    assert.deepEqual(forwarded[0], { body, type: 'application/x-protobuf', encoding: 'gzip' });
    const metrics = await plane.telemetry.metrics.metrics();
    assert.match(metrics, /baton_otlp_forward_requests_total\{result="sent"\} [1-9]/);
  });

  const send = async (body: Uint8Array | string, headers: Record<string, string>): Promise<Problem> => {
    const response = await api(url, { method: 'POST', headers, body });
    assert.equal(response.headers.get('content-type'), 'application/problem+json');
    return (await response.json()) as Problem;
  };
  const PROTO = { 'content-type': 'application/x-protobuf' };
  const JSON_TYPE = { 'content-type': 'application/json' };
  const span = (fields: Record<string, unknown>) =>
    JSON.stringify({
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

  it('refuses malformed payloads with 400 and the reason, and keeps serving', async () => {
    const cases: [string, Uint8Array | string, Record<string, string>, RegExp][] = [
      [
        'bad protobuf',
        Buffer.from('this is not protobuf at all'),
        PROTO,
        /not an OTLP ExportTraceServiceRequest/,
      ],
      [
        'truncated protobuf',
        ProtobufTraceSerializer.serializeRequest(sdkSpans('cut', 2))!.subarray(0, 40),
        PROTO,
        /not an OTLP|must be/,
      ],
      ['bad JSON', '{"resourceSpans": [', JSON_TYPE, /not valid JSON/],
      [
        'JSON of the wrong shape',
        '{"resourceSpans": {"spans": 1}}',
        JSON_TYPE,
        /resourceSpans: must be an array/,
      ],
      [
        'bad gzip',
        Buffer.from('plainly not gzip'),
        { ...PROTO, 'content-encoding': 'gzip' },
        /not valid gzip/,
      ],
      ['a short trace id', span({ traceId: 'abc' }), JSON_TYPE, /traceId: must be 32 hex digits/],
      [
        'an all-zero span id',
        span({ spanId: '0000000000000000' }),
        JSON_TYPE,
        /spanId: must not be all zeros/,
      ],
      ['a missing span id', span({ spanId: undefined }), JSON_TYPE, /spanId: is missing/],
    ];
    for (const [name, body, headers, reason] of cases) {
      const problem = await send(body, headers);
      assert.equal(problem.status, 400, name);
      assert.equal(problem.code, 'bad-request', name);
      assert.match(problem.detail, reason, name);
    }
    const ids = new Uint8Array(ProtobufTraceSerializer.serializeRequest(sdkSpans('ids', 1))!);
    // The trace id's 16 bytes follow its tag (0x0a) and length (0x10): make it 15 long.
    const at = ids.findIndex((b, i) => b === 0x0a && ids[i + 1] === 0x10 && i > 0);
    const broken = Buffer.concat([
      ids.subarray(0, at + 1),
      Buffer.of(0x0f),
      ids.subarray(at + 2, at + 17),
      ids.subarray(at + 18),
    ]);
    assert.match((await send(broken, PROTO)).detail, /traceId|not an OTLP/);
    assert.equal((await api(`${plane.url}/v1/healthz`)).status, 200);
  });

  it('refuses what is not OTLP with 415', async () => {
    for (const [headers, reason] of [
      [{ 'content-type': 'text/plain' }, /content type `text\/plain` (is not OTLP|changes nothing here)/],
      [{}, /content type `\(none\)`|content type `text\/plain/],
      [{ ...PROTO, 'content-encoding': 'br' }, /content encoding `br` is not supported/],
    ] as const) {
      const problem = await send('x', headers);
      assert.equal(problem.status, 415, JSON.stringify(problem));
      assert.equal(problem.code, 'unsupported-media-type');
      assert.match(problem.detail, reason);
    }
  });

  it('refuses what is too large with 413: the body, what it inflates to (a gzip bomb), too many spans', async () => {
    // In process: over a socket, a server that answers before the upload ends may close on a
    // client still sending, which then sees a reset instead of the 413.
    const app = asCaller(
      createHttpApp({ ...plane, logger: pino({ level: 'silent' }), version: 'test', auth: plane.identities }),
      plane.token,
    );
    const huge = await app.request('/v1/traces', {
      method: 'POST',
      headers: PROTO,
      body: Buffer.alloc(3 * 1024 * 1024, 1),
    });
    assert.equal(huge.status, 413);

    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024)); // 64 MiB of zeros in ~64 KiB
    assert.ok(bomb.length < 200 * 1024);
    const inflated = await send(bomb, { ...PROTO, 'content-encoding': 'gzip' });
    assert.equal(inflated.status, 413);
    assert.match(inflated.detail, /inflates to more than 8388608 bytes/);

    const many = ProtobufTraceSerializer.serializeRequest(sdkSpans('many', 10_001))!;
    const tooMany = await send(many, PROTO);
    assert.equal(tooMany.status, 413);
    assert.match(tooMany.detail, /holds 10001 spans; at most 10000/);

    const metrics = await plane.telemetry.metrics.metrics();
    assert.match(metrics, /baton_otlp_requests_rejected_total\{reason="payload-too-large"\} [2-9]/);
    assert.equal((await api(`${plane.url}/v1/healthz`)).status, 200);
  });

  it('validates the search and trace routes', async () => {
    const bad = async (path: string) => (await api(`${plane.url}${path}`)).status;
    assert.equal(await bad('/v1/traces?minDuration=fast'), 400);
    assert.equal(await bad('/v1/traces?since=someday'), 400);
    assert.equal(await bad('/v1/traces?status=maybe'), 400);
    assert.equal(await bad('/v1/traces?limit=0'), 400);
    assert.equal(await bad('/v1/traces?color=red'), 400);
    assert.equal(await bad('/v1/traces/not-hex'), 400);
    assert.equal(await bad(`/v1/traces/${'ab'.repeat(16)}`), 404);
    const search = await api(`${plane.url}/v1/traces?minDuration=0ms&since=0&limit=5`);
    assert.equal(search.status, 200);
    assert.equal(((await search.json()) as { traces: unknown[] }).traces.length, 5);
  });
});

describe('OTLP ingest behind a token', () => {
  it("needs the same bearer token as the rest of /v1, and a service's token only sends its own spans", async () => {
    const dir = await tempDir('telemetry-token');
    const plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir: join(dir.path, 'state'),
      runtime: 'simulated',
      logger: pino({ level: 'silent' }),
    });
    try {
      const url = `${plane.url}/v1/traces`;
      const spans = sdkSpans('secured', 1);
      const anonymous = new ProtoExporter({ url });
      assert.equal((await exportWith(anonymous, spans)).code, ExportResultCode.FAILED);
      await anonymous.shutdown();
      const authorised = new ProtoExporter({ url, headers: { authorization: `Bearer ${plane.token}` } });
      assert.equal((await exportWith(authorised, spans)).code, ExportResultCode.SUCCESS);
      await authorised.shutdown();

      // Finding 6: a service's token sends its own spans, never another service's.
      const asOrders = bearer(plane.identities.serviceToken('orders'));
      const own = new ProtoExporter({ url, headers: asOrders });
      assert.equal((await exportWith(own, sdkSpans('orders', 2))).code, ExportResultCode.SUCCESS);
      await own.shutdown();
      const spoofed = sdkSpans('payments', 2, { 'http.response.status_code': 500 });
      const response = await fetch(url, {
        method: 'POST',
        headers: { ...asOrders, 'content-type': 'application/x-protobuf' },
        body: ProtobufTraceSerializer.serializeRequest(spoofed)!,
      });
      assert.equal(response.status, 403);
      assert.equal(((await response.json()) as Problem).code, 'forbidden');
      const traceId = spoofed[0]!.spanContext().traceId;
      const stored = await fetch(`${plane.url}/v1/traces/${traceId}`, { headers: bearer(plane.token) });
      assert.equal(stored.status, 404, "payments' errors were not recorded");
      assert.equal(plane.telemetry.red('payments').services.length, 0, "payments' RED untouched");
    } finally {
      await plane.close();
      await dir.remove();
    }
  });
});
