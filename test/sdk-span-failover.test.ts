// @baton/sdk's span export with several replicas in BATON_SERVER, over real sockets: the first
// replica's port is closed (a replica killed), so the batch goes to the next, whole, and the
// next batch goes there directly. The receivers are plain HTTP servers standing for replicas'
// /v1/traces; what matters is where the OTLP requests land.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { startTracing } from '../packages/sdk/src/index.ts';

const servers: Server[] = [];
after(() => Promise.all(servers.map((s) => new Promise((done) => s.close(done)))));

async function replica(): Promise<{ url: string; requests: number[]; server: Server }> {
  const requests: number[] = [];
  const server = createServer((request, response) => {
    let bytes = 0;
    request.on('data', (chunk: Buffer) => (bytes += chunk.length));
    request.on('end', () => {
      if (request.url === '/v1/traces' && request.method === 'POST') requests.push(bytes);
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

it(
  'exports to the next replica when the first does not answer, and stays there',
  { timeout: 30_000 },
  async () => {
    const dead = await replica();
    await new Promise((done) => dead.server.close(done));
    const live = await replica();
    const tracing = startTracing({
      env: { BATON_SERVER: `${dead.url},${live.url}`, BATON_SERVICE: 'orders', BATON_TOKEN: 'bsvc.orders.x' },
      scheduledDelayMillis: 60_000, // batches only when flushed
    });
    assert.equal(tracing.endpoint, `${dead.url}/v1/traces`, 'the first replica first');
    await tracing.ready;
    const tracer = trace.getTracer('test');
    tracer.startSpan('first').end();
    await tracing.flush();
    assert.equal(live.requests.length, 1, 'the first batch reached the live replica');
    tracer.startSpan('second').end();
    await tracing.flush();
    assert.equal(live.requests.length, 2, 'the next batch went there directly');
    assert.ok(live.requests.every((bytes) => bytes > 0));
    await tracing.shutdown();
  },
);
