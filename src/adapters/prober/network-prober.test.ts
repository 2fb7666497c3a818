import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ProbeTarget } from '../../ports/prober.ts';
import { NetworkProber } from './network-prober.ts';

const prober = new NetworkProber();
const LOCALHOST = '127.0.0.1';

async function listen(server: net.Server): Promise<number> {
  server.listen(0, LOCALHOST);
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

async function closeServer(server: http.Server | net.Server): Promise<void> {
  if (server instanceof http.Server) server.closeAllConnections();
  if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on: bound, then released. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await closeServer(server);
  return port;
}

describe('NetworkProber http', () => {
  const seen: { method?: string; url?: string; agent?: string }[] = [];
  const bodyClosed: Promise<void>[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, agent: req.headers['user-agent'] });
    if (req.url === '/healthz') return void res.end('ok');
    if (req.url === '/down') return void res.writeHead(503).end('down');
    if (req.url === '/moved') return void res.writeHead(302, { location: '/elsewhere' }).end();
    if (req.url === '/silent') return; // accepts the request, never answers
    if (req.url === '/endless') {
      // Headers, then a body that never ends: the verdict must not wait for it.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('x'.repeat(64 * 1024));
      bodyClosed.push(once(res, 'close').then(() => undefined));
      return;
    }
    res.writeHead(404).end();
  });
  let port = 0;
  const target = (path: string): ProbeTarget => ({ kind: 'http', address: LOCALHOST, port, path });

  before(async () => {
    port = await listen(server);
  });
  after(() => closeServer(server));

  it('passes on 200 with a GET of the path, under its own user agent', async () => {
    seen.length = 0;
    const result = await prober.probe(target('/healthz'), 2000);
    assert.equal(result.ok, true);
    assert.equal(result.detail, 'HTTP 200');
    assert.ok(result.durationMs >= 0);
    assert.deepEqual(seen, [{ method: 'GET', url: '/healthz', agent: 'baton-probe/0.1' }]);
  });

  it('fails on 503 and 404, saying which', async () => {
    assert.deepEqual(pick(await prober.probe(target('/down'), 2000)), { ok: false, detail: 'HTTP 503' });
    assert.deepEqual(pick(await prober.probe(target('/nope'), 2000)), { ok: false, detail: 'HTTP 404' });
  });

  it('passes on a redirect without following it', async () => {
    seen.length = 0;
    assert.deepEqual(pick(await prober.probe(target('/moved'), 2000)), { ok: true, detail: 'HTTP 302' });
    assert.deepEqual(
      seen.map((s) => s.url),
      ['/moved'],
    );
  });

  it('fails with ECONNREFUSED when nothing listens', async () => {
    const result = await prober.probe(
      { kind: 'http', address: LOCALHOST, port: await freePort(), path: '/' },
      2000,
    );
    assert.deepEqual(pick(result), { ok: false, detail: 'ECONNREFUSED' });
  });

  it('gives up on a server that never answers at the timeout', async () => {
    const result = await prober.probe(target('/silent'), 200);
    assert.deepEqual(pick(result), { ok: false, detail: 'timeout after 200 ms' });
  });

  it('decides on the status line without reading an endless body, then cuts it off', async () => {
    const result = await prober.probe(target('/endless'), 300);
    assert.deepEqual(pick(result), { ok: true, detail: 'HTTP 200' });
    // The deadline still closes the connection the body was streaming on.
    await Promise.all(bodyClosed);
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    const pending = prober.probe(target('/silent'), 10_000, controller.signal);
    controller.abort();
    assert.deepEqual(pick(await pending), { ok: false, detail: 'aborted' });
    const already = await prober.probe(target('/healthz'), 2000, controller.signal);
    assert.deepEqual(pick(already), { ok: false, detail: 'aborted' });
  });

  it('reports a malformed target instead of throwing', async () => {
    const result = await prober.probe({ kind: 'http', address: LOCALHOST, port: 70_000, path: '/' }, 2000);
    assert.equal(result.ok, false);
    assert.ok(result.detail.length > 0);
  });
});

