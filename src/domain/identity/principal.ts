// The authenticated caller of the API, and the name it acts under in revisions, events and
// the audit trail. The name comes from the credential, never from the request: a body's
// `author` or a header claiming to be someone is not looked at.
import type { Role } from './roles.ts';

export type Principal =
  /** A person (or a script acting for one): a named token with a role. */
  | { readonly kind: 'user'; readonly name: string; readonly role: Role }
  /** An instance of one service: discovery and its own spans, nothing else. */
  | { readonly kind: 'service'; readonly service: string }
  /** A gateway: snapshots, their watch, and spans. */
  | { readonly kind: 'gateway' };

/**
 * Names only Baton itself acts under (the controller's passes, rollouts, health, alerts).
 * No token may carry one, so no event or revision can be forged in their name.
 */
export const RESERVED_ACTORS: ReadonlySet<string> = new Set([
  'controller',
  'rollout',
  'health',
  'alerts',
  'gateway',
  'baton',
  'system',
]);

/** A token's name: what the audit trail shows. Letters, digits, `.`, `_`, `-`, `@`; 1–64. */
export const TOKEN_NAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/i;

export function tokenNameProblem(name: string): string | undefined {
  if (!TOKEN_NAME.test(name))
    return 'a token name is 1–64 letters, digits, `.`, `_`, `-` or `@`, starting with a letter or digit';
  if (RESERVED_ACTORS.has(name.toLowerCase()) || name.toLowerCase().startsWith('service:'))
    return `\`${name}\` is reserved for Baton's own actors`;
  return undefined;
}

/** The actor a principal's changes are recorded under. */
export function actorOf(principal: Principal): string {
  switch (principal.kind) {
    case 'user':
      return principal.name;
    case 'service':
      return `service:${principal.service}`;
    case 'gateway':
      return 'gateway';
  }
}

/**
 * What a service's or a gateway's token may call. Services: discovery (and its watch), their
 * effective config (and its watch) and span export; a gateway also its snapshot and the
 * snapshot's watch.
 */
export function scopeAllows(principal: Principal, method: string, path: string): boolean {
  if (principal.kind === 'user') return true;
  if (method === 'POST' && path === '/v1/traces') return true;
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (path.startsWith('/v1/discovery/')) return true;
  if (principal.kind === 'service' && path === '/v1/config/effective') return true;
  return principal.kind === 'gateway' && (path === '/v1/gateway/snapshot' || path === '/v1/gateway/watch');
}
