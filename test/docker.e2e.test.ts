// The docker runtime end to end, against the real engine: the example shop in containers
// (`baton up --runtime docker`), a checkout through the gateway, a killed cattle container
// replaced and a killed pet restarted in place with its data; an OOM kill reported as such;
// containers adopted by a `baton server` restarted after kill -9. Each scenario's images are
// tagged under its own architecture name and removed afterwards, with every container,
// volume and network of its owner.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectEngine } from '../src/adapters/runtime/docker/docker-engine.ts';
import { nodeBaseTags } from '../src/adapters/runtime/docker/node-base-image.ts';
import { removeLabelled } from '../src/adapters/runtime/docker/test-engine.ts';
import { bearer } from './support/api-token.ts';
import { REPO, runCli, startServer, tempDir } from './support/baton-process.ts';
import { startUp, type UpProcess } from './support/baton-up.ts';

const docker = connectEngine(process.env.DOCKER_HOST);
const DEADLINE_MS = 60_000;

interface InstanceJson {
  readonly id: string;
  readonly service: string;
  readonly phase: string;
  readonly pid?: number;
  readonly restarts: number;
  readonly address?: string;
}

interface EventJson {
  readonly kind: string;
  readonly data?: { instance?: string; detail?: string; cause?: string };
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const result = await check().catch(() => undefined);
    if (result) return result;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The admin token of each control plane this file started, by URL; instances need none. */
const tokens = new Map<string, string>();

async function getJson<T>(url: string): Promise<T> {
  const token = [...tokens].find(([server]) => url.startsWith(server))?.[1];
  const response = await fetch(url, { headers: token === undefined ? {} : bearer(token) });
  assert.equal(response.status, 200, `${url}: ${response.status}`);
  return (await response.json()) as T;
}

const instancesOf = async (url: string, service?: string) =>
  (await getJson<{ instances: InstanceJson[] }>(`${url}/v1/instances${service ? `?service=${service}` : ''}`))
    .instances;

const running = (instances: readonly InstanceJson[]) => instances.filter((i) => i.phase === 'running');

/** Everything a scenario's owner made, and the images tagged under its architecture. */
async function removeEverything(stateDir: string, architecture: string): Promise<void> {
  const owner = (await readFile(join(stateDir, 'owner'), 'utf8').catch(() => '')).trim();
  if (owner !== '') await removeLabelled(docker, [`dev.baton.owner=${owner}`]);
  // By tag, never by id: the same image may carry the tags of a user's own shop builds.
  const images = await docker.listImages({ filters: JSON.stringify({ reference: [`${architecture}/*`] }) });
  for (const tag of images.flatMap((image) => image.RepoTags ?? []))
    if (tag.startsWith(`${architecture}/`))
      await docker
        .getImage(tag)
        .remove()
        .catch(() => {});
}

describe('the example shop in containers', () => {
  const architecture = `shop-t${randomBytes(3).toString('hex')}`;
  let dir: { path: string; remove: () => Promise<void> };
  let shop: UpProcess;
  let gateway: string;

  before(async () => {
    dir = await tempDir('docker-shop');
    // The shop's own manifest, under a name of its own (its images are this test's alone),
    // its build context the repository wherever the copy lies.
    const text = (await readFile(join(REPO, 'examples/shop/baton.yaml'), 'utf8'))
      .replace(/^name: shop$/m, `name: ${architecture}`)
      .replaceAll('context: ../..', `context: ${REPO}`);
    const manifest = join(dir.path, 'baton.yaml');
    await writeFile(manifest, text);
    const built = await runCli(['build', '-f', manifest]);
    assert.equal(built.code, 0, built.stdout + built.stderr);
    shop = await startUp(
      manifest,
      join(dir.path, 'state'),
      ['--runtime', 'docker', '--log-level', 'warn', '--gateway', '127.0.0.1:0'],
      240_000,
    );
    tokens.set(shop.url, shop.token);
    gateway = await waitFor('the gateway', async () => /Gateway: (http:\/\/\S+)/.exec(shop.output())?.[1]);
    await waitFor('the shop to converge', async () => /revision 1 converged/.test(shop.output()));
  });

  after(async () => {
    await shop?.stop();
    await removeEverything(join(dir.path, 'state'), architecture);
    await dir?.remove();
  });

  it('runs every instance in a container of its built image, and checks out through the gateway', async () => {
    const instances = await instancesOf(shop.url);
    assert.equal(running(instances).length, 8, JSON.stringify(instances));
    const containers = await docker.listContainers({
      filters: JSON.stringify({ label: [`dev.baton.instance=${instances[0]!.id}`] }),
    });
    assert.equal(containers.length, 1);
    assert.match(containers[0]!.Image, new RegExp(`^${architecture}/`));

    // Containers call their dependencies through the data plane, at the host's address on
    // their network (where the gateway's east-west listeners listen), never at loopback.
    const order = running(instances).find((i) => i.service === 'orders')!;
    const [orders] = await docker.listContainers({
      filters: JSON.stringify({ label: [`dev.baton.instance=${order.id}`] }),
    });
    const inspected = await docker.getContainer(orders!.Id).inspect();
    const network = Object.keys(inspected.NetworkSettings.Networks)[0]!;
    const { IPAM } = (await docker.getNetwork(network).inspect()) as {
      IPAM: { Config: { Gateway: string }[] };
    };
    const paymentsUrl = inspected.Config.Env.find((e) => e.startsWith('PAYMENTS_URL='))?.slice(13);
    assert.match(
      paymentsUrl ?? '',
      new RegExp(`^http://${IPAM.Config[0]!.Gateway.replaceAll('.', '\\.')}:\\d+$`),
    );

    const checkout = await fetch(`${gateway}/api/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'tea-sencha', quantity: 1, card: '4242424242424242' }),
    });
    const placed = (await checkout.json()) as { status?: string };
    assert.equal(checkout.status, 201, JSON.stringify(placed));
    assert.equal(placed.status, 'confirmed');
    // The shop calls PAYMENTS_URL when given one: that checkout crossed the listener there,
    // which answers from the host too (payments' health through the edge).
    assert.equal((await fetch(`${paymentsUrl}/healthz`)).status, 200);
    // The spans came out of the containers, through the control plane's door on their network.
    await waitFor('the checkout trace', async () => {
      const traces = await getJson<{ traces: { services: string[] }[] }>(
        `${shop.url}/v1/traces?service=ledger`,
      );
      return traces.traces.some((t) => t.services.includes('ledger') && t.services.includes('web'));
    });
  });

  it('replaces a killed cattle container', async () => {
    const [victim] = running(await instancesOf(shop.url, 'orders'));
    assert.ok(victim?.pid, 'the container init pid is reported');
    process.kill(victim.pid, 'SIGKILL');
    await waitFor('a replacement', async () => {
      const now = running(await instancesOf(shop.url, 'orders'));
      return now.length === 2 && now.every((i) => i.id !== victim.id);
    });
  });

  it('restarts a killed pet in its own container, with the data in its volume', async () => {
    const stock = async () => {
      const catalog = await getJson<{ products: { sku: string; stock: number }[] }>(`${gateway}/api/catalog`);
      return catalog.products.find((p) => p.sku === 'tea-sencha')?.stock;
    };
    const before = await waitFor('the catalog', stock);
    assert.ok(before < 40, `a checkout took one: ${before}`);
    const [pet] = running(await instancesOf(shop.url, 'inventory'));
    assert.ok(pet?.pid);
    const [container] = await docker.listContainers({
      filters: JSON.stringify({ label: [`dev.baton.instance=${pet.id}`] }),
    });
    process.kill(pet.pid, 'SIGKILL');
    await waitFor('the pet back', async () => {
      const [again] = running(await instancesOf(shop.url, 'inventory'));
      return again?.id === pet.id && again.restarts === 1;
    });
    const [after] = await docker.listContainers({
      filters: JSON.stringify({ label: [`dev.baton.instance=${pet.id}`] }),
    });
    assert.equal(after?.Id, container?.Id, 'the same container');
    assert.equal(await waitFor('the catalog again', stock), before, 'its stock survived');
  });
});

describe('a service over its memory limit', () => {
  const architecture = `oom-t${randomBytes(3).toString('hex')}`;
  let dir: { path: string; remove: () => Promise<void> };

  before(async () => (dir = await tempDir('docker-oom')));
  after(async () => {
    await removeEverything(join(dir.path, 'state'), architecture);
    await dir.remove();
  });

  it('is killed by the kernel, and its event says out of memory', async () => {
    const app = join(dir.path, 'app');
    await mkdir(app);
    await writeFile(
      join(app, 'hog.js'),
      String.raw`
const hoard = [];
require('node:http').createServer((req, res) => {
  if (req.url === '/eat') setInterval(() => { for (let i = 0; i < 20; i++) hoard.push(Buffer.alloc(1 << 20, 1)); }, 5);
  res.end('ok');
}).listen(Number(process.env.PORT));
`,
    );
    await writeFile(
      join(app, 'Dockerfile'),
      `FROM ${nodeBaseTags(process.version).major}\nCOPY hog.js /app/\nCMD ["hog.js"]\n`,
    );
    const manifest = join(dir.path, 'baton.yaml');
    await writeFile(
      manifest,
      [
        `name: ${architecture}`,
        'services:',
        '  hog:',
        '    version: 1.0.0',
        '    tier: low',
        '    build: { context: app }',
        '    resources: { memory: 64Mi }',
        '    health: { http: { path: /healthz }, interval: 1s }',
        '',
      ].join('\n'),
    );
    const up = await startUp(
      manifest,
      join(dir.path, 'state'),
      ['--runtime', 'docker', '--log-level', 'warn', '--no-gateway'],
      120_000,
    );
    tokens.set(up.url, up.token);
    try {
      await waitFor('the hog to run', async () => /converged/.test(up.output()));
      const [hog] = running(await instancesOf(up.url, 'hog'));
      assert.ok(hog?.address);
      await fetch(`http://${hog.address}:8080/eat`).catch(() => undefined);
      const failed = await waitFor('the OOM kill', async () => {
        const { events } = await getJson<{ events: EventJson[] }>(`${up.url}/v1/events?service=hog`);
        return events.find((e) => e.kind === 'instance.failed' && e.data?.instance === hog.id);
      });
      assert.match(failed.data?.detail ?? '', /^out of memory/);
    } finally {
      await up.stop();
    }
  });
});

describe('config in a container', () => {
  const architecture = `cfg-t${randomBytes(3).toString('hex')}`;
  let dir: { path: string; remove: () => Promise<void> };

  before(async () => (dir = await tempDir('docker-config')));
  after(async () => {
    await removeEverything(join(dir.path, 'state'), architecture);
    await dir.remove();
  });

  it('reads BATON_CONFIG_FILE from a read-only folder the control plane keeps current', async () => {
    const app = join(dir.path, 'app');
    await mkdir(app);
    await writeFile(
      join(app, 'app.js'),
      String.raw`
const { readFileSync, writeFileSync } = require('node:fs');
const file = process.env.BATON_CONFIG_FILE;
require('node:http').createServer((req, res) => {
  if (req.url === '/config')
    return res.end(JSON.stringify({ file, instance: process.env.BATON_INSTANCE, now: JSON.parse(readFileSync(file, 'utf8')) }));
  if (req.url === '/write') {
    try { writeFileSync(file, '{}'); return res.end('written'); } catch (error) { return res.end(error.code); }
  }
  res.end('ok');
}).listen(Number(process.env.PORT));
`,
    );
    await writeFile(
      join(app, 'Dockerfile'),
      `FROM ${nodeBaseTags(process.version).major}\nCOPY app.js /app/\nCMD ["app.js"]\n`,
    );
    const manifest = join(dir.path, 'baton.yaml');
    await writeFile(
      manifest,
      [
        `name: ${architecture}`,
        'services:',
        '  app:',
        '    version: 1.0.0',
        '    tier: low',
        '    build: { context: app }',
        '    health: { http: { path: /healthz }, interval: 1s }',
        '',
      ].join('\n'),
    );
    const up = await startUp(
      manifest,
      join(dir.path, 'state'),
      ['--runtime', 'docker', '--log-level', 'warn', '--no-gateway'],
      120_000,
    );
    tokens.set(up.url, up.token);
    try {
      await waitFor('the app to run', async () => /converged/.test(up.output()));
      const [instance] = running(await instancesOf(up.url, 'app'));
      assert.ok(instance?.address);
      type Seen = { file: string; instance: string; now: { release: number; values: { MODE?: string } } };
      const seen = async () => (await (await fetch(`http://${instance.address}:8080/config`)).json()) as Seen;
      const first = await seen();
      assert.equal(first.file, '/run/baton/config/config.json');
      assert.deepEqual(first.now, { release: 0, values: {} });
      for (const [number, mode] of [
        [1, 'one'],
        [2, 'two'],
      ] as const) {
        const response = await fetch(`${up.url}/v1/config/set`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...bearer(up.token) },
          body: JSON.stringify({ changes: [{ scope: 'app', key: 'MODE', value: mode }] }),
        });
        assert.equal(response.status, 201, await response.text());
        const now = await waitFor(`release ${number} in the container`, async () => {
          const s = await seen();
          return s.now.release === number ? s : undefined;
        });
        assert.equal(now.now.values.MODE, mode);
        assert.equal(now.instance, instance.id, 'pushed into the same container: no restart');
      }
      assert.equal(await (await fetch(`http://${instance.address}:8080/write`)).text(), 'EROFS');
      assert.equal(running(await instancesOf(up.url, 'app'))[0]?.restarts, 0);
    } finally {
      await up.stop();
    }
  });
});

