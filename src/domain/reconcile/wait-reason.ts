// Why a service has not settled, in one line a person can act on: what it waits for, the
// probe that keeps failing and its answer, the exit it backs off from. `baton apply`,
// `baton status` and the dashboard all show this line, so that a rollout that waits never
// waits in silence. Pure.
import { tellingLine, type ExitFact } from '../lifecycle/instance-exit.ts';
import type { ObservedPhase } from './next-step.ts';

export interface WaitingInstance {
  readonly id: string;
  readonly phase: ObservedPhase;
  /** Epoch ms: when it entered its phase. */
  readonly sinceMs: number;
  /** The last probe's answer (`HTTP 404`, `ECONNREFUSED`), or how it failed. */
  readonly health: string;
  readonly restarts: number;
  readonly lastExit?: ExitFact | undefined;
  /** Runs the desired spec (not an old one on its way out). */
  readonly current: boolean;
}

export interface WaitFacts {
  readonly nowMs: number;
  readonly waitingFor: readonly string[];
  readonly cannotStart?: string | undefined;
  readonly instances: readonly WaitingInstance[];
  /** Dead instances waiting out their backoff, and when each comes back. */
  readonly backingOff: readonly { readonly id: string; readonly atMs: number }[];
}

export function waitReason(facts: WaitFacts): string | undefined {
  const { nowMs } = facts;
  if (facts.cannotStart !== undefined) return `cannot start: ${facts.cannotStart}`;
  if (facts.waitingFor.length > 0) return `waiting for ${facts.waitingFor.join(', ')} to be ready`;
  const byId = new Map(facts.instances.map((i) => [i.id, i]));
  const [soonest] = [...facts.backingOff].sort((a, b) => a.atMs - b.atMs);
  if (soonest !== undefined) {
    const dead = byId.get(soonest.id);
    const exit = dead?.lastExit;
    const line = exit && tellingLine(exit.output);
    const how = exit ? `${exit.reason}${line ? `: ${line}` : ''}` : 'exited';
    const times = dead && dead.restarts > 0 ? ` (${dead.restarts + 1} times in a row)` : '';
    return `${soonest.id} ${how}${times}; next start in ${seconds(soonest.atMs - nowMs)}`;
  }
  const starting = facts.instances.filter(
    (i) => i.current && (i.phase === 'provisioning' || i.phase === 'starting' || i.phase === 'ready'),
  );
  const slowest = starting.sort((a, b) => a.sinceMs - b.sinceMs)[0];
  if (slowest !== undefined) {
    const answer = slowest.health === 'unknown' ? 'no probe answer yet' : `readiness: ${slowest.health}`;
    return `${slowest.id} not ready after ${seconds(nowMs - slowest.sinceMs)} (${answer})`;
  }
  const sick = facts.instances.find((i) => i.current && i.phase === 'unhealthy');
  if (sick !== undefined) return `${sick.id} unhealthy for ${seconds(nowMs - sick.sinceMs)} (${sick.health})`;
  const leaving = facts.instances.filter((i) => !i.current && i.phase !== 'failed').length;
  if (leaving > 0) return `${leaving} old instance${leaving === 1 ? '' : 's'} to retire`;
  return undefined;
}

/** `8 s`, `2m05s`: short enough for a progress line. */
export function seconds(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
