// What a gateway needs to route, as one value: the current revision's routes and traffic
// policies, every routed service's healthy endpoints, the traffic split and the active
// fault injections. The control plane builds it (GET /v1/gateway/snapshot) and streams a
// new one on every change (GET /v1/gateway/watch, SSE); a gateway holds nothing else, so
// any number of them can run side by side.
import type { Tier } from '../manifest/schema.ts';
import type { EastWestListener, EastWestMode } from './east-west.ts';

export interface GatewayEndpoint {
  readonly instanceId: string;
  readonly address: string;
  readonly port: number;
  readonly version: string;
}

export type RateLimitKey = 'route' | 'ip' | { readonly header: string };

export interface GatewayRoute {
  readonly service: string;
  readonly path: string;
  readonly host?: string | undefined;
  readonly methods?: readonly string[] | undefined;
  /** Lower-case header names. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly stripPrefix: boolean;
  readonly timeoutMs?: number | undefined;
  /** Statuses this route retries besides 502/503/504; absent = the service's `retries.on`. */
  readonly retryOn?: readonly number[] | undefined;
  readonly rateLimit?:
    { readonly requestsPerSecond: number; readonly burst: number; readonly key: RateLimitKey } | undefined;
}

export type LoadBalancing =
  | { readonly kind: 'round-robin' }
  | { readonly kind: 'least-request' }
  | { readonly kind: 'hash'; readonly header?: string | undefined; readonly cookie?: string | undefined };

/** Every field resolved: the gateway never applies a default of its own. */
export interface TrafficPolicy {
  readonly loadBalancing: LoadBalancing;
  readonly retries: {
    readonly attempts: number;
    readonly budgetPercent: number;
    readonly backoffMs: number;
    /** Statuses retried besides connect failures, resets and 502/503/504 (routes may override). */
    readonly on: readonly number[];
  };
  readonly outlierDetection: {
    readonly consecutiveFailures: number;
    readonly ejectionTimeMs: number;
    readonly maxEjectedPercent: number;
    readonly panicThresholdPercent: number;
  };
  readonly circuitBreaker: {
    readonly errorRatePercent: number;
    readonly minRequests: number;
    readonly windowMs: number;
    readonly openForMs: number;
  };
  readonly concurrency: { readonly limit: number; readonly queue: number };
}

/** Percent of traffic per version; absent = spread evenly over every healthy endpoint. */
export interface TrafficSplit {
  readonly weights: Readonly<Record<string, number>>;
  readonly setBy: string;
  readonly since: string;
}

export interface GatewayService {
  readonly tier: Tier;
  readonly policy: TrafficPolicy;
  readonly endpoints: readonly GatewayEndpoint[];
  readonly split?: TrafficSplit | undefined;
}

export interface FaultInjection {
  readonly id: string;
  readonly service: string;
  /** Path prefix within the service's routes; absent = every route of the service. */
  readonly path?: string | undefined;
  readonly delay?: { readonly ms: number; readonly percent: number } | undefined;
  readonly abort?: { readonly status: number; readonly percent: number } | undefined;
  readonly expiresAt: string;
  readonly createdBy: string;
}

export interface GatewaySettingsResolved {
  readonly shedding: { readonly maxInFlight: number; readonly maxLatencyMs: number };
}

export interface GatewaySnapshot {
  /** The revision the routes come from; 0 before the first apply. */
  readonly revision: number;
  /** Bumped on every change, so a gateway can ignore stale snapshots. */
  readonly sequence: number;
  /**
   * Identifies the counter `sequence` belongs to (e.g. a random id chosen when the control
   * plane starts). A snapshot from another epoch replaces the current one whatever its
   * sequence, so a restarted control plane, whose count starts again, is not ignored.
   */
  readonly epoch?: string | undefined;
  readonly settings: GatewaySettingsResolved;
  readonly routes: readonly GatewayRoute[];
  readonly services: Readonly<Record<string, GatewayService>>;
  readonly faults: readonly FaultInjection[];
  /**
   * Service-to-service traffic: the listeners a node's data plane opens (one per declared
   * dependency and range, one egress per service) and what it does with an undeclared call.
   */
  readonly eastWest?: EastWestSnapshot | undefined;
}

export interface EastWestSnapshot {
  readonly mode: EastWestMode;
  readonly listeners: readonly EastWestListener[];
}
