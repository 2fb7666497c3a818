// The door instances in containers knock on. They cannot reach the API on the host's
// loopback, and the API must never be reachable where they are: so a second listener, on the
// address instances share with the host (a bridge network's gateway), serves only what a
// service token may call — discovery and span ingest — and only to that token. Everything
// else is 404 there, whatever token comes with it: no admin work through this door.
import { BatonError } from '../../domain/errors.ts';
import { serviceMayCall, tokenChecker } from './auth.ts';
import { problemResponse } from './problem.ts';

export function instanceFacing(
  fetch: (request: Request) => Response | Promise<Response>,
  adminToken: string,
): (request: Request) => Response | Promise<Response> {
  const presented = tokenChecker(adminToken);
  return (request) => {
    const path = new URL(request.url).pathname;
    if (!serviceMayCall(request.method, path)) {
      return problemResponse(
        new BatonError('not-found', `${request.method} ${path} is not served to instances`, {
          hint: 'instances may use discovery (GET /v1/discovery/…) and send spans (POST /v1/traces)',
        }),
        path,
      );
    }
    if (presented(request.headers.get('authorization') ?? undefined) !== 'service') {
      return problemResponse(
        new BatonError('unauthorized', 'instances must present their service token (BATON_TOKEN)'),
        path,
      );
    }
    return fetch(request);
  };
}
