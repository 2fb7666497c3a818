// Health that cannot lie, on a fixed port, with real processes: an instance is never ready
// while another process answers its port (a stranger, or the old instance it replaces), a
// rollout stops the old instance before the new one starts, and through the gateway, under
// load, no request fails during that rollout.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { controlPlaneSource } from '../src/engines/gateway/control-plane-source.ts';
import { startGateway } from '../src/engines/gateway/gateway.ts';
import type { StoredEvent } from '../src/ports/store.ts';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { REPO, tempDir } from './support/baton-process.ts';
import { eventually } from './support/eventually.ts';

const CONNECTIONS = 4;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

const manifest = (version: string, port: number) => `
name: fixed
services:
  ui:
    version: ${version}
    tier: critical
    run: { command: ${process.execPath}, args: [test/fixtures/patient-service.ts], cwd: ${REPO} }
    ports: [{ name: http, port: ${port} }]
    health: { http: { path: /healthz }, interval: 200ms, timeout: 500ms, startupGrace: 30s }
    routes: [{ path: /ui, stripPrefix: true, timeout: 20s }]
    # Retries that cover a process start (the port is free only once the old one has gone),
    # and a breaker that does not open on the refusals of the hand-over.
    traffic: { retries: { attempts: 10, backoff: 200ms, budget: 100 }, circuitBreaker: { errorRate: 100 } }
    rollout: { deadline: 2m }
`;

describe('a fixed port, with real processes', { timeout: 600_000 }, () => {
  let dir: { path: string; remove: () => Promise<void> };
  let plane: ControlPlane;
  let port: number;
  const logger = pino({ level: 'silent' });
  const events = async (after: number, kinds: string[]) =>
    plane.store.readEvents({ after, service: 'ui', kinds, limit: 1000 });
  const converged = (revision: number) =>
    eventually(
      async () =>
        (await plane.store.readEvents({ kinds: ['revision.converged'] })).some(
          (e) => e.revision === revision,
        ),
      60_000,
      `revision ${revision} converged`,
    );

  before(async () => {
    dir = await tempDir('fixed-port');
    port = await freePort();
    plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir: dir.path,
      baseDir: REPO,
      stopInstancesOnClose: true,
      logger,
    });
  });
  after(async () => {
    await plane?.close();
    await dir?.remove();
  });

  it('is not ready while another process answers its port, and says so', async () => {
    const stranger: Server = createServer((_request, response) => response.end('not ui'));
    await new Promise<void>((r) => stranger.listen(port, '127.0.0.1', r));
    let releasedAt: number;
    let revision: number;
    try {
      ({
        revision: { number: revision },
      } = await plane.engine.apply({ text: manifest('1.0.0', port) }, { author: 'test' }));
      const state = await eventually(
        () => {
          const ui = plane.controller.state('ui');
          return ui?.reason?.includes('another process holds it') ? ui : undefined;
        },
        60_000,
        'ui says why it is not ready',
      );
      assert.equal(state.ready, 0);
      assert.match(state.reason!, new RegExp(`port ${port} answers, but not from this instance`));
      assert.equal((await events(0, ['instance.running'])).length, 0, 'the stranger answered every probe');
    } finally {
      // Released whatever happened: a stranger left listening keeps the test file alive.
      releasedAt = Date.now();
      await new Promise<void>((r) => stranger.close(() => r()));
    }
    await converged(revision);
    const [running] = await events(0, ['instance.running']);
    assert.ok(Date.parse(running!.time) >= releasedAt, 'ready only once its own process listens');
  });

  it('rolls out on its fixed port: the old instance gone before the new is ready, no request failing through the gateway', async () => {
    const gateway = await startGateway({
      host: '127.0.0.1',
      port: 0,
      source: controlPlaneSource({ url: plane.url, token: plane.gatewayToken, logger }),
      logger,
    });
    const agent = new Agent({ connections: CONNECTIONS, keepAliveTimeout: 10_000 });
    try {
      await eventually(
        async () => (await fetch(`${gateway.url}/ui/hello`)).status === 200,
        20_000,
        'ui behind the gateway',
      );
      const failures: string[] = [];
      const versions = new Set<string>();
      let stop = false;
      const client = async () => {
        while (!stop) {
          try {
            const response = await request(`${gateway.url}/ui/work`, { dispatcher: agent });
            const body = await response.body.text();
            if (response.statusCode === 200) versions.add((JSON.parse(body) as { version: string }).version);
            else failures.push(`${response.statusCode} ${body.slice(0, 200)}`);
          } catch (error) {
            failures.push(`client error: ${(error as Error).message}`);
          }
        }
      };
      const load = Promise.all(Array.from({ length: CONNECTIONS }, client));
      const mark = await plane.store.lastEventSeq();
      try {
        const { revision } = await plane.engine.apply({ text: manifest('1.1.0', port) }, { author: 'test' });
        await converged(revision.number);
        // A little more load on the new version, then stop.
        await eventually(() => versions.has('1.1.0'), 20_000, 'requests reach 1.1.0');
      } finally {
        // Whatever failed above, the load stops: a test that fails must not spin forever.
        stop = true;
        await load;
      }

      const transitions: StoredEvent[] = await events(mark, [
        'instance.stopped',
        'instance.starting',
        'instance.running',
      ]);
      const at = (kind: string, version: string) =>
        transitions
          .filter((e) => e.kind === kind && e.data?.['version'] === version)
          .map((e) => Date.parse(e.time));
      const oldGone = Math.max(...at('instance.stopped', '1.0.0'));
      const newStarted = Math.min(...at('instance.starting', '1.1.0'));
      assert.ok(newStarted >= oldGone, 'the new instance started only once the old one was gone');
      assert.deepEqual(failures.slice(0, 10), [], `${failures.length} requests failed`);
    } finally {
      await agent.close();
      await gateway.close();
    }
  });
});
