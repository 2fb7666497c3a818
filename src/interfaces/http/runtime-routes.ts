// The running architecture: status, instances, discovery (and its watch), scale, restart, logs.
import { serviceOf } from '../../domain/manifest/service-lookup.ts';
import type { Context } from 'hono';
import { stream } from 'hono/streaming';
import semver from 'semver';
import { z } from 'zod';
import { BatonError } from '../../domain/errors.ts';
import { LIMITS, NAME_PATTERN } from '../../domain/manifest/schema.ts';
import type { Controller } from '../../engines/controller/controller.ts';
import type { InstanceRecord, Registry } from '../../engines/registry/registry.ts';
import type { RevisionEngine } from '../../engines/revisions/revision-engine.ts';
import type { LeadershipView } from '../../ports/leadership.ts';
import type { Runtime } from '../../ports/runtime.ts';
import { actor } from './caller.ts';
import { route, type Route } from './route-table.ts';
import { json, problems } from './responses.ts';
import { streamWholeState } from './whole-state-stream.ts';

export interface RuntimeRouteDependencies {
  readonly engine: RevisionEngine;
  readonly registry: Registry;
  /** The leader's controller, or on another replica what the leader published and where intents go. */
  readonly controller: Pick<Controller, 'states' | 'scale' | 'restart'>;
  readonly runtime: Runtime;
  /** The replicas, the leader, its epoch and lease, and which this one is. */
  readonly cluster: () => Promise<ClusterStatus>;
  /**
   * Where this replica's registry stands, comparable across replicas (the shared state's
   * sequence), so that a discovery watch that moves to another replica can tell an older
   * picture from a newer one. The registry's own version when there is one control plane.
   */
  readonly position?: (() => number) | undefined;
  /**
   * What `position` counts: `cluster` for the shared state's sequence (the same on every
   * replica, never reset); for one control plane's registry, a name of that process's own
   * (its versions start again at a restart, so a client compares only like with like).
   */
  readonly positionScope?: string | undefined;
  /** Which config release an instance runs, and whether it is a gray one (the config center). */
  readonly configOf?: ((instance: InstanceRecord) => InstanceConfigRelease) | undefined;
}

export interface InstanceConfigRelease {
  readonly release: number;
  readonly gray: boolean;
}

export interface ClusterStatus extends LeadershipView {
  readonly self: { readonly address: string; readonly leading: boolean; readonly epoch: number | null };
}

/** Who asks, as the client says (recorded in the event log); authenticated identities replace it. */
const ServiceParam = z.strictObject({ name: z.string().max(LIMITS.nameLength).regex(NAME_PATTERN) });
const DiscoveryParams = z.strictObject({ service: z.string().max(LIMITS.nameLength).regex(NAME_PATTERN) });
const DiscoveryQuery = z.strictObject({
  version: z
    .string()
    .max(256)
    .refine((r) => semver.validRange(r) !== null, { error: 'must be a semver range, e.g. ^2.0.0' })
    .optional(),
});
const EndpointSchema = z.object({
  instance: z.string(),
  address: z.string(),
  port: z.number(),
  version: z.string(),
});

