// One endpoint (a healthy instance) as the gateway holds it: its keep-alive connection pool
// and the live counters the policies read. Kept across snapshots for as long as the
// instance stays, so its connections, load count and outlier history survive a route change.
import { Pool } from 'undici';
import type { GatewayEndpoint } from '../../domain/gateway/snapshot.ts';
import { newOutlierState } from '../../domain/gateway/outlier-detector.ts';
import type { OutlierState } from '../../domain/gateway/outlier-detector.ts';

export interface PoolOptions {
  /** Connections per endpoint; requests beyond wait in the pool's queue. */
  readonly connections: number;
  readonly connectTimeoutMs: number;
  /** Longest silence between two chunks of a response body. */
  readonly bodyTimeoutMs: number;
  /** Idle time before a pooled connection is closed. */
  readonly keepAliveTimeoutMs: number;
}

export class Upstream {
  readonly key: string;
  readonly instanceId: string;
  readonly address: string;
  readonly port: number;
  readonly version: string;
  readonly #origin: string;
  readonly #options: PoolOptions;
  #pool: Pool | undefined;
  /** Requests in flight to this endpoint. */
  active = 0;
  readonly outlier: OutlierState = newOutlierState();
  /** Out of rotation by outlier detection. */
  ejected = false;

  constructor(endpoint: GatewayEndpoint, options: PoolOptions) {
    this.key = upstreamKey(endpoint);
    this.instanceId = endpoint.instanceId;
    this.address = endpoint.address;
    this.port = endpoint.port;
    this.version = endpoint.version;
    const host = endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address;
    this.#origin = `http://${host}:${endpoint.port}`;
    this.#options = options;
  }

  /**
   * Created on first use: an undici Pool costs ~18 KB and ~50 µs, and in a large
   * architecture most endpoints in a snapshot may never see a request through this gateway.
   */
  get pool(): Pool {
    this.#pool ??= new Pool(this.#origin, {
      connections: this.#options.connections,
      connectTimeout: this.#options.connectTimeoutMs,
      bodyTimeout: this.#options.bodyTimeoutMs,
      // The gateway's own deadline bounds the wait for headers; this is only a backstop.
      headersTimeout: 0,
      keepAliveTimeout: this.#options.keepAliveTimeoutMs,
      pipelining: 1,
    });
    return this.#pool;
  }

  /** Finishes the requests in flight, then closes the connections. */
  async close(): Promise<void> {
    await this.#pool?.close();
  }
}

/** An instance moving to another address (or version) is a new upstream, with a new pool. */
export function upstreamKey(endpoint: GatewayEndpoint): string {
  return `${endpoint.instanceId}@${endpoint.address}:${endpoint.port}/${endpoint.version}`;
}
