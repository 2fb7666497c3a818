// The gateway snapshot as it arrives over the network, validated before a gateway acts on
// it. Objects are not strict: a newer control plane may add fields an older gateway ignores.
import { z } from 'zod';
import { TIERS } from '../manifest/schema.ts';
import type { GatewaySnapshot } from './snapshot.ts';

const count = z.number().int().min(0);
const positive = z.number().int().min(1);
const percent = z.number().min(0).max(100);
const ms = z.number().int().min(0);

const status = z.number().int().min(100).max(599);

const RateLimitKeySchema = z.union([z.enum(['route', 'ip']), z.object({ header: z.string().min(1) })]);

const RouteSchema = z.object({
  service: z.string().min(1),
  path: z.string().startsWith('/'),
  host: z.string().optional(),
  methods: z.array(z.string().min(1)).optional(),
  headers: z.record(z.string().min(1), z.string()).optional(),
  stripPrefix: z.boolean(),
  timeoutMs: ms.optional(),
  retryOn: z.array(status).optional(),
  rateLimit: z
    .object({ requestsPerSecond: z.number().positive(), burst: positive, key: RateLimitKeySchema })
    .optional(),
});

const LoadBalancingSchema = z.union([
  z.object({ kind: z.literal('round-robin') }),
  z.object({ kind: z.literal('least-request') }),
  z.object({
    kind: z.literal('hash'),
    header: z.string().min(1).optional(),
    cookie: z.string().min(1).optional(),
  }),
]);

const PolicySchema = z.object({
  loadBalancing: LoadBalancingSchema,
  // `on` defaults for snapshots of a control plane older than the field.
  retries: z.object({
    attempts: count,
    budgetPercent: percent,
    backoffMs: ms,
    on: z.array(status).default([]),
  }),
  outlierDetection: z.object({
    consecutiveFailures: positive,
    ejectionTimeMs: ms,
    maxEjectedPercent: percent,
    panicThresholdPercent: percent,
  }),
  circuitBreaker: z.object({ errorRatePercent: percent, minRequests: positive, windowMs: ms, openForMs: ms }),
  concurrency: z.object({ limit: positive, queue: count }),
});

const EndpointSchema = z.object({
  instanceId: z.string().min(1),
  address: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  version: z.string().min(1),
});

const ServiceSchema = z.object({
  tier: z.enum(TIERS),
  policy: PolicySchema,
  endpoints: z.array(EndpointSchema),
  split: z
    .object({ weights: z.record(z.string(), percent), setBy: z.string(), since: z.string() })
    .optional(),
});

const FaultSchema = z.object({
  id: z.string().min(1),
  service: z.string().min(1),
  path: z.string().startsWith('/').optional(),
  delay: z.object({ ms: ms, percent: percent }).optional(),
  abort: z.object({ status: z.number().int().min(200).max(599), percent: percent }).optional(),
  expiresAt: z.string().min(1),
  createdBy: z.string(),
});

const EastWestSchema = z.object({
  mode: z.enum(['enforce', 'observe']),
  listeners: z.array(
    z.object({
      port: z.number().int().min(1).max(65535),
      caller: z.string().min(1),
      callee: z.string().min(1).optional(),
      range: z.string().min(1).optional(),
    }),
  ),
});

export const GatewaySnapshotSchema = z.object({
  revision: count,
  sequence: count,
  epoch: z.string().max(200).optional(),
  settings: z.object({ shedding: z.object({ maxInFlight: positive, maxLatencyMs: ms }) }),
  routes: z.array(RouteSchema),
  services: z.record(z.string(), ServiceSchema),
  faults: z.array(FaultSchema),
  eastWest: EastWestSchema.optional(),
});

/** A snapshot, or every problem with it in one message. */
export function parseGatewaySnapshot(
  value: unknown,
): { ok: true; snapshot: GatewaySnapshot } | { ok: false; error: string } {
  const result = GatewaySnapshotSchema.safeParse(value);
  if (result.success) return { ok: true, snapshot: result.data };
  return { ok: false, error: z.prettifyError(result.error) };
}
