// An ESM app calling itself twice per request, once with fetch and once with node:http, to
// see what OpenTelemetry's auto-instrumentation records (test/telemetry-sdk.test.ts).
import { request, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';

const server = createServer((req, res) => {
  if (req.url !== '/outer') return void res.end('inner');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  void (async () => {
    await (await fetch(`${base}/inner-fetch`)).text();
    await new Promise<void>((done) =>
      request(`${base}/inner-http`, (r) => {
        r.resume();
        r.on('end', done);
      }).end(),
    );
    res.end('outer');
  })();
});
server.listen(0, '127.0.0.1', async () => {
  await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/outer`)).text();
  const exporter = (globalThis as { autoExporter?: InMemorySpanExporter }).autoExporter;
  const spans = (exporter?.getFinishedSpans() ?? []).map((s) => ({
    kind: s.kind,
    path: s.attributes['url.path'] ?? s.attributes['http.target'] ?? null,
    trace: s.spanContext().traceId,
    parent: s.parentSpanContext?.spanId ?? null,
    id: s.spanContext().spanId,
  }));
  process.stdout.write(`${JSON.stringify(spans)}\n`);
  server.close();
});
