// What a browser could be made to send. A page on another site can make the browser send
// requests to 127.0.0.1 (cross-site "simple" requests need no preflight), and a rebinding
// host name can make them same-origin to the page. So: the Host must be one this server
// answers for (an IP address, `localhost`, or a name it was told), and a write must come
// from no page or from this origin, with a content type no form can send.
import { isIP } from 'node:net';
import { BatonError } from '../../domain/errors.ts';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The content types a cross-site form or a no-cors fetch may send without a preflight. */
const SIMPLE_TYPES = new Set(['', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']);

export interface RequestGuardOptions {
  /** Host names (besides IP addresses and localhost) the API answers for: `--allowed-host`. */
  readonly allowedHosts: readonly string[];
}

/** Why a request must be refused before anything looks at it, or undefined. */
export function refusal(request: Request, options: RequestGuardOptions): BatonError | undefined {
  const url = new URL(request.url);
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (!hostAllowed(host, options.allowedHosts)) {
    return new BatonError('host-not-allowed', `this server does not answer for the host \`${host}\``, {
      hint: 'use its IP address or localhost, or start it with --allowed-host NAME to allow a name',
    });
  }
  if (READS.has(request.method)) return undefined;
  const site = request.headers.get('sec-fetch-site');
  const origin = request.headers.get('origin');
  if (
    (site !== null && site !== 'same-origin' && site !== 'none') ||
    (origin !== null && origin !== url.origin)
  ) {
    return new BatonError(
      'cross-site-refused',
      `a ${request.method} from ${origin ?? `a ${site} page`} was refused`,
      {
        hint: 'change Baton from its CLI, its dashboard or a script, not from another site’s page',
      },
    );
  }
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (request.method === 'POST' && SIMPLE_TYPES.has(type)) {
    return new BatonError(
      'unsupported-media-type',
      `a POST with content type \`${type || '(none)'}\` changes nothing here`,
      {
        hint: 'send application/json (a form or a plain-text body is what another site could send)',
      },
    );
  }
  return undefined;
}

export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  return isIP(host) !== 0 || host === 'localhost' || allowed.some((name) => name.toLowerCase() === host);
}
