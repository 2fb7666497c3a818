// fastify 5 + @fastify/http-proxy with its defaults (which proxy through undici, by
// @fastify/reply-from): the usual way to put a Node framework in front of a service.
//
//   node bench/gateway/peers/fastify-proxy.ts --port P --upstream-port U
import { requirePeer } from './install.ts';
import { peerArgs } from './peer-args.ts';

/** The slice of fastify's API used here. */
interface Fastify {
  register(plugin: unknown, options: Record<string, unknown>): Fastify;
  listen(options: { port: number; host: string }): Promise<string>;
}

const args = peerArgs();
const fastify = requirePeer('fastify') as (options: { logger: boolean }) => Fastify;
const app = fastify({ logger: false }).register(requirePeer('@fastify/http-proxy'), {
  upstream: `http://127.0.0.1:${args.upstreamPort}`,
  prefix: '/',
});
await app.listen({ port: args.port, host: '127.0.0.1' });
