// The gateway's own answers, when it does not forward a request. Each is an RFC 9457
// problem with a stable `code`; `retryable` says whether the same request may succeed later
// (and goes with a Retry-After header). Separate from the API's catalogue (domain/errors.ts):
// these reach the architecture's clients, not Baton's users.

export const GATEWAY_PROBLEMS = {
  'bad-request': { status: 400, title: 'The request is malformed', retryable: false },
  'no-route': { status: 404, title: 'No route matches this request', retryable: false },
  'request-timeout': { status: 408, title: 'The request was not received in time', retryable: false },
  'payload-too-large': { status: 413, title: 'The request body is too large', retryable: false },
  'rate-limited': { status: 429, title: 'Too many requests', retryable: true },
  'headers-too-large': { status: 431, title: 'The request headers are too large', retryable: false },
  'upstream-failed': { status: 502, title: 'The service failed to answer', retryable: true },
  'no-healthy-instance': { status: 503, title: 'The service has no healthy instance', retryable: true },
  'no-matching-version': { status: 503, title: 'No instance runs the requested version', retryable: true },
  'circuit-open': { status: 503, title: 'The service is failing; requests are paused', retryable: true },
  'service-busy': { status: 503, title: 'The service has too many requests waiting', retryable: true },
  overloaded: { status: 503, title: 'The gateway is overloaded', retryable: true },
  'not-ready': { status: 503, title: 'The gateway has no routes yet', retryable: true },
  'upstream-timeout': { status: 504, title: 'The service did not answer in time', retryable: true },
  'fault-injected': { status: 0, title: 'A fault was injected for this request', retryable: true },
  internal: { status: 500, title: 'Internal error in the gateway', retryable: true },
} as const;

export type GatewayProblemCode = keyof typeof GATEWAY_PROBLEMS;

export interface GatewayProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: GatewayProblemCode;
  readonly detail: string;
  readonly requestId?: string | undefined;
}

/** `status` overrides the catalogue's (an injected fault chooses its own). */
export function gatewayProblem(
  code: GatewayProblemCode,
  detail: string,
  requestId?: string,
  status?: number,
): GatewayProblemBody {
  const entry = GATEWAY_PROBLEMS[code];
  return {
    type: `https://baton.dev/errors/gateway/${code}`,
    title: entry.title,
    status: status ?? entry.status,
    code,
    detail,
    ...(requestId !== undefined ? { requestId } : {}),
  };
}
