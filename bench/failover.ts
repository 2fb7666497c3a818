// kill -9 of a running instance → out of discovery → a healthy instance back in its place.
// A control plane in process runs two services of 3 instances of the fixture: `cattle` (a dead
// instance is replaced by a new one) and `pet` (restarted in place, under the same id, after
// the controller's restart backoff). Each kill waits for the service to have settled again.
// Times come from registry changes as they happen (subscribe), not from a poll.
//
//   node bench/failover.ts [kills per service=10] [health interval=5s]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { FIXTURE, killTagged, TAG_VARIABLE } from './processes.ts';
import { max, median, ms } from './stats.ts';

const INSTANCES = 3;
/** The controller's restart backoff for a pet (RESTART_BACKOFF_BASE_MS · 2^restarts). */
const PET_BACKOFF_BASE_MS = 500;
const WAIT_LIMIT_MS = 30_000;

interface Kill {
  service: string;
  victim: string;
  /** Pets: restarts the victim had before this kill (its backoff doubles with each). */
  restartsBefore: number;
  /** SIGKILL → discovery no longer lists it. */
  outMs: number;
  /** SIGKILL → discovery lists 3 healthy instances again. */
  backMs: number;
}

function manifest(tag: string, interval: string): string {
  const service = (mode: string) => [
    '    version: 1.0.0',
    '    tier: high',
    `    mode: ${mode}`,
    `    run: { command: node, args: [${JSON.stringify(FIXTURE)}] }`,
    `    instances: ${INSTANCES}`,
    `    env: { ${TAG_VARIABLE}: ${JSON.stringify(tag)} }`,
    `    health: { http: { path: /healthz }, interval: ${interval} }`,
  ];
  return [
    'name: failover',
    'services:',
    '  cattle:',
    ...service('cattle'),
    '  pet:',
    ...service('pet'),
    '',
  ].join('\n');
}

/** Resolves with the time `condition` first holds, checked at once and on every registry change. */
function when(plane: ControlPlane, condition: () => boolean, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const done = (result: () => void) => {
      clearTimeout(timer);
      unsubscribe();
      result();
    };
    const check = () => {
      if (condition()) done(() => resolve(performance.now()));
    };
    const unsubscribe = plane.registry.subscribe(check);
    const timer = setTimeout(
      () => done(() => reject(new Error(`${what}: not within ${WAIT_LIMIT_MS} ms`))),
      WAIT_LIMIT_MS,
    );
    check();
  });
}

async function settled(plane: ControlPlane, service: string): Promise<void> {
  const giveUpAt = performance.now() + WAIT_LIMIT_MS;
  while (
    plane.controller.state(service)?.settled !== true ||
    plane.registry.endpoints(service).length !== INSTANCES
  ) {
    if (performance.now() > giveUpAt)
      throw new Error(`${service} did not settle: ${JSON.stringify(plane.controller.state(service))}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function killOne(plane: ControlPlane, service: string, round: number): Promise<Kill> {
  await settled(plane, service);
  const endpoints = plane.registry.endpoints(service);
  const victim = endpoints[round % endpoints.length]!.instance;
  const record = plane.registry.get(victim)!;
  const listed = () => plane.registry.endpoints(service).map((e) => e.instance);
  const started = performance.now();
  process.kill(record.pid!, 'SIGKILL');
  const out = when(plane, () => !listed().includes(victim), `${victim} out of discovery`);
  // A pet comes back under its own id (a new process); cattle as a new instance.
  const replaced =
    service === 'pet'
      ? () => plane.registry.get(victim)?.pid !== record.pid && listed().includes(victim)
      : () => !listed().includes(victim);
  const back = when(
    plane,
    () => listed().length === INSTANCES && replaced(),
    `${service} back to ${INSTANCES}`,
  );
  const [outAt, backAt] = await Promise.all([out, back]);
  return {
    service,
    victim,
    restartsBefore: record.restarts,
    outMs: outAt - started,
    backMs: backAt - started,
  };
}

async function main(): Promise<void> {
  const kills = Number(process.argv[2] ?? 10);
  const interval = process.argv[3] ?? '5s';
  const tag = randomBytes(6).toString('hex');
  const stateDir = mkdtempSync(join(tmpdir(), 'baton-bench-failover-'));
  const load = loadavg()[0]!;
  const results: Kill[] = [];
  let plane: ControlPlane | undefined;
  try {
    plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir,
      runtime: 'process',
      stopInstancesOnClose: true,
      logger: pino({ level: 'silent' }),
    });
    await plane.engine.apply({ text: manifest(tag, interval), file: 'failover.yaml' }, { author: 'bench' });
    console.log(
      `kill -9 → out of discovery → ${INSTANCES} healthy again; ${kills} kills per service; health interval ${interval}`,
    );
    console.log(
      'kill  service  victim          restarts  out of discovery  back to 3 (pet: of which backoff)',
    );
    for (const service of ['cattle', 'pet']) {
      for (let round = 0; round < kills; round++) {
        const k = await killOne(plane, service, round);
        results.push(k);
        const backoff = service === 'pet' ? `  (${ms(PET_BACKOFF_BASE_MS * 2 ** k.restartsBefore)})` : '';
        console.log(
          `${String(round + 1).padEnd(5)} ${service.padEnd(8)} ${k.victim.padEnd(15)} ${String(k.restartsBefore).padStart(8)} ${ms(k.outMs).padStart(17)} ${ms(k.backMs).padStart(10)}${backoff}`,
        );
      }
    }
  } finally {
    await plane?.close();
    const leftovers = await killTagged(tag);
    rmSync(stateDir, { recursive: true, force: true });
    if (leftovers > 0) console.log(`!! ${leftovers} instance processes outlived close() and were killed`);
  }
  const of = (service: string, key: 'outMs' | 'backMs') =>
    results.filter((k) => k.service === service).map((k) => k[key]);
  const beyondBackoff = results
    .filter((k) => k.service === 'pet')
    .map((k) => k.backMs - PET_BACKOFF_BASE_MS * 2 ** k.restartsBefore);
  console.log('              out of discovery (median / max)   back to 3 healthy (median / max)');
  for (const service of ['cattle', 'pet'])
    console.log(
      `  ${service.padEnd(10)} ${ms(median(of(service, 'outMs'))).padStart(12)} / ${ms(max(of(service, 'outMs'))).padEnd(18)} ${ms(median(of(service, 'backMs'))).padStart(10)} / ${ms(max(of(service, 'backMs')))}`,
    );
  console.log(
    `summary: out of discovery ≤ ${ms(max([...of('cattle', 'outMs'), ...of('pet', 'outMs')]))} after kill -9; cattle replaced (healthy) in ${ms(median(of('cattle', 'backMs')))} median, ${ms(max(of('cattle', 'backMs')))} max; pet restarted in place in ${ms(median(of('pet', 'backMs')))} median, of which the restart backoff is deliberate (beyond it: ${ms(median(beyondBackoff))} median, ${ms(max(beyondBackoff))} max); load average before ${load.toFixed(2)}, after ${loadavg()[0]!.toFixed(2)}`,
  );
}

await main();
