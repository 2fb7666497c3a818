// Config reaching real processes: in the environment at start, in BATON_CONFIG_FILE kept
// current on every release (a push: same instance), and by a rolling restart when a key the
// service marks `restart: true` changes (a new instance, started with the new value).
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { connectConfig } from '../packages/sdk/src/config.ts';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { REPO, tempDir } from './support/baton-process.ts';
import { eventually } from './support/eventually.ts';
import { authedFetch } from './support/api-token.ts';

interface Seen {
  instance: string;
  env: { MODE?: string; POOL?: string; release?: string };
  file: { release: number; values: Record<string, unknown> } | null;
}

describe('config delivery to processes', { timeout: 600_000 }, () => {
  let dir: string;
  let plane: ControlPlane;

  before(async () => {
    // Readable by all (tempDir): as root, the instance runs as nobody and reads its file here.
    dir = (await tempDir('config-delivery')).path;
    plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir: join(dir, 'state'),
      baseDir: REPO,
      stopInstancesOnClose: true,
      eastWest: false,
      logger: pino({ level: 'silent' }),
    });
  });
  after(async () => {
    await plane?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const seen = async (): Promise<Seen | undefined> => {
    const [endpoint] = plane.registry.endpoints('app', undefined);
    if (!endpoint) return undefined;
    return (await (await fetch(`http://${endpoint.address}:${endpoint.port}/config`)).json()) as Seen;
  };

  it('starts with it in the environment, pushes releases into the file, restarts for restart: true keys', async () => {
    await plane.configCenter.set(
      [
        { scope: 'app', key: 'MODE', value: 'old' },
        { scope: 'app', key: 'POOL', value: 2 },
      ],
      { author: 'ana', message: 'first' },
    );
    const manifest = [
      'name: delivery',
      'services:',
      '  app:',
      '    version: 1.0.0',
      '    tier: high',
      `    run: { command: ${process.execPath}, args: [${join(REPO, 'test/fixtures/config-service.ts')}] }`,
      '    health: { http: { path: /healthz }, interval: 200ms }',
      '    env: { MODE: from-manifest }',
      '    config:',
      '      schema:',
      '        properties:',
      '          MODE: { type: string }',
      '          POOL: { type: integer, restart: true }',
    ].join('\n');
    await plane.engine.apply({ text: manifest }, { author: 'ana', message: 'app' });
    const first = await eventually(seen, { what: 'app answers', timeoutMs: 30_000 });
    assert.deepEqual(
      first.env,
      { MODE: 'old', POOL: '2', release: '1' },
      'config wins over the manifest env',
    );
    assert.deepEqual(first.file, { release: 1, values: { MODE: 'old', POOL: 2 } });

    await plane.configCenter.set([{ scope: 'app', key: 'MODE', value: 'new' }], {
      author: 'ana',
      message: 'push',
    });
    const pushed = await eventually(async () => ((await seen())?.file?.release === 2 ? seen() : undefined), {
      what: 'the file follows release 2',
    });
    assert.equal(pushed!.instance, first.instance, 'a push restarts nothing');
    assert.equal(pushed!.file!.values['MODE'], 'new');

    const outcome = await plane.configCenter.set([{ scope: 'app', key: 'POOL', value: 5 }], {
      author: 'ana',
      message: 'restart',
    });
    assert.deepEqual(outcome.restarted, ['app']);
    const restarted = await eventually(
      async () => {
        const now = await seen();
        return now && now.instance !== first.instance && now.env.POOL === '5' ? now : undefined;
      },
      { what: 'a new instance starts with POOL=5', timeoutMs: 30_000 },
    );
    assert.deepEqual(restarted.env, { MODE: 'new', POOL: '5', release: '3' });
  });
});

