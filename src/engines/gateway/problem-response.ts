// The gateway's HTTP edge of the error catalogue (src/domain/errors.ts, GATEWAY_ERRORS):
// the status of each code, and the RFC 9457 body the gateway answers with.
import { GATEWAY_ERRORS } from '../../domain/errors.ts';
import type { GatewayErrorCode } from '../../domain/errors.ts';

export const GATEWAY_STATUS: Record<GatewayErrorCode, number> = {
  'bad-request': 400,
  'no-route': 404,
  'undeclared-dependency': 403,
  'method-not-allowed': 405,
  'request-timeout': 408,
  'payload-too-large': 413,
  'rate-limited': 429,
  'headers-too-large': 431,
  'upstream-failed': 502,
  'no-healthy-instance': 503,
  'no-matching-version': 503,
  'circuit-open': 503,
  'service-busy': 503,
  overloaded: 503,
  'not-ready': 503,
  'upstream-timeout': 504,
  // An injected abort answers with the status the fault names; this is only its fallback.
  'fault-injected': 503,
  internal: 500,
};

export interface GatewayProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: GatewayErrorCode;
  readonly detail: string;
  readonly requestId?: string | undefined;
}

/** `status` overrides the catalogue's (an injected fault chooses its own). */
export function gatewayProblem(
  code: GatewayErrorCode,
  detail: string,
  requestId?: string,
  status?: number,
): GatewayProblemBody {
  return {
    type: `https://baton.dev/errors/${code}`,
    title: GATEWAY_ERRORS[code].title,
    status: status ?? GATEWAY_STATUS[code],
    code,
    detail,
    ...(requestId !== undefined ? { requestId } : {}),
  };
}
