// A dedicated connection that LISTENs for the store's commit notifications, so that every
// control-plane replica hears about events written by any of them. A LISTEN connection
// that drops loses the notifications sent meanwhile: it reconnects with backoff and then
// calls `onReconnect`, so that the store can announce the current seq and watchers re-read.
import pg from 'pg';

export interface EventListenerOptions {
  readonly connectionString: string;
  /** A validated identifier: it is written into the LISTEN statement. */
  readonly channel: string;
  readonly onNotify: (lastSeq: number) => void;
  readonly onReconnect: () => void;
}

export interface EventListener {
  close(): Promise<void>;
}

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/** Resolves once LISTEN is in place: any commit after that is heard. */
export async function listenForEvents(options: EventListenerOptions): Promise<EventListener> {
  let closed = false;
  let retryMs = FIRST_RETRY_MS;
  let retryTimer: NodeJS.Timeout | undefined;
  let current: pg.Client | undefined;

  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: options.connectionString });
    client.on('notification', ({ channel, payload }) => {
      if (channel === options.channel && payload) options.onNotify(Number(payload));
    });
    client.on('error', () => lost(client));
    client.on('end', () => lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${options.channel}`);
      return client;
    } catch (error) {
      client.end().catch(() => {}); // already broken; the error that matters is `error`
      throw error;
    }
  };

  const lost = (client: pg.Client) => {
    if (closed || client !== current) return;
    current = undefined;
    client.end().catch(() => {});
    retryLater();
  };

  const retryLater = () => {
    retryTimer = setTimeout(() => void reconnect(), retryMs);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  };

  const reconnect = async () => {
    retryTimer = undefined;
    let client: pg.Client;
    try {
      client = await connect();
    } catch {
      if (!closed) retryLater();
      return;
    }
    if (closed) {
      await client.end();
      return;
    }
    current = client;
    retryMs = FIRST_RETRY_MS;
    options.onReconnect();
  };

  current = await connect();
  return {
    close: async () => {
      if (closed) return;
      closed = true;
      clearTimeout(retryTimer);
      const client = current;
      current = undefined;
      await client?.end();
    },
  };
}
