// The gateway half of a manifest with every default applied, so the snapshot a gateway
// receives is complete and a gateway never guesses. The defaults follow Envoy's where Envoy
// has one (outlier detection, retry budget) and are written down here once.
import type { Manifest, ServiceSpec } from '../manifest/model.ts';
import type { Tier } from '../manifest/schema.ts';
import { parseDuration } from '../health/duration.ts';
import type {
  GatewayRoute,
  GatewaySettingsResolved,
  LoadBalancing,
  RateLimitKey,
  TrafficPolicy,
} from './snapshot.ts';

export const DEFAULT_TRAFFIC_POLICY: TrafficPolicy = {
  loadBalancing: { kind: 'round-robin' },
  retries: { attempts: 2, budgetPercent: 20, backoffMs: 25, on: [] },
  outlierDetection: {
    consecutiveFailures: 5,
    ejectionTimeMs: 10_000,
    maxEjectedPercent: 50,
    panicThresholdPercent: 50,
  },
  circuitBreaker: { errorRatePercent: 50, minRequests: 20, windowMs: 10_000, openForMs: 5_000 },
  concurrency: { limit: 1000, queue: 1000 },
};

export const DEFAULT_GATEWAY_SETTINGS: GatewaySettingsResolved = {
  shedding: { maxInFlight: 10_000, maxLatencyMs: 500 },
};

export interface ResolvedService {
  readonly tier: Tier;
  readonly policy: TrafficPolicy;
}

export interface ResolvedGateway {
  readonly settings: GatewaySettingsResolved;
  /** Every route of every service, services in name order, routes in manifest order. */
  readonly routes: GatewayRoute[];
  readonly services: Record<string, ResolvedService>;
}

export function resolveGateway(manifest: Manifest): ResolvedGateway {
  const routes: GatewayRoute[] = [];
  const services: Record<string, ResolvedService> = {};
  for (const name of Object.keys(manifest.services).sort()) {
    const spec = manifest.services[name]!;
    services[name] = { tier: spec.tier, policy: resolveTrafficPolicy(spec.traffic) };
    for (const route of spec.routes) routes.push(resolveRoute(name, route));
  }
  return { settings: resolveGatewaySettings(manifest.gateway), routes, services };
}

export function resolveGatewaySettings(gateway: Manifest['gateway']): GatewaySettingsResolved {
  const shedding = gateway?.shedding;
  const defaults = DEFAULT_GATEWAY_SETTINGS.shedding;
  return {
    shedding: {
      maxInFlight: shedding?.maxInFlight ?? defaults.maxInFlight,
      maxLatencyMs: ms(shedding?.maxLatency) ?? defaults.maxLatencyMs,
    },
  };
}

export function resolveTrafficPolicy(traffic: ServiceSpec['traffic']): TrafficPolicy {
  const d = DEFAULT_TRAFFIC_POLICY;
  const retries = traffic?.retries;
  const outlier = traffic?.outlierDetection;
  const breaker = traffic?.circuitBreaker;
  const concurrency = traffic?.concurrency;
  return {
    loadBalancing: resolveLoadBalancing(traffic?.loadBalancing),
    retries: {
      attempts: retries?.attempts ?? d.retries.attempts,
      budgetPercent: retries?.budget ?? d.retries.budgetPercent,
      backoffMs: ms(retries?.backoff) ?? d.retries.backoffMs,
      on: retries?.on ?? d.retries.on,
    },
    outlierDetection: {
      consecutiveFailures: outlier?.consecutiveFailures ?? d.outlierDetection.consecutiveFailures,
      ejectionTimeMs: ms(outlier?.ejectionTime) ?? d.outlierDetection.ejectionTimeMs,
      maxEjectedPercent: outlier?.maxEjectedPercent ?? d.outlierDetection.maxEjectedPercent,
      panicThresholdPercent: outlier?.panicThreshold ?? d.outlierDetection.panicThresholdPercent,
    },
    circuitBreaker: {
      errorRatePercent: breaker?.errorRate ?? d.circuitBreaker.errorRatePercent,
      minRequests: breaker?.minRequests ?? d.circuitBreaker.minRequests,
      windowMs: ms(breaker?.window) ?? d.circuitBreaker.windowMs,
      openForMs: ms(breaker?.openFor) ?? d.circuitBreaker.openForMs,
    },
    concurrency: {
      limit: concurrency?.limit ?? d.concurrency.limit,
      queue: concurrency?.queue ?? d.concurrency.queue,
    },
  };
}

type TrafficSpec = NonNullable<ServiceSpec['traffic']>;

function resolveLoadBalancing(spec: TrafficSpec['loadBalancing']): LoadBalancing {
  if (spec === undefined || spec === 'round-robin') return { kind: 'round-robin' };
  if (spec === 'least-request') return { kind: 'least-request' };
  // Header names are case-insensitive; cookie names are not.
  return 'header' in spec.hash
    ? { kind: 'hash', header: spec.hash.header.toLowerCase() }
    : { kind: 'hash', cookie: spec.hash.cookie };
}

type RouteSpec = ServiceSpec['routes'][number];

export function resolveRoute(service: string, route: RouteSpec): GatewayRoute {
  let headers: Record<string, string> | undefined;
  if (route.headers !== undefined) {
    headers = {};
    for (const name of Object.keys(route.headers).sort()) headers[name.toLowerCase()] = route.headers[name]!;
  }
  const rateLimit = route.rateLimit;
  return {
    service,
    path: route.path,
    ...(route.host !== undefined ? { host: route.host.toLowerCase() } : {}),
    ...(route.methods !== undefined ? { methods: [...route.methods] } : {}),
    ...(headers !== undefined ? { headers } : {}),
    stripPrefix: route.stripPrefix,
    ...(route.timeout !== undefined ? { timeoutMs: parseDuration(route.timeout) } : {}),
    ...(route.retryOn !== undefined ? { retryOn: [...route.retryOn] } : {}),
    ...(rateLimit !== undefined
      ? {
          rateLimit: {
            requestsPerSecond: rateLimit.requestsPerSecond,
            burst: rateLimit.burst ?? Math.ceil(rateLimit.requestsPerSecond),
            key: resolveRateLimitKey(rateLimit.key),
          },
        }
      : {}),
  };
}

function resolveRateLimitKey(key: NonNullable<RouteSpec['rateLimit']>['key']): RateLimitKey {
  return typeof key === 'string' ? key : { header: key.header.toLowerCase() };
}

function ms(duration: string | undefined): number | undefined {
  return duration === undefined ? undefined : parseDuration(duration);
}
