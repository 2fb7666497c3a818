// The controller at scale on the simulated runtime and a fake clock: N services × M instances
// converged from nothing, then one service changed at a time, then one resync of everything.
// Each run is a fresh child process, with the control plane's V8 flags (`npm start`).
//
//   node bench/controller-scale.ts [sizes=100,10000] [instances=10] [changes=5]
//
// Wall time is the CPU the control plane needs: fake time only moves when the benchmark
// advances it, so nothing ever waits for a real clock. Every size runs twice: with the default
// 5 s health probes, and with hourly ones ("quiet"), where almost no probe of another instance
// falls inside a change — so that the cost of the change itself shows.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { FakeClock } from '../src/adapters/clock/fake-clock.ts';
import { SimulatedProber } from '../src/adapters/runtime/simulated/simulated-prober.ts';
import { createSimulatedRuntime } from '../src/adapters/runtime/simulated/simulated-runtime.ts';
import { openSqliteStore } from '../src/adapters/store/sqlite/sqlite-store.ts';
import { LIMITS } from '../src/domain/manifest/schema.ts';
import { Controller } from '../src/engines/controller/controller.ts';
import { EventWriter, transitionEvent } from '../src/engines/registry/event-writer.ts';
import { Registry } from '../src/engines/registry/registry.ts';
import { RevisionEngine } from '../src/engines/revisions/revision-engine.ts';
import type { Store } from '../src/ports/store.ts';
import { generateArchitecture } from './generate-manifest.ts';

// 10,000 services of this shape are 3.2 MiB of YAML: over the 1 MiB manifest limit, though
// within the 10,000-service one. The controller is what this measures, so lift the former.
(LIMITS as { manifestBytes: number }).manifestBytes = 64 * 2 ** 20;

/** The control plane's default resync period. */
const RESYNC_MS = 30_000;
/** Fake time per step while converging, and while waiting for one changed service. */
const CONVERGE_STEP_MS = 100;
const CHANGE_STEP_MS = 50;
const V8_FLAGS = ['--expose-gc', '--max-semi-space-size=4'];
/** Real time left to V8's background sweeping after a forced full collection. */
const SWEEP_MS = 200;
const VARIANTS = [
  { name: 'default', probeInterval: undefined },
  { name: 'quiet', probeInterval: '1h' },
] as const;

interface ChangeRun {
  service: string;
  /** Revision engine: parse and validate the YAML, plan, store. Not the controller. */
  applyMs: number;
  /** From the stored revision until the service runs its new version everywhere, healthy. */
  settleMs: number;
  fakeMs: number;
  /** The same span of fake time again with nothing changing: every other instance's probes. */
  backgroundMs: number;
  /** CPU time of the control-plane process over the same two spans. */
  settleCpuMs: number;
  backgroundCpuMs: number;
  passes: number;
}

interface Result {
  services: number;
  instances: number;
  variant: string;
  edges: number;
  manifestKiB: number;
  converge: { wallMs: number; fakeMs: number; passes: number; applyMs: number; events: number };
  memory: {
    baselineHeapMiB: number;
    baselineRssMiB: number;
    heapMiB: number;
    rssMiB: number;
    peakRssMiB: number;
  };
  changes: ChangeRun[];
  resync: { wallMs: number; passes: number };
  node: string;
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * A full collection, and the sweeping V8 finishes after it on background threads (≈ 30 ms at
 * 10,000 services), which would otherwise slow the first minor collections that follow. Blocks
 * this thread meanwhile: no callback or promise of the control plane runs.
 */
function collect(): void {
  gc!();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, SWEEP_MS);
}

function memory(): { heapMiB: number; rssMiB: number } {
  gc?.();
  gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapMiB: heapUsed / 2 ** 20, rssMiB: rss / 2 ** 20 };
}

/** Manifests as `baton apply` receives them: the architecture, then one more service bumped each time. */
function writeManifests(dir: string, count: number, instances: number, changes: number, interval?: string) {
  const architecture = generateArchitecture(count, 42, 0, { instances, probeInterval: interval });
  const names = Object.keys(architecture.services);
  writeFileSync(join(dir, 'manifest-0.yaml'), stringify(architecture, { lineWidth: 0 }));
  const changed: string[] = [];
  for (let c = 0; c < changes; c++) {
    const service = names[Math.floor(((c + 0.5) * count) / changes)]!;
    const spec = architecture.services[service]!;
    const [major, minor] = (spec.version as string).split('.');
    spec.version = `${major}.${Number(minor) + 1}.0`;
    changed.push(service);
    writeFileSync(join(dir, `manifest-${c + 1}.yaml`), stringify(architecture, { lineWidth: 0 }));
  }
  writeFileSync(join(dir, 'changes.json'), JSON.stringify(changed));
}

