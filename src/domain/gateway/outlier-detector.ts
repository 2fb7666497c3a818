// Passive health: an endpoint that fails several requests in a row is taken out of the
// rotation for a while, longer each time it happens again (as Envoy's outlier detection).
// Two guards keep it from making things worse: at most a share of a service's endpoints
// may be ejected, and when too few usable endpoints remain (panic) every endpoint is used,
// since spreading load over sick instances beats crushing the few healthy ones.
import type { TrafficPolicy } from './snapshot.ts';

export type OutlierPolicy = TrafficPolicy['outlierDetection'];

/** Ejections never last longer than this, however often they repeat (unless the base does). */
export const MAX_EJECTION_MS = 300_000;

/** Mutable, one per endpoint; survives snapshots for as long as the endpoint does. */
export interface OutlierState {
  consecutiveFailures: number;
  /** 0 when not ejected. */
  ejectedUntil: number;
  /** Ejections so far, decayed while the endpoint behaves; sets the next ejection's length. */
  ejections: number;
  /** When the last ejection ended (or would have): the decay counts from there. */
  lastEjectionEnd: number;
}

export function newOutlierState(): OutlierState {
  return { consecutiveFailures: 0, ejectedUntil: 0, ejections: 0, lastEjectionEnd: 0 };
}

export function recordSuccess(state: OutlierState): void {
  state.consecutiveFailures = 0;
}

/**
 * Counts a 5xx or connect failure. Returns the ejection's end time when this failure ejects
 * the endpoint, else 0. `ejectedNow` and `total` describe the service's endpoints, for the
 * cap on the share ejected.
 */
export function recordFailure(
  state: OutlierState,
  policy: OutlierPolicy,
  now: number,
  ejectedNow: number,
  total: number,
): number {
  if (state.ejectedUntil > now) return 0;
  state.consecutiveFailures++;
  if (state.consecutiveFailures < policy.consecutiveFailures) return 0;
  if (!mayEject(policy.maxEjectedPercent, ejectedNow, total)) return 0;
  const base = policy.ejectionTimeMs;
  if (state.ejections > 0 && base > 0) {
    // One step of the multiplier is forgiven per base interval of good behaviour.
    const forgiven = Math.floor(Math.max(0, now - state.lastEjectionEnd) / base);
    state.ejections = Math.max(0, state.ejections - forgiven);
  }
  state.ejections++;
  const duration = Math.min(base * state.ejections, Math.max(base, MAX_EJECTION_MS));
  state.ejectedUntil = now + duration;
  state.lastEjectionEnd = state.ejectedUntil;
  state.consecutiveFailures = 0;
  return state.ejectedUntil;
}

export function isEjected(state: OutlierState, now: number): boolean {
  return state.ejectedUntil > now;
}

/** Ends an ejection whose time is up; true if it did. */
export function releaseIfDue(state: OutlierState, now: number): boolean {
  if (state.ejectedUntil === 0 || state.ejectedUntil > now) return false;
  state.ejectedUntil = 0;
  state.consecutiveFailures = 0;
  return true;
}

/** At least one endpoint may always be ejected (unless the share is 0), as in Envoy. */
export function mayEject(maxEjectedPercent: number, ejectedNow: number, total: number): boolean {
  if (maxEjectedPercent <= 0 || total === 0) return false;
  const cap = Math.max(1, Math.floor((total * maxEjectedPercent) / 100));
  return ejectedNow + 1 <= cap;
}

/** Below the panic threshold of usable endpoints, the balancer uses all of them. */
export function inPanic(panicThresholdPercent: number, usable: number, total: number): boolean {
  if (total === 0) return false;
  return (usable * 100) / total < panicThresholdPercent;
}