describe('NetworkProber tcp', () => {
  const server = net.createServer((socket) => socket.on('error', () => {}));
  let port = 0;
  before(async () => {
    port = await listen(server);
  });
  after(() => closeServer(server));

  it('passes when it can connect', async () => {
    const accepted = once(server, 'connection');
    const result = await prober.probe({ kind: 'tcp', address: LOCALHOST, port }, 2000);
    assert.deepEqual(pick(result), { ok: true, detail: 'connected' });
    const [socket] = (await accepted) as [net.Socket];
    // And hangs up straight away rather than holding a connection open.
    await once(socket, 'close');
  });

  it('fails with ECONNREFUSED when nothing listens', async () => {
    const result = await prober.probe({ kind: 'tcp', address: LOCALHOST, port: await freePort() }, 2000);
    assert.deepEqual(pick(result), { ok: false, detail: 'ECONNREFUSED' });
  });
});

describe('NetworkProber command', () => {
  const node = process.execPath;
  let dir = '';
  const command = (script: string, env: Record<string, string> = {}): ProbeTarget => ({
    kind: 'command',
    command: node,
    args: ['-e', script],
    cwd: dir,
    env,
    instance: 'orders-1',
  });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'baton-probe-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('passes on exit 0', async () => {
    assert.deepEqual(pick(await prober.probe(command('process.exit(0)'), 5000)), {
      ok: true,
      detail: 'exit 0',
    });
  });

  it('fails on exit 1 with the last thing the command said', async () => {
    const result = await prober.probe(
      command('console.error("first"); console.error("db down"); process.exit(1)'),
      5000,
    );
    assert.deepEqual(pick(result), { ok: false, detail: 'exit 1: db down' });
    assert.deepEqual(pick(await prober.probe(command('process.exit(2)'), 5000)), {
      ok: false,
      detail: 'exit 2',
    });
  });

  it('runs in the given directory with the given environment, without a shell', async () => {
    const script = `process.exit(process.cwd() === ${JSON.stringify(dir)} && process.env.PROBE === 'a b;c' ? 0 : 3)`;
    assert.deepEqual(pick(await prober.probe(command(script, { PROBE: 'a b;c' }), 5000)), {
      ok: true,
      detail: 'exit 0',
    });
    const noShell: ProbeTarget = {
      kind: 'command',
      command: 'true && false',
      args: [],
      cwd: dir,
      env: {},
      instance: 'orders-1',
    };
    assert.deepEqual(pick(await prober.probe(noShell, 5000)), {
      ok: false,
      detail: 'cannot run true && false: ENOENT',
    });
  });

  it('kills a command that hangs at the timeout', async () => {
    const result = await prober.probe(command('setInterval(() => {}, 1000)'), 300);
    // The result only comes once the process has exited.
    assert.deepEqual(pick(result), { ok: false, detail: 'timeout after 300 ms' });
  });

  it('kills the whole process group, children included, when aborted', { timeout: 10_000 }, async (t) => {
    // Both the command and a child it starts connect here; their sockets close when they die.
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => void sockets.push(socket.on('error', () => {})));
    try {
      const port = await listen(server);
      const connect = `require('node:net').connect(${port}, '${LOCALHOST}'); setInterval(() => {}, 1000);`;
      const script = `${connect} require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(connect)}], { stdio: 'ignore' });`;
      const controller = new AbortController();
      const pending = prober.probe(command(script), 60_000, controller.signal);
      while (sockets.length < 2) await once(server, 'connection', { signal: t.signal });
      controller.abort();
      assert.deepEqual(pick(await pending), { ok: false, detail: 'aborted' });
      await Promise.all(
        sockets.map((socket) => (socket.closed ? undefined : once(socket, 'close', { signal: t.signal }))),
      );
    } finally {
      // Should the kill regress, the waits above end at the test timeout and this lets go.
      for (const socket of sockets) socket.destroy();
      await closeServer(server);
    }
  });
});

function pick(result: { ok: boolean; detail: string }) {
  return { ok: result.ok, detail: result.detail };
}
