// The HTTP edge of the error catalogue: status codes and RFC 9457 problem+json bodies.
// Domain errors know nothing of HTTP; this is the one place that maps them.
import type { BatonError } from '../../domain/errors.ts';
import { ERRORS, type ErrorCode } from '../../domain/errors.ts';

export const STATUS: Record<ErrorCode, number> = {
  'bad-request': 400,
  unauthorized: 401,
  forbidden: 403,
  'host-not-allowed': 403,
  'cross-site-refused': 403,
  'headers-too-large': 431,
  'name-taken': 409,
  'confirmation-required': 409,
  'not-found': 404,
  'unsupported-media-type': 415,
  'payload-too-large': 413,
  'manifest-invalid': 422,
  'manifest-too-large': 413,
  'revision-not-found': 404,
  'service-not-found': 404,
  'no-revision': 409,
  'service-unreachable': 409,
  'plan-breaks-ranges': 409,
  'rollback-refused': 409,
  'concurrent-change': 409,
  'runtime-refused': 422,
  'instance-unstartable': 422,
  'instance-start-failed': 503,
  'store-unavailable': 503,
  'store-failed': 500,
  'state-locked': 409,
  'leadership-lost': 503,
  'image-build-failed': 422,
  'engine-unreachable': 503,
  'secret-not-found': 404,
  'secret-in-use': 409,
  'secret-key-invalid': 500,
  'config-invalid': 422,
  'config-release-not-found': 404,
  'config-gray-pending': 409,
  'no-gray-release': 409,
  internal: 500,
};

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  hint?: string;
  problems?: unknown[];
  [extension: string]: unknown;
}

export function problemBody(error: BatonError, instance?: string): ProblemBody {
  return {
    type: `https://baton.dev/errors/${error.code}`,
    title: ERRORS[error.code].title,
    status: STATUS[error.code],
    code: error.code,
    detail: error.message,
    ...(error.hint ? { hint: error.hint } : {}),
    ...(error.problems.length > 0 ? { problems: [...error.problems] } : {}),
    ...(error.details ?? {}),
    ...(instance ? { instance } : {}),
  };
}

export function problemResponse(error: BatonError, instance?: string): Response {
  const body = problemBody(error, instance);
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (error.code === 'unauthorized') headers['www-authenticate'] = 'Bearer realm="baton"';
  return new Response(JSON.stringify(body), { status: body.status, headers });
}
