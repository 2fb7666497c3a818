// Plan-time admission through the API: what the runtime cannot run is refused before a
// revision is recorded, as a located problem beside every other one.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createProcessRuntime } from '../src/adapters/runtime/process/process-runtime.ts';
import { createSimulatedRuntime } from '../src/adapters/runtime/simulated/simulated-runtime.ts';
import { openSqliteStore } from '../src/adapters/store/sqlite/sqlite-store.ts';
import { runtimeAdmission } from '../src/engines/revisions/admission.ts';
import { RevisionEngine } from '../src/engines/revisions/revision-engine.ts';
import { createHttpApp } from '../src/interfaces/http/app.ts';
import { asCaller, testIdentities } from './support/api-token.ts';
import { systemClock } from '../src/ports/clock.ts';
import type { Runtime } from '../src/ports/runtime.ts';
import type { Store } from '../src/ports/store.ts';

const MANIFEST = `name: shop
services:
  cache:
    version: 1.0.0
    tier: low
    image: redis:7
  api:
    version: 1.0.0
    tier: high
    run: { command: sh, args: [-c, 'sleep 1'], cwd: no/such/folder }
`;

interface ProblemJson {
  code: string;
  problems: { code: string; path: string[]; line: number; column: number; file: string; hint?: string }[];
}

async function appOn(runtime: Runtime, store: Store, baseDir: string) {
  const engine = new RevisionEngine({ store, clock: systemClock, admit: runtimeAdmission(runtime, baseDir) });
  return asCaller(
    createHttpApp({
      engine,
      store,
      logger: pino({ level: 'silent' }),
      version: 'test',
      auth: testIdentities(store),
    }),
  );
}

const post = (manifest: string, extra: Record<string, unknown> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ manifest, file: 'baton.yaml', ...extra }),
});

describe('admission by the runtime', () => {
  let dir: string;
  let store: Store;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-admission-'));
    store = await openSqliteStore({ path: ':memory:' });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses on the process runtime, with every problem located, and records nothing', async () => {
    const runtime = await createProcessRuntime({ stateDir: join(dir, 'state') });
    try {
      const app = await appOn(runtime, store, dir);
      for (const path of ['/v1/validate', '/v1/plan', '/v1/apply']) {
        const response = await app.request(path, post(MANIFEST, { baseDir: dir }));
        assert.equal(response.status, 422, path);
        const body = (await response.json()) as ProblemJson;
        assert.equal(body.code, 'manifest-invalid');
        assert.deepEqual(
          body.problems.map((p) => [p.code, p.path.join('.'), p.file, p.line]),
          [
            ['runtime-unsupported', 'services.cache.image', 'baton.yaml', 6],
            ['run-cwd-missing', 'services.api.run.cwd', 'baton.yaml', 10],
          ],
          path,
        );
        assert.match(body.problems[0]!.hint ?? '', /container runtime/);
      }
      const history = (await (await app.request('/v1/revisions')).json()) as { revisions: unknown[] };
      assert.deepEqual(history.revisions, []);
    } finally {
      await runtime.close();
    }
  });

  it('refuses, located, a fixed port that instances sharing the machine cannot all hold', async () => {
    const runtime = await createProcessRuntime({ stateDir: join(dir, 'state') });
    try {
      const app = await appOn(runtime, store, dir);
      const shared = `name: ports
services:
  web:
    version: 1.0.0
    tier: high
    run: { command: sh, args: [-c, 'sleep 1'] }
    ports: [{ name: http, port: 8080 }]
  admin:
    version: 1.0.0
    tier: low
    run: { command: sh, args: [-c, 'sleep 1'] }
    ports: [{ name: http, port: 8080 }]
`;
      const response = await app.request('/v1/validate', post(shared, { baseDir: dir }));
      assert.equal(response.status, 422);
      const body = (await response.json()) as ProblemJson;
      assert.deepEqual(
        body.problems.map((p) => [p.code, p.path.join('.'), p.line]),
        [['fixed-port-shared', 'services.web.ports.0.port', 7]],
      );
    } finally {
      await runtime.close();
    }
  });

  it('admits the same manifest on a runtime that can run it', async () => {
    const runtime = createSimulatedRuntime({ clock: systemClock });
    try {
      const app = await appOn(runtime, store, dir);
      assert.equal((await app.request('/v1/validate', post(MANIFEST))).status, 200);
    } finally {
      await runtime.close();
    }
  });
});
