// Identities over HTTP: who am I (the dashboard shows it and hides what the role cannot do),
// and named tokens — created, listed and revoked by admins.
import { z } from 'zod';
import { actorOf } from '../../domain/identity/principal.ts';
import { ROLES } from '../../domain/identity/roles.ts';
import type { Identities } from '../../engines/identity/identities.ts';
import { actor, callerOf } from './caller.ts';
import { json, problems } from './responses.ts';
import { route, type Route } from './route-table.ts';

export interface IdentityRouteDependencies {
  readonly identities: Pick<Identities, 'create' | 'list' | 'revoke'>;
}

const TokenSchema = z.object({
  name: z.string(),
  role: z.enum(ROLES),
  createdAt: z.string(),
  createdBy: z.string(),
  revokedAt: z.string().optional(),
});

const TokenName = z.string().min(1).max(64);

export function identityRoutes({ identities }: IdentityRouteDependencies): Route[] {
  return [
    route({
      method: 'get',
      path: '/v1/tokens',
      operationId: 'listTokens',
      tag: 'identity',
      role: 'admin',
      summary: 'Named tokens, revoked ones included (never the tokens themselves: only digests are kept).',
      responses: { 200: { description: 'Tokens', schema: z.object({ tokens: z.array(TokenSchema) }) } },
      handler: async () => json({ tokens: await identities.list() }),
    }),
    route({
      method: 'post',
      path: '/v1/tokens',
      operationId: 'createToken',
      tag: 'identity',
      summary:
        'Create a named token with a role. The answer holds the token, once; Baton keeps only its digest.',
      body: z.strictObject({ name: TokenName, role: z.enum(ROLES) }),
      responses: {
        201: { description: 'The token (shown once) and its record' },
        ...problems(400, 409, 415),
      },
      handler: async ({ body, c }) => {
        const { token, record } = await identities.create(body.name, body.role, actor(c));
        return json({ token, ...record }, 201);
      },
    }),
    route({
      method: 'delete',
      path: '/v1/tokens/{name}',
      operationId: 'revokeToken',
      tag: 'identity',
      summary: 'Revoke a named token: it authenticates no one from now on, and its name is not reused.',
      params: z.strictObject({ name: TokenName }),
      responses: { 204: { description: 'Revoked' }, ...problems(404) },
      handler: async ({ params, c }) => {
        await identities.revoke(params.name, actor(c));
        return new Response(null, { status: 204 });
      },
    }),
  ];
}

/** Who the caller is: served whatever the auth mode, so it lives apart from the token routes. */
export function whoamiRoute(): Route {
  return route({
    method: 'get',
    path: '/v1/whoami',
    operationId: 'whoami',
    tag: 'identity',
    summary: 'The identity the presented token stands for, and its role.',
    responses: {
      200: {
        description: 'The caller',
        schema: z.object({ name: z.string(), kind: z.string(), role: z.enum(ROLES).nullable() }),
      },
    },
    handler: ({ c }) => {
      const caller = callerOf(c);
      return json({
        name: actorOf(caller),
        kind: caller.kind,
        role: caller.kind === 'user' ? caller.role : null,
      });
    },
  });
}
