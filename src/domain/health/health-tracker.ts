// The health of one instance, folded from probe results. Pure: the caller owns the timers
// and the clock, and hands in each result with the time it was taken.
//
// Readiness and liveness follow different rules, as in Kubernetes' startup/readiness/
// liveness probes:
// - before an instance is first ready, it is given `startupGrace` to come up: failures in
//   that window only reset its progress; after it, `failureThreshold` consecutive failures
//   give up on it (`startup-failed`, terminal: the controller replaces or restarts it, and a
//   restarted process gets a fresh state);
// - once it has been ready, `failureThreshold` consecutive failures make it unhealthy and
//   `successThreshold` consecutive successes make it healthy again.
import type { ServiceSpec } from '../manifest/model.ts';
import { ServiceSchema } from '../manifest/schema.ts';
import { parseDuration } from './duration.ts';

export type HealthSpec = NonNullable<ServiceSpec['health']>;

export interface HealthPolicy {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly failureThreshold: number;
  readonly successThreshold: number;
  readonly startupGraceMs: number;
}

/**
 * What a service without a `health` section gets: the schema's own defaults and no probe
 * kind, which `probeTarget` turns into a TCP connect on the primary port — a process that
 * listens is the least we can check without knowing anything about it. Derived from the
 * schema so the defaults are written down once.
 */
export const DEFAULT_HEALTH: HealthSpec = ServiceSchema.shape.health.unwrap().parse({});

export function healthPolicy(health: HealthSpec | undefined): HealthPolicy {
  const spec = health ?? DEFAULT_HEALTH;
  return {
    intervalMs: parseDuration(spec.interval),
    timeoutMs: parseDuration(spec.timeout),
    failureThreshold: spec.failureThreshold,
    successThreshold: spec.successThreshold,
    startupGraceMs: parseDuration(spec.startupGrace),
  };
}

/**
 * How long an instance that served may stay unhealthy (out of discovery) before it is
 * replaced or restarted: long enough for a blip (a GC pause, a slow dependency) to pass.
 */
export function unhealthyGraceMs(policy: HealthPolicy): number {
  return Math.max(5_000, 2 * policy.failureThreshold * policy.intervalMs);
}

export const HEALTH_STATUSES = {
  /** Not ready yet; within or past its startup grace. */
  starting: 'starting',
  /** Ready: receives traffic. */
  healthy: 'healthy',
  /** Was ready, now failing its probe. */
  unhealthy: 'unhealthy',
  /** Never became ready; terminal. */
  failed: 'failed',
} as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[keyof typeof HEALTH_STATUSES];

export type HealthChange = 'ready' | 'unhealthy' | 'recovered' | 'startup-failed';

export interface ProbeObservation {
  readonly ok: boolean;
  /** Epoch milliseconds. */
  readonly at: number;
  readonly detail?: string | undefined;
}

export interface HealthState {
  readonly status: HealthStatus;
  /** Epoch milliseconds; the startup grace runs from here. */
  readonly startedAt: number;
  /** Consecutive successes so far. */
  readonly successes: number;
  /** Consecutive failures that count (those inside the startup grace do not). */
  readonly failures: number;
  readonly lastProbe?: ProbeObservation | undefined;
}

export interface HealthStep {
  readonly state: HealthState;
  readonly change?: HealthChange | undefined;
}

export function initialHealth(startedAt: number): HealthState {
  return { status: HEALTH_STATUSES.starting, startedAt, successes: 0, failures: 0 };
}

/** Whether the instance should receive traffic. */
export function isReady(state: HealthState): boolean {
  return state.status === HEALTH_STATUSES.healthy;
}

export function recordProbe(state: HealthState, result: ProbeObservation, policy: HealthPolicy): HealthStep {
  const lastProbe: ProbeObservation = { ok: result.ok, at: result.at, detail: result.detail };
  if (state.status === HEALTH_STATUSES.failed) return { state: { ...state, lastProbe } };

  if (result.ok) {
    const next: HealthState = { ...state, successes: state.successes + 1, failures: 0, lastProbe };
    if (next.successes < policy.successThreshold) return { state: next };
    if (state.status === HEALTH_STATUSES.starting) {
      return { state: { ...next, status: HEALTH_STATUSES.healthy }, change: 'ready' };
    }
    if (state.status === HEALTH_STATUSES.unhealthy) {
      return { state: { ...next, status: HEALTH_STATUSES.healthy }, change: 'recovered' };
    }
    return { state: next };
  }

  const inGrace =
    state.status === HEALTH_STATUSES.starting && result.at < state.startedAt + policy.startupGraceMs;
  const next: HealthState = { ...state, successes: 0, failures: inGrace ? 0 : state.failures + 1, lastProbe };
  if (next.failures < policy.failureThreshold) return { state: next };
  if (state.status === HEALTH_STATUSES.starting) {
    return { state: { ...next, status: HEALTH_STATUSES.failed }, change: 'startup-failed' };
  }
  if (state.status === HEALTH_STATUSES.healthy) {
    return { state: { ...next, status: HEALTH_STATUSES.unhealthy }, change: 'unhealthy' };
  }
  return { state: next };
}
