// The practical ceiling for a Node reverse proxy: node:http in front of one undici Pool,
// nothing else (no routing, no policies, no telemetry). `pool.stream` writes the upstream's
// body straight into the client's response, without a Readable in between.
//
//   node bench/gateway/peers/undici-minimal.ts --port P --upstream-port U [--workers 2]
import http from 'node:http';
import { Pool } from 'undici';
import { runWorkers } from './cluster.ts';
import { peerArgs } from './peer-args.ts';

/** Connection-level headers, which a proxy must not forward (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

function forwardable(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

const args = peerArgs();
runWorkers(args.workers, () => {
  const pool = new Pool(`http://127.0.0.1:${args.upstreamPort}`, { connections: 64 });
  http
    .createServer((request, response) => {
      const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
      pool
        .stream(
          {
            method: request.method as 'GET',
            path: request.url ?? '/',
            headers: forwardable(request.headers),
            body: hasBody ? request : null,
          },
          ({ statusCode, headers }) => {
            response.writeHead(statusCode, forwardable(headers));
            return response;
          },
        )
        .catch(() => {
          if (!response.headersSent) response.writeHead(502);
          response.end();
        });
    })
    .listen(args.port, '127.0.0.1');
});
