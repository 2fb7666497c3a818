// A service traced with @baton/sdk, for test/telemetry-sdk.test.ts. ROLE=back answers
// GET /leaf with the traceparent it received; ROLE=front calls back twice (fetch, then
// node:http) and answers with what back saw.
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  setRoute,
  startTracing,
  traceDiscovery,
  tracedFetch,
  traceOutgoing,
  traceRequests,
} from '../src/index.ts';

const tracing = startTracing({ service: process.env.ROLE, onError: (m) => console.error(`tracing: ${m}`) });
const back = process.env.BACK_URL ?? '';

const server = createServer(
  traceRequests(
    (request, response) => {
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.url === '/healthz') return reply(200, { ok: true });
      if (request.url === '/leaf') {
        setRoute('/leaf');
        return reply(200, { traceparent: request.headers.traceparent ?? null });
      }
      if (request.url === '/chain') {
        setRoute('/chain');
        void (async () => {
          const url = await traceDiscovery('back', async () => `${back}/leaf`);
          const viaFetch = (await (await tracedFetch(url, {}, { peerService: 'back' })).json()) as unknown;
          const viaHttp = await traceOutgoing(
            { method: 'GET', url, peerService: 'back' },
            (headers) =>
              new Promise<{ status: number; body: unknown }>((resolve, reject) => {
                get(url, { headers }, (res) => {
                  let text = '';
                  res.on('data', (c: Buffer) => (text += c.toString()));
                  res.on('end', () =>
                    resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }),
                  );
                }).on('error', reject);
              }),
            (result) => result.status,
          );
          reply(200, { viaFetch, viaHttp: viaHttp.body });
        })().catch((error: unknown) => reply(500, { error: String(error) }));
        return;
      }
      reply(404, {});
    },
    { ignore: (request) => request.url === '/healthz' },
  ),
);
void tracing.ready.then(() =>
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
  }),
);

process.once('SIGTERM', () => server.close(() => void tracing.shutdown().finally(() => process.exit(0))));
