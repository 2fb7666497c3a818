// One vocabulary of health for every page: a service phase or an instance phase becomes a
// health the console colours and names the same way everywhere (colour is never alone:
// every badge also says it in words).
import type { InstancePhase, ServiceState } from './api/types.ts';

export type Health = 'healthy' | 'progressing' | 'degraded' | 'failed' | 'offline' | 'unknown';

export const HEALTH_ORDER: readonly Health[] = [
  'failed',
  'degraded',
  'progressing',
  'offline',
  'unknown',
  'healthy',
];

export function serviceHealth(state: ServiceState | undefined): Health {
  if (!state) return 'unknown';
  switch (state.phase) {
    case 'running':
      return state.ready >= state.desired ? 'healthy' : 'degraded';
    case 'deploying':
    case 'updating':
    case 'rolling-back':
    case 'scaling':
      return 'progressing';
    case 'degraded':
      return 'degraded';
    case 'failed':
      return 'failed';
    case 'destroying':
    case 'offline':
      return 'offline';
  }
}

/** What the status badge says: the health, or the operation when one is under way. */
export function serviceLabel(state: ServiceState | undefined): string {
  if (!state) return 'Unknown';
  const health = serviceHealth(state);
  if (health === 'progressing') return capitalise(state.phase.replace('-', ' '));
  return capitalise(health);
}

export function instanceHealth(phase: InstancePhase): Health {
  switch (phase) {
    case 'running':
      return 'healthy';
    case 'provisioning':
    case 'starting':
    case 'ready':
      return 'progressing';
    case 'unhealthy':
      return 'degraded';
    case 'failed':
      return 'failed';
    case 'draining':
    case 'stopped':
      return 'offline';
  }
}

export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
