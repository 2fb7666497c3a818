// Game-day faults: for a share of a service's requests (optionally only under a path
// prefix), add a delay and/or answer with an error status instead of forwarding. Faults
// carry an expiry; an expired one is ignored here too, so a forgotten fault or a gateway
// cut off from the control plane never keeps breaking traffic.
import type { Random } from './balancers.ts';
import { routePrefix } from './route-table.ts';
import type { FaultInjection } from './snapshot.ts';

export interface CompiledFault {
  readonly id: string;
  readonly prefix: string;
  readonly delayMs: number;
  readonly delayPercent: number;
  readonly abortStatus: number;
  readonly abortPercent: number;
  readonly expiresAt: number;
}

export interface FaultDecision {
  readonly id: string;
  /** 0 for none. */
  readonly delayMs: number;
  /** 0 for none. */
  readonly abortStatus: number;
}

/** Per service, most specific prefix first; expired or unparseable faults are dropped. */
export function compileFaults(
  faults: readonly FaultInjection[],
  now: number,
): ReadonlyMap<string, readonly CompiledFault[]> {
  const byService = new Map<string, CompiledFault[]>();
  for (const fault of faults) {
    const expiresAt = Date.parse(fault.expiresAt);
    if (!(expiresAt > now)) continue;
    const list = byService.get(fault.service) ?? [];
    list.push({
      id: fault.id,
      prefix: routePrefix(fault.path ?? '/'),
      delayMs: fault.delay?.ms ?? 0,
      delayPercent: fault.delay?.percent ?? 0,
      abortStatus: fault.abort?.status ?? 0,
      abortPercent: fault.abort?.percent ?? 0,
      expiresAt,
    });
    byService.set(fault.service, list);
  }
  for (const list of byService.values()) list.sort((a, b) => b.prefix.length - a.prefix.length);
  return byService;
}

/**
 * The fault to apply to one request, if any: the most specific live fault whose prefix
 * matches the request's path (on a segment boundary), with its delay and abort each rolled
 * against their percentage. Undefined when nothing applies.
 */
export function decideFault(
  faults: readonly CompiledFault[] | undefined,
  path: string,
  now: number,
  random: Random,
): FaultDecision | undefined {
  if (faults === undefined) return undefined;
  for (const fault of faults) {
    if (fault.expiresAt <= now || !underPrefix(path, fault.prefix)) continue;
    const delayMs = fault.delayMs > 0 && random() * 100 < fault.delayPercent ? fault.delayMs : 0;
    const abortStatus = fault.abortStatus > 0 && random() * 100 < fault.abortPercent ? fault.abortStatus : 0;
    return delayMs === 0 && abortStatus === 0 ? undefined : { id: fault.id, delayMs, abortStatus };
  }
  return undefined;
}

function underPrefix(path: string, prefix: string): boolean {
  if (prefix === '/') return true;
  return path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 47);
}
