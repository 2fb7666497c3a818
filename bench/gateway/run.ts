// Gateway throughput on this machine, Baton against its peers (see README.md beside this file).
// Every part in its own process: the upstream, the target, wrk. Targets are interleaved
// round by round (A B C … A B C), so that drift on the shared machine hits all alike.
//
//   node bench/gateway/run.ts [--duration 10] [--repeat 2] [--only name,name] [--connections 50]
//                             [--threads 2] [--warmup 2] [--pin] [--json /tmp/file.json]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { killTagged, TAG_VARIABLE } from '../processes.ts';
import { ensurePeerPackages } from './peers/install.ts';
import {
  groupMembers,
  readMachineStat,
  readProcStat,
  snapshotTrees,
  ticksPerSecond,
  treeSeconds,
} from './proc.ts';
import { markdown, ratios, summarize, type Run, type Summary } from './report.ts';
import { TARGETS, type Target } from './targets.ts';
import { upstreamBody } from './upstream.ts';
import { parseWrk, wrkArgs } from './wrk.ts';

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
/** Ports from here up; clear of the ones other tools here use (5432, 6379, 4222, 7070). */
const FIRST_PORT = 18_000;
const LAST_PORT = 18_999;

// ── options ─────────────────────────────────────────────────────────────────────────────

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    repeat: { type: 'string', default: '2' },
    only: { type: 'string' },
    connections: { type: 'string', default: '50' },
    threads: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '2' },
    pin: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
function positive(name: string): number {
  const value = Number(values[name as keyof typeof values]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return value;
}
const options = {
  duration: positive('duration'),
  repeat: positive('repeat'),
  connections: positive('connections'),
  threads: positive('threads'),
  warmup: positive('warmup'),
  /** wrk and the upstream on CPU 0, a single-process target alone on CPU 1 (`taskset`). */
  pin: values.pin,
};
/** CPUs of the load side and of the proxy under `--pin`. */
const LOAD_CPU = '0';
const PROXY_CPU = '1';
const wanted = values.only?.split(',').map((name) => name.trim());
const unknown = wanted?.filter((name) => !TARGETS.some((t) => t.name === name)) ?? [];
if (unknown.length > 0) {
  throw new Error(`unknown target(s) ${unknown.join(', ')}; known: ${TARGETS.map((t) => t.name).join(', ')}`);
}
const targets = TARGETS.filter((t) => wanted === undefined || wanted.includes(t.name));
const jsonFile = values.json ?? join(tmpdir(), `baton-gateway-bench-${new Date().toISOString()}.json`);

// ── processes ───────────────────────────────────────────────────────────────────────────

/** Marks every process this run starts (see ../processes.ts), for the final sweep. */
const tag = `gateway-${randomBytes(4).toString('hex')}`;
const live = new Set<ChildProcess>();

interface Started {
  readonly child: ChildProcess;
  /** The last few KB it printed, for error messages. */
  readonly output: () => string;
}

/**
 * Spawns `command` as the leader of a process group (and session) of its own: stopping it
 * signals the whole group, and the terminal's Ctrl-C reaches only this script, which stops them.
 */
function start(command: string, args: readonly string[], cpus?: string): Started {
  // taskset execs the command: the pid, and so the process group and CPU accounting, stay its own.
  const [file, argv] = cpus === undefined ? [command, args] : ['taskset', ['-c', cpus, command, ...args]];
  const child = spawn(file, argv, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, [TAG_VARIABLE]: tag },
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4096);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('error', (error) => keep(Buffer.from(`spawn failed: ${error.message}\n`)));
  live.add(child);
  child.once('exit', () => live.delete(child));
  return { child, output: () => tail.trim() };
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** SIGTERM to the group; SIGKILL to what is left of it after STOP_TIMEOUT_MS. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  signalGroup(child, 'SIGTERM');
  const deadline = performance.now() + STOP_TIMEOUT_MS;
  while ((!exited(child) || (await groupMembers(child.pid)).length > 0) && performance.now() < deadline) {
    await sleep(20);
  }
  if ((await groupMembers(child.pid)).length > 0 || !exited(child)) {
    console.error(`  pid ${child.pid}'s group did not stop on SIGTERM; SIGKILL`);
    signalGroup(child, 'SIGKILL');
    if (!exited(child)) await once(child, 'exit');
  }
}