describe('a control plane killed with -9', () => {
  const architecture = `adopt-t${randomBytes(3).toString('hex')}`;
  let dir: { path: string; remove: () => Promise<void> };

  before(async () => (dir = await tempDir('docker-adopt')));
  after(async () => {
    await removeEverything(join(dir.path, 'state'), architecture);
    await dir.remove();
  });

  it('leaves its containers serving; the next one adopts them by their labels', async () => {
    const app = join(dir.path, 'app');
    await mkdir(app);
    await writeFile(
      join(app, 'hello.js'),
      "require('node:http').createServer((q, s) => s.end(process.env.BATON_INSTANCE)).listen(Number(process.env.PORT));\n",
    );
    await writeFile(
      join(app, 'Dockerfile'),
      `FROM ${nodeBaseTags(process.version).major}\nCOPY hello.js /app/\nCMD ["hello.js"]\n`,
    );
    const manifest = join(dir.path, 'baton.yaml');
    await writeFile(
      manifest,
      `name: ${architecture}\nservices:\n  hello:\n    version: 1.0.0\n    tier: low\n    instances: 2\n    build: { context: app }\n    health: { http: { path: / }, interval: 1s }\n`,
    );
    const state = join(dir.path, 'state');
    const first = await startServer(state, ['--runtime', 'docker']);
    // Refused before anything is recorded: an image the engine lacks, located in the file.
    const missing = join(dir.path, 'missing.yaml');
    await writeFile(
      missing,
      `name: ${architecture}\nservices:\n  ghost:\n    version: 1.0.0\n    tier: low\n    image: ${architecture}/nowhere:1\n`,
    );
    tokens.set(first.url, first.token);
    const refused = await runCli(['apply', '-f', missing], {
      BATON_SERVER: first.url,
      BATON_STATE_DIR: state,
    });
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(
      refused.stderr,
      /missing\.yaml:6:\d+ error image-missing: ghost: image .*nowhere:1 is not on the engine, and Baton never pulls/,
    );
    const applied = await runCli(['apply', '-f', manifest, '-m', 'hello'], {
      BATON_SERVER: first.url,
      BATON_STATE_DIR: state,
    });
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const before = running(await instancesOf(first.url, 'hello'));
    assert.equal(before.length, 2);
    await first.stop('SIGKILL');
    for (const instance of before) {
      assert.equal(
        await (await fetch(`http://${instance.address}:8080/`)).text(),
        instance.id,
        'still serving',
      );
    }

    const second = await startServer(state, ['--runtime', 'docker']);
    tokens.set(second.url, second.token);
    try {
      const adopted = await waitFor('the adopted instances running', async () => {
        const now = running(await instancesOf(second.url, 'hello'));
        return now.length === 2 ? now : undefined;
      });
      assert.deepEqual(adopted.map((i) => i.id).sort(), before.map((i) => i.id).sort(), 'the same instances');
      assert.deepEqual(
        adopted.map((i) => i.restarts),
        [0, 0],
      );
      const owner = (await readFile(join(state, 'owner'), 'utf8')).trim();
      const containers = await docker.listContainers({
        all: true,
        filters: JSON.stringify({ label: [`dev.baton.owner=${owner}`] }),
      });
      assert.equal(containers.length, 2, 'no new container');
    } finally {
      await second.stop();
    }
  });
});
