// Store failures as coded errors that say whether to try again: `store-unavailable`
// (PostgreSQL restarting, a dropped connection, SQLite busy) is retryable, `store-failed`
// (a damaged database, a bug) is not; a conflict stays a StoreConflictError, which callers
// handle as the domain outcome it is. Each adapter says how to read its driver's errors;
// the wrapper applies that to every asynchronous method, present and future (of the Store,
// and of the PostgreSQL span store, whose outages are the same).
import { BatonError } from '../../domain/errors.ts';
import { StoreConflictError, type Store } from '../../ports/store.ts';

export type Classification = 'retryable' | 'terminal';

export function withCodedErrors<S extends object = Store>(
  store: S,
  classify: (error: unknown) => Classification,
  name: string,
): S {
  const coded = (error: unknown): unknown => {
    // A conflict is a domain outcome; a RangeError or TypeError is the caller's mistake.
    if (
      error instanceof StoreConflictError ||
      error instanceof BatonError ||
      error instanceof RangeError ||
      error instanceof TypeError
    )
      return error;
    const reason = error instanceof Error ? error.message : String(error);
    return classify(error) === 'retryable'
      ? new BatonError('store-unavailable', `the ${name} store is unavailable: ${reason}`, {
          hint: 'it is retried; check that the database is up and reachable',
          cause: error,
        })
      : new BatonError('store-failed', `the ${name} store failed: ${reason}`, { cause: error });
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (error) {
          throw coded(error);
        }
        return result instanceof Promise
          ? result.catch((error: unknown) => Promise.reject(coded(error)))
          : result;
      };
    },
  });
}

/** SQLSTATE classes and codes after which the same statement may succeed (PostgreSQL appendix A). */
const PG_RETRYABLE_STATES = /^(08|53|57P0[1-3]|40001|40P01|55P03)/;
const NODE_NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
/** node-postgres reports a dropped connection by message only. */
const PG_CONNECTION_MESSAGES =
  /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect/i;

export function classifyPostgresError(error: unknown): Classification {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (PG_RETRYABLE_STATES.test(code) || NODE_NETWORK.has(code)))
    return 'retryable';
  if (typeof message === 'string' && PG_CONNECTION_MESSAGES.test(message)) return 'retryable';
  return 'terminal';
}

/** SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL (primary result codes, in the low byte). */
const SQLITE_RETRYABLE = new Set([5, 6, 10, 13]);

export function classifySqliteError(error: unknown): Classification {
  const { errcode } = error as { errcode?: unknown };
  return typeof errcode === 'number' && SQLITE_RETRYABLE.has(errcode & 0xff) ? 'retryable' : 'terminal';
}
