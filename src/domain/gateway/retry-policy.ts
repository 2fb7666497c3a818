// When a failed attempt may be tried again. Retries multiply load exactly when a service
// is struggling, so they are bounded three ways: only idempotent requests; a budget, as in
// Finagle: over a sliding window, retries may be at most a share of the requests, plus a
// small allowance per second so that low traffic can still retry (a burst of failures from
// one dying instance is absorbed, a retry storm is not); and the request's one deadline,
// which every attempt and every backoff shares.
import type { Random } from './balancers.ts';

/** The budget's memory: requests and retries older than this no longer count. */
export const RETRY_WINDOW_MS = 10_000;
/** Retries per second always allowed, however little traffic there is. */
export const MIN_RETRIES_PER_SECOND = 3;

const BUCKETS = 10;

/** RFC 9110 §9.2.2. */
export function isIdempotent(method: string): boolean {
  switch (method) {
    case 'GET':
    case 'HEAD':
    case 'OPTIONS':
    case 'TRACE':
    case 'PUT':
    case 'DELETE':
      return true;
    default:
      return false;
  }
}

/**
 * Statuses retried by default: a proxy or the instance itself says it could not serve
 * (bad gateway, unavailable, gateway timeout), whatever the request was. A plain 500 is
 * not among them: it is usually this request failing the same way on every instance (a
 * bug, bad input), and retrying it multiplies the load of exactly the failing requests.
 * A route opts in to more statuses with `retryOn`.
 */
export const DEFAULT_RETRY_STATUSES: readonly number[] = [502, 503, 504];

/** Statuses a route may add to the defaults: answers another attempt may change. */
export function mayRetryOn(status: number): boolean {
  return (
    Number.isInteger(status) &&
    (status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599))
  );
}

/** The statuses one route retries: the defaults plus its own `retryOn`. */
export function retryStatuses(retryOn: readonly number[] | undefined): ReadonlySet<number> {
  return new Set([...DEFAULT_RETRY_STATUSES, ...(retryOn ?? []).filter(mayRetryOn)]);
}

/** Why an attempt ended without an answer, as far as retrying and counting are concerned. */
export const ATTEMPT_ERROR = {
  /**
   * The client's request cannot be sent as it is (a header or framing the upstream client
   * refuses): the client's fault, answered 400, never counted against the service.
   */
  request: 0,
  /** No connection was made: nothing reached the instance, so any request may go elsewhere. */
  connect: 1,
  /** The connection broke before an answer: retried (idempotent requests only). */
  reset: 2,
  /** Anything else (an invalid response, a body timeout): counted, not retried. */
  other: 3,
} as const;
export type AttemptError = (typeof ATTEMPT_ERROR)[keyof typeof ATTEMPT_ERROR];

/** Classifies the error code undici (or Node's socket) reported for an attempt. */
export function attemptErrorOf(code: string | undefined): AttemptError {
  switch (code) {
    case 'UND_ERR_INVALID_ARG':
    case 'UND_ERR_NOT_SUPPORTED':
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      return ATTEMPT_ERROR.request;
    case 'ECONNREFUSED':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
      return ATTEMPT_ERROR.connect;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
      return ATTEMPT_ERROR.reset;
    default:
      return ATTEMPT_ERROR.other;
  }
}

/**
 * Per service. Over the last RETRY_WINDOW_MS: retries ≤ budgetPercent of requests +
 * MIN_RETRIES_PER_SECOND × the window in seconds. Time is passed in, in milliseconds.
 */
export class RetryBudget {
  #percent: number;
  // The window as BUCKETS time slices, each remembering which slice-epoch it holds.
  readonly #requests = new Float64Array(BUCKETS);
  readonly #retries = new Float64Array(BUCKETS);
  readonly #epoch = new Float64Array(BUCKETS).fill(-Infinity);

  constructor(budgetPercent: number) {
    this.#percent = budgetPercent;
  }

  set budgetPercent(percent: number) {
    this.#percent = percent;
  }

  /** A request (not a retry) was sent to the service. */
  recordRequest(now: number): void {
    this.#requests[this.#slot(now)]!++;
  }

  /** Spends one retry if the budget has one. */
  tryAcquire(now: number): boolean {
    const current = this.#slot(now);
    const epoch = this.#epoch[current]!;
    let requests = 0;
    let retries = 0;
    for (let b = 0; b < BUCKETS; b++) {
      if (epoch - this.#epoch[b]! < BUCKETS) {
        requests += this.#requests[b]!;
        retries += this.#retries[b]!;
      }
    }
    const allowed =
      Math.floor((requests * this.#percent) / 100) + (MIN_RETRIES_PER_SECOND * RETRY_WINDOW_MS) / 1000;
    if (retries >= allowed) return false;
    this.#retries[current]!++;
    return true;
  }

  /** The bucket for `now`, emptied first if it still holds an older slice. */
  #slot(now: number): number {
    const epoch = Math.floor(now / (RETRY_WINDOW_MS / BUCKETS));
    const i = epoch % BUCKETS;
    if (this.#epoch[i] !== epoch) {
      this.#epoch[i] = epoch;
      this.#requests[i] = 0;
      this.#retries[i] = 0;
    }
    return i;
  }
}

/**
 * Exponential backoff with jitter: the n-th retry (from 1) waits between half and all of
 * base × 2^(n-1), capped at ten times the base, so retries from many requests spread out.
 */
export function retryBackoff(retry: number, baseMs: number, random: Random): number {
  const ceiling = Math.min(baseMs * 2 ** Math.max(0, retry - 1), baseMs * 10);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
