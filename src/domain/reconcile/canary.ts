// A canary rollout, step by step (`rollout.strategy: canary`): the new version takes a share
// of the traffic (the gateway's weighted split) and as many instances as that share needs;
// each step below 100% is watched for `canaryPause` before the next; at 100% the rest of the
// old instances are replaced, and once none is left the split goes.
//
// The rollout's own split is the canary's whole state: its weight for the new version says
// which step is in force and its `since` when that step began. Both live in the event log, so
// a restarted control plane goes on from the step it was at. Pure: the controller applies the
// decision (sets or clears the split, caps the updated instances, looks again when told).

/** Who the rollout's splits are recorded as set by (`setBy`); anyone else's split is left alone. */
export const CANARY_ACTOR = 'rollout';

export interface CanaryInput {
  /** Percentages that grow, e.g. [10, 50, 100]; 100 is implied at the end. */
  readonly steps: readonly number[];
  readonly pauseMs: number;
  readonly replicas: number;
  readonly newVersion: string;
  /** Versions of the older instances still alive. */
  readonly oldVersions: readonly string[];
  /** The split in force, if any: its weights, who set it and since when. */
  readonly split:
    | { readonly weights: Readonly<Record<string, number>>; readonly setBy: string; readonly sinceMs: number }
    | undefined;
  /** Updated instances serving, and when the last of them began to. */
  readonly updatedServing: number;
  readonly lastServingSinceMs: number | undefined;
  readonly nowMs: number;
}

export interface CanaryDecision {
  /** Weights to record as the rollout's split now (adding up to 100). */
  readonly setWeights?: Readonly<Record<string, number>> | undefined;
  /** The rollout's split is done with: clear it. */
  readonly clear?: boolean | undefined;
  /** The step's cap on updated instances (see nextStep's `maxUpdated`); undefined: none. */
  readonly maxUpdated: number | undefined;
  /** Look again after this many ms: the step being watched ends then. */
  readonly recheckInMs?: number | undefined;
}

export function canaryStep(input: CanaryInput): CanaryDecision {
  const steps = input.steps.at(-1) === 100 ? input.steps : [...input.steps, 100];
  const old = [...new Set(input.oldVersions)].filter((v) => v !== input.newVersion).sort();
  const split = input.split;
  const ours = split !== undefined && split.setBy === CANARY_ACTOR;
  // An operator's split wins: the rollout neither changes it nor holds for it.
  if (split !== undefined && !ours) return { maxUpdated: undefined };
  // Nothing older to compare with (done, or the version did not change): no canary.
  if (old.length === 0) return { clear: ours, maxUpdated: undefined };

  const weights = (newShare: number) => {
    const out: Record<string, number> = { [input.newVersion]: newShare };
    for (const version of old) out[version] = (100 - newShare) / old.length;
    return out;
  };
  const instancesFor = (share: number) =>
    share >= 100 ? undefined : Math.max(1, Math.ceil((input.replicas * share) / 100));

  // A step that begins now is watched from now: look again when its pause is over (its
  // instances' own changes bring the controller back sooner).
  const begin = (share: number): CanaryDecision => ({
    setWeights: weights(share),
    maxUpdated: instancesFor(share),
    recheckInMs: share < 100 ? input.pauseMs : undefined,
  });
  const at = ours ? steps.indexOf(split.weights[input.newVersion] ?? -1) : -1;
  if (at === -1) return begin(steps[0]!);
  const share = steps[at]!;
  const cap = instancesFor(share);
  if (cap === undefined) return { maxUpdated: undefined };
  if (input.updatedServing < cap || input.lastServingSinceMs === undefined) return { maxUpdated: cap };
  const watchedUntil = Math.max(split!.sinceMs, input.lastServingSinceMs) + input.pauseMs;
  if (input.nowMs < watchedUntil) return { maxUpdated: cap, recheckInMs: watchedUntil - input.nowMs };
  return begin(steps[at + 1]!);
}
