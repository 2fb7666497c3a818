// Service-to-service traffic through Baton, end to end with real processes: `baton server`,
// `baton gateway` (the node's data plane), and two services that know nothing of Baton
// (test/fixtures/unmodified: plain node:http on the machine's own Node, fetch to HOTEL_URL,
// no SDK, no discovery client, no retries of their own).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'undici';
import { bearer } from './support/api-token.ts';
import { BATON_BIN, REPO, startServer, tempDir, type ServerProcess } from './support/baton-process.ts';
import { findOwnedProcesses } from '../src/adapters/runtime/process/process-runtime.ts';

const FIXTURES = join(REPO, 'test/fixtures/unmodified');

interface Instance {
  id: string;
  service: string;
  version: string;
  phase: string;
  pid?: number;
  port?: number;
}

/** The admin token of each control plane this file started, by URL; instances get none. */
const tokens = new Map<string, string>();

async function api<T>(
  server: string,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const token = tokens.get(server);
  const response = await fetch(`${server}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(token === undefined ? {} : bearer(token)),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  if (response.status >= 400) throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${text}`);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const instances = (server: string, service: string) =>
  api<{ instances: Instance[] }>(server, `/v1/instances?service=${service}`).then((r) => r.instances);

async function running(
  server: string,
  service: string,
  count: number,
  version?: string,
): Promise<Instance[]> {
  return until(`${count} running ${service}${version ? ` ${version}` : ''}`, async () => {
    const list = (await instances(server, service)).filter((i) => i.phase === 'running');
    const all = await instances(server, service);
    const settled =
      list.length === count &&
      all.length === count &&
      (version === undefined || list.every((i) => i.version === version));
    return settled ? list : undefined;
  });
}

interface GatewayProcess {
  readonly url: string;
  stop(): Promise<void>;
}

async function startGatewayProcess(server: string): Promise<GatewayProcess> {
  const token = tokens.get(server);
  const child = spawn(
    process.execPath,
    [
      BATON_BIN,
      '--server',
      server,
      'gateway',
      '--listen',
      '127.0.0.1:0',
      '--no-admin',
      '--no-access-log',
      '--log-level',
      'warn',
    ],
    {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: '1', ...(token === undefined ? {} : { BATON_TOKEN: token }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let output = '';
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const match = /listening on (http:\/\/[^\s,]+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    void exited.then(() => reject(new Error(`the gateway exited: ${output}`)));
  });
  return {
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function manifest(options: {
  hotelVersion: string;
  hotelInstances?: { min: number; max: number };
  webRange?: string;
  canary?: boolean;
  mode?: 'enforce' | 'observe';
  tour?: boolean;
}): string {
  const { min, max } = options.hotelInstances ?? { min: 3, max: 6 };
  return `name: s2s
gateway: { eastWest: { mode: ${options.mode ?? 'enforce'} } }
services:
  hotel:
    version: ${options.hotelVersion}
    tier: high
    run: { command: node, args: [hotel.js], cwd: ${FIXTURES} }
    instances: { min: ${min}, max: ${max} }
    health: { http: { path: /healthz }, interval: 1s, timeout: 1s }
${
  options.canary
    ? '    rollout: { strategy: canary, canarySteps: [50, 100], canaryPause: 20m, deadline: 30m }\n'
    : '    rollout: { maxSurge: 1, maxUnavailable: 0 }\n'
}  payments:
    version: 1.0.0
    tier: high
    run: { command: node, args: [hotel.js], cwd: ${FIXTURES} }
    health: { http: { path: /healthz }, interval: 1s, timeout: 1s }
  web:
    version: 1.0.0
    tier: high
    run: { command: node, args: [web.js], cwd: ${FIXTURES} }
    health: { http: { path: /healthz }, interval: 1s, timeout: 1s }
    dependsOn:
      hotel: ${options.webRange ?? '^1.0.0'}
${
  options.tour
    ? `  tour:
    version: 1.0.0
    tier: high
    run: { command: node, args: [web.js], cwd: ${FIXTURES} }
    health: { http: { path: /healthz }, interval: 1s, timeout: 1s }
    dependsOn:
      hotel: '>=1.0.0'
    telemetry: auto
`
    : ''
}`;
}

async function apply(server: string, text: string, force = false): Promise<number> {
  const outcome = await api<{ revision: { number: number } }>(server, '/v1/apply', {
    method: 'POST',
    body: { manifest: text, force },
  });
  return outcome.revision.number;
}

/** Steady load on the consumer: `concurrency` callers, one GET /call at a time each. */
function steadyLoad(webUrl: string, concurrency = 6) {
  const pool = new Pool(webUrl, { connections: concurrency });
  let stopped = false;
  const failures: string[] = [];
  const byInstance: Record<string, number> = {};
  let calls = 0;
  const worker = async () => {
    while (!stopped) {
      try {
        const response = await pool.request({ path: '/call', method: 'GET' });
        const text = await response.body.text();
        calls++;
        if (response.statusCode !== 200) failures.push(`${response.statusCode} ${text.slice(0, 200)}`);
        else {
          const instance = (JSON.parse(text) as { instance: string }).instance;
          byInstance[instance] = (byInstance[instance] ?? 0) + 1;
        }
      } catch (error) {
        calls++;
        failures.push(String(error));
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    get calls() {
      return calls;
    },
    failures,
    byInstance,
    async stop() {
      stopped = true;
      await Promise.all(workers);
      await pool.close();
    },
  };
}

describe('an unmodified app through the data plane', { timeout: 600_000 }, () => {
  let state: { path: string; remove: () => Promise<void> };
  let server: ServerProcess;
  let gateway: GatewayProcess;
  let port = 0;

  before(async () => {
    state = await tempDir('east-west');
    server = await startServer(state.path);
    tokens.set(server.url, server.token);
    port = Number(new URL(server.url).port);
    gateway = await startGatewayProcess(server.url);
  });

  after(async () => {
    await gateway?.stop();
    await server?.stop('SIGKILL');
    for (const { pid } of await findOwnedProcesses(state.path)) process.kill(pid, 'SIGKILL');
    await state?.remove();
  });

  it('serves every idempotent call across kill -9 every 3 s, scaling, a rolling update and a control-plane restart', async (t) => {
    const seed = randomInt(2 ** 31);
    t.diagnostic(`east-west kill seed ${seed}`);
    let draw = seed;
    const random = () => (draw = (draw * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

    await apply(server.url, manifest({ hotelVersion: '1.2.0' }));
    await running(server.url, 'hotel', 3);
    const [web] = await running(server.url, 'web', 1);
    const env = await api<Record<string, string>>(`http://127.0.0.1:${web!.port}`, '/env');
    assert.match(env['HOTEL_URL']!, /^http:\/\/127\.0\.0\.1:\d+$/);
    const load = steadyLoad(`http://127.0.0.1:${web!.port}`);
    try {
      await until('the first calls', () => (load.calls > 50 ? true : undefined));

      // kill -9 a provider instance every 3 s.
      for (let kill = 0; kill < 5; kill++) {
        const live = (await instances(server.url, 'hotel')).filter((i) => i.phase === 'running' && i.pid);
        const victim = live[Math.floor(random() * live.length)];
        if (victim?.pid !== undefined) process.kill(victim.pid, 'SIGKILL');
        await new Promise((r) => setTimeout(r, 3_000));
      }
      await running(server.url, 'hotel', 3);

      // Scaling out and in.
      await api(server.url, '/v1/services/hotel/scale', { method: 'POST', body: { instances: 5 } });
      await running(server.url, 'hotel', 5);
      await api(server.url, '/v1/services/hotel/scale', { method: 'POST', body: { instances: 3 } });
      await running(server.url, 'hotel', 3);

      // A rolling update of the provider.
      await apply(server.url, manifest({ hotelVersion: '1.3.0' }));
      await running(server.url, 'hotel', 3, '1.3.0');

      // The control plane killed and started again on the same state: the data plane routes
      // by its last snapshot meanwhile, and the consumer's address does not change.
      await server.stop('SIGKILL');
      const before = load.calls;
      await until('calls while the control plane is down', () =>
        load.calls > before + 50 ? true : undefined,
      );
      server = await startServer(state.path, ['--listen', `127.0.0.1:${port}`]);
      tokens.set(server.url, server.token);
      await running(server.url, 'hotel', 3, '1.3.0');
      const [same] = await running(server.url, 'web', 1);
      assert.equal(same!.id, web!.id, 'the consumer was adopted, not replaced');
      const again = load.calls;
      await until('calls after the restart', () => (load.calls > again + 200 ? true : undefined));
    } finally {
      await load.stop();
    }
    t.diagnostic(`east-west: ${load.calls} calls, by instance ${JSON.stringify(load.byInstance)}`);
    assert.deepEqual(load.failures, []);
    assert.ok(Object.keys(load.byInstance).length >= 6, 'calls reached the replacements');
  });
});

describe('range routing and the map, with no instrumentation anywhere', { timeout: 600_000 }, () => {
  let state: { path: string; remove: () => Promise<void> };
  let server: ServerProcess;
  let gateway: GatewayProcess;

  before(async () => {
    state = await tempDir('east-west-ranges');
    server = await startServer(state.path);
    tokens.set(server.url, server.token);
    gateway = await startGatewayProcess(server.url);
  });

  after(async () => {
    await gateway?.stop();
    await server?.stop('SIGKILL');
    for (const { pid } of await findOwnedProcesses(state.path)) process.kill(pid, 'SIGKILL');
    await state?.remove();
  });

  it('shows the real edges on the map and in drift from the first calls', async (t) => {
    await apply(
      server.url,
      manifest({ hotelVersion: '1.4.0', hotelInstances: { min: 2, max: 4 }, tour: true }),
    );
    const [web] = await running(server.url, 'web', 1);
    await running(server.url, 'hotel', 2);
    const started = Date.now();
    const first = await api<{ instance: string }>(`http://127.0.0.1:${web!.port}`, '/call');
    assert.ok(first.instance.startsWith('hotel-'));
    type MapView = {
      edges: { from: string; to: string; observed: boolean; declared: boolean }[];
      drift: { undeclared: { from: string; to: string }[]; unobserved: { from: string; to: string }[] };
    };
    const map = await until('web → hotel on the map', async () => {
      const view = await api<MapView>(server.url, '/v1/map');
      return view.edges.some((e) => e.from === 'web' && e.to === 'hotel' && e.observed) ? view : undefined;
    });
    t.diagnostic(`web → hotel on the map ${Date.now() - started} ms after the first call`);
    assert.ok(!map.drift.unobserved.some((e) => e.from === 'web' && e.to === 'hotel'));
    assert.ok(
      map.drift.unobserved.some((e) => e.from === 'tour' && e.to === 'hotel'),
      'tour has made no call yet',
    );
  });

  it('refuses a call to an undeclared service (enforce), and reports it as drift', async () => {
    const [web] = await running(server.url, 'web', 1);
    const answer = await fetch(`http://127.0.0.1:${web!.port}/undeclared?service=payments`);
    assert.equal(answer.status, 403);
    const problem = (await answer.json()) as { code: string; detail: string };
    assert.equal(problem.code, 'undeclared-dependency');
    assert.match(problem.detail, /web does not declare payments in dependsOn/);
    const view = await until('the refused call in drift', async () => {
      const map = await api<{ drift: { undeclared: { from: string; to: string }[] } }>(server.url, '/v1/map');
      return map.drift.undeclared.some((e) => e.from === 'web' && e.to === 'payments') ? map : undefined;
    });
    assert.ok(view);
  });

  it('keeps a consumer pinned to ^1 off a canary of 2.0.0 (2,000 calls), while a wider range reaches it', async (t) => {
    // The provider's new major, with a consumer still on ^1: a forced apply (the plan breaks
    // web's range) whose canary holds at half the traffic. The running web instance keeps
    // the address, and the range, it was started with.
    const oldWeb = (await running(server.url, 'web', 1))[0]!;
    const [tour] = await running(server.url, 'tour', 1);
    await apply(
      server.url,
      manifest({
        hotelVersion: '2.0.0',
        hotelInstances: { min: 2, max: 4 },
        canary: true,
        webRange: '^2.0.0',
        tour: true,
      }),
      true,
    );
    await until('the 2.0.0 canary serving', async () =>
      (await instances(server.url, 'hotel')).some((i) => i.version === '2.0.0' && i.phase === 'running')
        ? true
        : undefined,
    );
    const versions = async (url: string, n: number) => {
      const pool = new Pool(url, { connections: 4 });
      const counts: Record<string, number> = {};
      const failures: string[] = [];
      let left = n;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (left-- > 0) {
            const response = await pool.request({ path: '/call', method: 'GET' });
            const text = await response.body.text();
            if (response.statusCode !== 200) failures.push(text);
            else {
              const { version, instance } = JSON.parse(text) as { version: string; instance: string };
              counts[`${version} ${instance}`] = (counts[`${version} ${instance}`] ?? 0) + 1;
            }
          }
        }),
      );
      await pool.close();
      return { counts, failures };
    };
    const pinned = await versions(`http://127.0.0.1:${oldWeb.port}`, 2_000);
    t.diagnostic(`web (^1.0.0) by instance over 2,000 calls: ${JSON.stringify(pinned.counts)}`);
    assert.deepEqual(pinned.failures, []);
    const total = Object.values(pinned.counts).reduce((a, b) => a + b, 0);
    assert.equal(total, 2_000);
    assert.ok(
      Object.keys(pinned.counts).every((key) => key.startsWith('1.4.0 ')),
      JSON.stringify(pinned.counts),
    );
    const wide = await versions(`http://127.0.0.1:${tour!.port}`, 400);
    t.diagnostic(`tour (>=1.0.0) by instance: ${JSON.stringify(wide.counts)}`);
    assert.ok(
      Object.keys(wide.counts).some((key) => key.startsWith('2.0.0 ')),
      'the canary is live',
    );
  });

  it('traces a Node service from inside with telemetry: auto, through the data plane in one trace', async () => {
    const [tour] = await running(server.url, 'tour', 1);
    const env = await api<Record<string, string>>(`http://127.0.0.1:${tour!.port}`, '/env');
    assert.ok(env['HOTEL_URL'], 'tour has its address');
    type Row = { service: string; kind: string; name: string };
    const rows = await until("a trace with tour's own server span", async () => {
      await api(`http://127.0.0.1:${tour!.port}`, '/call');
      const { traces } = await api<{ traces: { traceId: string }[] }>(
        server.url,
        '/v1/traces?service=tour&limit=20',
      );
      for (const { traceId } of traces) {
        const tree = await api<{ rows: Row[] }>(server.url, `/v1/traces/${traceId}`);
        // tour's own server span, its own client span (fetch) and the data plane's hop it
        // continued, in one trace (not a health probe's or /env's).
        const own = tree.rows.some((r) => r.service === 'tour' && r.kind === 'server');
        const clients = tree.rows.filter((r) => r.service === 'tour' && r.kind === 'client').length;
        if (own && clients >= 2) return tree.rows;
      }
      return undefined;
    });
    assert.ok(rows.some((r) => r.service === 'tour' && r.kind === 'server'));
  });
});
