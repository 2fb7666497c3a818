// The gateway's span export across control-plane replicas, over real sockets: a batch that the
// first replica does not take (its port closed, then its process gone) reaches the next one,
// and later batches stay there.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, it } from 'node:test';
import pino from 'pino';
import { eventually } from '../../../test/support/eventually.ts';
import { otlpSpanExport, type GatewaySpan } from './span-export.ts';

interface Receiver {
  readonly url: string;
  readonly spans: string[];
  readonly server: Server;
}

const servers: Server[] = [];
after(() => {
  for (const server of servers) server.closeAllConnections();
  return Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
});

async function receiver(): Promise<Receiver> {
  const spans: string[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const parsed = JSON.parse(body) as {
        resourceSpans: { scopeSpans: { spans: { spanId: string }[] }[] }[];
      };
      for (const resource of parsed.resourceSpans)
        for (const scope of resource.scopeSpans) spans.push(...scope.spans.map((s) => s.spanId));
      response.writeHead(200).end('{}');
    });
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}

const span = (n: number): GatewaySpan => ({
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: n.toString(16).padStart(16, '0'),
  parentSpanId: '',
  method: 'GET',
  path: '/',
  template: '/',
  route: '/',
  service: 'web',
  instance: 'web-1',
  status: 200,
  outcome: 'ok',
  attempts: 1,
  endUnixMs: Date.now(),
  durationMs: 1,
});

it('sends a batch the first replica does not take to the next, and stays with it', async () => {
  const dead = await receiver();
  await new Promise((done) => dead.server.close(done)); // a port nobody listens on now
  const [first, second] = [await receiver(), await receiver()];
  const exporter = otlpSpanExport({
    urls: [dead.url, first.url, second.url],
    logger: pino({ level: 'silent' }),
    instanceId: 'gateway-test',
    flushMs: 20,
  });
  exporter.add(span(1));
  await eventually(() => first.spans.length === 1 || undefined, {
    what: 'the first batch at the live replica',
  });
  // The replica that took it dies: the next batch goes on to the one after.
  first.server.closeAllConnections();
  await new Promise((done) => first.server.close(done));
  exporter.add(span(2));
  exporter.add(span(3));
  await eventually(() => second.spans.length === 2 || undefined, {
    what: 'the next batch at the next replica',
  });
  exporter.add(span(4));
  await exporter.close();
  assert.deepEqual(
    [dead.spans, first.spans, second.spans],
    [[], [span(1).spanId], [2, 3, 4].map((n) => span(n).spanId)],
    'every span once, none lost',
  );
});
