// The docker runtime against the real engine: the Runtime contract, then what only containers
// have (resources, OOM kills, volumes, adoption by labels, images built on demand, engine logs).
// Everything a test makes carries its run's label or owner and is removed by it afterwards.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BatonError } from '../../../domain/errors.ts';
import { runtimeContract } from '../../../ports/runtime.contract.ts';
import type { Behaviour } from '../../../ports/runtime.contract.ts';
import type {
  InstanceSpec,
  LogLine,
  RunningInstance,
  RuntimeEvent,
  Workload,
} from '../../../ports/runtime.ts';
import { NetworkProber } from '../../prober/network-prober.ts';
import { containerName, LABEL } from './container-config.ts';
import { ContainerProber } from './container-prober.ts';
import { createDockerRuntime, type DockerRuntime, type DockerRuntimeOptions } from './docker-runtime.ts';
import { ImageBuilder, type BuildProgress } from './image-builder.ts';
import { nodeBaseTags } from './node-base-image.ts';
import { ensureOwnerNetwork, type OwnerNetwork } from './owner-network.ts';
import { openTestEngine, realTimeWaits, type TestEngine } from './test-engine.ts';

// A small service: answers on PORT (and PORT_ADMIN), and does on request what the tests need.
const SERVICE = String.raw`
const http = require('node:http');
const fs = require('node:fs');
console.log('hello from ' + process.env.BATON_INSTANCE);
console.error('warning from ' + process.env.BATON_INSTANCE);
const hoard = [];
const routes = {
  '/healthz': () => 'ok',
  '/env': () => JSON.stringify(process.env),
  '/say': (q) => void console.log(q.get('line')),
  '/eat': () => void setInterval(() => { for (let i = 0; i < 20; i++) hoard.push(Buffer.alloc(1 << 20, 1)); }, 5),
  '/put': (q) => void fs.writeFileSync('/data/' + q.get('name'), q.get('value')),
  '/get': (q) => fs.readFileSync('/data/' + q.get('name'), 'utf8'),
  '/lookup': async (q) => (await require('node:dns').promises.lookup(q.get('name'))).address,
};
const serve = async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const route = routes[url.pathname];
  if (!route) res.statusCode = 404;
  try { res.end(route ? ((await route(url.searchParams)) ?? '') : ''); } catch (e) { res.statusCode = 500; res.end(e.message); }
};
http.createServer(serve).listen(Number(process.env.PORT));
if (process.env.PORT_ADMIN) http.createServer(serve).listen(Number(process.env.PORT_ADMIN));
`;

const DEADLINE_MS = 20_000;
const node = { nodePath: process.execPath, nodeVersion: process.version };

interface Fixture {
  readonly engine: TestEngine;
  readonly owner: string;
  readonly network: OwnerNetwork;
  readonly image: string;
  readonly dir: string;
}

let fixture: Fixture;
let count = 0;

before(async () => {
  const engine = await openTestEngine();
  const owner = `test${engine.runId}`;
  const dir = await mkdtemp(join(tmpdir(), 'baton-docker-'));
  await writeFile(join(dir, 'service.js'), SERVICE);
  await writeFile(
    join(dir, 'Dockerfile'),
    `FROM ${nodeBaseTags(process.version).major}\nCOPY service.js /app/\nCMD ["service.js"]\n`,
  );
  const image = `baton-test-${engine.runId}/svc:1.0.0`;
  await new ImageBuilder({ docker: engine.docker, node }).build({
    tag: image,
    contextDir: dir,
    dockerfile: 'Dockerfile',
    labels: engine.labels,
  });
  const network = await ensureOwnerNetwork(engine.docker, owner, engine.labels);
  fixture = { engine, owner, network, image, dir };
});

after(async () => {
  await fixture.engine.cleanup([fixture.owner]);
  await rm(fixture.dir, { recursive: true, force: true });
});

