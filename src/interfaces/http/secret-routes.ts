// Secrets through the API: write-only. A value goes in with PUT and never comes out: reads
// show its fingerprint, when it last changed, by whom, and which services use it.
import { z } from 'zod';
import type { SecretVault } from '../../engines/secrets/secret-vault.ts';
import { actor } from './caller.ts';
import { route, type Route } from './route-table.ts';
import { json, problems } from './responses.ts';

export interface SecretRouteDependencies {
  readonly secrets: SecretVault;
}

const NameParams = z.strictObject({ name: z.string().min(1).max(128) });

const SecretSummarySchema = z.object({
  name: z.string(),
  fingerprint: z
    .string()
    .describe('Keyed digest: equal values, equal fingerprints; the value cannot be derived.'),
  updatedAt: z.string(),
  updatedBy: z.string(),
  usedBy: z.array(z.string()).describe('Services of the current revision whose env refers to it.'),
});

export function secretRoutes({ secrets }: SecretRouteDependencies): Route[] {
  return [
    route({
      method: 'get',
      path: '/v1/secrets',
      operationId: 'listSecrets',
      tag: 'secrets',
      summary: 'Secrets by name, with fingerprint, last change and users; never a value.',
      responses: {
        200: { description: 'Secrets', schema: z.object({ secrets: z.array(SecretSummarySchema) }) },
      },
      handler: async () => json({ secrets: await secrets.list() }),
    }),
    route({
      method: 'put',
      path: '/v1/secrets/{name}',
      operationId: 'setSecret',
      tag: 'secrets',
      summary:
        'Create or rotate a secret. Services whose env refers to it are restarted (rolling) when it changes, or, if they declare `config.secrets: push`, get it in their config file without a restart.',
      params: NameParams,
      body: z.strictObject({ value: z.string() }),
      responses: {
        200: { description: 'Rotated, or unchanged (`changed: false`)' },
        201: { description: 'Created' },
        ...problems(400, 413, 415),
      },
      handler: async ({ params, body, c }) => {
        const change = await secrets.set(params.name, body.value, actor(c));
        return json(change, change.created ? 201 : 200);
      },
    }),
    route({
      method: 'delete',
      path: '/v1/secrets/{name}',
      operationId: 'deleteSecret',
      tag: 'secrets',
      summary: 'Delete a secret no service of the current revision refers to.',
      params: NameParams,
      responses: { 204: { description: 'Deleted' }, ...problems(404, 409) },
      handler: async ({ params, c }) => {
        await secrets.delete(params.name, actor(c));
        return new Response(null, { status: 204 });
      },
    }),
  ];
}
