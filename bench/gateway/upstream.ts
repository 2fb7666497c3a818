// The upstream every target proxies to (and `direct` hits): node:http, keep-alive, a fixed
// 100-byte JSON body for any request. One process for the whole benchmark, so every target
// meets the very same server.
//
//   node bench/gateway/upstream.ts --port 18000
import http from 'node:http';
import { parseArgs } from 'node:util';

/** Exactly 100 bytes of JSON: padded so that every target moves the same payload. */
export function upstreamBody(): Buffer {
  const base = { service: 'bench', ok: true, items: [1, 2, 3], pad: '' };
  const padding = 100 - Buffer.byteLength(JSON.stringify(base));
  const body = Buffer.from(JSON.stringify({ ...base, pad: 'x'.repeat(padding) }));
  if (body.length !== 100) throw new Error(`upstream body is ${body.length} bytes, not 100`);
  return body;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { port: { type: 'string' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port <= 0) throw new Error('--port must be a port number');
  const body = upstreamBody();
  const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
  const server = http.createServer((_request, response) => {
    response.writeHead(200, headers).end(body);
  });
  // Longer than any proxy's idle pool timeout, so the server never closes a pooled
  // connection a proxy is about to reuse (that race would show up as proxy errors).
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1');
}
