// http-proxy (node-http-proxy) on node:http, given a keep-alive Agent: without one it opens a
// connection per request (≈ 2.9k req/s here), which would measure TCP setup, not the proxy.
//
//   node bench/gateway/peers/http-proxy.ts --port P --upstream-port U
import http from 'node:http';
import { requirePeer } from './install.ts';
import { peerArgs } from './peer-args.ts';

/** The slice of http-proxy's API used here. */
interface ProxyServer {
  web(request: http.IncomingMessage, response: http.ServerResponse): void;
  on(event: 'error', listener: (error: Error, request: unknown, response: http.ServerResponse) => void): void;
}
interface HttpProxy {
  createProxyServer(options: { target: string; agent: http.Agent }): ProxyServer;
}

const args = peerArgs();
const httpProxy = requirePeer('http-proxy') as HttpProxy;
const proxy = httpProxy.createProxyServer({
  target: `http://127.0.0.1:${args.upstreamPort}`,
  agent: new http.Agent({ keepAlive: true, maxSockets: 64 }),
});
proxy.on('error', (_error, _request, response) => {
  if (!response.headersSent) response.writeHead(502);
  response.end();
});
http.createServer((request, response) => proxy.web(request, response)).listen(args.port, '127.0.0.1');
