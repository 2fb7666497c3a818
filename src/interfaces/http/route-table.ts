// A route is declared once: its schemas validate the request, document it in OpenAPI, and
// its handler receives typed, already-validated input.
import type { Context } from 'hono';
import type { z } from 'zod';
import { BatonError } from '../../domain/errors.ts';
import type { Role } from '../../domain/identity/roles.ts';
import { formatPath } from '../../domain/problems.ts';

export interface ResponseDoc {
  readonly description: string;
  readonly schema?: z.ZodType;
  /** Defaults to application/json. */
  readonly contentType?: string;
}

export interface RouteInput<B, Q, P> {
  readonly body: B;
  readonly query: Q;
  readonly params: P;
  readonly c: Context;
}

export interface Route<B = unknown, Q = unknown, P = unknown> {
  readonly method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI style: `/v1/revisions/{number}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  /** The least role a person's token needs; by default viewer for GET, admin otherwise. */
  readonly role?: Role | undefined;
  /** False for writes that change nothing (validate, plan) or are telemetry (span export). */
  readonly audit?: boolean | undefined;
  readonly body?: z.ZodType<B>;
  /** Also accept the raw manifest as application/yaml, as `{ manifest: <text> }`. */
  readonly acceptsYaml?: boolean;
  readonly query?: z.ZodType<Q>;
  readonly params?: z.ZodType<P>;
  readonly responses: Readonly<Record<number, ResponseDoc>>;
  readonly handler: (input: RouteInput<B, Q, P>) => Promise<Response> | Response;
}

/** Keeps each route's generic parameters tied to its own schemas. */
export function route<B = undefined, Q = undefined, P = undefined>(definition: Route<B, Q, P>): Route {
  return definition as unknown as Route;
}

export function honoPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    return `${where}${path.length ? ` ${formatPath(path)}` : ''}: ${issue.message}`;
  });
  throw new BatonError('bad-request', details.join('; '), {
    hint: 'see the request schema in GET /v1/openapi.json',
  });
}

const YAML_TYPES = new Set(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml']);

export async function readBody(c: Context, acceptsYaml: boolean): Promise<unknown> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') {
    const text = await c.req.text();
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      // V8 quotes the text around the error: a body may hold a secret, so it is never echoed.
      const reason = (error as Error).message.replace(/,? (\.\.\.)?".*" is not valid JSON$/s, '');
      throw new BatonError('bad-request', `the body is not valid JSON: ${reason}`);
    }
  }
  if (acceptsYaml && YAML_TYPES.has(type)) return { manifest: await c.req.text() };
  throw new BatonError(
    'unsupported-media-type',
    `content type \`${type || '(none)'}\` is not accepted here`,
    {
      hint: acceptsYaml
        ? 'send application/json, or the manifest itself as application/yaml'
        : 'send application/json',
    },
  );
}
