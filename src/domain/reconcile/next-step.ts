// The reconciler's decision: given what one service should be and what is observed of it,
// the next safe actions. Pure and level-triggered: it looks only at the current state, so
// running it again after a crash, a lost event or a resync decides the same thing.
//
// Rolling updates follow Kubernetes' Deployment arithmetic: never more than
// `desired + maxSurge` instances alive, never fewer than `desired - maxUnavailable` serving.

/** The instance phases the decision reads (see domain/lifecycle for the full machine). */
export type ObservedPhase =
  'provisioning' | 'starting' | 'ready' | 'running' | 'unhealthy' | 'draining' | 'stopped' | 'failed';

export interface DesiredService {
  readonly service: string;
  /** Identity of the spec instances must run; a change means a rolling update. */
  readonly specHash: string;
  readonly replicas: number;
  readonly mode: 'pet' | 'cattle';
  readonly maxSurge: number | string;
  readonly maxUnavailable: number | string;
}

export interface ObservedInstance {
  readonly id: string;
  readonly specHash: string;
  readonly phase: ObservedPhase;
  /** Consecutive failed restarts (pets). */
  readonly restarts: number;
}

export type Action =
  | { readonly kind: 'start'; readonly reason: string }
  | { readonly kind: 'stop'; readonly id: string; readonly reason: string }
  /** Pets only: start the same instance again, in place. */
  | { readonly kind: 'restart'; readonly id: string; readonly reason: string }
  /** Cattle only: forget a dead instance (its replacement is a `start`). */
  | { readonly kind: 'forget'; readonly id: string; readonly reason: string };

export interface StepInput {
  /** Undefined when the service is no longer in the architecture: everything goes. */
  readonly desired: DesiredService | undefined;
  readonly instances: readonly ObservedInstance[];
  /** A pet with this many failed restarts is left failed and alerted on, not restarted. */
  readonly maxRestarts: number;
  /** Providers that must settle first (dependency order); starts of new instances wait. */
  readonly waitingFor?: readonly string[] | undefined;
  /**
   * A canary step: at most this many instances of the desired spec while instances of an
   * older one are still serving. Undefined: as many as `replicas`.
   */
  readonly maxUpdated?: number | undefined;
}

export interface StepOutput {
  readonly actions: readonly Action[];
  /** Every desired instance runs the desired spec and serves; nothing else is alive. */
  readonly settled: boolean;
  readonly progress: {
    readonly desired: number;
    readonly updated: number;
    readonly serving: number;
    readonly outdated: number;
  };
  /** Pets that exhausted their restarts: the service is failed until someone acts. */
  readonly exhausted: readonly string[];
}

const ALIVE: ReadonlySet<ObservedPhase> = new Set([
  'provisioning',
  'starting',
  'ready',
  'running',
  'unhealthy',
]);

