// What became of each revision, read from the event log: it converged, its rollout failed
// (and was rolled back automatically, or not), it is still rolling out, or a newer revision
// replaced it before it settled. Shown beside the history so that nobody has to read events
// to know which revision to go back to.

export const REVISION_OUTCOMES = ['converged', 'failed', 'rolled-back', 'in-progress', 'superseded'] as const;
export type RevisionOutcome = (typeof REVISION_OUTCOMES)[number];

/** The events that decide an outcome: `revision.converged`, `rollout.failed`. */
export const OUTCOME_EVENT_KINDS = ['revision.converged', 'rollout.failed'] as const;

export interface OutcomeEvent {
  readonly kind: string;
  readonly revision?: number | null | undefined;
  readonly data?: unknown;
}

/** `latest`: the newest revision's number; only it can still be in progress. */
export function revisionOutcomes(
  revisions: readonly number[],
  latest: number,
  events: readonly OutcomeEvent[],
): Map<number, RevisionOutcome> {
  const converged = new Set<number>();
  const failed = new Map<number, boolean>();
  for (const event of events) {
    if (event.revision === null || event.revision === undefined) continue;
    if (event.kind === 'revision.converged') converged.add(event.revision);
    if (event.kind === 'rollout.failed') {
      const rolledBack = (event.data as { rollbackTo?: unknown } | undefined)?.rollbackTo;
      failed.set(event.revision, (failed.get(event.revision) ?? false) || typeof rolledBack === 'number');
    }
  }
  const outcomes = new Map<number, RevisionOutcome>();
  for (const number of revisions) {
    const rolledBack = failed.get(number);
    outcomes.set(
      number,
      converged.has(number)
        ? 'converged'
        : rolledBack !== undefined
          ? rolledBack
            ? 'rolled-back'
            : 'failed'
          : number === latest
            ? 'in-progress'
            : 'superseded',
    );
  }
  return outcomes;
}
