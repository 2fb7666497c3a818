// discovery.watch for a service Baton runs: the healthy endpoints of another service, pushed
// over the control plane's discovery watch the moment they change. With several replicas in
// BATON_SERVER it stays with one while it answers and moves to the next when it dies (a
// refused or reset connection, an error status, or silence past `idleMs`: the server sends a
// heartbeat every 15 s), resuming from the last sequence it accepted: it sends it as
// Last-Event-ID, and keeps its list when the replica it moved to lags behind it (an older
// sequence), until that replica has caught up and sends a newer one. Sequences are the
// cluster's (the shared registry's), so a list from one replica is never replaced by an older
// one from another.
import { Replicas, serverList } from './servers.ts';
import { sseMessages } from './sse.ts';

export interface Endpoint {
  readonly instance: string;
  readonly address: string;
  readonly port: number;
  readonly version: string;
}

export interface DiscoveryOptions {
  /** One URL or several replicas' comma-separated; default BATON_SERVER. */
  readonly server?: string | undefined;
  /** Default BATON_TOKEN (the service's own token may use discovery). */
  readonly token?: string | undefined;
  /** Only instances whose version satisfies this semver range. */
  readonly range?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Reconnect (to the next replica) when nothing, not even a heartbeat, came for this long. Default 40 s. */
  readonly idleMs?: number | undefined;
  /** Told of each connection: the replica, and the sequence it resumes from (0: none yet). */
  readonly onConnect?: ((server: string, resumeFrom: number) => void) | undefined;
  /** Told when a replica fails; the watch goes on with the next. Default: silence. */
  readonly onError?: ((message: string) => void) | undefined;
}

export interface DiscoveryWatch {
  /** Settles with the first list (never rejects; keeps trying meanwhile). */
  readonly ready: Promise<void>;
  /** The last list accepted. */
  endpoints(): readonly Endpoint[];
  /** Its sequence: where a resumed watch goes on from. */
  readonly seq: number;
  /** The replica watched now. */
  readonly server: string;
  /** Called with every new list (not with the current one); returns the unsubscribe. */
  watch(listener: (endpoints: readonly Endpoint[], seq: number) => void): () => void;
  close(): void;
}

const MAX_BACKOFF_MS = 5_000;

export function watchDiscovery(service: string, options: DiscoveryOptions = {}): DiscoveryWatch {
  const env = options.env ?? process.env;
  const urls = serverList(options.server ?? env['BATON_SERVER']);
  if (urls.length === 0) throw new Error('discovery needs the control plane: set BATON_SERVER');
  const replicas = new Replicas(urls);
  const token = options.token ?? env['BATON_TOKEN'];
  const idleMs = options.idleMs ?? 40_000;
  const abort = new AbortController();
  const listeners = new Set<(endpoints: readonly Endpoint[], seq: number) => void>();
  const { promise: ready, resolve: settle } = Promise.withResolvers<void>();
  let endpoints: readonly Endpoint[] = [];
  let seq = 0;
  /** What `seq` counts (the cluster, or one control plane's registry): only like compares with like. */
  let scope: string | undefined;
  let backoff = 250;

  const follow = async (url: string) => {
    const connection = new AbortController();
    const stop = () => connection.abort(new Error('closed'));
    abort.signal.addEventListener('abort', stop);
    let idle: NodeJS.Timeout | undefined;
    const awake = () => {
      clearTimeout(idle);
      idle = setTimeout(() => connection.abort(new Error(`silent for ${idleMs} ms`)), idleMs).unref();
    };
    try {
      awake();
      const query = options.range ? `?${new URLSearchParams({ version: options.range })}` : '';
      const response = await fetch(`${url}/v1/discovery/${encodeURIComponent(service)}${query}`, {
        headers: {
          accept: 'text/event-stream',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(seq > 0 ? { 'last-event-id': String(seq) } : {}),
        },
        signal: connection.signal,
      });
      if (!response.ok || !response.body) throw new Error(`${url}: discovery answered ${response.status}`);
      options.onConnect?.(url, seq);
      for await (const message of sseMessages(response.body as AsyncIterable<Uint8Array>, awake)) {
        if (message.event !== 'endpoints') continue;
        const next = JSON.parse(message.data) as {
          version: number;
          scope?: string;
          endpoints: Endpoint[];
        };
        replicas.succeeded();
        backoff = 250;
        // An older picture than one already accepted: this replica has not caught up yet.
        if (next.scope !== undefined && next.scope === scope && next.version < seq) continue;
        const changed = JSON.stringify(next.endpoints) !== JSON.stringify(endpoints);
        seq = next.version;
        scope = next.scope;
        endpoints = next.endpoints;
        settle();
        if (changed) for (const listener of listeners) listener(endpoints, seq);
      }
    } finally {
      clearTimeout(idle);
      abort.signal.removeEventListener('abort', stop);
    }
  };

  void (async () => {
    while (!abort.signal.aborted) {
      const url = replicas.current;
      try {
        await follow(url);
        if (!abort.signal.aborted) options.onError?.(`${url}: the discovery watch ended`);
      } catch (error) {
        if (abort.signal.aborted) return;
        options.onError?.(`${url}: ${(error as Error).message}`);
      }
      if (abort.signal.aborted) return;
      // The next replica at once; after a whole round of failures, a pause first.
      if (replicas.failed()) {
        await new Promise((resolve) => setTimeout(resolve, backoff).unref());
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  })();

  return {
    ready,
    endpoints: () => endpoints,
    get seq() {
      return seq;
    },
    get server() {
      return replicas.current;
    },
    watch(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close: () => abort.abort(),
  };
}
