// Finds the processes a control plane spawned by the mark it put in their environment,
// `BATON_OWNER=<digest of the state folder>`. Children inherit it, so this also finds what an instance
// spawned itself: what must not outlive the instance.
import { isGone, listPids, readEnviron, readProcStat } from './proc-fs.ts';
import type { ProcStat } from './proc-fs.ts';
import { ownerMark } from './owner-mark.ts';

export interface OwnedProcess {
  readonly pid: number;
  readonly instance: string;
  readonly service: string;
}

export interface OwnedProcessDetail extends OwnedProcess {
  readonly stat: ProcStat;
  readonly env: ReadonlyMap<string, string>;
}

export async function scanOwnedProcesses(stateDir: string): Promise<OwnedProcessDetail[]> {
  const pids = (await listPids()).filter((pid) => pid !== process.pid);
  const mark = ownerMark(stateDir);
  const found = await Promise.all(
    pids.map(async (pid): Promise<OwnedProcessDetail | undefined> => {
      const env = await readEnviron(pid);
      if (env?.get('BATON_OWNER') !== mark) return undefined;
      const stat = await readProcStat(pid);
      if (stat === undefined || isGone(stat)) return undefined;
      const instance = env.get('BATON_INSTANCE') ?? '';
      return { pid, instance, service: env.get('BATON_SERVICE') ?? '', stat, env };
    }),
  );
  return found.filter((p) => p !== undefined);
}

/** Live processes carrying this state folder's `BATON_OWNER` mark: for the controller and for "no orphan" checks. */
export async function findOwnedProcesses(stateDir: string): Promise<OwnedProcess[]> {
  return (await scanOwnedProcesses(stateDir)).map(({ pid, instance, service }) => ({
    pid,
    instance,
    service,
  }));
}

/** Sends a signal to a pid or (negative) a process group; one already gone is not an error. */
export function signal(target: number, name: NodeJS.Signals): void {
  try {
    process.kill(target, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
