// Whether a service's rollout is still going, done, or failed — and why. Pure: the caller
// hands in the facts and the time, and applies the verdict (records it, rolls back).
//
// A rollout fails for one of three reasons, the fastest first:
// - its new version cannot start at all (command, script or folder missing): at once, since
//   no retry can help;
// - its new instances die before becoming ready `crashLoopLimit` times in a row: a crash
//   loop, failed then rather than at the deadline (a process that dies at start will not
//   stop dying because the deadline is minutes away);
// - it has not settled by its deadline.
import { tellingLine, type ExitFact } from '../lifecycle/instance-exit.ts';

export interface RolloutFacts {
  /** Epoch ms. */
  readonly nowMs: number;
  /** When the revision that moved the service was recorded, plus its `rollout.deadline`. */
  readonly deadlineAtMs: number;
  /** The deadline as written (`5m`), for the reason. */
  readonly deadline: string;
  readonly settled: boolean;
  /** Instances of the new spec that died before becoming ready, in a row. */
  readonly earlyDeaths: number;
  readonly crashLoopLimit: number;
  /** The last of those deaths. */
  readonly lastDeath?: ExitFact | undefined;
  /** Why the new spec cannot start at all, when it cannot. */
  readonly cannotStart?: string | undefined;
}

export type FailureCause = 'cannot-start' | 'crash-loop' | 'deadline';

export type RolloutVerdict =
  | { readonly kind: 'settled' }
  | { readonly kind: 'progressing'; readonly recheckInMs: number }
  | { readonly kind: 'failed'; readonly cause: FailureCause; readonly reason: string };

export function rolloutVerdict(facts: RolloutFacts): RolloutVerdict {
  if (facts.settled) return { kind: 'settled' };
  if (facts.cannotStart !== undefined)
    return { kind: 'failed', cause: 'cannot-start', reason: `cannot start: ${facts.cannotStart}` };
  if (facts.earlyDeaths >= facts.crashLoopLimit) {
    const last = facts.lastDeath;
    const line = last && tellingLine(last.output);
    const why = last ? `; the last: ${last.reason}${line ? `: ${line}` : ''}` : '';
    return {
      kind: 'failed',
      cause: 'crash-loop',
      reason: `new instances failed before becoming ready ${facts.earlyDeaths} times in a row${why}`,
    };
  }
  if (facts.nowMs >= facts.deadlineAtMs)
    return {
      kind: 'failed',
      cause: 'deadline',
      reason: `did not become healthy within ${facts.deadline}`,
    };
  return { kind: 'progressing', recheckInMs: facts.deadlineAtMs - facts.nowMs };
}