export function nextStep(input: StepInput): StepOutput {
  const { desired, instances } = input;
  const actions: Action[] = [];
  const exhausted: string[] = [];
  const replicas = desired?.replicas ?? 0;

  const alive = instances.filter((i) => ALIVE.has(i.phase));
  const isCurrent = (i: ObservedInstance) => desired !== undefined && i.specHash === desired.specHash;
  const updated = alive.filter(isCurrent);
  const outdated = alive.filter((i) => !isCurrent(i));

  // Dead instances: pets come back in place while a place is free for them and restarts
  // are left; everything else dead is forgotten, and cattle are replaced by new instances.
  let restartingPets = 0;
  for (const i of [...instances].sort((a, b) => a.id.localeCompare(b.id))) {
    if (i.phase !== 'failed') continue;
    const petPlace = desired?.mode === 'pet' && isCurrent(i) && updated.length + restartingPets < replicas;
    if (!petPlace) {
      const reason =
        isCurrent(i) && desired?.mode !== 'pet' ? 'cattle exited: replace it' : 'exited, not needed';
      actions.push({ kind: 'forget', id: i.id, reason });
    } else if (i.restarts < input.maxRestarts) {
      actions.push({ kind: 'restart', id: i.id, reason: 'pet exited: restart in place' });
      restartingPets++;
    } else {
      // Holds its place, failed, until someone acts: a pet is never silently replaced.
      exhausted.push(i.id);
      restartingPets++;
    }
  }
  const serving = alive.filter((i) => i.phase === 'running');
  const surge = resolveBudget(desired?.maxSurge ?? 0, replicas, 'up');
  const unavailable = resolveBudget(desired?.maxUnavailable ?? 0, replicas, 'down');
  // Both zero would deadlock a rolling update; Kubernetes forbids it, Baton surges by one.
  const maxSurge = surge === 0 && unavailable === 0 ? 1 : surge;

  // Extra updated instances beyond the desired count (scale-in): the least useful go first.
  const extraUpdated = Math.max(0, updated.length + restartingPets - replicas);
  for (const i of byUsefulness(updated).slice(0, extraUpdated)) {
    actions.push({ kind: 'stop', id: i.id, reason: desired ? 'scale in' : 'service removed' });
  }
  const keptUpdated = updated.length - extraUpdated;

  // Scale out / roll forward: start updated instances within the surge budget. An update
  // waits for the providers it depends on to settle first; a first deployment does not
  // (consumers find providers through discovery once they appear, and starting everything
  // at once is what makes `baton up` fast).
  const waiting = (input.waitingFor?.length ?? 0) > 0 && outdated.length + keptUpdated > 0;
  const missing = Math.max(0, replicas - keptUpdated - restartingPets);
  const room = Math.max(0, replicas + maxSurge - (alive.length - extraUpdated) - restartingPets);
  const stepRoom =
    input.maxUpdated === undefined || outdated.length === 0
      ? Infinity
      : Math.max(0, input.maxUpdated - keptUpdated - restartingPets);
  const toStart = waiting ? 0 : Math.min(missing, room, stepRoom);
  for (let n = 0; n < toStart; n++)
    actions.push({ kind: 'start', reason: outdated.length > 0 ? 'rolling update' : 'scale out' });

  // Retire outdated instances without dropping below `replicas - maxUnavailable` serving.
  // Those that don't serve cost nothing to remove; serving ones only while the rest cover.
  let canRetire = desired ? Math.max(0, serving.length - (replicas - unavailable)) : Infinity;
  for (const i of byUsefulness(outdated)) {
    if (i.phase === 'running') {
      if (canRetire <= 0) break;
      canRetire--;
    }
    actions.push({
      kind: 'stop',
      id: i.id,
      reason: desired ? 'replaced by the updated version' : 'service removed',
    });
  }

  const settled =
    actions.length === 0 &&
    exhausted.length === 0 &&
    outdated.length === 0 &&
    updated.length === replicas &&
    updated.every((i) => i.phase === 'running');
  return {
    actions,
    settled,
    progress: { desired: replicas, updated: keptUpdated, serving: serving.length, outdated: outdated.length },
    exhausted,
  };
}

/** `25%` of 4 → 1; percentages round up for surge and down for unavailability, as in Kubernetes. */
export function resolveBudget(value: number | string, replicas: number, round: 'up' | 'down'): number {
  if (typeof value === 'number') return value;
  const fraction = (Number(value.slice(0, -1)) / 100) * replicas;
  return round === 'up' ? Math.ceil(fraction) : Math.floor(fraction);
}

const USEFULNESS: Record<ObservedPhase, number> = {
  failed: 0,
  stopped: 0,
  draining: 1,
  unhealthy: 2,
  provisioning: 3,
  starting: 4,
  ready: 5,
  running: 6,
};

/** Least useful first: what to stop when something must go. Ties by id, for determinism. */
function byUsefulness(list: readonly ObservedInstance[]): ObservedInstance[] {
  return [...list].sort((a, b) => USEFULNESS[a.phase] - USEFULNESS[b.phase] || a.id.localeCompare(b.id));
}
