// The reconciler's decision: given what one service should be, what is observed of it and
// the time now, the next safe actions and when to look again. Pure and level-triggered: it
// looks only at the current state (each instance's phase and when it entered it), so
// running it again after a crash, a lost event or a resync decides the same thing.
//
// Rolling updates follow Kubernetes' Deployment arithmetic: never more than
// `desired + maxSurge` instances alive, never fewer than `desired - maxUnavailable` serving.
// Dead instances come back after an exponential backoff (restart-backoff.ts), pets in place
// and cattle as fresh instances that inherit the count, so a crash loop is never a spawn loop.
import { restartBackoffMs, type RestartPolicy } from './restart-backoff.ts';

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
  /**
   * The service declares a port with a fixed number, which two instances cannot hold at once:
   * a rollout stops the old instance first, and a new one starts only once the old one is
   * gone (not merely out of discovery).
   */
  readonly fixedPort?: boolean | undefined;
  /**
   * How long an instance may stay unhealthy (out of discovery) before it is replaced
   * (cattle) or restarted (pets). Undefined: never — a readiness probe only gates traffic.
   */
  readonly unhealthyGraceMs?: number | undefined;
}

export interface ObservedInstance {
  readonly id: string;
  readonly specHash: string;
  readonly phase: ObservedPhase;
  /** Restarts in a row: of this instance (pets), or of the ones it replaced (cattle). */
  readonly restarts: number;
  /** Epoch ms: when it entered its phase. */
  readonly sinceMs: number;
}

/** Why an instance is taken down; recorded as the cause of its transition. */
export type StopCause = 'scale-in' | 'rollout' | 'destroy' | 'replaced';

export type Action =
  | { readonly kind: 'start'; readonly reason: string }
  | { readonly kind: 'stop'; readonly id: string; readonly cause: StopCause; readonly reason: string }
  /** Pets only: start the same instance again, in place (its backoff is over). */
  | { readonly kind: 'restart'; readonly id: string; readonly reason: string }
  /** Cattle only: forget a dead instance and start a fresh one in its slot, one restart more (its backoff is over). */
  | { readonly kind: 'replace'; readonly id: string; readonly reason: string }
  /** Forget a dead instance nobody needs back. */
  | { readonly kind: 'forget'; readonly id: string; readonly reason: string }
  /** Pets only: unhealthy for too long — fail it (its process stops), to be restarted in place. */
  | { readonly kind: 'fail'; readonly id: string; readonly reason: string }
  /** It has served long enough: its restart count goes back to 0. */
  | { readonly kind: 'reset-restarts'; readonly id: string; readonly reason: string };

export interface StepInput {
  /** Undefined when the service is no longer in the architecture: everything goes. */
  readonly desired: DesiredService | undefined;
  readonly instances: readonly ObservedInstance[];
  readonly restart: RestartPolicy;
  /** Epoch ms. */
  readonly nowMs: number;
  /**
   * Services that must be ready first (dependency order, decided by the caller): while any
   * is listed, nothing of this service starts and nothing old is retired — its step has not
   * begun.
   */
  readonly waitingFor?: readonly string[] | undefined;
  /**
   * A canary step: at most this many instances of the desired spec while instances of an
   * older one are still serving. Undefined: as many as `replicas`.
   */
  readonly maxUpdated?: number | undefined;
  /**
   * The desired spec cannot start at all (a terminal start failure): like a wait, nothing
   * starts and nothing old is retired, until the spec changes.
   */
  readonly halted?: boolean | undefined;
}

export interface StepOutput {
  readonly actions: readonly Action[];
  /** Every desired instance runs the desired spec and serves; nothing else is alive or pending. */
  readonly settled: boolean;
  readonly progress: {
    readonly desired: number;
    readonly updated: number;
    readonly serving: number;
    readonly outdated: number;
  };
  /** Pets that exhausted their restarts: the service is failed until someone acts. */
  readonly exhausted: readonly string[];
  /** Dead instances waiting out their backoff, and when (epoch ms) each comes back. */
  readonly backingOff: readonly { readonly id: string; readonly atMs: number }[];
  /**
   * Look again after this many ms even if nothing else happens: a backoff, an unhealthy
   * grace or a stable period ends then. Undefined: only an event needs a new look.
   */
  readonly recheckInMs: number | undefined;
}

const ALIVE: ReadonlySet<ObservedPhase> = new Set([
  'provisioning',
  'starting',
  'ready',
  'running',
  'unhealthy',
]);

