// One catalogue of coded errors. Domain and engines throw BatonError with a code from here;
// the HTTP edge maps codes to status codes (interfaces/http/problem.ts) and the CLI to exit
// codes. docs/errors.md documents every code, and a test keeps the two in step.
import type { Problem } from './problems.ts';

export const ERRORS = {
  'bad-request': { title: 'The request is malformed', retryable: false },
  unauthorized: { title: 'A valid bearer token is required', retryable: false },
  forbidden: { title: 'The token does not allow this', retryable: false },
  'not-found': { title: 'No such resource', retryable: false },
  'unsupported-media-type': { title: 'Unsupported content type', retryable: false },
  'payload-too-large': { title: 'The request body is too large', retryable: false },
  'manifest-invalid': { title: 'The manifest is invalid', retryable: false },
  'manifest-too-large': { title: 'The manifest is too large', retryable: false },
  'revision-not-found': { title: 'No such revision', retryable: false },
  'service-not-found': { title: 'No such service', retryable: false },
  'no-revision': { title: 'Nothing has been applied yet', retryable: false },
  'plan-breaks-ranges': { title: 'The rollout would break a dependency range', retryable: false },
  'rollback-refused': { title: 'No compatible rollback exists', retryable: false },
  'concurrent-change': { title: 'Another change was applied first', retryable: true },
  'runtime-refused': { title: 'The runtime cannot run this workload', retryable: false },
  'instance-unstartable': { title: 'The instance cannot be started', retryable: false },
  'instance-start-failed': { title: 'The instance failed to start', retryable: true },
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
