// The snapshot the Baton targets route with: one route `/` to service `bench`, whose only
// endpoint is the upstream, with every policy on at the manifest's defaults — round-robin,
// outlier detection, a 20% retry budget, a circuit breaker, a bulkhead — and a route rate
// limit far above any load this machine can offer, so that it is checked on every request
// but never refuses one. (Trace headers are always on in the gateway.)
import type { GatewaySnapshot } from '../../../src/domain/gateway/snapshot.ts';

const NEVER_REACHED_RPS = 1_000_000;

export function benchSnapshot(upstreamPort: number): GatewaySnapshot {
  return {
    revision: 1,
    sequence: 1,
    settings: { shedding: { maxInFlight: 10_000, maxLatencyMs: 500 } },
    routes: [
      {
        service: 'bench',
        path: '/',
        stripPrefix: false,
        timeoutMs: 10_000,
        rateLimit: { requestsPerSecond: NEVER_REACHED_RPS, burst: NEVER_REACHED_RPS, key: 'route' },
      },
    ],
    services: {
      bench: {
        tier: 'medium',
        policy: {
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
        },
        endpoints: [{ instanceId: 'bench-1', address: '127.0.0.1', port: upstreamPort, version: '1.0.0' }],
      },
    },
    faults: [],
  };
}