/** A free port in FIRST_PORT..LAST_PORT, a new one each call (no reuse of a port in TIME_WAIT). */
let nextPort = FIRST_PORT;
async function claimPort(): Promise<number> {
  while (nextPort <= LAST_PORT) {
    const port = nextPort++;
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port left in ${FIRST_PORT}..${LAST_PORT}`);
}

const BODY = upstreamBody();

/** One GET / on a fresh connection: true when it answers 200 with the upstream's body. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get(
      { host: '127.0.0.1', port, path: '/', agent: false, timeout: 1000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve(response.statusCode === 200 && Buffer.concat(chunks).equals(BODY)));
        response.on('error', () => resolve(false));
      },
    );
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

async function waitAnswering(port: number, started: Started): Promise<void> {
  const deadline = performance.now() + START_TIMEOUT_MS;
  while (!(await answers(port))) {
    if (exited(started.child)) {
      throw new Error(`exited (${started.child.signalCode ?? started.child.exitCode}):\n${started.output()}`);
    }
    if (performance.now() > deadline) {
      throw new Error(
        `no 200 with the upstream's body on :${port} in ${START_TIMEOUT_MS} ms:\n${started.output()}`,
      );
    }
    await sleep(50);
  }
}

/** CPU seconds of the children this process has reaped (wrk's, once it is reaped). */
async function reapedChildrenSeconds(): Promise<number> {
  return (await readProcStat('self'))!.childrenCpuTicks / ticksPerSecond();
}

/** Runs wrk to the end; its output, and its CPU (from this process's reaped-children total). */
async function wrk(port: number, seconds: number): Promise<{ output: string; cpuSeconds: number }> {
  const before = await reapedChildrenSeconds();
  const args = wrkArgs({
    url: `http://127.0.0.1:${port}/`,
    seconds,
    connections: options.connections,
    threads: options.threads,
  });
  const run = start('wrk', args, options.pin ? LOAD_CPU : undefined);
  const killer = setTimeout(() => signalGroup(run.child, 'SIGKILL'), (seconds + 30) * 1000);
  // 'close', not 'exit': the report must have been read to its end.
  const [code] = (await once(run.child, 'close')) as [number | null];
  clearTimeout(killer);
  if (code !== 0) throw new Error(`wrk ${args.join(' ')} failed (${code}):\n${run.output()}`);
  return { output: run.output(), cpuSeconds: (await reapedChildrenSeconds()) - before };
}

// ── one measurement ─────────────────────────────────────────────────────────────────────

async function measure(target: Target, round: number, upstream: Started, upstreamPort: number, dir: string) {
  let proxy: Started | undefined;
  try {
    let port = upstreamPort;
    if (target.command) {
      port = await claimPort();
      const [command, args] = target.command({ port, upstreamPort, dir });
      proxy = start(command, args, options.pin && !target.multiCore ? PROXY_CPU : undefined);
      await waitAnswering(port, proxy);
    }
    await wrk(port, options.warmup);

    const roots: Record<string, number> = { upstream: upstream.child.pid! };
    if (proxy) roots.proxy = proxy.child.pid!;
    const [treesBefore, machineBefore] = await Promise.all([snapshotTrees(roots), readMachineStat()]);
    const startedAt = performance.now();
    const { output, cpuSeconds: wrkSeconds } = await wrk(port, options.duration);
    const [treesAfter, machineAfter] = await Promise.all([snapshotTrees(roots), readMachineStat()]);
    const wallSeconds = (performance.now() - startedAt) / 1000;
    if (proxy && exited(proxy.child)) throw new Error(`exited during the run:\n${proxy.output()}`);

    const used = treeSeconds(treesBefore, treesAfter);
    const machineSeconds = (machineAfter.busy - machineBefore.busy) / ticksPerSecond();
    const ours = (used.upstream ?? 0) + (used.proxy ?? 0) + wrkSeconds;
    const result = parseWrk(output);
    const measured: Run = {
      target: target.name,
      round,
      ...result,
      cpu: {
        proxy: used.proxy,
        upstream: used.upstream ?? 0,
        wrk: wrkSeconds,
        other: Math.max(0, machineSeconds - ours),
        wallSeconds,
      },
    };
    return measured;
  } finally {
    if (proxy) await stop(proxy.child);
  }
}

function describeRun(run: Run): string {
  const core = (seconds: number) => `${((100 * seconds) / run.cpu.wallSeconds).toFixed(0)}%`;
  const proxy =
    run.cpu.proxy === undefined
      ? ''
      : ` proxy ${core(run.cpu.proxy)} (${((1e6 * run.cpu.proxy) / run.requests).toFixed(0)} µs/req)`;
  return (
    `${(run.requestsPerSecond / 1000).toFixed(1)}k req/s, p50 ${run.p50Ms.toFixed(2)} ms, p99 ${run.p99Ms.toFixed(2)} ms;` +
    `${proxy} upstream ${core(run.cpu.upstream)} wrk ${core(run.cpu.wrk)} rest ${core(run.cpu.other)}` +
    (run.errors > 0 ? `; ${run.errors} ERRORS` : '')
  );
}

