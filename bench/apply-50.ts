// Apply → all healthy, for N instances of a tiny node:http service (bench/fixtures), three ways
// on the same machine:
// - the floor: the benchmark spawns the processes itself (10 at a time, or all at once) and
//   polls each /healthz until it answers;
// - Baton: a control plane in process, `engine.apply` of one service with N instances, until
//   the controller reports it settled (every instance running, in discovery);
// - PM2: its API against its daemon, fork mode, one app per port, polled every 100 ms.
// Every measurement runs in a fresh child process, methods interleaved and rotated round by
// round; whatever a run leaves behind is found by its environment tag, killed and reported.
// "all started": the last spawn returned (Baton: the runtime reported the last `started`,
// which is after it wrote the instance record; PM2: its start call returned).
//
//   node bench/apply-50.ts [instances=50] [rounds=5] [health interval=5s]
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { startControlPlane } from '../src/server.ts';
import { loadPm2, ensurePm2, pm2Call, PM2_VERSION } from './pm2-peer.ts';
import { FIXTURE, freePorts, killTagged, TAG_VARIABLE, waitHealthy } from './processes.ts';
import { median, ms } from './stats.ts';

const METHODS = ['floor-10', 'floor-all', 'floor-all-100', 'baton', 'pm2'] as const;
type Method = (typeof METHODS)[number];
const FLOORS: readonly Method[] = ['floor-10', 'floor-all', 'floor-all-100'];

/**
 * How often the benchmark's own poller retries a /healthz that did not answer: 10 ms, or the
 * 100 ms at which Baton probes a starting instance. Polling is not free on 2 shared cores (50
 * instances every 10 ms is 5,000 connections a second while they boot), so the floor is taken
 * both ways; PM2 is polled at Baton's cadence.
 */
const FAST_POLL_MS = 10;
const BATON_POLL_MS = 100;
const CHILD_TIMEOUT_MS = 60_000;

interface Measurement {
  method: Method;
  /** Apply (or first spawn) → every instance answers /healthz (Baton: the registry lists all). */
  healthyMs: number;
  /** Baton: → the controller reports the service settled. Others: same as healthyMs. */
  settledMs: number;
  /** → the last process was spawned (Baton: the runtime reported the last `started`). */
  spawnedMs: number;
  /** Baton: → the revision was recorded (validate, plan, store write). */
  appliedMs?: number;
  /** The longest the measuring process's event loop was blocked (Baton: the control plane's). */
  stallMs: number;
}

// ── the three ways, each in its own process ───────────────────────────────────────────────

/** Starts watching the event loop; the returned function stops and gives the longest block, in ms. */
function watchStalls(): () => number {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  return () => {
    histogram.disable();
    return histogram.max / 1e6;
  };
}

function childEnv(port: number): Record<string, string> {
  return { PATH: process.env.PATH ?? '', PORT: String(port), [TAG_VARIABLE]: process.env[TAG_VARIABLE]! };
}

/** Spawns the fixture itself, `concurrency` start→healthy at a time. */
async function floor(
  method: Method,
  instances: number,
  concurrency: number,
  pollMs: number,
): Promise<Measurement> {
  const ports = await freePorts(instances);
  const children: ChildProcess[] = [];
  let next = 0;
  let spawnedMs = 0;
  const stalls = watchStalls();
  const started = performance.now();
  const worker = async () => {
    while (next < instances) {
      const port = ports[next++]!;
      // Detached, as Baton and PM2 start theirs: each child leads a session of its own, which
      // with the kernel's autogroup scheduling gives it a CPU share of its own too.
      children.push(
        spawn(process.execPath, [FIXTURE], { env: childEnv(port), stdio: 'ignore', detached: true }),
      );
      if (children.length === instances) spawnedMs = performance.now() - started;
      await waitHealthy(port, pollMs);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, instances) }, worker));
    const healthyMs = performance.now() - started;
    return { method, healthyMs, settledMs: healthyMs, spawnedMs, stallMs: stalls() };
  } finally {
    await Promise.all(
      children.map((child) =>
        child.exitCode !== null || child.signalCode !== null
          ? undefined
          : new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM')),
      ),
    );
  }
}

