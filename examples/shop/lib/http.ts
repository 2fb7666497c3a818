// Calling another service: find it, send JSON, read JSON. Any HTTP status is an answer
// and comes back as a value; only "could not get an answer" throws (UpstreamError).
import { traceOutgoing } from '../../../packages/sdk/src/index.ts';
import { forget, resolve } from './discovery.ts';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

export interface CallOptions {
  readonly timeoutMs?: number;
  /** Extra headers, typically the request's `x-request-id` and `traceparent`. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface JsonReply<T = unknown> {
  readonly status: number;
  readonly ok: boolean;
  readonly body: T;
}

export type UpstreamFailure = 'undiscoverable' | 'unreachable' | 'timeout' | 'bad-response';

export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  readonly service: string;
  readonly failure: UpstreamFailure;

  constructor(service: string, failure: UpstreamFailure, message: string, options?: ErrorOptions) {
    super(message, options);
    this.service = service;
    this.failure = failure;
  }
}

const DEFAULT_TIMEOUT_MS = 2_000;

// Retrying is only safe when doing the call twice means the same as doing it once.
const IDEMPOTENT: ReadonlySet<Method> = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

export async function callJson<T = unknown>(
  service: string,
  method: Method,
  path: string,
  body?: unknown,
  { timeoutMs = DEFAULT_TIMEOUT_MS, headers = {} }: CallOptions = {},
): Promise<JsonReply<T>> {
  const attempts = IDEMPOTENT.has(method) ? 2 : 1;
  for (let attempt = 1; ; attempt++) {
    const base = await resolve(service).catch((error: unknown) => {
      throw new UpstreamError(service, 'undiscoverable', describe(error), { cause: error });
    });
    try {
      // The span covers the body too; its trace headers replace a forwarded `traceparent`.
      const { response, text } = await traceOutgoing(
        { method, url: `${base}${path}`, peerService: service },
        async (trace) => {
          const response = await fetch(`${base}${path}`, {
            method,
            headers: {
              accept: 'application/json',
              ...(body === undefined ? {} : { 'content-type': 'application/json' }),
              ...headers,
              ...trace,
            },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(timeoutMs),
          });
          return { response, text: await response.text() };
        },
        ({ response }) => response.status,
      );
      return { status: response.status, ok: response.ok, body: (text ? JSON.parse(text) : undefined) as T };
    } catch (error) {
      // A refused connection means the instance is gone: nothing was sent, so another
      // instance may take the call — re-resolved, since the cached list is stale.
      if (attempt < attempts && refused(error)) {
        forget(service);
        continue;
      }
      throw toUpstreamError(service, method, path, error);
    }
  }
}

function refused(error: unknown): boolean {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return cause?.code === 'ECONNREFUSED';
}

function toUpstreamError(service: string, method: string, path: string, error: unknown): UpstreamError {
  const call = `${method} ${service}${path}`;
  if (error instanceof SyntaxError) {
    return new UpstreamError(service, 'bad-response', `${call} did not answer JSON`, { cause: error });
  }
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    return new UpstreamError(service, 'timeout', `${call} timed out`, { cause: error });
  }
  return new UpstreamError(service, 'unreachable', `${call} failed: ${describe(error)}`, { cause: error });
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
