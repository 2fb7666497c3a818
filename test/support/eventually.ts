// The one way tests wait on real time: poll a check until it gives a value, failing with
// what was awaited (and the last error the check threw) at a deadline. The interval only
// paces the polling; nothing waits a fixed time to let something happen.
import assert from 'node:assert/strict';

export interface EventuallyOptions {
  /** What is awaited, for the failure: `revision 2 converges`. */
  readonly what: string;
  /** Default 10 s. */
  readonly timeoutMs?: number | undefined;
  /** Default 20 ms. */
  readonly intervalMs?: number | undefined;
}

/**
 * Resolves with the first value `check` returns other than undefined (or false); a throw
 * counts as not yet. `eventually(check, ms, what)` is short for `{ timeoutMs: ms, what }`.
 */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: EventuallyOptions | number,
  what?: string,
): Promise<T> {
  const {
    timeoutMs = 10_000,
    intervalMs = 20,
    what: awaited,
  } = typeof options === 'number' ? { timeoutMs: options, what: what ?? 'the condition' } : options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError === undefined ? '' : ` (last error: ${String(lastError)})`;
      assert.fail(`${awaited}: not within ${timeoutMs} ms${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