async function measure(dir: string, variant: string): Promise<Result> {
  if (gc === undefined) throw new Error('run with --expose-gc (the parent process does)');
  const baseline = memory();
  const changed = JSON.parse(readFileSync(join(dir, 'changes.json'), 'utf8')) as string[];
  const manifest = (n: number) => readFileSync(join(dir, `manifest-${n}.yaml`), 'utf8');

  const clock = new FakeClock();
  // A database file, as `baton server` keeps: an in-memory one would count every event and
  // revision in the control plane's RSS, which a file leaves to the page cache.
  const store = await openSqliteStore({ path: join(dir, `state-${variant}.db`) });
  const runtime = createSimulatedRuntime({ clock });
  const logger = pino({ level: 'silent' });
  const events = new EventWriter(store, logger);
  let illegal = 0;
  const registry = new Registry({
    clock,
    onTransition: (report) => events.push(transitionEvent(report, clock.now().toISOString())),
    onIllegal: () => illegal++,
  });
  // The moment a revision is committed, before anyone hears of it: where a change starts.
  // The garbage of parsing and planning it is collected first, and charged to the apply; so
  // is the sweeping that follows a full collection, which V8 finishes on background threads
  // and which would otherwise slow the first minor collections of the change.
  let storedAt = 0;
  /** When the revision engine was done, before the collection. */
  let appliedAt = 0;
  // CPU time as well as wall time: on a machine others share, wall time includes waiting for a core.
  let storedCpu = process.cpuUsage();
  const cpuMsSince = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1000;
  };
  const engineStore = new Proxy(store, {
    get(target, key) {
      if (key === 'appendRevision') {
        return (...args: Parameters<Store['appendRevision']>) => {
          const stored = target.appendRevision(...args);
          appliedAt = performance.now();
          collect();
          storedAt = performance.now();
          storedCpu = process.cpuUsage();
          return stored;
        };
      }
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  const engine = new RevisionEngine({ store: engineStore, clock });
  let nextId = 0;
  const controller = new Controller({
    store,
    runtime,
    registry,
    prober: new SimulatedProber(runtime),
    revisions: engine,
    clock,
    logger,
    defaultBaseDir: '/srv',
    resyncMs: RESYNC_MS,
    newId: (service) => `${service}-${(++nextId).toString(36)}`,
  });
  const startedAt = clock.now().getTime();
  await controller.start();

  const settledAt = (service: string, revision: number) => {
    const state = controller.state(service);
    return state !== undefined && state.settled && state.revision === revision;
  };
  /** Advances fake time in steps until `done`; returns the fake time it took. */
  const advanceUntil = async (done: () => boolean, stepMs: number, maxMs: number): Promise<number> => {
    let elapsed = 0;
    while (!done()) {
      if (elapsed >= maxMs) throw new Error(`not done after ${maxMs} ms of fake time`);
      await clock.advance(stepMs);
      elapsed += stepMs;
    }
    return elapsed;
  };
  const nextResyncAt = () =>
    startedAt + Math.ceil((clock.now().getTime() - startedAt) / RESYNC_MS) * RESYNC_MS;

  // 1. Initial converge.
  const text = manifest(0);
  let t = performance.now();
  // Only what the benchmark needs of the revision: the controller holds the revision itself.
  const { revision1, names, edges } = await engine
    .apply({ text }, { author: 'bench' })
    .then(({ revision }) => {
      const services = Object.values(revision.manifest.services);
      return {
        revision1: revision.number,
        names: Object.keys(revision.manifest.services),
        edges: services.reduce((n, spec) => n + Object.keys(spec.dependsOn).length, 0),
      };
    });
  const applyMs = appliedAt - t;
  let passesBefore = controller.queueStats.processed;
  const convergeFakeMs = await advanceUntil(
    () => names.every((name) => settledAt(name, revision1)),
    CONVERGE_STEP_MS,
    3_600_000,
  );
  const convergeMs = performance.now() - storedAt;
  const convergePasses = controller.queueStats.processed - passesBefore;
  await events.drain();
  const convergedEvents = await store.lastEventSeq();
  const converged = await store.readEvents({ kinds: ['revision.converged'] });
  if (!converged.some((e) => e.revision === revision1))
    throw new Error('every service settled, but the revision was not recorded converged');
  const afterConverge = memory();

  // 2. One service changed at a time, each in a window clear of the resync: right after one.
  const runs: ChangeRun[] = [];
  for (const [c, service] of changed.entries()) {
    await clock.advance(nextResyncAt() + CHANGE_STEP_MS - clock.now().getTime());
    await controller.idle();
    const changeText = manifest(c + 1);
    t = performance.now();
    const revision = (await engine.apply({ text: changeText }, { author: 'bench' })).revision.number;
    const changeApplyMs = appliedAt - t;
    passesBefore = controller.queueStats.processed;
    const fakeMs = await advanceUntil(() => settledAt(service, revision), CHANGE_STEP_MS, 600_000);
    const settleMs = performance.now() - storedAt;
    const settleCpuMs = cpuMsSince(storedCpu);
    const passes = controller.queueStats.processed - passesBefore;
    collect();
    t = performance.now();
    const backgroundCpu = process.cpuUsage();
    let check = 0;
    for (let s = 0; s < fakeMs; s += CHANGE_STEP_MS) {
      if (settledAt(service, revision)) check++; // the same check as above, for the same cost
      await clock.advance(CHANGE_STEP_MS);
    }
    const backgroundMs = performance.now() - t;
    const backgroundCpuMs = cpuMsSince(backgroundCpu);
    if (check === 0) throw new Error(`${service} did not stay settled`);
    runs.push({
      service,
      applyMs: changeApplyMs,
      settleMs,
      fakeMs,
      backgroundMs,
      settleCpuMs,
      backgroundCpuMs,
      passes,
    });
  }

  // 3. One resync: advance to just before the next one, then across it, and wait for its passes.
  await clock.advance(nextResyncAt() - 1 - clock.now().getTime());
  await controller.idle();
  collect();
  passesBefore = controller.queueStats.processed;
  t = performance.now();
  await clock.advance(2);
  await controller.idle();
  const resyncMs = performance.now() - t;
  const resyncPasses = controller.queueStats.processed - passesBefore;

  await controller.stop({ stopInstances: false });
  await events.drain();
  await store.close();
  if (illegal > 0) throw new Error(`${illegal} illegal transitions refused`);
  return {
    services: names.length,
    instances: registry.instances().length,
    variant,
    edges,
    manifestKiB: Buffer.byteLength(text) / 1024,
    converge: {
      wallMs: convergeMs,
      fakeMs: convergeFakeMs,
      passes: convergePasses,
      applyMs,
      events: convergedEvents,
    },
    memory: {
      baselineHeapMiB: baseline.heapMiB,
      baselineRssMiB: baseline.rssMiB,
      ...afterConverge,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    },
    changes: runs,
    resync: { wallMs: resyncMs, passes: resyncPasses },
    node: process.version,
  };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;
const size = (r: Result) => `${r.services} × ${r.instances / r.services}`;

function report(results: Result[]): void {
  console.log('default probes (every 5 s):');
  console.log(
    'services × inst  converge wall (fake)  passes   events  heap / RSS after GC (peak)   resync (passes)',
  );
  for (const r of results.filter((x) => x.variant === 'default')) {
    const m = r.memory;
    console.log(
      `${size(r).padEnd(16)} ${`${ms(r.converge.wallMs)} (${(r.converge.fakeMs / 1000).toFixed(1)} s)`.padStart(20)} ${String(r.converge.passes).padStart(7)} ${String(r.converge.events).padStart(8)}  ${`${m.heapMiB.toFixed(0)} / ${m.rssMiB.toFixed(0)} MiB (${m.peakRssMiB.toFixed(0)})`.padStart(26)}   ${ms(r.resync.wallMs)} (${r.resync.passes})`,
    );
  }
  console.log(
    '\none-service change, median of the runs (apply = revision engine; the rest is the controller):',
  );
  console.log(
    'services × inst  probes  apply      settle wall (fake)  background  settle − background  passes  CPU: settle − background',
  );
  for (const r of results) {
    const c = r.changes;
    console.log(
      `${size(r).padEnd(16)} ${r.variant.padEnd(7)} ${ms(median(c.map((x) => x.applyMs))).padStart(8)}  ${`${ms(median(c.map((x) => x.settleMs)))} (${median(c.map((x) => x.fakeMs))} ms)`.padStart(19)} ${ms(median(c.map((x) => x.backgroundMs))).padStart(11)} ${ms(median(c.map((x) => x.settleMs - x.backgroundMs))).padStart(20)} ${String(median(c.map((x) => x.passes))).padStart(7)}  ${ms(median(c.map((x) => x.settleCpuMs))).padStart(8)} − ${ms(median(c.map((x) => x.backgroundCpuMs)))} = ${ms(median(c.map((x) => x.settleCpuMs - x.backgroundCpuMs)))}`,
    );
  }
  for (const r of results) {
    console.log(
      `${size(r)} ${r.variant}, each run (settle / background): ${r.changes.map((c) => `${c.service} ${c.settleMs.toFixed(0)}/${c.backgroundMs.toFixed(0)}`).join(', ')}`,
    );
  }
  const largest = results.at(-1)!;
  console.log(
    `\nlargest manifest: ${largest.services} services, ${largest.edges} dependencies, ${largest.manifestKiB.toFixed(0)} KiB of YAML; before the run ${largest.memory.baselineHeapMiB.toFixed(0)} MiB heap / ${largest.memory.baselineRssMiB.toFixed(0)} MiB RSS; ${largest.node}`,
  );
}

if (process.argv[2] === '--child') {
  process.stdout.write(JSON.stringify(await measure(process.argv[3]!, process.argv[4]!)));
} else {
  const sizes = (process.argv[2] ?? '100,10000').split(',').map(Number);
  const instances = Number(process.argv[3] ?? 10);
  const changes = Number(process.argv[4] ?? 5);
  const results: Result[] = [];
  for (const count of sizes) {
    for (const variant of VARIANTS) {
      const dir = mkdtempSync(join(tmpdir(), 'baton-controller-bench-'));
      try {
        writeManifests(dir, count, instances, changes, variant.probeInterval);
        const args = [...V8_FLAGS, import.meta.filename, '--child', dir, variant.name];
        const out = execFileSync(process.execPath, args, {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        results.push(JSON.parse(out) as Result);
      } finally {
        rmSync(dir, { recursive: true });
      }
    }
  }
  report(results);
}
