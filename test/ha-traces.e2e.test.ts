// Traces are the same from every replica: two `baton server --store postgres://…` processes,
// each with a state folder of its own (as on two machines: no file is shared), over one
// scratch database. One service's exporter sends to replica A, another's to replica B, both
// parts of the same traces, with the official OTLP/protobuf exporter; each replica then shows
// the whole trace and the same search answers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { context, SpanKind, trace, type Span } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import pg from 'pg';
import { bearer } from './support/api-token.ts';
import { runCli, startServer, tempDir, type ServerProcess } from './support/baton-process.ts';

const PG_URL = process.env.BATON_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface Summary {
  traceId: string;
  spanCount: number;
  errorCount: number;
  root: { service: string; route: string; complete: boolean };
  services: string[];
}
interface TraceView {
  traceId: string;
  spanCount: number;
  services: string[];
  rows: { spanId: string; service: string; name: string }[];
}

/** Checkouts as two services trace them: web's spans, and orders' spans under web's calls. */
function checkouts(count: number): { web: ReadableSpan[]; orders: ReadableSpan[]; traceIds: string[] } {
  const tracerOf = (service: string) => {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'service.version': '1.0.0' }),
      spanProcessors: [new SimpleSpanProcessor(memory)],
    });
    return { tracer: provider.getTracer('ha-traces'), memory };
  };
  const web = tracerOf('web');
  const orders = tracerOf('orders');
  const traceIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const root = web.tracer.startSpan('POST /api/checkout', {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': 'POST', 'http.route': '/api/checkout' },
    });
    traceIds.push(root.spanContext().traceId);
    const call: Span = web.tracer.startSpan(
      'POST orders',
      { kind: SpanKind.CLIENT, attributes: { 'peer.service': 'orders' } },
      trace.setSpan(context.active(), root),
    );
    const served = orders.tracer.startSpan(
      'POST /orders',
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': 'POST',
          'http.route': '/orders',
          'http.response.status_code': i % 2 === 0 ? 500 : 201,
        },
      },
      trace.setSpan(context.active(), call),
    );
    served.end();
    call.end();
    root.end();
  }
  return {
    web: web.memory.getFinishedSpans() as ReadableSpan[],
    orders: orders.memory.getFinishedSpans() as ReadableSpan[],
    traceIds,
  };
}

function exportTo(replica: ServerProcess, spans: ReadableSpan[]): Promise<ExportResult> {
  const exporter = new OTLPTraceExporter({
    url: `${replica.url}/v1/traces`,
    headers: bearer(replica.token),
  });
  return new Promise<ExportResult>((resolve) => exporter.export(spans, resolve)).finally(() =>
    exporter.shutdown(),
  );
}

describe('traces over two replicas sharing PostgreSQL', { timeout: 600_000 }, () => {
  const database = `baton_ha_traces_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  let dir: { path: string; remove: () => Promise<void> };
  let store: string;
  let a: ServerProcess;
  let b: ServerProcess;

  before(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    store = PG_URL.replace(/\/[^/]*$/, `/${database}`);
    dir = await tempDir('ha-traces');
    // Own state folders (other machines): the database is shared, and so are the secrets key
    // and the bootstrap admin token's file, as docs/security.md tells replicas to.
    const env = { BATON_SECRETS_KEY: randomBytes(32).toString('base64') };
    a = await startServer(join(dir.path, 'a'), ['--store', store], env);
    await mkdir(join(dir.path, 'b'), { mode: 0o700 });
    await copyFile(join(dir.path, 'a', 'token'), join(dir.path, 'b', 'token'));
    b = await startServer(join(dir.path, 'b'), ['--store', store], env);
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
    await dir?.remove();
  });

  const get = async <T>(replica: ServerProcess, path: string): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${replica.url}${path}`, { headers: bearer(replica.token) });
    return { status: response.status, body: (await response.json()) as T };
  };

  it('finds a trace sent to replica A from replica B, and one sent half to each from both', async () => {
    const { web, orders, traceIds } = checkouts(6);
    assert.equal((await exportTo(a, web)).code, ExportResultCode.SUCCESS, 'web → replica A');
    const first = traceIds[0]!;
    // Only A was sent anything; B answers from the shared store at once (no copy to wait for).
    const fromB = await get<TraceView>(b, `/v1/traces/${first}`);
    assert.equal(fromB.status, 200, `replica B knows ${first}`);
    assert.deepEqual(
      new Set(fromB.body.rows.map((r) => r.name)),
      new Set(['POST /api/checkout', 'POST orders']),
    );

    assert.equal((await exportTo(b, orders)).code, ExportResultCode.SUCCESS, 'orders → replica B');
    for (const replica of [a, b]) {
      const whole = await get<TraceView>(replica, `/v1/traces/${first}`);
      assert.equal(whole.status, 200);
      assert.equal(whole.body.spanCount, 3, `${replica.url} shows both halves`);
      assert.deepEqual(whole.body.services, ['orders', 'web']);
    }

    const search = '/v1/traces?service=orders&status=error&limit=20';
    const [fromA, fromB2] = await Promise.all([
      get<{ traces: Summary[] }>(a, search),
      get<{ traces: Summary[] }>(b, search),
    ]);
    assert.deepEqual(fromA.body, fromB2.body, 'the same search answer from both replicas');
    assert.deepEqual(
      fromA.body.traces.map((t) => t.traceId).sort(),
      traceIds.filter((_, i) => i % 2 === 0).sort(),
      'the failed checkouts (every other one)',
    );
    for (const summary of fromA.body.traces) {
      assert.deepEqual(
        [summary.spanCount, summary.errorCount, summary.root],
        [3, 1, { service: 'web', route: 'POST /api/checkout', complete: true }],
      );
    }
  });

  it('counts a batch retried into the other replica once', async () => {
    const { web, traceIds } = checkouts(2);
    assert.equal((await exportTo(a, web)).code, ExportResultCode.SUCCESS);
    assert.equal((await exportTo(b, web)).code, ExportResultCode.SUCCESS, 'the same batch again, elsewhere');
    const { status, body } = await get<TraceView>(a, `/v1/traces/${traceIds[1]}`);
    assert.equal(status, 200);
    assert.equal(body.spanCount, 2, 'each span once');
  });

  it('sends the spans of a control plane with --trace-store to that database, not beside its state', async () => {
    // Its state in its own SQLite file; its spans in the replicas' database.
    const state = join(dir.path, 'c');
    const c = await startServer(state, ['--trace-store', store]);
    try {
      const { web, traceIds } = checkouts(1);
      assert.equal((await exportTo(c, web)).code, ExportResultCode.SUCCESS);
      const { status, body } = await get<TraceView>(a, `/v1/traces/${traceIds[0]}`);
      assert.equal(status, 200, 'replica A finds it in the database');
      assert.equal(body.spanCount, 2);
      assert.equal(existsSync(join(state, 'traces.db')), false, 'no span file beside the state');
    } finally {
      await c.stop();
    }
  });

  it('refuses a --trace-store that is the SQLite state database', async () => {
    const file = join(dir.path, 'd', 'state.db');
    const { code, stderr } = await runCli([
      'server',
      '--listen',
      '127.0.0.1:0',
      '--state-dir',
      join(dir.path, 'd'),
      '--store',
      file,
      '--trace-store',
      file,
    ]);
    assert.notEqual(code, 0);
    assert.match(stderr, /--trace-store .* is the state database/);
  });
});
