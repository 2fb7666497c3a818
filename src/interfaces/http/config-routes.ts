// The config center through the API: releases (whole sets, key changes, rollbacks, gray ones
// promoted or aborted), their history and diffs, what each instance runs, and the stream the
// SDK follows. The stream and `effective` are open to service tokens: instances read their
// own config; every other route changes or reveals the whole set and needs the admin token.
import type { Context } from 'hono';
import { z } from 'zod';
import { ConfigKey, ConfigValue } from '../../domain/config/config-schema.ts';
import { ConfigSetSchema } from '../../domain/config/config-set.ts';
import type { ConfigCenter, ConfigInstance } from '../../engines/config/config-center.ts';
import type { FileSecrets } from '../../engines/config/config-delivery.ts';
import { BatonError } from '../../domain/errors.ts';
import { actor, callerOf } from './caller.ts';
import { route, type Route } from './route-table.ts';
import { json, problems } from './responses.ts';
import { streamWholeState } from './whole-state-stream.ts';

export interface ConfigRouteDependencies {
  readonly config: ConfigCenter;
  /** Live instances, to show which release each runs; absent in a revisions-only API. */
  readonly instances?: (() => readonly ConfigInstance[]) | undefined;
  /**
   * The secrets a `config.secrets: push` service gets beside its config: only ever in an
   * answer to that service's own token (an admin reads no secret through the API).
   */
  readonly secrets?: FileSecrets | undefined;
}

/** Keeps idle streams alive through proxies that close silent connections. */
const HEARTBEAT_MS = 15_000;

const message = z.string().max(2000).optional();
// How long a gray release is watched, and whether it is then promoted by itself.
const watching = {
  watch: z
    .string()
    .regex(/^\d{1,7}(ms|s|m|h)$/, { error: 'watch must be a duration such as 30s, 5m or 1h' })
    .optional(),
  autoPromote: z.boolean().optional(),
};
const Gray = z.union([
  z.strictObject({ share: z.number().int().min(1).max(99), ...watching }),
  z.strictObject({ version: z.string().min(1).max(256), ...watching }),
]);
const NumberParam = z.coerce.number().int().min(0);
const TargetQuery = z.strictObject({
  service: z.string().min(1).max(63),
  version: z.string().min(1).max(256),
  instance: z.string().min(1).max(200).optional(),
});

