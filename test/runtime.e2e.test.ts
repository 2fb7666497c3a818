// The controller with real processes: self-healing after kill -9, discovery that drops a
// dead instance at once, and nothing left running after `baton up`'s shutdown.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { findOwnedProcesses } from '../src/adapters/runtime/process/process-runtime.ts';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { REPO, tempDir } from './support/baton-process.ts';
import { eventually } from './support/eventually.ts';
import { authedFetch } from './support/api-token.ts';

const MANIFEST = `
name: tiny
services:
  api:
    version: 1.0.0
    tier: high
    instances: 2
    run: { command: ${process.execPath}, args: [test/fixtures/tiny-service.ts] }
    health: { http: { path: /healthz }, interval: 200ms, timeout: 500ms, failureThreshold: 2, startupGrace: 5s }
  db:
    version: 1.0.0
    tier: critical
    mode: pet
    run: { command: ${process.execPath}, args: [test/fixtures/tiny-service.ts] }
    health: { http: { path: /healthz }, interval: 200ms, timeout: 500ms, startupGrace: 5s }
`;

interface Endpoints {
  endpoints: { instance: string; port: number }[];
}

describe('the controller with real processes', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let plane: ControlPlane;
  const discover = async (service: string) =>
    ((await (await authedFetch(plane.token)(`${plane.url}/v1/discovery/${service}`)).json()) as Endpoints)
      .endpoints;
  const settled = () =>
    plane.controller.states().length === 2 && plane.controller.states().every((s) => s.settled);

  before(async () => {
    dir = await tempDir('runtime');
    plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir: join(dir.path, 'state'),
      runtime: 'process',
      stopInstancesOnClose: true,
      baseDir: REPO,
      logger: pino({ level: 'silent' }),
    });
    await writeFile(join(dir.path, 'baton.yaml'), MANIFEST);
    await plane.engine.apply({ text: MANIFEST, baseDir: REPO }, { author: 'test' });
    await eventually(() => (settled() ? true : undefined), 20_000, 'the architecture converges');
  });

  after(async () => {
    await plane?.close();
    const left = await findOwnedProcesses(join(dir.path, 'state'));
    await dir.remove();
    assert.deepEqual(left, [], 'no instance process outlives `baton up`');
  });

  it('serves every instance through discovery, each answering on its port', async () => {
    const endpoints = await discover('api');
    assert.equal(endpoints.length, 2);
    for (const e of endpoints) {
      const body = (await (await fetch(`http://127.0.0.1:${e.port}/healthz`)).json()) as { instance: string };
      assert.equal(body.instance, e.instance);
    }
  });

  it('drops a killed cattle instance from discovery and replaces it with a new one', async () => {
    const [victim] = await discover('api');
    const pid = plane.registry.get(victim!.instance)!.pid!;
    process.kill(pid, 'SIGKILL');
    await eventually(
      async () => ((await discover('api')).some((e) => e.instance === victim!.instance) ? undefined : true),
      20_000,
      'discovery stops listing the killed instance',
    );
    const replaced = await eventually(
      async () => {
        const now = await discover('api');
        return now.length === 2 && settled() ? now : undefined;
      },
      60_000,
      'a healthy replacement',
    );
    assert.ok(!replaced.some((e) => e.instance === victim!.instance), 'the replacement has a new id');
  });

  it('restarts a killed pet in place, under the same id', async () => {
    const [pet] = await discover('db');
    process.kill(plane.registry.get(pet!.instance)!.pid!, 'SIGKILL');
    await eventually(
      async () => ((await discover('db')).length === 0 ? true : undefined),
      1000,
      'discovery stops listing the pet',
    );
    const back = await eventually(
      async () => {
        const now = await discover('db');
        return now.length === 1 ? now : undefined;
      },
      15_000,
      'the pet is back',
    );
    assert.equal(back[0]!.instance, pet!.instance);
    assert.equal(plane.registry.get(pet!.instance)!.restarts, 1);
  });

  it("serves an instance's output through the logs API", async () => {
    const [one] = await discover('api');
    const response = await authedFetch(plane.token)(
      `${plane.url}/v1/services/api/logs?instance=${one!.instance}&tail=5`,
    );
    assert.match(response.headers.get('content-type') ?? '', /ndjson/);
    const lines = (await response.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { instance: string; stream: string; line: string });
    assert.ok(
      lines.some(
        (l) => l.instance === one!.instance && l.line === `${one!.instance} listening on ${one!.port}`,
      ),
    );
  });

  it('records every transition in the event log, with its cause', async () => {
    const events = await plane.store.readEvents({ service: 'api', kinds: ['instance.failed'] });
    assert.ok(events.length >= 1);
    assert.match(events[0]!.message, /exited: killed by SIGKILL/);
  });
});

describe('instances of a control plane', () => {
  it("get their service's own token: discovery works, the rest of the API is forbidden", async () => {
    const dir = await tempDir('runtime-token');
    const plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir: join(dir.path, 'state'),
      runtime: 'process',
      stopInstancesOnClose: true,
      baseDir: REPO,
      logger: pino({ level: 'silent' }),
    });
    try {
      const single = `
name: tiny
services:
  api:
    version: 1.0.0
    tier: high
    run: { command: ${process.execPath}, args: [test/fixtures/tiny-service.ts] }
    health: { http: { path: /healthz }, interval: 200ms, startupGrace: 5s }
`;
      await plane.engine.apply({ text: single, baseDir: REPO }, { author: 'test' });
      const headers = { authorization: `Bearer ${plane.token}` };
      const [endpoint] = await eventually(
        async () => {
          const found = (await (
            await authedFetch(plane.token)(`${plane.url}/v1/discovery/api`, { headers })
          ).json()) as Endpoints;
          return found.endpoints.length > 0 ? found.endpoints : undefined;
        },
        20_000,
        'the instance is discoverable',
      );
      const access = (await (await fetch(`http://127.0.0.1:${endpoint!.port}/api-access`)).json()) as Record<
        string,
        number
      >;
      assert.deepEqual(access, { discovery: 200, revisions: 403, apply: 403 });

      // Finding 2: nothing an instance is given leads to the admin token, and the file is not its to read.
      const hunt = (await (await fetch(`http://127.0.0.1:${endpoint!.port}/token-hunt`)).json()) as {
        env: Record<string, string>;
        stateDir?: string;
        token?: string;
        error?: string;
      };
      const stateDir = join(dir.path, 'state');
      assert.equal(hunt.env['BATON_HOME'], undefined);
      for (const [name, value] of Object.entries(hunt.env)) {
        assert.ok(!value.includes(`${stateDir}/`) && value !== stateDir, `${name} leads to the state folder`);
        assert.notEqual(value, plane.token, `${name} holds the admin token`);
      }
      assert.notEqual(hunt.token, plane.token, 'the instance read the admin token');
      if (process.getuid?.() === 0) {
        assert.equal(hunt.stateDir, stateDir, 'it found the folder through its own stdout');
        assert.equal(hunt.error, 'EACCES', 'but, running as nobody, may not read the token');
      }
    } finally {
      await plane.close();
      await dir.remove();
    }
  });
});
