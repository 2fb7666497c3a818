// What a reconcile pass tells the work queue, after controller-runtime's `Result` and
// `TerminalError`: done (until something adds the key again), come back after a delay (a
// backoff ends, a grace period runs out, a deadline falls), or terminal — retrying cannot
// help until the desired state changes. A thrown error means "retry with backoff".

export type ReconcileResult =
  | { readonly kind: 'done' }
  | { readonly kind: 'requeue-after'; readonly ms: number }
  | { readonly kind: 'terminal'; readonly error: string };

/** The earliest of several optional delays (ms): when the first thing a decision waits on happens. */
export function earliest(...delays: readonly (number | undefined)[]): number | undefined {
  let soonest: number | undefined;
  for (const delay of delays)
    if (delay !== undefined && (soonest === undefined || delay < soonest)) soonest = delay;
  return soonest;
}

/** Never sooner than this: a delay of 0 from rounding would spin. */
const MIN_REQUEUE_MS = 10;

export function requeueAfter(ms: number | undefined): ReconcileResult {
  return ms === undefined ? { kind: 'done' } : { kind: 'requeue-after', ms: Math.max(MIN_REQUEUE_MS, ms) };
}
