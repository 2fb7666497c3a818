// Tokens that need no storage. A service's and the gateway's tokens are MACs under the server
// key: derived again after a restart (adopted instances keep theirs), checked by recomputing,
// and each names what it is for, so a service token can be told apart from another service's
// without a lookup. Every comparison is of equal-length digests, in constant time.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const SERVICE_PREFIX = 'bsvc.';
const GATEWAY_PREFIX = 'bgw.';
/** Named tokens: a recognisable prefix, so that secret scanners and people can spot one. */
export const NAMED_PREFIX = 'baton_';

/** Hex SHA-256: what the store keeps of a named token. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function mac(key: string, purpose: string): string {
  return createHmac('sha256', key).update(`baton v2\0${purpose}`).digest('base64url');
}

export function serviceToken(key: string, service: string): string {
  return `${SERVICE_PREFIX}${service}.${mac(key, `service\0${service}`)}`;
}

export function gatewayToken(key: string): string {
  return `${GATEWAY_PREFIX}${mac(key, 'gateway')}`;
}

export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** The service a well-formed service token claims (to be checked with `serviceToken`). */
export function claimedService(token: string): string | undefined {
  if (!token.startsWith(SERVICE_PREFIX)) return undefined;
  const rest = token.slice(SERVICE_PREFIX.length);
  const dot = rest.lastIndexOf('.');
  return dot > 0 ? rest.slice(0, dot) : undefined;
}

export function looksLikeGatewayToken(token: string): boolean {
  return token.startsWith(GATEWAY_PREFIX);
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
