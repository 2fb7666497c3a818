// A gray config release watched like a canary, end to end: real instances behind a real
// gateway, real traffic, and a config value that makes the instances that get it fail. The
// gray instances breach the service's gating SLO; the gray watch rolls the release back by
// itself, saying why, and those instances return to the stable release (their file says so,
// and they answer again). The instances outside the gray share never see the bad value.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { bucket } from '../src/domain/config/gray.ts';
import { controlPlaneSource } from '../src/engines/gateway/control-plane-source.ts';
import { startGateway, type GatewayHandle } from '../src/engines/gateway/gateway.ts';
import { otlpSpanExport } from '../src/engines/gateway/span-export.ts';
import { GRAY_WATCH_ACTOR } from '../src/engines/config/gray-watch.ts';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { REPO, runCli, tempDir } from './support/baton-process.ts';
import { eventually } from './support/eventually.ts';

const REPLICAS = 4;

describe('a gray config release that breaks its instances', { timeout: 180_000 }, () => {
  let dir: string;
  let plane: ControlPlane;
  let gateway: GatewayHandle;
  let spans: ReturnType<typeof otlpSpanExport>;
  let traffic: Promise<void> | undefined;
  let stopTraffic = false;

  before(async () => {
    dir = (await tempDir('config-gray')).path;
    plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir: join(dir, 'state'),
      baseDir: REPO,
      stopInstancesOnClose: true,
      eastWest: false,
      logger: pino({ level: 'silent' }),
    });
    const logger = pino({ level: 'silent' });
    spans = otlpSpanExport({
      urls: [plane.url],
      token: plane.gatewayToken,
      logger,
      instanceId: 'gw',
      flushMs: 100,
    });
    gateway = await startGateway({
      host: '127.0.0.1',
      port: 0,
      source: controlPlaneSource({ url: plane.url, token: plane.gatewayToken, logger }),
      logger,
      accessLog: false,
      spans,
    });
  });
  after(async () => {
    stopTraffic = true;
    await traffic;
    await gateway?.close();
    await plane?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('rolls back by itself when the gray instances breach a gating SLO, and names the breach', async (t) => {
    const stable = await plane.configCenter.set([{ scope: 'app', key: 'MODE', value: 'good' }], {
      author: 'ana',
      message: 'good',
    });
    const manifest = [
      'name: gray',
      'services:',
      '  app:',
      '    version: 1.0.0',
      '    tier: high',
      `    instances: ${REPLICAS}`,
      `    run: { command: ${process.execPath}, args: [${join(REPO, 'test/fixtures/config-service.ts')}] }`,
      '    health: { http: { path: /healthz }, interval: 200ms }',
      '    routes: [{ path: /work }]',
      '    slos: [{ name: errors, errorRate: 5, for: 10s }]',
    ].join('\n');
    await plane.engine.apply({ text: manifest }, { author: 'ana', message: 'app' });
    const ids = await eventually(
      () => {
        const running = plane.registry
          .instances()
          .filter((i) => i.service === 'app' && i.phase === 'running');
        return running.length === REPLICAS ? running.map((i) => i.id) : undefined;
      },
      { what: `${REPLICAS} instances run`, timeoutMs: 60_000 },
    );
    // The share that takes in exactly the instances of the lowest hash bucket: some, not all.
    const share = Math.min(...ids.map(bucket)) + 1;
    const gray = new Set(ids.filter((id) => bucket(id) < share));
    t.diagnostic(`gray share ${share}%: ${gray.size} of ${ids.length} instances (${[...gray].join(', ')})`);
    assert.ok(gray.size > 0 && gray.size < ids.length, 'some instances in the gray share, some out');

    // Traffic through the gateway, all along; each answer is recorded by instance.
    const answers: { instance: string; status: number; mode: string | undefined }[] = [];
    await eventually(async () => ((await fetch(`${gateway.url}/work`)).status === 200 ? true : undefined), {
      what: 'the gateway routes /work',
      timeoutMs: 20_000,
    });
    traffic = (async () => {
      while (!stopTraffic) {
        const response = await fetch(`${gateway.url}/work`).catch(() => undefined);
        if (!response) continue;
        const body = (await response.json().catch(() => ({}))) as { instance?: string; mode?: string };
        if (body.instance)
          answers.push({ instance: body.instance, status: response.status, mode: body.mode });
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();

    const content = structuredClone(stable.release.content);
    (content.services as Record<string, Record<string, string>>)['app'] = { MODE: 'bad' };
    const released = await plane.configCenter.release(content, {
      author: 'ana',
      message: 'try bad',
      gray: { share, watch: '1h' },
    });
    const number = released.release.number;
    const releasedAt = Date.now();
    // The gray instances get the bad value (and fail); then the watch rolls it back.
    await eventually(() => answers.some((a) => a.status === 500) || undefined, {
      what: 'a gray instance fails on the bad value',
      timeoutMs: 20_000,
    });
    const abandoned = await eventually(
      async () =>
        (await plane.store.readEvents({ kinds: ['config.abandoned'] })).find(
          (e) => (e.data as { release?: number }).release === number,
        ),
      { what: 'the gray watch rolls the release back', timeoutMs: 60_000, intervalMs: 200 },
    );
    t.diagnostic(
      `rolled back ${((Date.now() - releasedAt) / 1000).toFixed(1)} s after the release: ${abandoned.message}`,
    );
    assert.equal(abandoned.actor, GRAY_WATCH_ACTOR);
    assert.match(abandoned.message, /rolled back/);
    assert.match(
      String((abandoned.data as { reason?: string }).reason),
      new RegExp(
        `^app/errors: error rate over 5% for 10 s on the ${gray.size} instance\\(s\\) running it \\(now \\d+(\\.\\d+)?%\\)$`,
      ),
    );
    assert.equal((await plane.configCenter.get(number)).status, 'abandoned');
    assert.equal(plane.configCenter.state.gray, undefined);

    // Every instance is back on the stable release, and the gray ones answer again.
    for (const instance of plane.registry.instances().filter((i) => ids.includes(i.id)))
      assert.equal(plane.configCenter.configFor(instance).release, stable.release.number);
    const rolledBackAt = answers.length;
    await eventually(
      () => {
        const since = answers.slice(rolledBackAt);
        return [...gray].every((id) => since.some((a) => a.instance === id && a.status === 200)) || undefined;
      },
      { what: 'the gray instances answer 200 again', timeoutMs: 20_000 },
    );
    stopTraffic = true;
    await traffic;
    // Only the gray share ever saw the bad value, and every failure was one of theirs.
    const sawBad = new Set(answers.filter((a) => a.mode === 'bad').map((a) => a.instance));
    assert.deepEqual([...sawBad].sort(), [...gray].sort());
    assert.ok(answers.filter((a) => a.status === 500).every((a) => gray.has(a.instance)));
    assert.ok(
      answers.filter((a) => !gray.has(a.instance)).length > 0,
      'the instances outside the share served meanwhile',
    );
  });
  it('promotes by itself, through the CLI, a gray release that stays within the gate for its watch', async () => {
    const env = { BATON_SERVER: plane.url, BATON_TOKEN: plane.token! };
    const file = join(dir, 'good.yaml');
    await writeFile(file, 'services:\n  app: { MODE: fine }\n');
    const misuse = await runCli(['config', 'apply', '-f', file, '--watch', '1m'], env);
    assert.notEqual(misuse.code, 0);
    assert.match(misuse.stderr, /--watch and --auto-promote go with --gray or --gray-version/);

    const applied = await runCli(
      ['config', 'apply', '-f', file, '--gray', '50', '--watch', '1s', '--auto-promote', '-m', 'fine'],
      env,
    );
    assert.equal(applied.code, 0, applied.stderr);
    const number = Number(/config release (\d+) gray to 50% of instances/.exec(applied.stdout)?.[1]);
    assert.ok(number > 0, applied.stdout);
    assert.match(
      applied.stdout,
      /watched for 1s against the services' gating SLOs .*promoted by itself if it stays healthy/,
    );
    const listed = await runCli(['config', 'instances'], env);
    assert.equal(listed.code, 0, listed.stderr);
    const grayRows = listed.stdout.split('\n').filter((line) => line.includes(`${number} (gray)`));
    const expected = plane.registry
      .instances('app')
      .filter((i) => i.phase === 'running' && plane.configCenter.releaseOf(i).gray).length;
    assert.equal(grayRows.length, expected, listed.stdout);

    // Never before the gate's `for` (10 s) and one slot have passed, whatever `watch` says.
    const promoted = await eventually(
      async () =>
        (await plane.store.readEvents({ kinds: ['config.promoted'] })).find(
          (e) => (e.data as { release?: number }).release === number,
        ),
      { what: 'the gray watch promotes it', timeoutMs: 60_000, intervalMs: 200 },
    );
    assert.equal(promoted.actor, GRAY_WATCH_ACTOR);
    assert.match(promoted.message, /promoted to every instance \(within 1 gating objective\(s\) for 20 s\)/);
    const createdAt = Date.parse((await plane.configCenter.get(number)).createdAt);
    assert.ok(Date.parse(promoted.time) - createdAt >= 20_000, 'not before the watch the gate needs');
  });
});
