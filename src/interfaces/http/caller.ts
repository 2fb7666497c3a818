// Who made the request being handled, and from where: set once by the app's authentication,
// read by the handlers that record an actor.
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { BatonError } from '../../domain/errors.ts';
import { actorOf, type Principal } from '../../domain/identity/principal.ts';

const KEY = 'principal';

export function setCaller(c: Context, principal: Principal): void {
  c.set(KEY, principal);
}

export function callerOf(c: Context): Principal {
  const principal = c.get(KEY) as Principal | undefined;
  if (principal === undefined)
    throw new BatonError('internal', 'a handler asked for the caller before authentication (a bug)');
  return principal;
}

/** The actor the caller's changes are recorded under: never a name the request claims. */
export function actor(c: Context): string {
  return actorOf(callerOf(c));
}

/** The peer's address, or `in-process` for a request that came through no socket. */
export function sourceOf(c: Context): string {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming?.socket.remoteAddress ?? 'in-process';
}
