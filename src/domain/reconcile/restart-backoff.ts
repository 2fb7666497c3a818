// How long a dead instance waits before it comes back: a pet restarted in place, or cattle
// replaced by a fresh instance — the same exponential backoff for both (Kubernetes'
// CrashLoopBackOff), so that a process that dies at start is not spawned as fast as it dies.

export interface RestartPolicy {
  /** The wait after the first death; doubles with each restart in a row. */
  readonly baseMs: number;
  readonly maxMs: number;
  /** A pet with this many restarts in a row is left failed and alerted on (cattle back off forever). */
  readonly maxRestarts: number;
  /** An instance that serves this long gets its restart count back to 0. */
  readonly stableAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  baseMs: 500,
  maxMs: 30_000,
  maxRestarts: 5,
  stableAfterMs: 60_000,
};

/** The wait before the next start of an instance (slot) that has restarted `restarts` times in a row. */
export function restartBackoffMs(restarts: number, policy: RestartPolicy): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(0, restarts), 30));
}
