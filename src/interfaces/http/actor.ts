// Who a mutation is by. Today the client names itself (the body's `author`, or the
// x-baton-author header); with authenticated identities this one function returns the
// token's identity instead, and every route that records an actor follows.
import type { Context } from 'hono';

export function requestActor(c: Context, claimed?: string): string {
  return claimed ?? c.req.header('x-baton-author') ?? 'anonymous';
}