export function nextStep(input: StepInput): StepOutput {
  const { desired, instances, nowMs, restart: policy } = input;
  const actions: Action[] = [];
  const exhausted: string[] = [];
  const backingOff: { id: string; atMs: number }[] = [];
  const acted = new Set<string>();
  let recheckInMs: number | undefined;
  const recheck = (ms: number) => {
    recheckInMs = recheckInMs === undefined ? ms : Math.min(recheckInMs, ms);
  };
  const act = (action: Action) => {
    actions.push(action);
    if (action.kind !== 'start') acted.add(action.id);
  };
  const replicas = desired?.replicas ?? 0;
  const blocked = (input.waitingFor?.length ?? 0) > 0 || input.halted === true;

  const alive = instances.filter((i) => ALIVE.has(i.phase));
  const isCurrent = (i: ObservedInstance) => desired !== undefined && i.specHash === desired.specHash;
  const updated = alive.filter(isCurrent);
  const outdated = alive.filter((i) => !isCurrent(i));

  // Dead instances of the desired spec keep their slot while it is needed, and come back
  // once their backoff is over: pets in place, cattle as a fresh instance. Pets that used up
  // their restarts hold their place, failed, until someone acts: a pet is never silently
  // replaced. Everything else dead is forgotten.
  let pending = 0;
  for (const i of [...instances].sort((a, b) => a.id.localeCompare(b.id))) {
    if (i.phase !== 'failed') continue;
    if (!isCurrent(i) || updated.length + pending >= replicas) {
      act({ kind: 'forget', id: i.id, reason: 'exited, not needed' });
      continue;
    }
    pending++;
    if (desired!.mode === 'pet' && i.restarts >= policy.maxRestarts) {
      exhausted.push(i.id);
      continue;
    }
    const atMs = i.sinceMs + restartBackoffMs(i.restarts, policy);
    if (nowMs < atMs) {
      backingOff.push({ id: i.id, atMs });
      recheck(atMs - nowMs);
    } else if (!blocked) {
      act(
        desired!.mode === 'pet'
          ? { kind: 'restart', id: i.id, reason: 'pet exited: restart in place' }
          : { kind: 'replace', id: i.id, reason: 'cattle exited: replace it' },
      );
    }
  }

  // Unhealthy instances are out of discovery already; one that does not recover within the
  // grace is replaced (cattle) or restarted in place (pets): remove the unhealthy, start
  // healthy ones, as the seed asks.
  const grace = desired?.unhealthyGraceMs;
  if (grace !== undefined) {
    for (const i of updated) {
      if (i.phase !== 'unhealthy') continue;
      const inPhaseFor = nowMs - i.sinceMs;
      if (inPhaseFor < grace) recheck(grace - inPhaseFor);
      else if (desired!.mode === 'pet')
        act({ kind: 'fail', id: i.id, reason: `unhealthy for ${Math.round(inPhaseFor / 1000)} s` });
      else act({ kind: 'stop', id: i.id, cause: 'replaced', reason: 'unhealthy for too long' });
    }
  }

  // An instance that has served for the stable period gets its restart count back.
  for (const i of alive) {
    if (i.phase !== 'running' || i.restarts === 0) continue;
    const inPhaseFor = nowMs - i.sinceMs;
    if (inPhaseFor >= policy.stableAfterMs)
      act({ kind: 'reset-restarts', id: i.id, reason: 'served for the stable period' });
    else recheck(policy.stableAfterMs - inPhaseFor);
  }

  const serving = alive.filter((i) => i.phase === 'running');
  const surge = resolveBudget(desired?.maxSurge ?? 0, replicas, 'up');
  const unavailable = resolveBudget(desired?.maxUnavailable ?? 0, replicas, 'down');
  // A fixed port cannot be held twice: no surge, and the old one may go first. Otherwise
  // both zero would deadlock a rolling update; Kubernetes forbids it, Baton surges by one.
  const fixed = desired?.fixedPort === true;
  const maxSurge = fixed ? 0 : surge === 0 && unavailable === 0 ? 1 : surge;
  const maxUnavailable = fixed ? Math.max(1, unavailable) : unavailable;

  // Extra updated instances beyond the desired count (scale-in): the least useful go first.
  const extraUpdated = Math.max(0, updated.length + pending - replicas);
  for (const i of byUsefulness(updated).slice(0, extraUpdated)) {
    if (!acted.has(i.id))
      act({
        kind: 'stop',
        id: i.id,
        cause: desired ? 'scale-in' : 'destroy',
        reason: desired ? 'scale in' : 'service removed',
      });
  }
  const keptUpdated = updated.length - extraUpdated;

  // Scale out / roll forward: start updated instances within the surge budget. With a fixed
  // port, an instance on its way out still holds the port until it is gone.
  const holding = fixed ? instances.filter((i) => i.phase !== 'failed').length : alive.length;
  const missing = Math.max(0, replicas - keptUpdated - pending);
  const room = Math.max(0, replicas + maxSurge - (holding - extraUpdated) - pending);
  const stepRoom =
    input.maxUpdated === undefined || outdated.length === 0
      ? Infinity
      : Math.max(0, input.maxUpdated - keptUpdated - pending);
  const toStart = blocked ? 0 : Math.min(missing, room, stepRoom);
  for (let n = 0; n < toStart; n++)
    act({ kind: 'start', reason: outdated.length > 0 ? 'rolling update' : 'scale out' });

  // Retire outdated instances without dropping below `replicas - maxUnavailable` serving.
  // Those that don't serve cost nothing to remove; serving ones only while the rest cover.
  if (!blocked) {
    let canRetire = desired ? Math.max(0, serving.length - (replicas - maxUnavailable)) : Infinity;
    for (const i of byUsefulness(outdated)) {
      if (i.phase === 'running') {
        if (canRetire <= 0) break;
        canRetire--;
      }
      act({
        kind: 'stop',
        id: i.id,
        cause: desired ? 'rollout' : 'destroy',
        reason: desired ? 'replaced by the updated version' : 'service removed',
      });
    }
  }

  const settled =
    actions.every((a) => a.kind === 'reset-restarts') &&
    pending === 0 &&
    outdated.length === 0 &&
    updated.length === replicas &&
    updated.every((i) => i.phase === 'running');
  return {
    actions,
    settled,
    progress: { desired: replicas, updated: keptUpdated, serving: serving.length, outdated: outdated.length },
    exhausted,
    backingOff,
    recheckInMs,
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
