// Apply → N containers healthy, three ways against the same Docker Engine, same run:
// - the floor: N `docker run -d` at once (the docker CLI, as a user would), then each
//   container's /healthz polled at its address until it answers;
// - Baton: a control plane in process with the docker runtime, `engine.apply` of one service
//   with N instances, until the controller reports it settled (every instance running and
//   in discovery; Baton probes a starting instance every 100 ms);
// - compose: `docker-compose up -d --scale svc=N` (Debian's docker-compose), then polled as
//   the floor is.
// The same image for all three (a node:http server on baton/node:24), built before the first
// round; methods interleaved and rotated round by round; everything a method made is removed
// (by label, or `docker-compose down`) before the next one starts.
//
//   node bench/docker-20.ts [instances=20] [rounds=3]
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { checkEngine, connectEngine } from '../src/adapters/runtime/docker/docker-engine.ts';
import { ImageBuilder } from '../src/adapters/runtime/docker/image-builder.ts';
import { nodeBaseTags } from '../src/adapters/runtime/docker/node-base-image.ts';
import { ensureOwnerNetwork } from '../src/adapters/runtime/docker/owner-network.ts';
import { removeLabelled } from '../src/adapters/runtime/docker/test-engine.ts';
import { startControlPlane } from '../src/server.ts';
import { median, ms } from './stats.ts';

const instances = Number(process.argv[2] ?? 20);
const rounds = Number(process.argv[3] ?? 3);
const METHODS = ['floor', 'baton', 'compose'] as const;
type Method = (typeof METHODS)[number];
const POLL_MS = 20;
const DEADLINE_MS = 120_000;

const docker = connectEngine(process.env.DOCKER_HOST);
const engine = await checkEngine(docker);
const run = randomBytes(4).toString('hex');
/** On the floor's containers only: its cleanup must not take the image and network, labelled `dev.baton.bench`. */
const label = `dev.baton.bench-floor=${run}`;
const image = `baton-bench-${run}/healthz:1.0.0`;
const dir = mkdtempSync(join(tmpdir(), 'baton-bench-docker-'));
const exec = promisify(execFile);

// The service: answers GET /healthz on $PORT (8080 by default), on every address.
writeFileSync(
  join(dir, 'server.js'),
  "require('node:http').createServer((q, s) => s.end(q.url === '/healthz' ? 'ok' : '')).listen(Number(process.env.PORT ?? 8080));\n",
);
writeFileSync(
  join(dir, 'Dockerfile'),
  `FROM ${nodeBaseTags(process.version).major}\nCOPY server.js /app/\nCMD ["server.js"]\n`,
);
await new ImageBuilder({ docker, node: { nodePath: process.execPath, nodeVersion: process.version } }).build({
  tag: image,
  contextDir: dir,
  dockerfile: 'Dockerfile',
  labels: { 'dev.baton.bench': run },
});
const network = await ensureOwnerNetwork(docker, `bench${run}`, { 'dev.baton.bench': run });

/** Each address polled until /healthz answers 200. */
async function allAnswering(addresses: readonly string[]): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  await Promise.all(
    addresses.map(async (address) => {
      for (;;) {
        const ok = await fetch(`http://${address}:8080/healthz`).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`${address} never answered`);
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    }),
  );
}

async function addressesOf(ids: readonly string[], networkName?: string): Promise<string[]> {
  return Promise.all(
    ids.map(async (id) => {
      const info = await docker.getContainer(id).inspect();
      const networks = info.NetworkSettings.Networks;
      const address = (networkName ? networks[networkName] : Object.values(networks)[0])?.IPAddress;
      if (!address) throw new Error(`container ${id} has no address`);
      return address;
    }),
  );
}

async function floor(): Promise<number> {
  const started = performance.now();
  const ids = await Promise.all(
    Array.from({ length: instances }, async () => {
      const { stdout } = await exec('docker', [
        'run',
        '-d',
        '--init',
        '--network',
        network.name,
        '--label',
        label,
        image,
      ]);
      return stdout.trim();
    }),
  );
  await allAnswering(await addressesOf(ids, network.name));
  const elapsed = performance.now() - started;
  await removeLabelled(docker, [label]);
  return elapsed;
}

async function baton(): Promise<number> {
  const stateDir = mkdtempSync(join(dir, 'state-'));
  const plane = await startControlPlane({
    host: '127.0.0.1',
    port: 0,
    stateDir,
    runtime: 'docker',
    stopInstancesOnClose: true,
    logger: pino({ level: 'silent' }),
  });
  const manifest = [
    'name: bench',
    'services:',
    '  svc:',
    '    version: 1.0.0',
    '    tier: low',
    `    image: ${image}`,
    `    instances: ${instances}`,
    '    health: { http: { path: /healthz } }',
    '',
  ].join('\n');
  const started = performance.now();
  await plane.engine.apply({ text: manifest }, { author: 'bench', message: 'bench' });
  const deadline = Date.now() + DEADLINE_MS;
  while (plane.controller.state('svc')?.settled !== true) {
    if (Date.now() > deadline) throw new Error('baton never settled');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const elapsed = performance.now() - started;
  await plane.close();
  const owner = readFileSync(join(stateDir, 'owner'), 'utf8').trim();
  await removeLabelled(docker, [`dev.baton.owner=${owner}`]);
  return elapsed;
}

async function compose(): Promise<number> {
  const project = `batonbench${run}`;
  const file = join(dir, 'compose.yaml');
  writeFileSync(
    file,
    [
      'version: "2.4"',
      'services:',
      '  svc:',
      `    image: ${image}`,
      '    init: true',
      '    labels:',
      `      dev.baton.bench: "${run}"`,
      '',
    ].join('\n'),
  );
  const started = performance.now();
  await exec('docker-compose', ['-p', project, '-f', file, 'up', '-d', '--scale', `svc=${instances}`]);
  const containers = await docker.listContainers({
    filters: JSON.stringify({ label: [`com.docker.compose.project=${project}`] }),
  });
  await allAnswering(await addressesOf(containers.map((c) => c.Id)));
  const elapsed = performance.now() - started;
  await exec('docker-compose', ['-p', project, '-f', file, 'down', '--volumes']);
  return elapsed;
}

const results: Record<Method, number[]> = { floor: [], baton: [], compose: [] };
const loads: number[] = [];
try {
  for (let round = 0; round < rounds; round++) {
    const order = METHODS.map((_, i) => METHODS[(i + round) % METHODS.length]!);
    for (const method of order) {
      loads.push(loadavg()[0]!);
      const elapsed = await { floor, baton, compose }[method]();
      results[method].push(elapsed);
      console.log(`round ${round + 1} ${method.padEnd(7)} ${ms(elapsed)}`);
    }
  }
} finally {
  await removeLabelled(docker, [label]);
  await removeLabelled(docker, [`dev.baton.bench=${run}`]);
  await docker
    .getNetwork(network.id)
    .remove()
    .catch(() => {});
  await docker
    .getImage(image)
    .remove()
    .catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}

const floorMedian = median(results.floor);
console.log(
  `\n${instances} containers → all healthy, ${rounds} rounds; Docker ${engine.version}; load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
);
console.log('| method | median | runs | × floor |');
console.log('|---|---|---|---|');
for (const method of METHODS) {
  const samples = results[method];
  console.log(
    `| ${method} | **${ms(median(samples))}** | ${samples.map((s) => s.toFixed(0)).join(', ')} | ${(median(samples) / floorMedian).toFixed(2)}× |`,
  );
}
