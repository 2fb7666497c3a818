// Where does a service live? An explicit override wins (running by hand, tests); then the
// address Baton gives every declared dependency (`PAYMENTS_URL`: the data plane, which
// balances, retries, traces and injects faults on the way); otherwise ask Baton's discovery
// API, which only lists instances that are registered and healthy (a control plane running
// no data plane, `baton up --no-gateway`).
import { traceDiscovery } from '../../../packages/sdk/src/index.ts';

/** One instance, as Baton's discovery API describes it. */
export interface Endpoint {
  readonly instance: string;
  readonly address: string;
  readonly port: number;
  readonly version: string;
}

export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError';
}

// Short enough that a replaced instance is noticed quickly, long enough that a busy
// service does not ask Baton on every call.
const CACHE_MS = 2_000;
const LOOKUP_TIMEOUT_MS = 2_000;

interface CacheEntry {
  readonly urls: Promise<readonly string[]>;
  readonly expiresAt: number;
}

const cache = new Map<string, CacheEntry>();
// Kept across lookups, so that the call after a refused one goes to the next instance
// even when Baton still lists the one that refused.
const turns = new Map<string, number>();

/** `BATON_ENDPOINT_<NAME>`: upper case, dashes become underscores. */
export function overrideVariable(service: string): string {
  return `BATON_ENDPOINT_${service.toUpperCase().replaceAll('-', '_')}`;
}

/** `PAYMENTS_URL`: what Baton names a dependency's stable address by default. */
export function addressVariable(service: string): string {
  return `${service.toUpperCase().replaceAll('-', '_')}_URL`;
}

/** The base URL of one instance of `service` (no trailing slash), round-robin across instances. */
export async function resolve(service: string): Promise<string> {
  const override = process.env[overrideVariable(service)];
  if (override) return override.replace(/\/+$/, '');
  const stable = process.env[addressVariable(service)];
  if (stable) return stable.replace(/\/+$/, '');

  const cached = cache.get(service);
  const entry =
    cached && cached.expiresAt > Date.now()
      ? cached
      : { urls: traceDiscovery(service, () => lookup(service)), expiresAt: Date.now() + CACHE_MS };
  cache.set(service, entry);
  // A failed lookup must not be cached: the next call asks again.
  const urls = await entry.urls.catch((error: unknown) => {
    if (cache.get(service) === entry) cache.delete(service);
    throw error;
  });
  const turn = turns.get(service) ?? 0;
  turns.set(service, turn + 1);
  return urls[turn % urls.length]!;
}

/** Drop what is cached for `service`, e.g. after its instance refused a connection. */
export function forget(service: string): void {
  cache.delete(service);
}

async function lookup(service: string): Promise<readonly string[]> {
  const server = process.env.BATON_SERVER;
  if (!server) {
    throw new DiscoveryError(
      `cannot find "${service}": set ${overrideVariable(service)} to its URL, or BATON_SERVER to Baton's API`,
    );
  }
  const token = process.env.BATON_TOKEN;
  const response = await fetch(`${server.replace(/\/+$/, '')}/v1/discovery/${encodeURIComponent(service)}`, {
    headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS),
  }).catch((error: unknown) => {
    throw new DiscoveryError(`cannot reach Baton at ${server} to find "${service}"`, { cause: error });
  });
  if (!response.ok) {
    throw new DiscoveryError(`Baton answered ${response.status} when asked for "${service}"`);
  }
  const { endpoints } = (await response.json()) as { endpoints?: readonly Endpoint[] };
  if (!endpoints?.length) throw new DiscoveryError(`no healthy instance of "${service}"`);
  return endpoints.map(
    ({ address, port }) => `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
  );
}
