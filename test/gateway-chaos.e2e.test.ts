// Chaos: 30 s of steady GET load through the gateway to a three-instance service while an
// instance is killed -9 every 3 s and the controller replaces it. The client must see no
// failure at all: the gateway retries what a dead instance dropped, ejects it, and the
// registry's watch takes it out of rotation.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { controlPlaneSource } from '../src/engines/gateway/control-plane-source.ts';
import { startGateway } from '../src/engines/gateway/gateway.ts';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { REPO, tempDir } from './support/baton-process.ts';
import { until } from './gateway/support.ts';
import { authedFetch } from './support/api-token.ts';

const LOAD_MS = 30_000;
const KILL_EVERY_MS = 3_000;
const CONNECTIONS = 8;

const MANIFEST = `
name: chaos
services:
  echo:
    version: 1.0.0
    tier: critical
    run: { command: ${process.execPath}, args: [${join(REPO, 'test/fixtures/tiny-service.ts')}] }
    instances: 3
    health: { http: { path: /healthz }, interval: 1s, failureThreshold: 2 }
    routes: [{ path: /echo, stripPrefix: true }]
`;

describe('gateway under chaos', { timeout: 600_000 }, () => {
  let plane: ControlPlane;
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  let state: Awaited<ReturnType<typeof tempDir>>;
  const logger = pino({ level: 'silent' });

  before(async () => {
    state = await tempDir('chaos');
    plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir: state.path,
      stopInstancesOnClose: true,
      logger,
    });
    const applied = await authedFetch(plane.token)(`${plane.url}/v1/apply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ manifest: MANIFEST }),
    });
    assert.equal(applied.status, 201);
    gateway = await startGateway({
      host: '127.0.0.1',
      port: 0,
      source: controlPlaneSource({ url: plane.url, token: plane.gatewayToken, logger }),
      logger,
    });
  });
  after(async () => {
    await gateway?.close();
    await plane?.close();
    await state?.remove();
  });

  it('loses no request while instances are killed -9 every 3 s', async () => {
    await until(
      'three healthy instances behind the gateway',
      async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 12; i++) {
          const r = await fetch(`${gateway.url}/echo/hello`);
          if (r.status !== 200) return undefined;
          seen.add(((await r.json()) as { instance: string }).instance);
        }
        return seen.size === 3 ? true : undefined;
      },
      30_000,
    );

    const agent = new Agent({ connections: CONNECTIONS, keepAliveTimeout: 10_000 });
    const failures: string[] = [];
    let ok = 0;
    const endAt = Date.now() + LOAD_MS;
    const killed: number[] = [];
    const killer = setInterval(() => {
      const victims = plane.registry
        .instances('echo')
        .filter((i) => i.phase === 'running' && i.pid !== undefined);
      const victim = victims[killed.length % Math.max(1, victims.length)];
      if (!victim?.pid) return;
      try {
        process.kill(victim.pid, 'SIGKILL');
        killed.push(victim.pid);
      } catch {
        // It died on its own between the listing and the kill: the next tick picks another.
      }
    }, KILL_EVERY_MS);
    const client = async () => {
      while (Date.now() < endAt) {
        try {
          const response = await request(`${gateway.url}/echo/work`, { dispatcher: agent });
          const body = await response.body.text();
          if (response.statusCode === 200) ok++;
          else failures.push(`${response.statusCode} ${body.slice(0, 200)}`);
        } catch (error) {
          failures.push(`client error: ${(error as Error).message}`);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: CONNECTIONS }, client));
    } finally {
      clearInterval(killer);
      await agent.close();
    }

    assert.ok(killed.length >= 8, `only ${killed.length} kills happened`);
    assert.deepEqual(
      failures.slice(0, 10),
      [],
      `${failures.length} of ${ok + failures.length} requests failed`,
    );
    assert.ok(ok > 1000, `only ${ok} requests in 30 s`);
    // The controller replaced every victim: three healthy instances, none of them a killed pid.
    await until(
      'three healthy replacements',
      () => {
        const running = plane.registry.instances('echo').filter((i) => i.phase === 'running');
        return running.length === 3 && running.every((i) => !killed.includes(i.pid ?? -1)) ? true : undefined;
      },
      30_000,
    );
  });
});
