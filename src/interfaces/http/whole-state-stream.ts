// An SSE stream whose every message is the whole current state (endpoints, a gateway
// snapshot, an instance's config): a client that reconnects needs no history, since the first
// message after (re)connecting is the truth. Changes only mark the state dirty; the loop
// sends the latest once per wake, so a burst of changes costs one message, never a backlog.
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';

export interface WholeStateMessage {
  readonly id: string;
  readonly event: string;
  readonly data: string;
}

export interface WholeStateStream {
  /** Calls back on every change; returns the unsubscribe. */
  readonly subscribe: (changed: () => void) => () => void;
  /** The message for the state now, or undefined when there is nothing new to send. */
  readonly next: () => WholeStateMessage | undefined | Promise<WholeStateMessage | undefined>;
  /** Keeps idle streams alive through proxies that close silent connections. */
  readonly heartbeatMs?: number | undefined;
}

export function streamWholeState(c: Context, options: WholeStateStream): Response {
  return streamSSE(c, async (sse) => {
    let wake: (() => void) | undefined;
    let dirty = true;
    const unsubscribe = options.subscribe(() => {
      dirty = true;
      wake?.();
    });
    const heartbeat =
      options.heartbeatMs === undefined
        ? undefined
        : setInterval(() => void sse.write(': ping\n\n'), options.heartbeatMs).unref();
    sse.onAbort(() => {
      unsubscribe();
      clearInterval(heartbeat);
      wake?.();
    });
    try {
      while (!sse.aborted) {
        if (dirty) {
          dirty = false;
          const message = await options.next();
          if (message !== undefined) await sse.writeSSE(message);
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (dirty || sse.aborted) resolve();
        });
        wake = undefined;
      }
    } finally {
      unsubscribe();
      clearInterval(heartbeat);
    }
  });
}
