// Every API call needs a token now, loopback included. Tests read the server's own: the
// bootstrap admin token it wrote to its state folder (what the CLI reads by itself), or
// the one a control plane started in process holds.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tokenDigest } from '../../src/engines/identity/credentials.ts';
import { Identities } from '../../src/engines/identity/identities.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { Store } from '../../src/ports/store.ts';

/** The admin token a server wrote to `<stateDir>/token`. */
export async function serverToken(stateDir: string): Promise<string> {
  return (await readFile(join(stateDir, 'token'), 'utf8')).trim();
}

/** A control plane started in process has a token unless it joined a cluster without a copy. */
function held(token: string | undefined): string {
  if (token === undefined) throw new Error('this control plane holds no bootstrap admin token');
  return token;
}

export function bearer(token: string | undefined): { authorization: string } {
  return { authorization: `Bearer ${held(token)}` };
}

/** `fetch` with the token (unless the request brings its own). */
export function authedFetch(
  token: string | undefined,
): (url: string, init?: RequestInit) => Promise<Response> {
  return (url, init = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${held(token)}`);
    return fetch(url, { ...init, headers });
  };
}

/** The bootstrap admin token of an API built in process. */
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/** Identities over a store, as the control plane wires them, with a known admin token. */
export function testIdentities(store: Store, adminToken = TEST_ADMIN_TOKEN): Identities {
  let n = 0;
  return new Identities({
    store,
    clock: systemClock,
    adminDigest: tokenDigest(adminToken),
    // As a database from before the keys were stored: derived from the admin token.
    serviceKey: adminToken,
    newSecret: () => `secret-${++n}-${Math.random().toString(36).slice(2)}`,
  });
}

type Requester = { request: (path: string, init?: RequestInit) => Response | Promise<Response> };

/** An in-process app whose requests carry `token` (the admin's by default), unless they bring their own. */
export function asCaller(app: Requester, token = TEST_ADMIN_TOKEN): Requester {
  return {
    request: (path, init = {}) => {
      const headers = new Headers(init.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
      return app.request(path, { ...init, headers });
    },
  };
}
