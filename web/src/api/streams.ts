// Long-lived reads over fetch(): Server-Sent Events (with reconnect and Last-Event-ID, as
// EventSource would do, but with the Authorization header) and NDJSON log tails.
import { ApiError, type ApiClient } from './client.ts';
import { SseParser, type SseMessage } from './sse-parser.ts';

export type StreamState = 'connecting' | 'open' | 'retrying';

export interface StreamHandlers {
  readonly onMessage: (message: SseMessage) => void;
  readonly onState?: (state: StreamState) => void;
  /** A failure that retrying cannot fix (401, 404, …): the stream stops. */
  readonly onFatal?: (error: ApiError) => void;
}

const MIN_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

/** Status codes that will not change by asking again. */
const fatal = (status: number) => status === 401 || status === 403 || status === 404 || status === 400;

/**
 * Reads an SSE endpoint until `signal` aborts, reconnecting after any drop with the last
 * event id it saw, so the server resumes exactly where the stream stopped.
 */
export async function followEventStream(
  client: ApiClient,
  path: string,
  handlers: StreamHandlers,
  signal: AbortSignal,
  lastEventId = '',
): Promise<void> {
  let failures = 0;
  let parser = new SseParser(lastEventId);
  while (!signal.aborted) {
    handlers.onState?.(failures === 0 ? 'connecting' : 'retrying');
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (parser.lastEventId !== '') headers['last-event-id'] = parser.lastEventId;
      const response = await client.open(path, headers, signal);
      handlers.onState?.('open');
      failures = 0;
      parser = new SseParser(parser.lastEventId);
      await readText(response, signal, (text) => {
        for (const message of parser.feed(text)) handlers.onMessage(message);
      });
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && fatal(error.status)) {
        handlers.onFatal?.(error);
        return;
      }
    }
    if (signal.aborted) return;
    failures++;
    handlers.onState?.('retrying');
    const backoff = Math.min(MAX_RETRY_MS, MIN_RETRY_MS * 2 ** Math.min(failures, 5));
    await delay(parser.retry ?? backoff, signal);
  }
}

/** Splits text into lines across chunk boundaries; the last, unfinished line is held back. */
export class LineSplitter {
  #pending = '';

  feed(chunk: string): string[] {
    const text = this.#pending + chunk;
    const lines = text.split('\n');
    this.#pending = lines.pop() ?? '';
    return lines.filter((line) => line.length > 0);
  }
}

/**
 * Follows an NDJSON endpoint (the logs API). When the server ends the stream, it opens it
 * again with `resumeQuery` (e.g. `tail=0`: only new lines).
 */
export async function followNdjson<T>(
  client: ApiClient,
  path: string,
  resumePath: string,
  handlers: {
    onItem: (item: T) => void;
    onState?: (state: StreamState) => void;
    onFatal?: (e: ApiError) => void;
  },
  signal: AbortSignal,
): Promise<void> {
  let failures = 0;
  let next = path;
  while (!signal.aborted) {
    handlers.onState?.(failures === 0 ? 'connecting' : 'retrying');
    try {
      const response = await client.open(next, { accept: 'application/x-ndjson' }, signal);
      handlers.onState?.('open');
      failures = 0;
      next = resumePath;
      const splitter = new LineSplitter();
      await readText(response, signal, (text) => {
        for (const line of splitter.feed(text)) {
          try {
            handlers.onItem(JSON.parse(line) as T);
          } catch {
            // A torn or foreign line is skipped rather than ending the tail.
          }
        }
      });
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && fatal(error.status)) {
        handlers.onFatal?.(error);
        return;
      }
    }
    if (signal.aborted) return;
    failures++;
    handlers.onState?.('retrying');
    await delay(Math.min(MAX_RETRY_MS, MIN_RETRY_MS * 2 ** Math.min(failures, 5)), signal);
  }
}

async function readText(response: Response, signal: AbortSignal, onText: (text: string) => void) {
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const cancel = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', cancel, { once: true });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      onText(value);
    }
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
