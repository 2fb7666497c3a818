// CPU accounting from Linux /proc: per process (utime + stime, every thread included), per
// process tree (a proxy's master and workers), and for the whole machine, so that a run can
// say where the 2 cores went — and how much went to processes that are not the benchmark's.
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly pgrp: number;
  readonly state: string;
  /** utime + stime, in clock ticks. */
  readonly cpuTicks: number;
  /** cutime + cstime: children this process has waited for, in clock ticks. */
  readonly childrenCpuTicks: number;
}

/** Parses /proc/<pid>/stat. The command name is parenthesised and may itself hold spaces or ')'. */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc stat line: ${text.slice(0, 80)}`);
  // Fields from the 3rd on (state); proc(5) numbers them from 1, so field n is rest[n - 3].
  const rest = text
    .slice(close + 2)
    .trim()
    .split(' ');
  const field = (n: number): number => {
    const value = Number(rest[n - 3]);
    if (!Number.isFinite(value)) throw new Error(`/proc stat field ${n} is not a number`);
    return value;
  };
  return {
    pid: Number(text.slice(0, open).trim()),
    state: rest[0] ?? '?',
    ppid: field(4),
    pgrp: field(5),
    cpuTicks: field(14) + field(15),
    childrenCpuTicks: field(16) + field(17),
  };
}

/** The first line of /proc/stat: ticks spent busy and in all, summed over every CPU. */
export function parseMachineStat(text: string): { busy: number; total: number } {
  const line = text.split('\n', 1)[0] ?? '';
  if (!line.startsWith('cpu ')) throw new Error('/proc/stat does not start with the cpu line');
  // user nice system idle iowait irq softirq steal (guest time is already in user/nice).
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: total - idle, total };
}

export async function readProcStat(pid: number | 'self'): Promise<ProcStat | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseProcStat(text);
}

export async function readMachineStat(): Promise<{ busy: number; total: number }> {
  return parseMachineStat(await readFile('/proc/stat', 'utf8'));
}

/** Every live process (zombies excluded). */
export async function allProcesses(): Promise<ProcStat[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const stats = await Promise.all(pids.map((pid) => readProcStat(pid)));
  return stats.filter((stat) => stat !== undefined && stat.state !== 'Z') as ProcStat[];
}

/** `root` and all its descendants, from one listing of every process. */
export function descendants(processes: readonly ProcStat[], root: number): ProcStat[] {
  const byParent = new Map<number, ProcStat[]>();
  for (const stat of processes) byParent.set(stat.ppid, [...(byParent.get(stat.ppid) ?? []), stat]);
  const found = processes.filter((stat) => stat.pid === root);
  for (let i = 0; i < found.length; i++) found.push(...(byParent.get(found[i]!.pid) ?? []));
  return found;
}

/** Live members of process group `pgrp`. */
export async function groupMembers(pgrp: number): Promise<number[]> {
  return (await allProcesses()).filter((stat) => stat.pgrp === pgrp).map((stat) => stat.pid);
}

let clockTicks: number | undefined;
/** Clock ticks per second (`getconf CLK_TCK`; 100 on every Linux this runs on). */
export function ticksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return clockTicks;
}

/** CPU ticks per pid of each named tree, at one instant. */
export type CpuSnapshot = Map<string, Map<number, number>>;

export async function snapshotTrees(roots: Readonly<Record<string, number>>): Promise<CpuSnapshot> {
  const processes = await allProcesses();
  const snapshot: CpuSnapshot = new Map();
  for (const [name, root] of Object.entries(roots)) {
    snapshot.set(name, new Map(descendants(processes, root).map((stat) => [stat.pid, stat.cpuTicks])));
  }
  return snapshot;
}

/**
 * CPU seconds each tree used between two snapshots. A process that appeared in between (a
 * worker forked late) counts from zero; one that ended in between is lost, which is why
 * targets are sampled while they run, never across their start or stop.
 */
export function treeSeconds(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const seconds: Record<string, number> = {};
  for (const [name, pids] of after) {
    let ticks = 0;
    for (const [pid, now] of pids) ticks += now - (before.get(name)?.get(pid) ?? 0);
    seconds[name] = ticks / ticksPerSecond();
  }
  return seconds;
}
