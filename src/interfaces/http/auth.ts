// Bearer tokens. The admin token (in .baton/token) may do everything. The instances Baton
// starts get a service token instead, derived from it: enough to find other services and to
// send spans, never to change the architecture, stop instances or read faults and events.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const digest = (token: string) => createHash('sha256').update(token).digest();

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * The service token of an admin token. Derived rather than stored, so that it stays the same
 * across restarts of the control plane (adopted instances keep theirs) and changes with it.
 */
export function serviceToken(adminToken: string): string {
  return createHmac('sha256', adminToken).update('baton service token v1').digest('base64url');
}

/** What a service token may call: discovery (and its watch), its config (and its watch), and OTLP span ingest. */
export function serviceMayCall(method: string, path: string): boolean {
  if (method === 'GET' || method === 'HEAD')
    return path.startsWith('/v1/discovery/') || path === '/v1/config/effective';
  return method === 'POST' && path === '/v1/traces';
}

export type Presented = 'admin' | 'service' | 'none';

/**
 * Which token an Authorization header carries. Compares digests, so that neither a token's
 * length nor its prefix leaks through timing; the expected ones are hashed once, here.
 */
export function tokenChecker(admin: string): (header: string | undefined) => Presented {
  const adminDigest = digest(admin);
  const serviceDigest = digest(serviceToken(admin));
  return (header) => {
    const presented = bearerToken(header);
    if (presented === undefined) return 'none';
    const presentedDigest = digest(presented);
    if (timingSafeEqual(presentedDigest, adminDigest)) return 'admin';
    return timingSafeEqual(presentedDigest, serviceDigest) ? 'service' : 'none';
  };
}
