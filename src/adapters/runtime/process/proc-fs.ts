// Reading Linux's /proc: the only way to tell a live instance from a dead one whose pid
// was reused (start time), to find the processes this control plane spawned when their
// record is missing (environ), and to see through zombies, which answer `kill(pid, 0)`
// but are gone for every purpose that matters here. Every function degrades to "unknown"
// (undefined or empty) when /proc is missing or a process vanishes while being read.
import { readFileSync } from 'node:fs';
import { access, readdir, readFile } from 'node:fs/promises';

export interface ProcStat {
  readonly pid: number;
  /** R, S, D, Z (zombie), X (dead), … */
  readonly state: string;
  readonly pgrp: number;
  /** Field 22: clock ticks after boot at which the process started; a string to stay exact. */
  readonly startTicks: string;
}

/** USER_HZ: 100 on every Linux architecture Node runs on; /proc reports start times in it. */
const TICKS_PER_SECOND = 100;

export async function procAvailable(): Promise<boolean> {
  try {
    await access('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}

function parseStat(pid: number, text: string): ProcStat | undefined {
  // Field 2 (comm) is parenthesised and may hold spaces or parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field n is fields[n - 3].
  const state = fields[0];
  const pgrp = Number(fields[2]);
  const startTicks = fields[19];
  if (state === undefined || startTicks === undefined || !Number.isInteger(pgrp)) return undefined;
  return { pid, state, pgrp, startTicks };
}

export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  try {
    return parseStat(pid, await readFile(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return undefined;
  }
}

/** Synchronous so that it can run right after `spawn` returns, before the child can be reaped. */
export function readProcStatSync(pid: number): ProcStat | undefined {
  try {
    return parseStat(pid, readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return undefined;
  }
}

export function isGone(stat: ProcStat): boolean {
  return stat.state === 'Z' || stat.state === 'X';
}

export async function listPids(): Promise<number[]> {
  try {
    const names = await readdir('/proc');
    return names.filter((n) => /^\d+$/.test(n)).map(Number);
  } catch {
    return [];
  }
}

/** Undefined for zombies (their environ reads empty), vanished processes and other users' processes. */
export async function readEnviron(pid: number): Promise<Map<string, string> | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return undefined;
  }
  if (text === '') return undefined;
  const env = new Map<string, string>();
  for (const entry of text.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}

/** Live (not zombie) members of a process group. */
export async function groupMembers(pgid: number): Promise<number[]> {
  const stats = await Promise.all((await listPids()).map(readProcStat));
  return stats
    .filter((s): s is ProcStat => s !== undefined && s.pgrp === pgid && !isGone(s))
    .map((s) => s.pid);
}

/** Wall-clock time at which a process started, from its start ticks and the boot time. */
export async function startedAtFromTicks(startTicks: string): Promise<Date | undefined> {
  try {
    const match = /^btime (\d+)$/m.exec(await readFile('/proc/stat', 'latin1'));
    if (match?.[1] === undefined) return undefined;
    return new Date(Number(match[1]) * 1000 + (Number(startTicks) * 1000) / TICKS_PER_SECOND);
  } catch {
    return undefined;
  }
}
