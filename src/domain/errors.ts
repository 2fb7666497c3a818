// One catalogue of coded errors. Domain and engines throw BatonError with a code from here;
// the HTTP edge maps codes to status codes (interfaces/http/problem.ts) and the CLI to exit
// codes. docs/errors.md documents every code, and a test keeps the two in step.
import type { Problem } from './problems.ts';

export const ERRORS = {
  'bad-request': { title: 'The request is malformed', retryable: false },
  unauthorized: { title: 'A valid bearer token is required', retryable: false },
  forbidden: { title: 'The token does not allow this', retryable: false },
  'host-not-allowed': { title: 'The request names a host this server does not answer for', retryable: false },
  'cross-site-refused': { title: 'A write from another site was refused', retryable: false },
  'headers-too-large': { title: 'The request headers are too large', retryable: false },
  'name-taken': { title: 'The name is already in use', retryable: false },
  'confirmation-required': { title: 'The change needs an explicit confirmation', retryable: false },
  'not-found': { title: 'No such resource', retryable: false },
  'unsupported-media-type': { title: 'Unsupported content type', retryable: false },
  'payload-too-large': { title: 'The request body is too large', retryable: false },
  'manifest-invalid': { title: 'The manifest is invalid', retryable: false },
  'manifest-too-large': { title: 'The manifest is too large', retryable: false },
  'revision-not-found': { title: 'No such revision', retryable: false },
  'service-not-found': { title: 'No such service', retryable: false },
  'no-revision': { title: 'Nothing has been applied yet', retryable: false },
  'service-unreachable': { title: 'No traffic reaches this service', retryable: false },
  'plan-breaks-ranges': { title: 'The rollout would break a dependency range', retryable: false },
  'rollback-refused': { title: 'No compatible rollback exists', retryable: false },
  'concurrent-change': { title: 'Another change was applied first', retryable: true },
  'runtime-refused': { title: 'The runtime cannot run this workload', retryable: false },
  'instance-unstartable': { title: 'The instance cannot be started', retryable: false },
  'instance-start-failed': { title: 'The instance failed to start', retryable: true },
  'store-unavailable': { title: 'The state store is unavailable', retryable: true },
  'store-failed': { title: 'The state store failed', retryable: false },
  'state-locked': { title: 'Another control plane is using this state', retryable: false },
  'leadership-lost': { title: 'This control plane is no longer the leader', retryable: true },
  'image-build-failed': { title: 'The image could not be built', retryable: false },
  'engine-unreachable': { title: 'The container engine does not answer', retryable: true },
  'secret-not-found': { title: 'No such secret', retryable: false },
  'secret-in-use': { title: 'The secret is referenced by running services', retryable: false },
  'secret-key-invalid': {
    title: 'The secrets key is missing, malformed or not the one that sealed them',
    retryable: false,
  },
  'config-invalid': { title: "The config release breaks a consuming service's schema", retryable: false },
  'config-release-not-found': { title: 'No such config release', retryable: false },
  'config-gray-pending': { title: 'A gray config release is in progress', retryable: false },
  'no-gray-release': { title: 'No gray config release is in progress', retryable: false },
  internal: { title: 'Internal error', retryable: true },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class BatonError extends Error {
  override readonly name = 'BatonError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  /** Located manifest problems, for `manifest-invalid`. */
  readonly problems: readonly Problem[];
  /** Extra machine-readable detail (a refused plan, a conflicting revision…). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: {
      hint?: string | undefined;
      problems?: readonly Problem[];
      details?: Record<string, unknown>;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.problems = options.problems ?? [];
    this.details = options.details;
  }

  get retryable(): boolean {
    return ERRORS[this.code].retryable;
  }
}

/**
 * Whether retrying the same thing cannot help (a coded error that is not retryable), as
 * Temporal's `nonRetryable`. Anything else — an uncoded error, a network blip — may pass.
 */
export function isTerminalError(error: unknown): boolean {
  return error instanceof BatonError && !error.retryable;
}

/**
 * The gateway's half of the catalogue: what it answers the architecture's clients when it
 * does not forward a request (or forwarding failed). A code both halves use means the same
 * thing in both. The gateway's HTTP edge (src/engines/gateway/problem-response.ts) maps
 * them to statuses, as interfaces/http/problem.ts does for the API's.
 */
export const GATEWAY_ERRORS = {
  'bad-request': ERRORS['bad-request'],
  'no-route': { title: 'No route matches this request', retryable: false },
  'method-not-allowed': { title: 'The gateway does not forward this method', retryable: false },
  'request-timeout': { title: 'The request was not received in time', retryable: false },
  'payload-too-large': ERRORS['payload-too-large'],
  'rate-limited': { title: 'Too many requests', retryable: true },
  'headers-too-large': { title: 'The request headers are too large', retryable: false },
  'upstream-failed': { title: 'The service failed to answer', retryable: true },
  'no-healthy-instance': { title: 'The service has no healthy instance', retryable: true },
  'no-matching-version': { title: 'No instance runs the requested version', retryable: true },
  'undeclared-dependency': {
    title: 'The caller does not declare this service in dependsOn',
    retryable: false,
  },
  'circuit-open': { title: 'The route is failing; requests are paused', retryable: true },
  'service-busy': { title: 'The service has too many requests waiting', retryable: true },
  overloaded: { title: 'The gateway is overloaded', retryable: true },
  'not-ready': { title: 'The gateway has no routes yet', retryable: true },
  'upstream-timeout': { title: 'The service did not answer in time', retryable: true },
  'fault-injected': { title: 'A fault was injected for this request', retryable: true },
  internal: ERRORS.internal,
} as const;

export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;
