// Choosing one endpoint among the usable ones. Each balancer can be told which endpoint
// just failed, and avoids it whenever there is another: a retry should not go back to the
// instance that caused it.
import type { LoadBalancing } from './snapshot.ts';

/** Uniform in [0, 1), like Math.random; injected so tests are deterministic. */
export type Random = () => number;

export interface BalancedEndpoint {
  /** Requests in flight to this endpoint (least-request reads it). */
  readonly active: number;
}

export interface Balancer<E extends BalancedEndpoint> {
  /**
   * One of `usable`, never `avoid` unless it is the only one; undefined when `usable` is
   * empty. `hash` is the request's key for consistent hashing (ignored by the others).
   */
  pick(usable: readonly E[], avoid: E | undefined, hash: number | undefined): E | undefined;
}

export class RoundRobin<E extends BalancedEndpoint> implements Balancer<E> {
  #next: number;

  /** Starts at a random offset so that many gateways do not all begin on one endpoint. */
  constructor(random: Random) {
    this.#next = Math.floor(random() * 1024);
  }

  pick(usable: readonly E[], avoid: E | undefined): E | undefined {
    const n = usable.length;
    if (n === 0) return undefined;
    const i = this.#next++ % n;
    if (this.#next >= 0x40000000) this.#next = 0;
    const chosen = usable[i]!;
    return chosen === avoid && n > 1 ? usable[(i + 1) % n] : chosen;
  }
}

/**
 * Power of two choices: two distinct random endpoints, the one with fewer requests in
 * flight wins. Nearly as good as scanning every endpoint, at constant cost, and without
 * the herding a strict "least" choice causes when many gateways see the same counts.
 */
export class LeastRequest<E extends BalancedEndpoint> implements Balancer<E> {
  readonly #random: Random;

  constructor(random: Random) {
    this.#random = random;
  }

  pick(usable: readonly E[], avoid: E | undefined): E | undefined {
    const n = usable.length;
    if (n <= 1) return usable[0];
    const a = Math.floor(this.#random() * n);
    let b = Math.floor(this.#random() * (n - 1));
    if (b >= a) b++;
    const first = usable[a]!;
    const second = usable[b]!;
    if (first === avoid) return second;
    if (second === avoid) return first;
    return second.active < first.active ? second : first;
  }
}

/**
 * Consistent hashing on a ring of virtual nodes (ketama): each endpoint owns many points,
 * a key goes to the owner of the first point at or after its hash. When an endpoint leaves
 * (or is unusable for a while), only the keys it owned move; every other key stays put.
 */
export class HashRing {
  readonly #points: Uint32Array;
  readonly #owners: Int32Array;

  /** `ids` identify the endpoints; the ring answers with indexes into `ids`. */
  constructor(ids: readonly string[], pointsPerEndpoint = 160) {
    const pairs: [number, number][] = [];
    ids.forEach((id, owner) => {
      for (let v = 0; v < pointsPerEndpoint; v++) pairs.push([hashString(`${id}#${v}`), owner]);
    });
    // Equal points (rare 32-bit collisions) are ordered by owner so every gateway agrees.
    pairs.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    this.#points = Uint32Array.from(pairs, (p) => p[0]);
    this.#owners = Int32Array.from(pairs, (p) => p[1]);
  }

  /**
   * The index of the endpoint owning `hash`, skipping endpoints for which `usable` says no;
   * -1 when none is usable.
   */
  lookup(hash: number, usable: (owner: number) => boolean): number {
    const points = this.#points;
    const n = points.length;
    if (n === 0) return -1;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    for (let step = 0; step < n; step++) {
      const owner = this.#owners[(lo + step) % n]!;
      if (usable(owner)) return owner;
    }
    return -1;
  }
}

/** Hash-based balancer over a fixed endpoint list (the ring's), restricted to `usable`. */
export class ConsistentHash<E extends BalancedEndpoint> implements Balancer<E> {
  readonly #endpoints: readonly E[];
  readonly #ring: HashRing;
  readonly #fallback: RoundRobin<E>;
  #usable: ReadonlySet<E> = new Set();
  #usableFrom: readonly E[] | undefined;
  #avoid: E | undefined;
  readonly #accept = (owner: number): boolean => {
    const endpoint = this.#endpoints[owner]!;
    return endpoint !== this.#avoid && this.#usable.has(endpoint);
  };

  constructor(endpoints: readonly E[], ids: readonly string[], random: Random) {
    this.#endpoints = endpoints;
    this.#ring = new HashRing(ids);
    this.#fallback = new RoundRobin(random);
  }

  pick(usable: readonly E[], avoid: E | undefined, hash: number | undefined): E | undefined {
    // No key (header or cookie absent): spread such requests evenly instead of piling
    // them all onto the owner of one hash.
    if (hash === undefined) return this.#fallback.pick(usable, avoid);
    if (usable.length === 0) return undefined;
    if (this.#usableFrom !== usable) {
      this.#usable = new Set(usable);
      this.#usableFrom = usable;
    }
    this.#avoid = usable.length > 1 ? avoid : undefined;
    const owner = this.#ring.lookup(hash, this.#accept);
    return owner === -1 ? undefined : this.#endpoints[owner];
  }
}

export function createBalancer<E extends BalancedEndpoint>(
  policy: LoadBalancing,
  endpoints: readonly E[],
  ids: readonly string[],
  random: Random,
): Balancer<E> {
  switch (policy.kind) {
    case 'round-robin':
      return new RoundRobin(random);
    case 'least-request':
      return new LeastRequest(random);
    case 'hash':
      return new ConsistentHash(endpoints, ids, random);
  }
}

/** MurmurHash3 (x86, 32-bit) of a string's UTF-16 code units: fast and well spread. */
export function hashString(text: string, seed = 0): number {
  let h = seed >>> 0;
  const n = text.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let k = (text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16)) >>> 0;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) >>> 0;
  }
  if (i < n) {
    let k = text.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n * 2;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The value of one cookie in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq !== -1 && eq < end && header.slice(start, eq).trim() === name) {
      return header.slice(eq + 1, end).trim();
    }
    start = end + 1;
  }
  return undefined;
}