function specFor(
  behaviour: Behaviour | 'serve',
  overrides: Partial<InstanceSpec> = {},
  workload: Partial<Workload> = {},
) {
  const base: InstanceSpec = {
    id: `orders-${++count}`,
    service: 'orders',
    version: '1.2.3',
    revision: 7,
    baseDir: fixture.dir,
    mode: 'cattle',
    env: { GREETING: 'hello' },
    ports: [{ name: 'http' }, { name: 'admin' }],
    workload: { image: fixture.image, volumes: [], ...workload },
  };
  if (behaviour === 'crash')
    return { ...base, ...overrides, workload: { ...base.workload, cmd: ['-e', 'process.exit(3)'] } };
  // With an init as PID 1, a program missing from the image fails after the start (exit 127):
  // what cannot start at all is an image the engine does not have.
  if (behaviour === 'unstartable')
    return { ...base, ...overrides, workload: { ...base.workload, image: `${fixture.image}-absent` } };
  return { ...base, ...overrides };
}

async function open(options: Partial<DockerRuntimeOptions> = {}): Promise<DockerRuntime> {
  return createDockerRuntime({
    docker: fixture.engine.docker,
    owner: fixture.owner,
    network: fixture.network,
    imageLabels: fixture.engine.labels,
    ...options,
  });
}

/** Polls until the predicate holds (real time has no other way), failing after a deadline. */
const { waitFor, settle, get } = realTimeWaits(DEADLINE_MS);

/** Stops what the runtime lists, closes it, and checks that none of the owner's containers is left. */
async function cleanup(runtime: DockerRuntime): Promise<void> {
  const instances = await runtime.list();
  await Promise.all(instances.map((i) => runtime.stop(i.id, { graceMs: 1_000 })));
  await runtime.close();
  const filters = JSON.stringify({ label: [`${LABEL.owner}=${fixture.owner}`] });
  const left = await fixture.engine.docker.listContainers({ all: true, filters });
  const running = left.filter((c) => c.State === 'running');
  await Promise.all(left.map((c) => fixture.engine.docker.getContainer(c.Id).remove({ force: true })));
  assert.deepEqual(
    running.map((c) => c.Names),
    [],
    'no running container of the owner outlives the case',
  );
}

function record(runtime: DockerRuntime): RuntimeEvent[] {
  const events: RuntimeEvent[] = [];
  runtime.subscribe((event) => events.push(event));
  return events;
}

const exitOf = (events: RuntimeEvent[], id: string) =>
  events.find((e): e is Extract<RuntimeEvent, { type: 'exited' }> => e.type === 'exited' && e.id === id);

runtimeContract('docker', async () => {
  const runtime = await open();
  return {
    runtime,
    spec: (behaviour) => specFor(behaviour),
    environmentOf: async (instance) => JSON.parse(await get(instance, '/env')),
    // The container's init, by its pid on this host: the whole container dies with it.
    killFromOutside: (instance) => process.kill(instance.pid!, 'SIGKILL'),
    waitFor,
    settle,
    cleanup: () => cleanup(runtime),
  };
});

