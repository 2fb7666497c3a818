// The lifecycle of a service as a whole. Unlike an instance's, a service's phase is not set
// by hand: `serviceStatus` derives it from facts on every controller pass, and the
// controller records a transition whenever the derived phase changes. The table lists the
// changes a correct controller can produce; one missing from it means the controller
// skipped a step (offline straight to running without deploying) or acted on a service it
// was destroying.
import {
  checkTransition,
  type CauseRule,
  type StateMachine,
  type TransitionVerdict,
} from './transition-check.ts';

export const SERVICE_PHASES = {
  /** Being brought up from nothing (new in this revision, or back from offline). */
  deploying: 'deploying',
  /** Every desired instance is running the target version. */
  running: 'running',
  /** A rollout to a new version is in progress. */
  updating: 'updating',
  /** A rollout back to an earlier version is in progress. */
  'rolling-back': 'rolling-back',
  /** The instance count is changing (scale-out or scale-in). */
  scaling: 'scaling',
  /** Fewer instances of the target version running than desired, possibly none; the controller is still trying. */
  degraded: 'degraded',
  /**
   * Nothing running, and a pet has exhausted its restarts, or the instances keep dying before
   * they serve, or cannot start at all: a human must act.
   */
  failed: 'failed',
  /** Removed from the manifest; its instances are being taken down. */
  destroying: 'destroying',
  /** No instance wanted and none left. */
  offline: 'offline',
} as const;
export type ServicePhase = (typeof SERVICE_PHASES)[keyof typeof SERVICE_PHASES];

/** A service the controller has not acted on yet has no instances: it starts offline. */
export const INITIAL_SERVICE_PHASE: ServicePhase = SERVICE_PHASES.offline;

/** Why a service is in its phase: each names the `serviceStatus` rule that derived it. */
export const SERVICE_CAUSES = {
  deploy: 'deploy',
  rollout: 'rollout',
  rollback: 'rollback',
  scale: 'scale',
  destroy: 'destroy',
  converged: 'converged',
  'below-desired': 'below-desired',
  'restarts-exhausted': 'restarts-exhausted',
  /** Its instances keep dying before they serve; the controller backs off between attempts. */
  'crash-loop': 'crash-loop',
  /** It cannot start at all (command, script or folder missing); the controller stopped trying. */
  'cannot-start': 'cannot-start',
  /** Offline at the end of a destroy. */
  destroyed: 'destroyed',
  /** Offline because the manifest asks for zero instances. */
  'scaled-to-zero': 'scaled-to-zero',
} as const;
export type ServiceCause = (typeof SERVICE_CAUSES)[keyof typeof SERVICE_CAUSES];

const S = SERVICE_PHASES;

/**
 * Legal next phases. What shapes it (the operations are exclusive, one per service):
 * - offline comes back only through a deploy (or a scale, when orphans were adopted);
 * - only a destroy or a scale to zero reaches offline, or a service with nothing live left;
 * - a destroy ends offline, unless the service is declared again and redeployed;
 * - deploying is a start from nothing: entered from offline, from destroying (declared
 *   again) or from failed (a failed deploy retried), never from a serving phase.
 */
export const SERVICE_TRANSITIONS: Readonly<Record<ServicePhase, readonly ServicePhase[]>> = {
  offline: [S.deploying, S.scaling],
  deploying: [S.running, S.degraded, S.failed, S.updating, S.scaling, S.destroying, S.offline],
  running: [S.degraded, S.failed, S.updating, S['rolling-back'], S.scaling, S.destroying],
  degraded: [S.running, S.failed, S.updating, S['rolling-back'], S.scaling, S.destroying, S.offline],
  failed: [
    S.running,
    S.degraded,
    S.deploying,
    S.updating,
    S['rolling-back'],
    S.scaling,
    S.destroying,
    S.offline,
  ],
  updating: [S.running, S.degraded, S.failed, S['rolling-back'], S.scaling, S.destroying],
  'rolling-back': [S.running, S.degraded, S.failed, S.updating, S.scaling, S.destroying],
  scaling: [S.running, S.degraded, S.failed, S.updating, S['rolling-back'], S.destroying, S.offline],
  destroying: [S.offline, S.deploying],
};

/** The phase each cause leads to, from any phase the table allows. */
export const SERVICE_CAUSE_RULES: Readonly<Record<ServiceCause, CauseRule<ServicePhase>>> = {
  deploy: { to: [S.deploying] },
  rollout: { to: [S.updating] },
  rollback: { to: [S['rolling-back']] },
  scale: { to: [S.scaling] },
  destroy: { to: [S.destroying] },
  converged: { to: [S.running] },
  'below-desired': { to: [S.degraded] },
  'restarts-exhausted': { to: [S.failed] },
  'crash-loop': { to: [S.failed] },
  'cannot-start': { to: [S.failed] },
  destroyed: { to: [S.offline] },
  'scaled-to-zero': { to: [S.offline] },
};

const MACHINE: StateMachine<ServicePhase, ServiceCause> = {
  name: 'service',
  transitions: SERVICE_TRANSITIONS,
  causes: SERVICE_CAUSE_RULES,
};

/** Whether `from → to` for `cause` is legal; if not, the reason names the illegal request. */
export function transitionService(
  from: ServicePhase,
  to: ServicePhase,
  cause: ServiceCause,
): TransitionVerdict {
  return checkTransition(MACHINE, from, to, cause);
}

export function isServicePhase(value: string): value is ServicePhase {
  return Object.hasOwn(SERVICE_TRANSITIONS, value);
}
