// The OpenAPI 3.1 document, generated from the route table and its zod schemas.
import { z } from 'zod';
import type { Route } from './route-table.ts';

export function openApiDocument(routes: readonly Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const operation: Record<string, unknown> = {
      operationId: r.operationId,
      summary: r.summary,
      tags: [r.tag],
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      responses: Object.fromEntries(
        Object.entries(r.responses).map(([status, doc]) => [
          status,
          {
            description: doc.description,
            ...(doc.schema
              ? {
                  content: {
                    [doc.contentType ?? 'application/json']: { schema: toSchema(doc.schema, 'output') },
                  },
                }
              : {}),
          },
        ]),
      ),
    };
    if (r.body) {
      const content: Record<string, unknown> = { 'application/json': { schema: toSchema(r.body, 'input') } };
      if (r.acceptsYaml)
        content['application/yaml'] = { schema: { type: 'string', description: 'The manifest text' } };
      operation['requestBody'] = { required: true, content };
    }
    (paths[r.path] ??= {})[r.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Baton control plane API',
      version,
      description: 'Manifests, revisions, services and the event log of a Baton architecture.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Required when not on loopback.' },
      },
    },
    security: [{}, { bearer: [] }],
    paths,
  };
}

function toSchema(schema: z.ZodType, io: 'input' | 'output'): unknown {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  return rest;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): unknown[] {
  if (!schema) return [];
  const json = toSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: s,
  }));
}