function manifest(instances: number, interval: string): string {
  return [
    'name: bench',
    'services:',
    '  web:',
    '    version: 1.0.0',
    '    tier: low',
    `    run: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(FIXTURE)}] }`,
    `    instances: ${instances}`,
    `    env: { ${TAG_VARIABLE}: ${JSON.stringify(process.env[TAG_VARIABLE])} }`,
    `    health: { http: { path: /healthz }, interval: ${interval} }`,
    '',
  ].join('\n');
}

async function baton(instances: number, interval: string): Promise<Measurement> {
  const stateDir = mkdtempSync(join(tmpdir(), 'baton-bench-apply-'));
  const plane = await startControlPlane({
    host: '127.0.0.1',
    port: 0,
    stateDir,
    runtime: 'process',
    stopInstancesOnClose: true,
    logger: pino({ level: 'silent' }),
  });
  try {
    let spawned = 0;
    let spawnedAt = 0;
    let healthyAt = 0;
    plane.runtime.subscribe((event) => {
      if (event.type === 'started' && ++spawned === instances) spawnedAt = performance.now();
    });
    // Discovery's view, on every registry change: exact, and cheaper than polling it.
    plane.registry.subscribe(() => {
      if (healthyAt === 0 && plane.registry.endpoints('web').length === instances)
        healthyAt = performance.now();
    });
    const stalls = watchStalls();
    const started = performance.now();
    await plane.engine.apply(
      { text: manifest(instances, interval), file: 'bench.yaml' },
      { author: 'bench' },
    );
    const appliedAt = performance.now();
    const giveUpAt = started + 30_000;
    while (plane.controller.state('web')?.settled !== true) {
      if (performance.now() > giveUpAt)
        throw new Error(`not settled: ${JSON.stringify(plane.controller.state('web'))}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const settledAt = performance.now();
    return {
      method: 'baton',
      appliedMs: appliedAt - started,
      spawnedMs: spawnedAt - started,
      healthyMs: healthyAt - started,
      settledMs: settledAt - started,
      stallMs: stalls(),
    };
  } finally {
    await plane.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** PM2's API against a daemon already running (as `engine.apply` runs against a running control plane). */
async function pm2(instances: number): Promise<Measurement> {
  const api = loadPm2();
  await pm2Call((done) => api.connect(done));
  try {
    const ports = await freePorts(instances);
    const apps = ports.map((port, i) => ({
      name: `web-${i}`,
      script: FIXTURE,
      exec_mode: 'fork',
      interpreter: process.execPath,
      env: childEnv(port),
    }));
    const stalls = watchStalls();
    const started = performance.now();
    const healthy = Promise.all(ports.map((port) => waitHealthy(port, BATON_POLL_MS)));
    await pm2Call((done) => api.start({ apps }, done));
    const spawnedMs = performance.now() - started;
    await healthy;
    const healthyMs = performance.now() - started;
    return { method: 'pm2', healthyMs, settledMs: healthyMs, spawnedMs, stallMs: stalls() };
  } finally {
    await pm2Call((done) => api.delete('all', done)).catch(() => {});
    await pm2Call((done) => api.killDaemon(done)).catch(() => {});
    api.disconnect();
  }
}

function measure(method: Method, instances: number, interval: string): Promise<Measurement> {
  switch (method) {
    case 'floor-10':
      return floor(method, instances, 10, FAST_POLL_MS);
    case 'floor-all':
      return floor(method, instances, instances, FAST_POLL_MS);
    case 'floor-all-100':
      return floor(method, instances, instances, BATON_POLL_MS);
    case 'baton':
      return baton(instances, interval);
    case 'pm2':
      return pm2(instances);
  }
}

// ── the parent: rounds, cleanup, table ───────────────────────────────────────────────────

function runChild(
  method: Method,
  instances: number,
  interval: string,
  tag: string,
  home: string,
): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [import.meta.filename, '--child', method, String(instances), interval],
      {
        env: { ...process.env, [TAG_VARIABLE]: tag, PM2_HOME: join(home, 'pm2') },
        stdio: ['ignore', 'pipe', 'inherit'],
        timeout: CHILD_TIMEOUT_MS,
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Measurement);
      else reject(new Error(`${method} run failed (${signal ?? `exit ${code}`}): ${out}`));
    });
  });
}

async function main(): Promise<void> {
  const instances = Number(process.argv[2] ?? 50);
  const runs = Number(process.argv[3] ?? 5);
  const interval = process.argv[4] ?? '5s';
  ensurePm2();
  const tag = randomBytes(6).toString('hex');
  const results: (Measurement & { round: number })[] = [];
  let leftovers = 0;
  const load = loadavg()[0]!;
  console.log(
    `apply → ${instances} instances healthy; ${runs} rounds, methods interleaved; Baton health interval ${interval}; PM2 ${PM2_VERSION} (fork mode, its API)`,
  );
  console.log(
    'round method        all started   healthy   settled   longest loop stall   (Baton: revision recorded)',
  );
  for (let round = 1; round <= runs; round++) {
    // Rotated each round, so that no method always follows the same one.
    const order = METHODS.map((_, i) => METHODS[(i + round - 1) % METHODS.length]!);
    for (const method of order) {
      const home = mkdtempSync(join(tmpdir(), 'baton-bench-home-'));
      try {
        const m = await runChild(method, instances, interval, tag, home);
        results.push({ ...m, round });
        // PM2's stall would be the benchmark's own client, not PM2's daemon: not shown.
        const stall = method === 'pm2' ? '–' : ms(m.stallMs);
        console.log(
          `${String(round).padEnd(5)} ${method.padEnd(13)} ${ms(m.spawnedMs).padStart(12)} ${ms(m.healthyMs).padStart(9)} ${ms(m.settledMs).padStart(9)} ${stall.padStart(20)}${m.appliedMs === undefined ? '' : `   (${ms(m.appliedMs)})`}`,
        );
      } finally {
        leftovers += await killTagged(tag);
        rmSync(home, { recursive: true, force: true });
      }
    }
  }
  const of = (method: Method, round?: number) =>
    results.filter((m) => m.method === method && (round === undefined || m.round === round));
  const med = (method: Method) => median(of(method).map((m) => m.settledMs));
  const floorName = FLOORS.reduce((best, method) => (med(method) < med(best) ? method : best));
  const floorMs = med(floorName);
  const batonMs = med('baton');
  const pm2Ms = med('pm2');
  // The VM is shared: a round's methods ran back to back, so their ratio is steadier than the medians'.
  const paired = (method: Method) =>
    median(
      Array.from(
        { length: runs },
        (_, i) => of(method, i + 1)[0]!.settledMs / of(floorName, i + 1)[0]!.settledMs,
      ),
    );
  console.log('median:');
  for (const method of METHODS) console.log(`  ${method.padEnd(13)} ${ms(med(method)).padStart(8)}`);
  console.log(
    `  Baton: revision recorded ${ms(median(of('baton').map((m) => m.appliedMs!)))}, last instance started ${ms(median(of('baton').map((m) => m.spawnedMs)))}, all in discovery ${ms(median(of('baton').map((m) => m.healthyMs)))}, settled ${ms(batonMs)}; control-plane event loop blocked up to ${ms(median(of('baton').map((m) => m.stallMs)))}`,
  );
  console.log(
    `summary: floor (${floorName}) ${ms(floorMs)}; Baton ${ms(batonMs)} = ${(batonMs / floorMs).toFixed(2)}× the floor (per round: ${paired('baton').toFixed(2)}×; goal ≤ 1.20×); PM2 ${ms(pm2Ms)} = ${(pm2Ms / floorMs).toFixed(2)}× (per round: ${paired('pm2').toFixed(2)}×); Baton/PM2 = ${(batonMs / pm2Ms).toFixed(2)}; load average ${load.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after; processes left behind: ${leftovers}`,
  );
}

if (process.argv[2] === '--child') {
  const m = await measure(process.argv[3] as Method, Number(process.argv[4]), process.argv[5]!);
  process.stdout.write(`${JSON.stringify(m)}\n`);
  // PM2's client keeps handles open after disconnecting; the measurement is what matters.
  process.exit(0);
} else {
  await main();
}
