// The door instances in containers knock on. They cannot reach the API on the host's
// loopback, and the API must never be reachable where they are: so a second listener, on the
// address instances share with the host (a bridge network's gateway), serves only what a
// service token may call — discovery and span ingest — and only to a service's own token.
// Everything else is 404 there, whatever token comes with it: no admin work through this door.
import { BatonError } from '../../domain/errors.ts';
import { scopeAllows, type Principal } from '../../domain/identity/principal.ts';
import { bearerToken } from '../../engines/identity/credentials.ts';
import type { Authenticator } from './app.ts';
import { problemResponse } from './problem.ts';

const SERVICE_SCOPE: Principal = { kind: 'service', service: '' };

export function instanceFacing(
  fetch: (request: Request, env?: unknown) => Response | Promise<Response>,
  identities: Authenticator,
): (request: Request, env?: unknown) => Promise<Response> {
  return async (request, env) => {
    const path = new URL(request.url).pathname;
    if (!scopeAllows(SERVICE_SCOPE, request.method, path)) {
      return problemResponse(
        new BatonError('not-found', `${request.method} ${path} is not served to instances`, {
          hint: 'instances may use discovery (GET /v1/discovery/…), read their config (GET /v1/config/effective) and send spans (POST /v1/traces)',
        }),
        path,
      );
    }
    const caller = await identities.authenticate(
      bearerToken(request.headers.get('authorization') ?? undefined),
    );
    if (caller?.kind !== 'service') {
      return problemResponse(
        new BatonError('unauthorized', "instances must present their service's token (BATON_TOKEN)"),
        path,
      );
    }
    return fetch(request, env);
  };
}
