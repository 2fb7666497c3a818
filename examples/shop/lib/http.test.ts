import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fakeBaton } from './fake-baton.ts';
import { callJson, UpstreamError } from './http.ts';

/** A port nobody listens on: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createTcpServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

describe('callJson', () => {
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const upstream = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += String(chunk);
    seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
    if (request.url === '/slow') return; // never answers
    if (request.url === '/text') return response.end('not json');
    response.writeHead(request.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ path: request.url }));
  });
  let baton: Awaited<ReturnType<typeof fakeBaton>>;

  before(async () => {
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const live = { address: '127.0.0.1', port: (upstream.address() as AddressInfo).port };
    const dead = { address: '127.0.0.1', port: await closedPort() };
    // The first turn of each service goes to the dead instance.
    baton = await fakeBaton({ reads: [dead, live], writes: [dead, live], plain: [live] });
    process.env.BATON_SERVER = baton.url;
  });
  after(() => {
    upstream.closeAllConnections();
    upstream.close();
    baton.server.close();
  });

  it('sends JSON with the given headers and returns the answer as a value, whatever its status', async () => {
    const reply = await callJson(
      'plain',
      'POST',
      '/missing',
      { a: 1 },
      { headers: { 'x-request-id': 'r-1' } },
    );
    assert.deepEqual(reply, { status: 404, ok: false, body: { path: '/missing' } });
    const request = seen.at(-1);
    assert.equal(request?.body, '{"a":1}');
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.equal(request?.headers['x-request-id'], 'r-1');
  });

  it('retries an idempotent call on another instance when the connection is refused', async () => {
    const reply = await callJson('reads', 'GET', '/thing');
    assert.deepEqual(reply, { status: 200, ok: true, body: { path: '/thing' } });
    assert.equal(baton.requests.filter((r) => r.path === '/v1/discovery/reads').length, 2);
  });

  it('never retries a POST', async () => {
    const before = seen.length;
    await assert.rejects(callJson('writes', 'POST', '/thing', {}), {
      name: 'UpstreamError',
      failure: 'unreachable',
    });
    assert.equal(seen.length, before);
  });

  it('tells a timeout, a non-JSON answer and an unknown service apart', async () => {
    const failure = async (promise: Promise<unknown>) => {
      const error: unknown = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof UpstreamError);
      return error.failure;
    };
    assert.equal(await failure(callJson('plain', 'GET', '/slow', undefined, { timeoutMs: 50 })), 'timeout');
    assert.equal(await failure(callJson('plain', 'GET', '/text')), 'bad-response');
    assert.equal(await failure(callJson('nowhere', 'GET', '/')), 'undiscoverable');
  });
});
