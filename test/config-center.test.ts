// The config center end to end on a real control plane (SQLite, simulated instances, real
// HTTP): a release refused by a consuming service's schema, a gray release to 10% of instances
// then rolled back (only those instances ever saw the new values, through the SDK's stream),
// and an SDK that starts from its cache while the control plane is down.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { connectConfig, type Config } from '../packages/sdk/src/config.ts';
import { bucket } from '../src/domain/config/gray.ts';
import { bearer } from './support/api-token.ts';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { eventually } from './support/eventually.ts';

// 60: with 30, no id falls in the 10% share in 0.9^30 ≈ 4% of runs (seen); with 60, 0.2%.
const INSTANCES = 60;
const MANIFEST = `
name: cfg
services:
  api:
    version: 1.0.0
    tier: high
    run: { command: sleep, args: ["1000"] }
    instances: ${INSTANCES}
    config:
      schema:
        properties:
          TIMEOUT_MS: { type: integer, minimum: 1, maximum: 5000 }
          MODE: { type: string, enum: [old, new] }
          POOL: { type: integer, restart: true }
        required: [MODE]
`;

describe('config center', { timeout: 600_000 }, () => {
  let dir: string;
  let plane: ControlPlane;
  const clients: Config[] = [];
  /** Releases are made by a named operator, whose name the history keeps. */
  let ana = '';
  const post = async (path: string, body: unknown) => {
    const response = await fetch(plane.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(ana) },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-config-'));
    plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir: join(dir, 'state'),
      runtime: 'simulated',
      logger: pino({ level: 'silent' }),
    });
    ({ token: ana } = await plane.identities.create('ana', 'admin', 'test'));
    const applied = await fetch(`${plane.url}/v1/apply`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml', ...bearer(plane.token) },
      body: MANIFEST,
    });
    assert.equal(applied.status, 201, await applied.text());
    await eventually(() => plane.registry.instances('api').length === INSTANCES, {
      what: `${INSTANCES} api instances`,
      timeoutMs: 30_000,
    });
  });
  after(async () => {
    for (const client of clients) client.close();
    await plane?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a release that breaks a consuming service’s schema, naming the key and the service', async () => {
    const refused = await post('/v1/config/releases', {
      content: { services: { api: { MODE: 'old', TIMEOUT_MS: 'slow' } } },
    });
    assert.equal(refused.status, 422);
    assert.equal(refused.body['code'], 'config-invalid');
    assert.match(
      String(refused.body['detail']),
      /TIMEOUT_MS must be a number, got "slow" \(for api@1\.0\.0\)/,
    );
    assert.match(String(refused.body['detail']), /config schema of api/);
    const missing = await post('/v1/config/releases', { content: { global: { TIMEOUT_MS: 100 } } });
    assert.match(String(missing.body['detail']), /MODE is required \(for api@1\.0\.0\)/);
    assert.equal((await plane.configCenter.history()).length, 0, 'nothing was released');
  });

  it('gives a gray release to 10% of instances only, and takes it back from exactly them', async () => {
    const stable = await post('/v1/config/releases', {
      content: { services: { api: { MODE: 'old', TIMEOUT_MS: 100 } } },
    });
    assert.equal(stable.status, 201);
    const instances = plane.registry.instances('api');
    const seen = new Map<string, Set<string>>();
    for (const instance of instances) {
      const client = connectConfig({
        server: plane.url,
        token: plane.identities.serviceToken('api'),
        service: 'api',
        version: '1.0.0',
        instance: instance.id,
        cacheFile: join(dir, 'cache', `${instance.id}.json`),
      });
      clients.push(client);
      const modes = new Set<string>();
      seen.set(instance.id, modes);
      client.watch((values) => modes.add(String(values['MODE'])));
      await client.ready;
      modes.add(String(client.get('MODE')));
    }
    const gray = await post('/v1/config/releases', {
      content: { services: { api: { MODE: 'new', TIMEOUT_MS: 100 } } },
      gray: { share: 10 },
    });
    assert.equal(gray.status, 201, JSON.stringify(gray.body));
    const chosen = instances.filter((i) => bucket(i.id) < 10).map((i) => i.id);
    assert.ok(chosen.length > 0 && chosen.length < instances.length / 2, `${chosen.length} chosen`);
    await eventually(() => chosen.every((id) => seen.get(id)!.has('new')), {
      what: 'the gray instances get it',
    });
    const placed = (await (
      await fetch(`${plane.url}/v1/config/instances`, { headers: bearer(ana) })
    ).json()) as {
      instances: { instance: string; release: number }[];
    };
    assert.deepEqual(
      placed.instances
        .filter((i) => i.release === 2)
        .map((i) => i.instance)
        .sort(),
      [...chosen].sort(),
      'the registry view shows which release each instance runs',
    );

    assert.equal((await post('/v1/config/abort', {})).status, 200);
    await eventually(() => clients.every((c) => c.get('MODE') === 'old'), {
      what: 'every instance runs the stable release again',
    });
    const sawNew = [...seen].filter(([, modes]) => modes.has('new')).map(([id]) => id);
    assert.deepEqual(sawNew.sort(), [...chosen].sort(), 'only the gray instances ever saw the new values');
    const history = (await plane.configCenter.history()).map((r) => [r.number, r.status, r.author]);
    assert.deepEqual(history, [
      [2, 'abandoned', 'ana'],
      [1, 'stable', 'ana'],
    ]);
  });

  it("lets a service's token read only its own service's config", async () => {
    const read = (service: string, as: string) =>
      fetch(`${plane.url}/v1/config/effective?service=${service}&version=1.0.0`, {
        headers: bearer(plane.identities.serviceToken(as)),
      });
    assert.equal((await read('api', 'api')).status, 200);
    const refused = await read('api', 'web');
    assert.equal(refused.status, 403);
    assert.match(
      ((await refused.json()) as { detail: string }).detail,
      /a token of web reads only its own config/,
    );
  });

  it('starts an SDK from its cache while the control plane is down', async () => {
    const cacheFile = join(dir, 'cache', 'restarted.json');
    const first = connectConfig({
      server: plane.url,
      token: plane.identities.serviceToken('api'),
      service: 'api',
      version: '1.0.0',
      instance: 'api-x',
      cacheFile,
    });
    clients.push(first);
    assert.equal(await first.ready, 'live');
    await eventually(() => readFile(cacheFile, 'utf8').then(() => true), {
      what: 'the cache is written',
    });
    first.close();
    const down = `http://127.0.0.1:1`; // nothing listens on port 1
    const second = connectConfig({
      server: down,
      service: 'api',
      version: '1.0.0',
      instance: 'api-y',
      cacheFile,
    });
    clients.push(second);
    assert.equal(await second.ready, 'cache');
    assert.deepEqual([second.release, second.get('MODE'), second.get('TIMEOUT_MS')], [1, 'old', 100]);
  });
  it('promotes by itself a gray release that asked to, once it stayed healthy for its watch', async () => {
    const bad = await post('/v1/config/releases', {
      content: { services: { api: { MODE: 'new', TIMEOUT_MS: 100 } } },
      gray: { share: 10, watch: 'soon' },
    });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /watch must be a duration such as 30s, 5m or 1h/);

    const gray = await post('/v1/config/releases', {
      content: { services: { api: { MODE: 'new', TIMEOUT_MS: 100 } } },
      gray: { share: 10, watch: '1s', autoPromote: true },
    });
    assert.equal(gray.status, 201, JSON.stringify(gray.body));
    const number = (gray.body['release'] as { number: number }).number;
    // A decision names the release it judged: one that is no longer gray is left alone.
    await assert.rejects(plane.configCenter.abort('someone', { release: number + 1 }), {
      code: 'no-gray-release',
    });
    const promoted = await eventually(
      async () =>
        (await plane.store.readEvents({ kinds: ['config.promoted'] })).find(
          (e) => (e.data as { release?: number }).release === number,
        ),
      { what: 'the gray watch promotes it', timeoutMs: 20_000, intervalMs: 100 },
    );
    assert.equal(promoted.actor, 'gray-watch');
    assert.match(
      promoted.message,
      /promoted to every instance \(watched for 1 s \(no gating objective declared\)\)/,
    );
    assert.equal((await plane.configCenter.get(number)).status, 'stable');
    for (const instance of plane.registry.instances('api'))
      assert.equal(plane.configCenter.configFor(instance).values['MODE'], 'new');
  });
});
