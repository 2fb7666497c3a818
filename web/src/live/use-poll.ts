// Figures that change by the second (traffic, traces) are read again on a timer rather than
// on events: the event log says when the architecture changes, not when a request passes.
// One request at a time, the next one `everyMs` after the previous answer; none while the
// tab is hidden; the last good answer stays on screen through a failed one.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, describeError } from '../api/client.ts';

export interface Polled<T> {
  /** The latest answer for the current key. */
  readonly data: T | undefined;
  /** The latest failure, until an answer succeeds. */
  readonly error: string | undefined;
  /** The HTTP status of that failure (404: not there, or telemetry is off). */
  readonly errorStatus: number | undefined;
  /** When `data` arrived (ms since the epoch). */
  readonly updatedAt: number | undefined;
  /** Reads again now. */
  readonly refresh: () => void;
}

interface Slot<T> {
  readonly key: string;
  readonly data: T | undefined;
  readonly error: string | undefined;
  readonly errorStatus: number | undefined;
  readonly updatedAt: number | undefined;
}

/**
 * Calls `load` now and every `everyMs` (0: once) while `key` stays the same; a new key starts
 * over with nothing shown. `key` undefined: nothing is loaded.
 */
export function usePoll<T>(
  key: string | undefined,
  load: (signal: AbortSignal) => Promise<T>,
  everyMs: number,
): Polled<T> {
  const loader = useRef(load);
  loader.current = load;
  const [slot, setSlot] = useState<Slot<T> | undefined>();
  const [nonce, setNonce] = useState(0);
  const refresh = useCallback(() => setNonce((n) => n + 1), []);

  useEffect(() => {
    if (key === undefined) return;
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let busy = false;
    let done = false;
    const run = async () => {
      timer = undefined;
      if (document.hidden) return; // resumed by visibilitychange
      busy = true;
      try {
        const data = await loader.current(abort.signal);
        if (abort.signal.aborted) return;
        setSlot({ key, data, error: undefined, errorStatus: undefined, updatedAt: Date.now() });
      } catch (error) {
        if (abort.signal.aborted) return;
        const status = error instanceof ApiError ? error.status : undefined;
        setSlot((old) => ({
          key,
          data: old?.key === key ? old.data : undefined,
          updatedAt: old?.key === key ? old.updatedAt : undefined,
          error: describeError(error),
          errorStatus: status,
        }));
      } finally {
        busy = false;
        done = true;
      }
      if (everyMs > 0 && !abort.signal.aborted) timer = setTimeout(() => void run(), everyMs);
    };
    const visible = () => {
      if (!document.hidden && !busy && timer === undefined && (everyMs > 0 || !done)) void run();
    };
    document.addEventListener('visibilitychange', visible);
    void run();
    return () => {
      abort.abort();
      if (timer !== undefined) clearTimeout(timer);
      document.removeEventListener('visibilitychange', visible);
    };
  }, [key, everyMs, nonce]);

  const current = slot !== undefined && slot.key === key ? slot : undefined;
  return {
    data: current?.data,
    error: current?.error,
    errorStatus: current?.errorStatus,
    updatedAt: current?.updatedAt,
    refresh,
  };
}
