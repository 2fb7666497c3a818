// What gateways follow (the snapshot and its watch) and what operators steer with: traffic
// splits between versions and fault injections for game days.
import type { Context } from 'hono';
import semver from 'semver';
import { z } from 'zod';
import { parseDuration } from '../../domain/health/duration.ts';
import { LIMITS, NAME_PATTERN } from '../../domain/manifest/schema.ts';
import { MAX_FAULT_MS, type TrafficControl } from '../../engines/traffic/traffic-control.ts';
import { actor } from './caller.ts';
import { route, type Route } from './route-table.ts';
import { json, problems } from './responses.ts';
import { streamWholeState } from './whole-state-stream.ts';

export interface GatewayRouteDependencies {
  readonly traffic: TrafficControl;
}

/** Keeps idle watches alive through proxies that close silent connections. */
const HEARTBEAT_MS = 15_000;

const serviceName = z.string().max(LIMITS.nameLength).regex(NAME_PATTERN);
const ServiceParam = z.strictObject({ name: serviceName });
const percent = z.number().min(0).max(100);
const Weights = z
  .record(
    z.string().refine((v) => semver.valid(v) !== null, { error: 'must be a version such as 2.1.0' }),
    percent,
  )
  .refine((w) => Object.keys(w).length <= 20, { error: 'at most 20 versions' });

const FaultBody = z.strictObject({
  service: serviceName,
  path: z.string().startsWith('/').max(1024).optional(),
  delay: z.strictObject({ ms: z.number().int().min(1).max(60_000), percent }).optional(),
  abort: z.strictObject({ status: z.number().int().min(400).max(599), percent }).optional(),
  duration: z
    .string()
    .max(16)
    .regex(/^\d+(ms|s|m|h)$/, { error: 'must be a duration such as 30s, 10m or 1h' })
    // A number past 2^53 does not parse at all: refused like one past 24h, never thrown (a 500).
    .refine((d) => faultDurationMs(d) !== undefined, { error: 'at most 24h: game days end' })
    .default('10m'),
});

function faultDurationMs(text: string): number | undefined {
  try {
    const ms = parseDuration(text);
    return ms <= MAX_FAULT_MS ? ms : undefined;
  } catch {
    return undefined;
  }
}

export function gatewayRoutes({ traffic }: GatewayRouteDependencies): Route[] {
  return [
    route({
      method: 'get',
      path: '/v1/gateway/snapshot',
      operationId: 'gatewaySnapshot',
      tag: 'gateway',
      summary:
        "Everything a gateway routes by: the current revision's routes and traffic policies, healthy endpoints, splits and active faults.",
      responses: { 200: { description: 'GatewaySnapshot' } },
      handler: async () => json(await traffic.snapshot()),
    }),
    route({
      method: 'get',
      path: '/v1/gateway/watch',
      operationId: 'gatewayWatch',
      tag: 'gateway',
      summary:
        'Server-Sent Events: `snapshot` events, each a whole GatewaySnapshot, the first at once and a new one after every change.',
      responses: { 200: { description: 'Event stream', contentType: 'text/event-stream' } },
      handler: ({ c }) => watchSnapshots(c, traffic),
    }),
    route({
      method: 'get',
      path: '/v1/services/{name}/traffic',
      operationId: 'getTraffic',
      tag: 'gateway',
      summary: "A service's traffic split between versions (absent: every healthy instance alike).",
      params: ServiceParam,
      responses: { 200: { description: 'The split' } },
      handler: ({ params }) => json({ service: params.name, split: traffic.splits()[params.name] ?? null }),
    }),
    route({
      method: 'put',
      path: '/v1/services/{name}/traffic',
      operationId: 'setTraffic',
      role: 'operator',
      tag: 'gateway',
      summary: 'Split traffic between versions by weight (percentages adding up to 100), e.g. a canary.',
      params: ServiceParam,
      body: z.strictObject({ weights: Weights }),
      responses: { 200: { description: 'The split, now in force' }, ...problems(400, 404, 409) },
      handler: async ({ params, body, c }) => {
        await traffic.requireReachable(params.name, 'a traffic split');
        return json({
          service: params.name,
          split: await traffic.setSplit(params.name, body.weights, actor(c)),
        });
      },
    }),
    route({
      method: 'delete',
      path: '/v1/services/{name}/traffic',
      operationId: 'clearTraffic',
      role: 'operator',
      tag: 'gateway',
      summary: 'Remove the split: traffic spreads over every healthy instance again.',
      params: ServiceParam,
      responses: { 204: { description: 'Cleared (or there was no split)' }, ...problems(400, 404) },
      handler: async ({ params, c }) => {
        await traffic.clearSplit(params.name, actor(c));
        return new Response(null, { status: 204 });
      },
    }),
    route({
      method: 'get',
      path: '/v1/faults',
      operationId: 'faults',
      tag: 'gateway',
      summary: 'Active fault injections.',
      responses: { 200: { description: 'Faults' } },
      handler: () => json({ faults: traffic.faults() }),
    }),
    route({
      method: 'post',
      path: '/v1/faults',
      operationId: 'injectFault',
      role: 'operator',
      tag: 'gateway',
      summary:
        "Inject a delay and/or an abort into a share of a service's requests at the gateway, until it expires.",
      body: FaultBody,
      responses: { 201: { description: 'The injection' }, ...problems(400, 404, 409) },
      handler: async ({ body, c }) => {
        await traffic.requireReachable(body.service, 'a fault');
        return json(
          await traffic.injectFault(
            {
              service: body.service,
              path: body.path,
              delay: body.delay,
              abort: body.abort,
              durationMs: faultDurationMs(body.duration)!,
            },
            actor(c),
          ),
          201,
        );
      },
    }),
    route({
      method: 'delete',
      path: '/v1/faults/{id}',
      operationId: 'clearFault',
      role: 'operator',
      tag: 'gateway',
      summary: 'End a fault injection before it expires.',
      params: z.strictObject({ id: z.string().min(1).max(100) }),
      responses: { 204: { description: 'Cleared' }, ...problems(404) },
      handler: async ({ params, c }) => {
        await traffic.clearFault(params.id, actor(c));
        return new Response(null, { status: 204 });
      },
    }),
  ];
}

function watchSnapshots(c: Context, traffic: TrafficControl): Response {
  return streamWholeState(c, {
    subscribe: (changed) => traffic.watch(changed),
    heartbeatMs: HEARTBEAT_MS,
    next: async () => {
      const snapshot = await traffic.snapshot();
      return { id: String(snapshot.sequence), event: 'snapshot', data: JSON.stringify(snapshot) };
    },
  });
}
