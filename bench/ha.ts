// High availability over PostgreSQL (issue 15), two measurements on a private PostgreSQL
// cluster (initdb in a temp folder, fsync off, port 32200–32299; never the shared server):
//
// 1. Apply latency: `engine.apply` of a 20-service manifest, a version bump each time, on
//    PostgreSQL and, as the peer in the same run, on the embedded SQLite store.
// 2. Discovery agreement lag: three control planes (replicas) over one PostgreSQL, in this
//    process, on the simulated runtime. The leader's service is scaled up and down; for
//    every change of the leader's discovery answer, the time until each follower's discovery
//    answer is the same (both timed on registry changes as they happen, not by polling).
//
//   node bench/ha.ts [applies=30] [changes=100]
//
// The kill -9 failover distribution comes from the HA end-to-end test with 20 rounds:
//   BATON_HA_ROUNDS=20 node --test test/ha.e2e.test.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { startPrivatePostgres } from '../test/support/private-postgres.ts';
import { max, median, ms } from './stats.ts';

const SERVICES = 20;

function manifest(minor: number, instances = 1): string {
  const lines = ['name: ha-bench', 'services:'];
  for (let i = 0; i < SERVICES; i++)
    lines.push(
      `  s${i}:`,
      `    version: 1.${i === 0 ? minor : 0}.0`,
      '    tier: medium',
      `    instances: { min: ${instances}, max: 20 }`,
      '    run: { command: node, args: [serve.js] }',
    );
  return lines.join('\n') + '\n';
}

const p = (samples: readonly number[], q: number) =>
  [...samples].sort((a, b) => a - b)[Math.min(samples.length - 1, Math.floor(samples.length * q))]!;

async function plane(store: string | undefined, stateDir: string): Promise<ControlPlane> {
  return startControlPlane({
    host: '127.0.0.1',
    port: 0,
    stateDir,
    store,
    runtime: 'simulated',
    eastWest: false,
    stopInstancesOnClose: true,
    logger: pino({ level: 'silent' }),
  });
}

async function applyLatency(control: ControlPlane, applies: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 1; i <= applies; i++) {
    const started = performance.now();
    await control.engine.apply({ text: manifest(i), file: 'bench.yaml' }, { author: 'bench' });
    samples.push(performance.now() - started);
  }
  return samples;
}

/** The leader's and a follower's discovery answer for s0, as a comparable string. */
const answer = (control: ControlPlane) =>
  control.registry
    .endpoints('s0')
    .map((e) => `${e.instance}@${e.port}`)
    .join(',');

async function agreementLag(planes: ControlPlane[], changes: number): Promise<number[]> {
  const leader = planes.find((c) => c.leader.leading)!;
  const followers = planes.filter((c) => c !== leader);
  const lags: number[] = [];
  // Each change of the leader's answer opens a wait per follower, closed when it answers the same.
  const waiting = new Map<ControlPlane, { want: string; since: number }>();
  const unsubscribe = [
    leader.registry.subscribe((change) => {
      if (change.service !== 's0') return;
      const want = answer(leader);
      for (const f of followers) {
        const open = waiting.get(f);
        if (open?.want === want) continue;
        if (answer(f) === want) waiting.delete(f);
        else waiting.set(f, { want, since: open?.since ?? performance.now() });
      }
    }),
    ...followers.map((f) =>
      f.registry.subscribe((change) => {
        const open = waiting.get(f);
        if (change.service !== 's0' || open === undefined || answer(f) !== open.want) return;
        lags.push(performance.now() - open.since);
        waiting.delete(f);
      }),
    ),
  ];
  try {
    for (let i = 0; i < changes; i++) {
      await leader.controller.scale('s0', 1 + (i % 5), 'bench');
      const deadline = performance.now() + 10_000;
      while (leader.registry.endpoints('s0').length !== 1 + (i % 5) || waiting.size > 0) {
        if (performance.now() > deadline) throw new Error(`change ${i} did not settle`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  } finally {
    for (const u of unsubscribe) u();
  }
  return lags;
}

async function main(): Promise<void> {
  const applies = Number(process.argv[2] ?? 30);
  const changes = Number(process.argv[3] ?? 100);
  const dirs: string[] = [];
  const tmp = () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-bench-ha-'));
    dirs.push(dir);
    return dir;
  };
  const postgres = await startPrivatePostgres({ ports: [32_200, 32_299] });
  const planes: ControlPlane[] = [];
  try {
    console.log(`load average at start ${loadavg()[0]!.toFixed(2)} (2 shared cores)`);
    const sqlite = await plane(undefined, tmp());
    planes.push(sqlite);
    const onSqlite = await applyLatency(sqlite, applies);
    await sqlite.close();
    planes.pop();
    for (let i = 0; i < 3; i++) planes.push(await plane(postgres.url, tmp()));
    const onPostgres = await applyLatency(planes[0]!, applies);
    console.log(`\napply of a ${SERVICES}-service manifest, ${applies} times each`);
    console.log('store       p50      p90      max');
    for (const [name, s] of [
      ['SQLite', onSqlite],
      ['PostgreSQL', onPostgres],
    ] as const)
      console.log(`${name.padEnd(11)} ${ms(median(s)).padEnd(8)} ${ms(p(s, 0.9)).padEnd(8)} ${ms(max(s))}`);
    console.log(`ratio PostgreSQL/SQLite at p50: ${(median(onPostgres) / median(onSqlite)).toFixed(2)}`);

    // Wait for a leader whose controller has published its registry (s0 running on it).
    const deadline = performance.now() + 20_000;
    while (!planes.some((c) => c.leader.leading && c.registry.endpoints('s0').length > 0)) {
      if (performance.now() > deadline) throw new Error('no leader converged');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const lags = await agreementLag(planes, changes);
    console.log(`\ndiscovery agreement lag, leader → each of 2 followers, ${lags.length} samples`);
    console.log(
      `p50 ${p(lags, 0.5).toFixed(1)} ms, p90 ${p(lags, 0.9).toFixed(1)} ms, p99 ${p(lags, 0.99).toFixed(1)} ms, max ${max(lags).toFixed(1)} ms`,
    );
  } finally {
    for (const c of planes) await c.close().catch(() => {});
    await postgres.remove();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
