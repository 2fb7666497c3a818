// config.get / config.watch for a service Baton runs: its config pushed over a stream the
// moment a release changes it, and a cache on disk that an instance starts from when the
// control plane cannot be reached. Identity and address come from the BATON_* variables; with
// several replicas in BATON_SERVER the stream moves to the next when its replica dies (the
// first message on any replica is the whole config, so nothing is missed).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Replicas, serverList } from './servers.ts';
import { sseMessages } from './sse.ts';

export type ConfigValue = string | number | boolean;
export type ConfigValues = Readonly<Record<string, ConfigValue>>;

export interface ConfigOptions {
  /** One URL or several replicas' comma-separated; default BATON_SERVER. */
  readonly server?: string | undefined;
  readonly token?: string | undefined;
  readonly service?: string | undefined;
  readonly version?: string | undefined;
  readonly instance?: string | undefined;
  /** Where the last config is kept; default `<BATON_HOME>/config-cache/<service>@<version>.json`. */
  readonly cacheFile?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
}

export interface Config {
  /** `live` once the control plane answered; `cache` when it started from the cache; `empty` with neither. */
  readonly ready: Promise<'live' | 'cache' | 'empty'>;
  readonly release: number;
  get(key: string): ConfigValue | undefined;
  all(): ConfigValues;
  /**
   * A secret the service's env refers to, when the service declares `config.secrets: push`:
   * the value now, rotations included (watch listeners are called on each). Never cached on disk.
   */
  secret(name: string): string | undefined;
  /** Called with every new config (not with the current one); returns the unsubscribe. */
  watch(listener: (values: ConfigValues, release: number) => void): () => void;
  close(): void;
}

const MAX_BACKOFF_MS = 30_000;

export function connectConfig(options: ConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const urls = serverList(options.server ?? env['BATON_SERVER']);
  const replicas = urls.length > 0 ? new Replicas(urls) : undefined;
  const service = options.service ?? env['BATON_SERVICE'] ?? '';
  const version = options.version ?? env['BATON_VERSION'] ?? '';
  const instance = options.instance ?? env['BATON_INSTANCE'];
  const token = options.token ?? env['BATON_TOKEN'];
  const cacheFile =
    options.cacheFile ?? join(env['BATON_HOME'] ?? tmpdir(), 'config-cache', `${service}@${version}.json`);
  const listeners = new Set<(values: ConfigValues, release: number) => void>();
  const abort = new AbortController();
  let values: ConfigValues = {};
  let secrets: Readonly<Record<string, string>> = {};
  let release = 0;
  const { promise: ready, resolve: settle } = Promise.withResolvers<'live' | 'cache' | 'empty'>();

  const apply = (
    next: { release: number; values: ConfigValues; secrets?: Record<string, string> },
    from: 'live' | 'cache',
  ) => {
    const nextSecrets = next.secrets ?? (from === 'cache' ? secrets : {});
    const changed = next.release !== release || JSON.stringify(nextSecrets) !== JSON.stringify(secrets);
    values = next.values;
    secrets = nextSecrets;
    release = next.release;
    settle(from);
    if (changed) for (const listener of listeners) listener(values, release);
  };

  const fromCache = async () => {
    try {
      apply(
        JSON.parse(await readFile(cacheFile, 'utf8')) as { release: number; values: ConfigValues },
        'cache',
      );
    } catch {
      settle('empty');
    }
  };

  const keep = async (next: { release: number; values: ConfigValues }) => {
    await mkdir(dirname(cacheFile), { recursive: true });
    const temporary = `${cacheFile}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(next));
    await rename(temporary, cacheFile);
  };

  let backoff = 500;
  const follow = async (server: string) => {
    const query = new URLSearchParams({ service, version, ...(instance ? { instance } : {}) });
    const response = await fetch(`${server}/v1/config/effective?${query}`, {
      headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal: abort.signal,
    });
    if (!response.ok || !response.body) throw new Error(`config stream: ${response.status}`);
    for await (const message of sseMessages(response.body as AsyncIterable<Uint8Array>)) {
      if (message.event !== 'config') continue;
      const next = JSON.parse(message.data) as {
        release: number;
        values: ConfigValues;
        secrets?: Record<string, string>;
      };
      replicas?.succeeded();
      backoff = 500;
      apply(next, 'live');
      // Secrets never touch the disk: the cache keeps the config alone.
      await keep({ release: next.release, values: next.values }).catch(() => {}); // a read-only disk costs the cache, not the config
    }
  };

  void (async () => {
    if (!replicas) return fromCache();
    while (!abort.signal.aborted) {
      try {
        await follow(replicas.current);
      } catch {
        if (abort.signal.aborted) return;
        if (release === 0) await fromCache();
      }
      if (abort.signal.aborted) return;
      // The next replica at once; after a whole round of them failed, a pause first.
      if (replicas.failed()) {
        await new Promise((resolve) => setTimeout(resolve, backoff).unref());
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  })();

  return {
    ready,
    get release() {
      return release;
    },
    get: (key) => values[key],
    all: () => values,
    secret: (name) => secrets[name],
    watch(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close: () => abort.abort(),
  };
}
