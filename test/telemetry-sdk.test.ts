// @baton/sdk in real ESM processes on Node 24: traces continue across node:http and fetch
// with the service's Baton identity, tracing never breaks a service, and why the SDK wraps
// explicitly instead of relying on OpenTelemetry's auto-instrumentation.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { WaterfallRow } from '../src/domain/telemetry/call-tree.ts';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { REPO, tempDir } from './support/baton-process.ts';
import { authedFetch } from './support/api-token.ts';

const FIXTURES = join(REPO, 'packages/sdk/test-fixtures');
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const INCOMING = `00-${TRACE_ID}-b7ad6b7169203331-01`;

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  readonly stderr: string[];
}

const running: ChildProcess[] = [];

async function startService(role: 'front' | 'back', env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, [join(FIXTURES, 'traced-service.ts')], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', ROLE: role, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const [line] = (await Promise.race([
    once(createInterface({ input: child.stdout! }), 'line'),
    once(child, 'exit').then(() => assert.fail(`${role} exited: ${stderr.join('\n')}`)),
  ])) as [string];
  return { child, url: `http://127.0.0.1:${/listening (\d+)/.exec(line)![1]}`, stderr };
}

async function chain(front: Running, headers: Record<string, string> = {}) {
  const response = await fetch(`${front.url}/chain`, { headers });
  assert.equal(response.status, 200);
  return (await response.json()) as { viaFetch: { traceparent: string }; viaHttp: { traceparent: string } };
}

after(() => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('@baton/sdk', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let plane: ControlPlane;

  before(async () => {
    dir = await tempDir('telemetry-sdk');
    plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir: join(dir.path, 'state'),
      runtime: 'simulated',
      logger: pino({ level: 'silent' }),
    });
  });
  after(async () => {
    await plane?.close();
    await dir?.remove();
  });

  it('continues the caller’s trace through node:http and fetch, with the service’s Baton identity', async () => {
    const identity = (service: string) => ({
      BATON_SERVER: plane.url,
      BATON_TOKEN: plane.identities.serviceToken(service),
      BATON_SERVICE: service,
      BATON_INSTANCE: `${service}-1a2b`,
      BATON_VERSION: '1.2.3',
    });
    const back = await startService('back', identity('back'));
    const front = await startService('front', { ...identity('front'), BACK_URL: back.url });
    const seen = await chain(front, { traceparent: INCOMING });
    // back was called inside the same trace, each time as the child of a new client span
    for (const traceparent of [seen.viaFetch.traceparent, seen.viaHttp.traceparent]) {
      assert.match(traceparent, new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
      assert.notEqual(traceparent, INCOMING);
    }

    const rows = await (async () => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const response = await authedFetch(plane.token)(`${plane.url}/v1/traces/${TRACE_ID}`);
        if (response.status === 200) {
          const view = (await response.json()) as { rows: WaterfallRow[] };
          if (view.rows.length === 6) return view.rows;
        }
        if (Date.now() > deadline) assert.fail('the trace did not arrive');
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    assert.deepEqual(
      rows.map((r) => [r.depth, r.kind, r.service, r.name]),
      [
        [0, 'server', 'front', 'GET /chain'],
        [1, 'internal', 'front', 'discover back'],
        [1, 'client', 'front', 'GET back'],
        [2, 'server', 'back', 'GET /leaf'],
        [1, 'client', 'front', 'GET back'],
        [2, 'server', 'back', 'GET /leaf'],
      ],
    );
    assert.equal(rows[0]!.parentSpanId, INCOMING.split('-')[2], 'continues the incoming traceparent');
    assert.deepEqual(
      [rows[0]!.instance, rows[0]!.version, rows[3]!.instance],
      ['front-1a2b', '1.2.3', 'back-1a2b'],
    );
    const clientSpans = rows.filter((r) => r.kind === 'client');
    assert.deepEqual(
      clientSpans.map((r) => [r.attributes['peer.service'], r.attributes['http.response.status_code']]),
      [
        ['back', 200],
        ['back', 200],
      ],
    );
    assert.equal(rows[0]!.attributes['http.route'], '/chain');
    assert.deepEqual(
      rows.filter((r) => r.kind === 'server').map((r) => r.attributes['http.response.status_code']),
      [200, 200, 200],
    );
  });

  it('is off without BATON_SERVER: no spans, no trace headers added', async () => {
    const back = await startService('back', {});
    const front = await startService('front', { BACK_URL: back.url });
    const seen = await chain(front, { traceparent: INCOMING });
    // (the shop forwards an incoming traceparent itself when tracing is off: examples/shop/shop.test.ts)
    assert.equal(seen.viaFetch.traceparent, null);
    assert.equal(seen.viaHttp.traceparent, null);
  });

  it('keeps serving when the control plane is unreachable or has no /v1/traces', async () => {
    const old = createServer((_request, response) => response.writeHead(404).end()).listen(0, '127.0.0.1');
    await once(old, 'listening');
    try {
      for (const server of [
        'http://127.0.0.1:1',
        `http://127.0.0.1:${(old.address() as AddressInfo).port}`,
      ]) {
        const back = await startService('back', { BATON_SERVER: server, BATON_SERVICE: 'back' });
        const front = await startService('front', {
          BATON_SERVER: server,
          BATON_SERVICE: 'front',
          BACK_URL: back.url,
        });
        for (let i = 0; i < 3; i++) {
          const seen = await chain(front, { traceparent: INCOMING });
          assert.match(seen.viaFetch.traceparent, new RegExp(`^00-${TRACE_ID}-`));
        }
        // Once an export has failed (the SDK reports it through onError), it still answers
        const deadline = Date.now() + 10_000;
        while (!front.stderr.some((line) => line.startsWith('tracing: '))) {
          if (Date.now() > deadline) assert.fail(`no export failure reported for ${server}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal((await chain(front)).viaFetch.traceparent.length, 55);
        for (const service of [front, back]) {
          service.child.kill('SIGTERM');
          const [code] = (await once(service.child, 'exit')) as [number | null];
          assert.equal(code, 0, 'stops cleanly, flushing what it can');
        }
      }
    } finally {
      old.close();
    }
  });
});

describe('OpenTelemetry auto-instrumentation under ESM on Node 24 (why @baton/sdk wraps explicitly)', () => {
  const run = async (hook: 'on' | 'off') => {
    const child = spawn(
      process.execPath,
      ['--import', join(FIXTURES, 'auto-register.mjs'), join(FIXTURES, 'auto-app.ts')],
      { cwd: REPO, env: { PATH: process.env.PATH ?? '', HOOK: hook }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    await once(child, 'exit');
    return JSON.parse(line) as { kind: number; path: string | null; trace: string; parent: string | null }[];
  };

  it('records nothing without the module hook', async () => {
    assert.deepEqual(await run('off'), []);
  });

  it('with the hook, traces node:http but not fetch: a fetch call starts a new, unrelated trace', async () => {
    const spans = await run('on');
    const outer = spans.find((s) => s.path === '/outer')!;
    const viaHttp = spans.find((s) => s.path === '/inner-http')!;
    const viaFetch = spans.find((s) => s.path === '/inner-fetch')!;
    assert.equal(viaHttp.trace, outer.trace, 'node:http propagates');
    assert.notEqual(viaFetch.trace, outer.trace, 'fetch does not');
    assert.equal(viaFetch.parent, null);
    assert.equal(spans.filter((s) => s.kind === 2).length, 1, 'one client span: the node:http call only');
  });
});
