// Health probes are not traffic (issue 12, item 14): Baton's prober says who it is
// (`user-agent: baton-probe/…`), and a service traced with @baton/sdk records no span for
// its requests, so "1,964 requests" of a probe no longer fill traces and RED figures.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { setRoute, startTracing, traceRequests } from '../packages/sdk/src/index.ts';
import { NetworkProber } from '../src/adapters/prober/network-prober.ts';

describe("the SDK and Baton's health probes", () => {
  const exporter = new InMemorySpanExporter();
  const tracing = startTracing({ service: 'orders', exporter });
  // No `ignore`: the SDK recognises the prober by itself.
  const server = createServer(
    traceRequests((request, response) => {
      setRoute(request.url === '/healthz' ? '/healthz' : '/orders');
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    }),
  );
  let port = 0;

  before(async () => {
    await tracing.ready;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.close();
    await tracing.shutdown();
  });

  it('records no span for a probe, and one for a request', async () => {
    const result = await new NetworkProber().probe(
      { kind: 'http', address: '127.0.0.1', port, path: '/healthz' },
      2_000,
    );
    assert.equal(result.ok, true, result.detail);
    const response = await fetch(`http://127.0.0.1:${port}/orders`);
    assert.equal(response.status, 200);
    await response.text();
    await tracing.flush();
    assert.deepEqual(
      exporter.getFinishedSpans().map((s) => s.name),
      ['GET /orders'],
      'the probe left no span',
    );
  });
});
