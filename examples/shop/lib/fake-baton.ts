// For tests only: a stand-in for Baton's discovery API.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Serves `endpoints[service]` the way Baton does, and records each request. */
export async function fakeBaton(endpoints: Record<string, { address: string; port: number }[]>) {
  const requests: { path: string; authorization: string | undefined }[] = [];
  const server: Server = createServer((request, response) => {
    requests.push({ path: request.url ?? '', authorization: request.headers.authorization });
    const service = decodeURIComponent((request.url ?? '').replace('/v1/discovery/', ''));
    const found = endpoints[service];
    response.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        service,
        endpoints: (found ?? []).map((e, i) => ({ instance: `${service}-${i}`, ...e, version: '1.0.0' })),
      }),
    );
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, requests, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