// A rotated secret reaches the instances of the services that refer to it as each declares:
// by a rolling restart (the default: the environment is read once), or pushed into the config
// file of the same instances (`config.secrets: push`).
describe('secret rotation to processes', { timeout: 120_000 }, () => {
  let dir: string;
  let plane: ControlPlane;

  before(async () => {
    dir = (await tempDir('secret-rotation')).path;
    plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir: join(dir, 'state'),
      baseDir: REPO,
      stopInstancesOnClose: true,
      eastWest: false,
      logger: pino({ level: 'silent' }),
    });
  });
  after(async () => {
    await plane?.close();
    await rm(dir, { recursive: true, force: true });
  });

  type SeenWithSecret = Omit<Seen, 'env' | 'file'> & {
    env: { secret?: string };
    file: { release: number; values: Record<string, unknown>; secrets?: Record<string, string> } | null;
  };
  const seen = async (service: string): Promise<SeenWithSecret | undefined> => {
    const [endpoint] = plane.registry.endpoints(service, undefined);
    if (!endpoint) return undefined;
    return (await (
      await fetch(`http://${endpoint.address}:${endpoint.port}/config`)
    ).json()) as SeenWithSecret;
  };
  const setSecret = async (value: string) => {
    const response = await authedFetch(plane.token)(`${plane.url}/v1/secrets/DB_PASSWORD`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value }),
    });
    assert.ok(response.ok, `${response.status} ${await response.clone().text()}`);
    return (await response.json()) as { restarted: string[]; pushed: string[] };
  };

  it('restarts the services that read it at start, pushes it to those that declare push', async () => {
    await setSecret('first-value-1');
    // A third service gets it from the config set, not from its env.
    await plane.configCenter.set(
      [{ scope: 'configured', key: 'DB_PASSWORD', value: '${secret:DB_PASSWORD}' }],
      {
        author: 'ana',
        message: 'configured reads the secret through its config',
      },
    );
    const service = (name: string, push: boolean, env = true) => [
      `  ${name}:`,
      '    version: 1.0.0',
      '    tier: high',
      `    run: { command: ${process.execPath}, args: [${join(REPO, 'test/fixtures/config-service.ts')}] }`,
      '    health: { http: { path: /healthz }, interval: 200ms }',
      ...(env ? ['    env: { DB_PASSWORD: "${secret:DB_PASSWORD}" }'] : []),
      ...(push ? ['    config: { secrets: push }'] : []),
    ];
    const manifest = [
      'name: rotation',
      'services:',
      ...service('pushed', true),
      ...service('plain', false),
      ...service('configured', false, false),
    ].join('\n');
    await plane.engine.apply({ text: manifest }, { author: 'ana', message: 'two services' });
    const [pushed, plain, configured] = await eventually(
      async () => {
        const all = [await seen('pushed'), await seen('plain'), await seen('configured')];
        return all.every((s) => s !== undefined) ? (all as SeenWithSecret[]) : undefined;
      },
      { what: 'the three services answer', timeoutMs: 30_000 },
    );
    assert.equal(configured!.env.secret, 'first-value-1', 'resolved from its config at start');
    assert.equal(
      configured!.file?.values['DB_PASSWORD'],
      '${secret:DB_PASSWORD}',
      'its file keeps the reference',
    );
    assert.equal(pushed!.env.secret, 'first-value-1');
    assert.deepEqual(pushed!.file?.secrets, { DB_PASSWORD: 'first-value-1' });
    assert.equal(plain!.env.secret, 'first-value-1');
    assert.equal(
      plain!.file?.secrets,
      undefined,
      'a service that does not declare push gets no secret in its file',
    );

    // The SDK of a pushed service's instance gets it too, on its own token only.
    const cacheFile = join(dir, 'sdk-cache.json');
    const sdk = connectConfig({
      server: plane.url,
      token: plane.identities.serviceToken('pushed'),
      service: 'pushed',
      version: '1.0.0',
      instance: pushed!.instance,
      cacheFile,
    });
    const watched: (string | undefined)[] = [];
    sdk.watch(() => watched.push(sdk.secret('DB_PASSWORD')));
    try {
      assert.equal(await sdk.ready, 'live');
      await eventually(() => sdk.secret('DB_PASSWORD') === 'first-value-1' || undefined, {
        what: 'the SDK has the secret',
      });
      const asAdmin = await authedFetch(plane.token)(
        `${plane.url}/v1/config/effective?service=pushed&version=1.0.0`,
      );
      assert.equal(asAdmin.status, 200);
      assert.doesNotMatch(await asAdmin.text(), /first-value-1|secrets/, 'an admin reads no secret');
      const plainSdk = await authedFetch(plane.identities.serviceToken('plain'))(
        `${plane.url}/v1/config/effective?service=plain&version=1.0.0`,
      );
      assert.doesNotMatch(
        await plainSdk.text(),
        /first-value-1|secrets/,
        'nor a service that does not declare push',
      );

      const rotation = await setSecret('second-value-2');
      await eventually(() => sdk.secret('DB_PASSWORD') === 'second-value-2' || undefined, {
        what: 'the SDK gets the rotated secret',
      });
      assert.equal(watched.at(-1), 'second-value-2', 'its watchers are told');
      const cached = await eventually(() => readFile(cacheFile, 'utf8').catch(() => undefined), {
        what: 'the SDK writes its cache',
      });
      assert.match(cached, /"release"/);
      assert.doesNotMatch(cached, /value-/, 'the cache on disk holds no secret');
      assert.deepEqual(rotation.pushed, ['pushed']);
      assert.deepEqual(rotation.restarted, ['configured', 'plain']);
      const afterPush = await eventually(
        async () => {
          const now = await seen('pushed');
          return now?.file?.secrets?.['DB_PASSWORD'] === 'second-value-2' ? now : undefined;
        },
        { what: "the new value in pushed's file" },
      );
      assert.equal(afterPush.instance, pushed!.instance, 'a push restarts nothing');
      assert.equal(afterPush.env.secret, 'first-value-1', 'the environment it started with is as it was');
      const restarted = await eventually(
        async () => {
          const now = await seen('plain');
          return now && now.instance !== plain!.instance && now.env.secret === 'second-value-2'
            ? now
            : undefined;
        },
        { what: 'a new instance of plain starts with the new value', timeoutMs: 30_000 },
      );
      assert.equal(restarted.file?.secrets, undefined);
      await eventually(
        async () => {
          const now = await seen('configured');
          return now && now.instance !== configured!.instance && now.env.secret === 'second-value-2';
        },
        { what: 'a new instance of configured starts with the new value', timeoutMs: 30_000 },
      );
      // Pushed never restarted meanwhile.
      assert.equal((await seen('pushed'))?.instance, pushed!.instance);
    } finally {
      sdk.close();
    }
  });
});