/** The line of a failure that says what went wrong (a Node error's, else the first). */
function headline(reason: string): string {
  const lines = reason.split('\n').map((line) => line.trim());
  return lines.find((line) => /^\w*Error\b/.test(line)) ?? lines.filter(Boolean).join(' ').slice(0, 300);
}

// ── the benchmark ───────────────────────────────────────────────────────────────────────

function version(command: string, args: string[]): string {
  const out = spawnSync(command, args, { encoding: 'utf8' });
  return `${out.stdout}${out.stderr}`.split('\n')[0]!.trim();
}
const uptime = () => version('uptime', []);

const dir = mkdtempSync(join(tmpdir(), 'baton-gateway-bench-'));
let interrupted = false;
let stopping: Promise<void> | undefined;
async function cleanUp(): Promise<void> {
  await Promise.all([...live].map((child) => stop(child)));
  const left = await killTagged(tag);
  if (left > 0) console.error(`killed ${left} leftover process(es) tagged ${tag}`);
  rmSync(dir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping every process this run started`);
    stopping = cleanUp().finally(() => process.exit(130));
  });
}

const runs: Run[] = [];
const skipped = new Map<string, string>();
const loadBefore = uptime();
try {
  if (targets.some((t) => t.npmPeers)) ensurePeerPackages();
  console.log(`load before: ${loadBefore}`);
  console.log(
    `wrk -t${options.threads} -c${options.connections}, ${options.warmup} s warm-up + ${options.duration} s, ` +
      `${options.repeat} round(s) of: ${targets.map((t) => t.name).join(', ')}` +
      (options.pin
        ? `\npinned: wrk and the upstream on CPU ${LOAD_CPU}, each single-process target on CPU ${PROXY_CPU}; multi-core targets unpinned`
        : '') +
      '\n',
  );
  const upstreamPort = await claimPort();
  const upstream = start(
    process.execPath,
    [join(import.meta.dirname, 'upstream.ts'), '--port', String(upstreamPort)],
    options.pin ? LOAD_CPU : undefined,
  );
  await waitAnswering(upstreamPort, upstream);

  for (let round = 1; round <= options.repeat && !interrupted; round++) {
    for (const target of targets) {
      if (interrupted || skipped.has(target.name)) continue;
      try {
        const run = await measure(target, round, upstream, upstreamPort, dir);
        runs.push(run);
        console.log(`round ${round}/${options.repeat} ${target.name}: ${describeRun(run)}`);
      } catch (error) {
        if (interrupted) break;
        const reason = error instanceof Error ? error.message : String(error);
        skipped.set(target.name, reason);
        console.error(`round ${round}/${options.repeat} ${target.name}: SKIPPED from now on — ${reason}\n`);
      }
      if (exited(upstream.child)) throw new Error(`the upstream exited:\n${upstream.output()}`);
    }
  }
} finally {
  if (!interrupted) await cleanUp();
}
// Interrupted: the signal handler stops everything and exits; nothing to report.
if (interrupted) await stopping;

const loadAfter = uptime();
const summaries: Summary[] = targets
  .map((t) => runs.filter((run) => run.target === t.name))
  .filter((list) => list.length > 0)
  .map((list) => summarize(list[0]!.target, list));
const ratioList = ratios(summaries);
const table = markdown(summaries, ratioList);
console.log(`\nload after: ${loadAfter}\n`);
console.log(table);
for (const [name, reason] of skipped) console.log(`\n${name}: skipped — ${headline(reason)}`);
writeFileSync(
  jsonFile,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      tools: {
        wrk: version('wrk', ['-v']),
        nginx: version('nginx', ['-v']),
        haproxy: version('haproxy', ['-v']),
      },
      options,
      load: { before: loadBefore, after: loadAfter, loadavgAfter: loadavg() },
      targets: targets.map(({ name, what }) => ({ name, what })),
      runs,
      summaries: summaries.map(({ runs: _runs, ...summary }) => summary),
      ratios: ratioList,
      skipped: Object.fromEntries(skipped),
      table,
    },
    null,
    2,
  ),
);
console.log(`\nJSON: ${jsonFile}`);