describe('docker runtime', () => {
  it('runs each instance with its own address on the owner network, as nobody, under an init', async () => {
    const runtime = await open();
    try {
      const [a, b] = await Promise.all([runtime.start(specFor('serve')), runtime.start(specFor('serve'))]);
      assert.notEqual(a.address, b.address);
      assert.equal(a.port, 8080, 'each has its own address, so all may use the same ports');
      assert.deepEqual(a.ports, { http: 8080, admin: 8081 });
      const env = JSON.parse(await get(a, '/env'));
      assert.equal(env.BATON_SERVER, undefined);
      assert.equal(
        env.PATH,
        '/usr/local/bin',
        "the image's PATH, nothing of the control plane's environment",
      );
      const info = await fixture.engine.docker.getContainer(containerName(fixture.owner, a.id)).inspect();
      assert.equal(info.Config.User, '65534:65534');
      assert.equal(info.HostConfig.Init, true);
      assert.deepEqual(info.HostConfig.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
      assert.deepEqual(info.HostConfig.SecurityOpt, ['no-new-privileges']);
      assert.equal(info.Config.Labels[LABEL.instance], a.id);
      assert.ok(fixture.network.subnet.startsWith(a.address.split('.').slice(0, 2).join('.')), a.address);
    } finally {
      await cleanup(runtime);
    }
  });

  it('runs command probes inside the container, with a deadline', async () => {
    const runtime = await open();
    try {
      const instance = await runtime.start(specFor('serve'));
      const prober = new ContainerProber({
        docker: fixture.engine.docker,
        network: new NetworkProber(),
        containerOf: (id) => runtime.containerOf(id),
      });
      const probe = async (args: string[], timeoutMs = 5_000, command = 'node') => {
        const { ok, detail } = await prober.probe(
          { kind: 'command', command, args, cwd: '/', env: {}, instance: instance.id },
          timeoutMs,
        );
        return { ok, detail };
      };
      // Inside: the image's node, the container's environment.
      assert.deepEqual(
        await probe([
          '-e',
          'process.exit(process.env.BATON_INSTANCE === process.argv[1] ? 0 : 1)',
          instance.id,
        ]),
        {
          ok: true,
          detail: 'exit 0',
        },
      );
      assert.deepEqual(await probe(['-e', 'console.error("not ready"); process.exit(2)']), {
        ok: false,
        detail: 'exit 2: not ready',
      });
      assert.deepEqual(await probe(['-e', 'setTimeout(() => {}, 10000)'], 300), {
        ok: false,
        detail: 'timeout after 300 ms',
      });
      const missing = await probe([], 5_000, '/no/such/check');
      assert.equal(missing.ok, false);
      assert.match(missing.detail, /no such file|not found|exit 12[67]/i);
      const http = await prober.probe(
        { kind: 'http', address: instance.address, port: instance.port, path: '/healthz' },
        5_000,
      );
      assert.equal(http.ok, true, http.detail);
      assert.deepEqual(
        await prober
          .probe(
            { kind: 'command', command: 'node', args: [], cwd: '/', env: {}, instance: 'nobody-1' },
            1_000,
          )
          .then((r) => r.detail),
        'nobody-1 runs in no container',
      );
    } finally {
      await cleanup(runtime);
    }
  });

  it("resolves a service's name to its instance on the owner network", async () => {
    const runtime = await open();
    try {
      const orders = await runtime.start(specFor('serve'));
      const client = await runtime.start(specFor('serve', { service: 'payments' }));
      assert.equal(await get(client, '/lookup?name=orders'), orders.address);
    } finally {
      await cleanup(runtime);
    }
  });

  it('passes the server and token it was given, and the manifest env under Baton variables', async () => {
    const runtime = await open({
      serverUrl: `http://${fixture.network.gateway}:7071`,
      tokenFor: (service) => `token-of-${service}`,
    });
    try {
      const instance = await runtime.start(
        specFor('serve', { env: { GREETING: 'hi', BATON_INSTANCE: 'fake' } }),
      );
      const env = JSON.parse(await get(instance, '/env'));
      assert.equal(env.BATON_SERVER, `http://${fixture.network.gateway}:7071`);
      assert.equal(env.BATON_TOKEN, 'token-of-orders');
      assert.equal(env.GREETING, 'hi');
      assert.equal(env.BATON_INSTANCE, instance.id, 'a manifest cannot fake an identity');
    } finally {
      await cleanup(runtime);
    }
  });

  it('enforces cpu, memory and pids, and reports an instance over its memory as out of memory', async () => {
    const runtime = await open();
    const events = record(runtime);
    try {
      const spec = specFor('serve', {}, { resources: { cpu: '250m', memory: '64Mi', pids: 64 } });
      const instance = await runtime.start(spec);
      const info = await fixture.engine.docker
        .getContainer(containerName(fixture.owner, instance.id))
        .inspect();
      assert.equal(info.HostConfig.NanoCpus, 250_000_000);
      assert.equal(info.HostConfig.Memory, 64 * 1024 * 1024);
      assert.equal(info.HostConfig.MemorySwap, 64 * 1024 * 1024, 'no swap to hide in');
      assert.equal(info.HostConfig.PidsLimit, 64);
      await get(instance, '/healthz');
      await fetch(`http://${instance.address}:${instance.port}/eat`).catch(() => undefined);
      await waitFor(() => exitOf(events, instance.id) !== undefined, 'the OOM kill');
      const exit = exitOf(events, instance.id);
      assert.equal(exit?.outOfMemory, true, JSON.stringify(exit));
      assert.equal(exit?.signal, 'SIGKILL');
    } finally {
      await cleanup(runtime);
    }
  });

  it('restarts a pet in its own container, with its volume; a new cattle instance still finds the service volume', async () => {
    const runtime = await open();
    const events = record(runtime);
    try {
      const volumes = [{ name: 'data', path: '/data', readOnly: false }];
      const pet = specFor('serve', { mode: 'pet' }, { volumes });
      const first = await runtime.start(pet);
      await get(first, '/put?name=stock&value=42');
      process.kill(first.pid!, 'SIGKILL');
      await waitFor(() => exitOf(events, first.id) !== undefined, 'the pet to die');
      const again = await runtime.start(pet);
      assert.equal(again.id, first.id);
      assert.equal(await get(again, '/get?name=stock'), '42', 'its data survived');
      const containers = await fixture.engine.docker.listContainers({
        all: true,
        filters: JSON.stringify({
          label: [`${LABEL.instance}=${first.id}`, `${LABEL.owner}=${fixture.owner}`],
        }),
      });
      assert.equal(containers.length, 1, 'restarted in place: the same container');

      const other = await runtime.start(specFor('serve', {}, { volumes }));
      assert.equal(await get(other, '/get?name=stock'), '42', 'volumes belong to the service');
      await runtime.stop(again.id, { graceMs: 1_000 });
      const volume = await fixture.engine.docker
        .getVolume(`baton-${fixture.owner.slice(0, 8)}-orders-data`)
        .inspect();
      assert.equal(volume.Labels[LABEL.owner], fixture.owner, 'a stop keeps the data');
    } finally {
      await cleanup(runtime);
    }
  });

  it('adopts by labels after a restart, never a look-alike by name, and removes containers never started', async () => {
    const first = await open();
    const one = await first.start(specFor('serve'));
    const two = await first.start(specFor('serve'));
    await first.close();
    const { docker } = fixture.engine;
    // Same name pattern, no labels: not ours.
    const lookalike = await docker.createContainer({
      name: containerName(fixture.owner, 'orders-lookalike'),
      Image: fixture.image,
      Labels: { ...fixture.engine.labels },
      Env: ['PORT=8080'],
      HostConfig: { Init: true, NetworkMode: fixture.network.name },
    });
    await lookalike.start();
    // Ours, made but never started (a control plane died in between).
    const stray = await docker.createContainer({
      name: containerName(fixture.owner, 'orders-stray'),
      Image: fixture.image,
      Labels: { [LABEL.owner]: fixture.owner, [LABEL.instance]: 'orders-stray', ...fixture.engine.labels },
    });
    const second = await open();
    const events = record(second);
    try {
      const adopted = (await second.list()).toSorted((a, b) => a.id.localeCompare(b.id));
      assert.deepEqual(
        adopted,
        [one, two].toSorted((a, b) => a.id.localeCompare(b.id)),
      );
      await assert.rejects(stray.inspect(), (error: { statusCode?: number }) => error.statusCode === 404);
      process.kill(two.pid!, 'SIGKILL');
      await waitFor(() => exitOf(events, two.id) !== undefined, 'the exit of an adopted instance');
      await second.stop(one.id, { graceMs: 1_000 });
      assert.ok(exitOf(events, one.id), 'the stop of an adopted instance is reported');
      assert.deepEqual(await second.list(), []);
      assert.equal((await lookalike.inspect()).State.Running, true, 'the look-alike is left alone');
    } finally {
      await lookalike.remove({ force: true });
      await cleanup(second);
    }
  });

  it('logs: live instances by default, the dead with `all` or by id, tail across instances, follow', async () => {
    const runtime = await open({ keepExited: 1 });
    const events = record(runtime);
    try {
      const crashed = await runtime.start(
        specFor('serve', {}, { cmd: ['-e', 'console.log("dying"); process.exit(3)'] }),
      );
      await waitFor(() => exitOf(events, crashed.id) !== undefined, 'the crash');
      const one = await runtime.start(specFor('serve'));
      const two = await runtime.start(specFor('serve'));
      // Both booted (their greetings written) before the lines whose order is checked.
      await get(one, '/healthz');
      await get(two, '/healthz');
      const collect = async (query: Parameters<DockerRuntime['logs']>[0]) => {
        const lines: LogLine[] = [];
        for await (const line of runtime.logs(query)) lines.push(line);
        return lines;
      };
      // The engine stamps a line when it reads it, a moment after it is written: each line is
      // seen stamped before the next is written, so that their order is the one checked.
      const say = async (instance: RunningInstance, line: string) => {
        await get(instance, `/say?line=${line}`);
        await waitFor(async () => (await collect({ service: 'orders' })).some((l) => l.line === line), line);
      };
      await say(one, 'one-1');
      await say(two, 'two-1');
      await say(one, 'one-2');
      assert.deepEqual(await collect({ service: 'orders', tail: 3 }), [
        { instance: one.id, stream: 'stdout', line: 'one-1' },
        { instance: two.id, stream: 'stdout', line: 'two-1' },
        { instance: one.id, stream: 'stdout', line: 'one-2' },
      ]);
      const live = await collect({ service: 'orders' });
      assert.ok(!live.some((l) => l.instance === crashed.id), 'the dead are left out');
      assert.ok(
        live.some(
          (l) => l.instance === two.id && l.stream === 'stderr' && l.line === `warning from ${two.id}`,
        ),
      );
      const all = await collect({ service: 'orders', all: true });
      assert.deepEqual(
        all.filter((l) => l.instance === crashed.id).map((l) => l.line),
        ['dying'],
      );
      assert.deepEqual(
        (await collect({ service: 'orders', instance: crashed.id })).map((l) => l.line),
        ['dying'],
      );
      assert.deepEqual(await collect({ service: 'payments', all: true }), []);

      const abort = new AbortController();
      const followed: LogLine[] = [];
      const following = (async () => {
        for await (const line of runtime.logs({
          service: 'orders',
          tail: 1,
          follow: true,
          signal: abort.signal,
        }))
          followed.push(line);
      })();
      await waitFor(() => followed.length === 1, 'the tail');
      assert.deepEqual(followed[0], { instance: one.id, stream: 'stdout', line: 'one-2' });
      const three = await runtime.start(specFor('serve'));
      await waitFor(() => followed.some((l) => l.line === `hello from ${three.id}`), 'the new instance');
      await get(one, '/say?line=after');
      await waitFor(
        () => followed.some((l) => l.instance === one.id && l.line === 'after'),
        'the followed line',
      );
      abort.abort();
      await following;
      assert.equal(
        followed.filter((l) => l.line === 'one-2').length,
        1,
        'no line twice between history and follow',
      );
    } finally {
      await cleanup(runtime);
    }
  });

  it('builds a missing image on the first start, once for concurrent starts, and names a failing step', async () => {
    const progress: BuildProgress[] = [];
    const runtime = await open({
      builder: new ImageBuilder({ docker: fixture.engine.docker, node }),
      onBuild: (_, p) => progress.push(p),
    });
    try {
      const context = join(fixture.dir, `built-${randomBytes(3).toString('hex')}`);
      await mkdir(context);
      await writeFile(join(context, 'service.js'), SERVICE);
      await writeFile(
        join(context, 'Dockerfile'),
        `FROM ${nodeBaseTags(process.version).major}\nCOPY service.js /app/\nCMD ["service.js"]\n`,
      );
      await writeFile(
        join(context, 'broken.Dockerfile'),
        `FROM ${nodeBaseTags(process.version).major}\nCOPY nothing /app/\n`,
      );
      const image = `baton-test-${fixture.engine.runId}/built:${count}`;
      const workload = {
        image,
        build: { context: context.slice(fixture.dir.length + 1), dockerfile: 'Dockerfile', args: {} },
      };
      const [a, b] = await Promise.all([
        runtime.start(specFor('serve', {}, workload)),
        runtime.start(specFor('serve', {}, workload)),
      ]);
      assert.equal(await get(a, '/healthz'), 'ok');
      assert.equal(await get(b, '/healthz'), 'ok');
      assert.equal(progress.filter((p) => p.kind === 'built').length, 1, 'one build for both');

      const broken = {
        image: `${image}-broken`,
        build: { ...workload.build, dockerfile: 'broken.Dockerfile' },
      };
      await assert.rejects(runtime.start(specFor('serve', {}, broken)), (error: BatonError) => {
        assert.equal(error.code, 'instance-unstartable');
        assert.match(error.message, /at step 2\/\d \(COPY nothing \/app\/\)/);
        return true;
      });
    } finally {
      await cleanup(runtime);
    }
  });

  it('refuses at start what it cannot run, with terminal codes; a program missing from the image exits 127, saying so', async () => {
    const runtime = await open();
    try {
      const events = record(runtime);
      const missing = await runtime.start(specFor('serve', {}, { entrypoint: ['/no/such/program'] }));
      await waitFor(() => exitOf(events, missing.id) !== undefined, 'the exit of a missing program');
      assert.equal(exitOf(events, missing.id)?.code, 127);
      const logs: LogLine[] = [];
      await waitFor(async () => {
        logs.length = 0;
        for await (const line of runtime.logs({ service: 'orders', instance: missing.id })) logs.push(line);
        return logs.length > 0;
      }, 'the init to say why');
      assert.match(logs[0]?.line ?? '', /exec \/no\/such\/program failed: No such file or directory/);
      await assert.rejects(
        runtime.start(specFor('serve', {}, { image: `baton-test-${fixture.engine.runId}/absent:1` })),
        (error: BatonError) => {
          assert.equal(error.code, 'instance-unstartable');
          assert.match(error.message, /not on the engine, and Baton never pulls/);
          return true;
        },
      );
      await assert.rejects(
        runtime.start({ ...specFor('serve'), workload: { run: { command: 'node', args: [] }, volumes: [] } }),
        (error: BatonError) => error.code === 'runtime-refused',
      );
    } finally {
      await cleanup(runtime);
    }
  });

  it('admits at plan time: images it lacks and contexts that are not there are errors, what it cannot honour warnings', async () => {
    const runtime = await open();
    try {
      const admit = (workload: Partial<Workload>) => {
        const { service, mode, baseDir, env } = specFor('serve');
        return runtime.admit({ service, mode, baseDir, env, workload: { volumes: [], ...workload } });
      };
      assert.deepEqual(
        (await admit({ run: { command: 'node', args: [] } })).map((r) => [r.severity, r.code]),
        [['error', 'runtime-unsupported']],
      );
      assert.deepEqual(
        (await admit({ image: `baton-test-${fixture.engine.runId}/absent:1` })).map((r) => [r.code, r.field]),
        [['image-missing', ['image']]],
      );
      assert.deepEqual(
        (
          await admit({ image: 'x/y:1', build: { context: 'nowhere', dockerfile: 'Dockerfile', args: {} } })
        ).map((r) => [r.code, r.field]),
        [['build-context-missing', ['build', 'context']]],
      );
      assert.deepEqual(
        (await admit({ image: 'x/y:1', build: { context: '.', dockerfile: 'Nope', args: {} } })).map(
          (r) => r.field,
        ),
        [['build', 'dockerfile']],
      );
      const warnings = await admit({
        image: fixture.image,
        volumes: [{ name: 'data', path: '/data', size: '1Gi', readOnly: false }],
        placement: { labels: { zone: 'a' } },
      });
      assert.deepEqual(
        warnings.map((r) => [r.severity, r.code, r.field]),
        [
          ['warning', 'not-honoured', ['volumes', 0, 'size']],
          ['warning', 'not-honoured', ['placement', 'labels']],
        ],
      );
    } finally {
      await cleanup(runtime);
    }
  });
});