export function runtimeRoutes({
  engine,
  registry,
  controller,
  runtime,
  cluster,
  position = () => registry.version,
  positionScope = 'local',
  configOf,
}: RuntimeRouteDependencies): Route[] {
  // Each instance with the config release it runs: what `baton status` and the dashboard show.
  const withConfig = (instances: readonly InstanceRecord[]) =>
    configOf ? instances.map((i) => ({ ...i, config: configOf(i) })) : instances;
  const requireService = async (name: string) => {
    const latest = await engine.latest();
    const spec = serviceOf(latest?.manifest, name);
    if (!spec) {
      throw new BatonError('service-not-found', `service \`${name}\` is not in the current revision`, {
        hint: 'list services with `baton status`',
      });
    }
    return spec;
  };

  return [
    route({
      method: 'get',
      path: '/v1/status',
      operationId: 'status',
      tag: 'runtime',
      summary:
        'The running architecture: each service with desired and ready counts and its phase, and every instance.',
      responses: { 200: { description: 'Status' } },
      handler: async () => {
        const latest = await engine.latest();
        const services = controller.states().map((s) => ({
          ...s,
          tier: serviceOf(latest?.manifest, s.service)?.tier,
        }));
        // Which replica answers and who leads: the dashboard shows it beside the status.
        const replicas = await cluster().catch(() => undefined);
        return json({
          revision: latest?.number ?? null,
          services,
          instances: withConfig(registry.instances()),
          ...(replicas ? { cluster: replicas } : {}),
        });
      },
    }),
    route({
      method: 'get',
      path: '/v1/cluster',
      operationId: 'cluster',
      tag: 'runtime',
      summary:
        "The control plane's replicas, which one leads, its epoch and the age of its lease, and which replica answered.",
      responses: { 200: { description: 'Cluster' } },
      handler: async () => json(await cluster()),
    }),
    route({
      method: 'get',
      path: '/v1/discovery/{service}',
      operationId: 'discover',
      tag: 'runtime',
      summary:
        "Healthy endpoints of a service, optionally of versions in a range. With `Accept: text/event-stream`, a watch: the full list again after every change. The SSE id (and `version`) is the registry's position, comparable across replicas: a client that moves to another replica keeps the newer of two lists.",
      params: DiscoveryParams,
      query: DiscoveryQuery,
      responses: {
        200: {
          description: 'Endpoints',
          schema: z.object({
            service: z.string(),
            version: z.number(),
            scope: z.string(),
            endpoints: z.array(EndpointSchema),
          }),
        },
      },
      handler: ({ params, query, c }) => {
        const snapshot = () => ({
          service: params.service,
          version: position(),
          scope: positionScope,
          endpoints: registry.endpoints(params.service, query.version),
        });
        if (!(c.req.header('accept') ?? '').includes('text/event-stream')) return json(snapshot());
        return watchDiscovery(c, registry, params.service, () => {
          const now = snapshot();
          return { id: String(now.version), data: JSON.stringify(now) };
        });
      },
    }),
    route({
      method: 'get',
      path: '/v1/instances',
      operationId: 'instances',
      tag: 'runtime',
      summary: 'Every instance the registry knows, in every phase, with the config release it runs.',
      query: z.strictObject({ service: z.string().max(LIMITS.nameLength).optional() }),
      responses: { 200: { description: 'Instances' } },
      handler: ({ query }) => json({ instances: withConfig(registry.instances(query.service)) }),
    }),
    route({
      method: 'post',
      path: '/v1/services/{name}/scale',
      operationId: 'scale',
      role: 'operator',
      tag: 'runtime',
      summary: "Set a service's instance count, within the manifest's min..max.",
      params: ServiceParam,
      body: z.strictObject({ instances: z.number().int().min(0).max(1000) }),
      responses: { 202: { description: 'Accepted; the controller converges' }, ...problems(400, 404, 409) },
      handler: async ({ params, body, c }) => {
        const { min, max } = (await requireService(params.name)).instances;
        if (body.instances < min || body.instances > max) {
          throw new BatonError(
            'bad-request',
            `${params.name} may have ${min}–${max} instances, not ${body.instances}`,
            {
              hint: 'change `instances: { min, max }` in the manifest to allow more',
            },
          );
        }
        await controller.scale(params.name, body.instances, actor(c));
        return json({ service: params.name, instances: body.instances }, 202);
      },
    }),
    route({
      method: 'post',
      path: '/v1/services/{name}/restart',
      operationId: 'restart',
      role: 'operator',
      tag: 'runtime',
      summary: 'Rolling restart: every instance replaced, honouring maxSurge and maxUnavailable.',
      params: ServiceParam,
      body: z.strictObject({}),
      responses: { 202: { description: 'Accepted; the controller rolls' }, ...problems(400, 404) },
      handler: async ({ params, c }) => {
        await requireService(params.name);
        await controller.restart(params.name, actor(c));
        return json({ service: params.name, restarting: true }, 202);
      },
    }),
    route({
      method: 'get',
      path: '/v1/services/{name}/logs',
      operationId: 'logs',
      tag: 'runtime',
      summary:
        "A service's logs as NDJSON lines ({instance, stream, line}): its live instances' (`all` for gone ones too, or one `instance`), the last `tail` across them, oldest first; `follow` keeps streaming.",
      params: ServiceParam,
      query: z.strictObject({
        instance: z.string().max(200).optional(),
        all: z.enum(['true', 'false']).default('false'),
        tail: z.coerce.number().int().min(0).max(100_000).default(100),
        follow: z.enum(['true', 'false']).default('false'),
      }),
      responses: { 200: { description: 'Log lines', contentType: 'application/x-ndjson' } },
      handler: ({ params, query, c }) => {
        c.header('content-type', 'application/x-ndjson');
        return stream(c, async (out) => {
          const abort = new AbortController();
          out.onAbort(() => abort.abort());
          const lines = runtime.logs({
            service: params.name,
            instance: query.instance,
            all: query.all === 'true',
            tail: query.tail,
            follow: query.follow === 'true',
            signal: abort.signal,
          });
          for await (const line of lines) await out.write(JSON.stringify(line) + '\n');
        });
      },
    }),
  ];
}

function watchDiscovery(
  c: Context,
  registry: Registry,
  service: string,
  snapshot: () => { id: string; data: string },
): Response {
  return streamWholeState(c, {
    subscribe: (changed) =>
      registry.subscribe((change) => {
        if (change.service === service) changed();
      }),
    next: () => ({ event: 'endpoints', ...snapshot() }),
    // A client whose replica vanished without closing the connection (a machine gone) finds
    // out by the silence: comments every 15 s keep a live one talking.
    heartbeatMs: 15_000,
  });
}
