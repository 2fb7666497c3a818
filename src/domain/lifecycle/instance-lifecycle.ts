// The lifecycle of one instance (one process or pod of a service). The table below is the
// whole truth: the controller asks `transitionInstance` before recording any change, and
// README.md draws the same table for users.
//
// Two invariants the table is shaped around:
// - `running` is the only phase in discovery. Entering it means "registered", leaving it
//   means "taken out", so the gateway never sees an instance that is not healthy.
// - A registered instance leaves only through `draining` (or by dying): stopping it
//   directly would cut requests in flight. Instances never registered stop directly.
import {
  checkTransition,
  type CauseRule,
  type StateMachine,
  type TransitionVerdict,
} from './transition-check.ts';

export const INSTANCE_PHASES = {
  /** Decided; resources and a port are being prepared. No process yet. */
  provisioning: 'provisioning',
  /** Process launched, not yet passing its readiness probe. */
  starting: 'starting',
  /** Readiness passed, not yet registered for traffic. */
  ready: 'ready',
  /** Registered and healthy: the only phase that receives traffic. */
  running: 'running',
  /** Liveness failing: out of discovery until it recovers or is replaced. */
  unhealthy: 'unhealthy',
  /** Deregistered; finishing in-flight work before it stops. */
  draining: 'draining',
  /** Gone on purpose. Terminal. */
  stopped: 'stopped',
  /**
   * Exited or could not start. Terminal for cattle (replaced by a new instance); a pet is
   * restarted in place, under the same id, by `failed → starting` (cause `restart`).
   */
  failed: 'failed',
} as const;
export type InstancePhase = (typeof INSTANCE_PHASES)[keyof typeof INSTANCE_PHASES];

/** Every instance record begins here, including one adopted after a control-plane restart. */
export const INITIAL_INSTANCE_PHASE: InstancePhase = INSTANCE_PHASES.provisioning;

export const INSTANCE_CAUSES = {
  /** The process was launched. */
  spawned: 'spawned',
  /**
   * A process found running (after a control-plane restart) was taken over instead of
   * launched. It goes through readiness again rather than being trusted blindly.
   */
  adopted: 'adopted',
  /** A failed pet is launched again in place; the controller counts these restarts. */
  restart: 'restart',
  'readiness-passed': 'readiness-passed',
  /** Added to discovery. */
  registered: 'registered',
  /** Liveness failed past its threshold (→ unhealthy), or for too long (→ failed). */
  'probe-failed': 'probe-failed',
  'probe-recovered': 'probe-recovered',
  /** The process exited without being asked to. */
  exited: 'exited',
  /** Could not be provisioned or launched, or never became ready in time. */
  'start-failed': 'start-failed',
  /** Taken down on request (an operator, or the controller for a reason not listed here). */
  'drain-requested': 'drain-requested',
  /** In-flight work finished (or the drain deadline passed) and the process was stopped. */
  drained: 'drained',
  /** Taken down because the service needs fewer instances. */
  'scale-in': 'scale-in',
  /** Taken down because an instance of another version replaces it (update or rollback). */
  rollout: 'rollout',
  /** An unhealthy cattle instance taken down because a fresh one replaces it. */
  replaced: 'replaced',
  /** Taken down because the service is being destroyed. */
  destroy: 'destroy',
} as const;
export type InstanceCause = (typeof INSTANCE_CAUSES)[keyof typeof INSTANCE_CAUSES];

const P = INSTANCE_PHASES;

/** Legal next phases. No phase goes to itself: a no-op is not a transition to record. */
export const INSTANCE_TRANSITIONS: Readonly<Record<InstancePhase, readonly InstancePhase[]>> = {
  provisioning: [P.starting, P.failed, P.stopped],
  starting: [P.ready, P.failed, P.stopped],
  ready: [P.running, P.unhealthy, P.failed, P.stopped],
  running: [P.unhealthy, P.draining, P.failed],
  unhealthy: [P.running, P.draining, P.stopped, P.failed],
  draining: [P.stopped, P.failed],
  stopped: [],
  // Only pets take this edge (the table does not know the mode; the controller does).
  failed: [P.starting],
};

// Every reason to take an instance down, whether it goes through draining or not.
const TAKE_DOWN: CauseRule<InstancePhase> = { to: [P.draining, P.stopped] };

/**
 * Where each cause may take an instance (within the table): a second check, so that every
 * recorded event carries a cause that makes sense, and a restart is always counted as one.
 */
export const INSTANCE_CAUSE_RULES: Readonly<Record<InstanceCause, CauseRule<InstancePhase>>> = {
  spawned: { from: [P.provisioning], to: [P.starting] },
  adopted: { from: [P.provisioning], to: [P.starting] },
  restart: { from: [P.failed], to: [P.starting] },
  'readiness-passed': { to: [P.ready] },
  registered: { from: [P.ready], to: [P.running] },
  'probe-failed': { from: [P.ready, P.running, P.unhealthy], to: [P.unhealthy, P.failed] },
  'probe-recovered': { from: [P.unhealthy], to: [P.running] },
  // No process exists while provisioning: nothing there can exit.
  exited: { from: [P.starting, P.ready, P.running, P.unhealthy, P.draining], to: [P.failed] },
  'start-failed': { from: [P.provisioning, P.starting], to: [P.failed] },
  'drain-requested': TAKE_DOWN,
  drained: { from: [P.draining], to: [P.stopped] },
  'scale-in': TAKE_DOWN,
  rollout: TAKE_DOWN,
  replaced: TAKE_DOWN,
  destroy: TAKE_DOWN,
};

const MACHINE: StateMachine<InstancePhase, InstanceCause> = {
  name: 'instance',
  transitions: INSTANCE_TRANSITIONS,
  causes: INSTANCE_CAUSE_RULES,
};

/** Whether `from → to` for `cause` is legal; if not, the reason names the illegal request. */
export function transitionInstance(
  from: InstancePhase,
  to: InstancePhase,
  cause: InstanceCause,
): TransitionVerdict {
  return checkTransition(MACHINE, from, to, cause);
}

export function isInstancePhase(value: string): value is InstancePhase {
  return Object.hasOwn(INSTANCE_TRANSITIONS, value);
}

/** Stopped or failed: no process to care for (a failed pet may still be restarted). */
export function isTerminalInstancePhase(phase: InstancePhase): boolean {
  return phase === P.stopped || phase === P.failed;
}
