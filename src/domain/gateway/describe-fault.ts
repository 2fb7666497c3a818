import type { FaultInjection } from './snapshot.ts';

/** One line for logs, events and `baton status`: `payments/api: abort 503 on 5% until …`. */
export function describeFault(fault: FaultInjection): string {
  const parts = [
    fault.delay ? `delay ${fault.delay.ms} ms on ${fault.delay.percent}%` : undefined,
    fault.abort ? `abort ${fault.abort.status} on ${fault.abort.percent}%` : undefined,
  ].filter(Boolean);
  return `${fault.service}${fault.path ?? ''}: ${parts.join(', ')} until ${fault.expiresAt}`;
}
