// Config reaching real processes: in the environment at start, in BATON_CONFIG_FILE kept
// current on every release (a push: same instance), and by a rolling restart when a key the
// service marks `restart: true` changes (a new instance, started with the new value).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { REPO, tempDir } from './support/baton-process.ts';
import { eventually } from './support/eventually.ts';

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