export function configRoutes({ config, instances, secrets }: ConfigRouteDependencies): Route[] {
  return [
    route({
      method: 'get',
      path: '/v1/config',
      operationId: 'configState',
      tag: 'config',
      summary: 'The stable config release (and the gray one, if any), with its content.',
      responses: { 200: { description: 'The releases in force' } },
      handler: () => json(config.state),
    }),
    route({
      method: 'post',
      path: '/v1/config/releases',
      operationId: 'releaseConfig',
      tag: 'config',
      summary:
        "Release a whole config set; refused (422) when it breaks a consuming service's schema. With `gray`, only a share of instances or one version get it until promoted; meanwhile its instances are held to their services' gating SLOs for `watch` (default 5m): a breach rolls it back, and with `autoPromote` a healthy watch promotes it.",
      body: z.strictObject({ content: ConfigSetSchema, message, gray: Gray.optional() }),
      responses: { 201: { description: 'Released' }, ...problems(400, 409, 422) },
      handler: async ({ body, c }) =>
        json(
          await config.release(body.content, {
            author: actor(c),
            message: body.message ?? '',
            gray: body.gray,
          }),
          201,
        ),
    }),
    route({
      method: 'post',
      path: '/v1/config/set',
      operationId: 'setConfig',
      tag: 'config',
      summary: 'Release the stable set with keys of one scope changed (`value: null` removes one).',
      body: z.strictObject({
        changes: z
          .array(
            z.strictObject({
              scope: z.string().regex(/^(global|[a-z][a-z0-9-]*(@[0-9A-Za-z.+-]+)?)$/, {
                error: 'scope is global, <service> or <service>@<version>',
              }),
              key: ConfigKey,
              value: ConfigValue.nullable(),
            }),
          )
          .min(1)
          .max(1000),
        message,
      }),
      responses: { 201: { description: 'Released' }, ...problems(400, 409, 422) },
      handler: async ({ body, c }) =>
        json(
          await config.set(body.changes, {
            author: actor(c),
            message: body.message ?? '',
          }),
          201,
        ),
    }),
    route({
      method: 'get',
      path: '/v1/config/releases',
      operationId: 'configHistory',
      tag: 'config',
      summary: 'Config releases, newest first, each with its number, author, status and content.',
      query: z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(50) }),
      responses: { 200: { description: 'Releases' }, ...problems(400) },
      handler: async ({ query }) => json({ releases: await config.history(query.limit) }),
    }),
    route({
      method: 'get',
      path: '/v1/config/releases/{number}',
      operationId: 'configRelease',
      tag: 'config',
      summary: 'One config release.',
      params: z.strictObject({ number: NumberParam }),
      responses: { 200: { description: 'The release' }, ...problems(400, 404) },
      handler: async ({ params }) => json(await config.get(params.number)),
    }),
    route({
      method: 'get',
      path: '/v1/config/releases/{from}/diff/{to}',
      operationId: 'configDiff',
      tag: 'config',
      summary: 'What changed between two config releases, key by key and scope by scope (0: nothing).',
      params: z.strictObject({ from: NumberParam, to: NumberParam }),
      responses: { 200: { description: 'The changes' }, ...problems(400, 404) },
      handler: async ({ params }) => json(await config.diff(params.from, params.to)),
    }),
    route({
      method: 'post',
      path: '/v1/config/rollback',
      operationId: 'rollbackConfig',
      tag: 'config',
      summary: 'Release the content of an earlier config release again, as a new release.',
      body: z.strictObject({ to: z.number().int().min(1), message }),
      responses: { 201: { description: 'Released' }, ...problems(400, 404, 409, 422) },
      handler: async ({ body, c }) =>
        json(await config.rollback(body.to, { author: actor(c), message: body.message }), 201),
    }),
    route({
      method: 'post',
      path: '/v1/config/promote',
      operationId: 'promoteConfig',
      tag: 'config',
      summary: 'Give the gray config release to every instance.',
      body: z.strictObject({}),
      responses: { 200: { description: 'Promoted' }, ...problems(400, 409) },
      handler: async ({ c }) => json(await config.promote(actor(c))),
    }),
    route({
      method: 'post',
      path: '/v1/config/abort',
      operationId: 'abortConfig',
      tag: 'config',
      summary: 'Roll the gray config release back: its instances return to the stable release.',
      body: z.strictObject({}),
      responses: { 200: { description: 'Rolled back' }, ...problems(400, 409) },
      handler: async ({ c }) => json(await config.abort(actor(c))),
    }),
    route({
      method: 'get',
      path: '/v1/config/instances',
      operationId: 'configInstances',
      tag: 'config',
      summary: 'Which config release each live instance runs.',
      responses: { 200: { description: 'Instances' } },
      handler: () =>
        json({
          instances: (instances?.() ?? []).map((i) => ({
            instance: i.id,
            service: i.service,
            version: i.version,
            ...config.releaseOf(i),
          })),
        }),
    }),
    route({
      method: 'get',
      path: '/v1/config/effective',
      operationId: 'effectiveConfig',
      tag: 'config',
      summary:
        "The config an instance gets. With `Accept: text/event-stream`, a watch: it again after every release that changes it (the SDK's `config.watch`).",
      query: TargetQuery,
      responses: {
        200: { description: 'The release number and the merged values' },
        ...problems(400),
      },
      handler: async ({ query, c }) => {
        const caller = callerOf(c);
        if (caller.kind === 'service' && caller.service !== query.service)
          throw new BatonError('forbidden', `a token of ${caller.service} reads only its own config`, {
            hint: `ask for service=${caller.service}`,
          });
        const target = { id: query.instance ?? '', service: query.service, version: query.version };
        const own = caller.kind === 'service' ? secrets : undefined;
        if (!(c.req.header('accept') ?? '').includes('text/event-stream'))
          return json((await effective(config, own, target)).body);
        return watchConfig(c, config, own, target);
      },
    }),
  ];
}

/** What an instance gets: its config, and its pushed secrets when its own token asks. */
async function effective(
  config: ConfigCenter,
  secrets: FileSecrets | undefined,
  target: ConfigInstance,
): Promise<{ body: Record<string, unknown>; version: string }> {
  const current = config.configFor(target);
  const pushed = await secrets?.pushedTo(target.service);
  return {
    body: pushed ? { ...current, secrets: pushed.values } : { ...current },
    version: `${current.release}|${pushed?.version ?? ''}`,
  };
}

function watchConfig(
  c: Context,
  config: ConfigCenter,
  secrets: FileSecrets | undefined,
  target: ConfigInstance,
): Response {
  let sent = '';
  return streamWholeState(c, {
    subscribe: (changed) => {
      const unsubscribe = [config.subscribe(changed), ...(secrets ? [secrets.onRotated(changed)] : [])];
      return () => unsubscribe.forEach((u) => u());
    },
    heartbeatMs: HEARTBEAT_MS,
    next: async () => {
      const current = await effective(config, secrets, target);
      if (current.version === sent) return undefined; // another release, same config here
      sent = current.version;
      const release = (current.body as { release: number }).release;
      return { id: String(release), event: 'config', data: JSON.stringify(current.body) };
    },
  });
}
