// Server-Sent Events over the event log. The log's sequence number is the SSE id, so a
// client that reconnects with Last-Event-ID resumes exactly where it stopped.
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { EventQuery, Store } from '../../ports/store.ts';

const BATCH = 500;
/** Keeps idle connections alive through proxies that close silent ones. */
const HEARTBEAT_MS = 15_000;

export function streamEvents(c: Context, store: Store, query: EventQuery & { after: number }): Response {
  return streamSSE(c, async (stream) => {
    let cursor = query.after;
    let wake: (() => void) | undefined;
    const unsubscribe = store.onEvents(() => wake?.());
    const heartbeat = setInterval(() => void stream.write(': ping\n\n'), HEARTBEAT_MS).unref();
    stream.onAbort(() => {
      unsubscribe();
      clearInterval(heartbeat);
      wake?.();
    });
    try {
      while (!stream.aborted) {
        // Read the high-water mark first: everything up to it is committed, so once a short
        // batch has been sent the cursor can jump past events the filter skipped.
        const high = await store.lastEventSeq();
        const events = await store.readEvents({ ...query, after: cursor, limit: BATCH });
        for (const event of events) {
          await stream.writeSSE({ id: String(event.seq), event: 'event', data: JSON.stringify(event) });
          cursor = event.seq;
        }
        if (events.length === BATCH) continue;
        cursor = Math.max(cursor, high);
        await new Promise<void>((resolve) => {
          wake = resolve;
          // A commit between the read above and this subscription would otherwise be missed.
          void store.lastEventSeq().then((seq) => seq > cursor && resolve());
        });
        wake = undefined;
      }
    } finally {
      unsubscribe();
      clearInterval(heartbeat);
    }
  });
}
