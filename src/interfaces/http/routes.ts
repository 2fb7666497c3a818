// The /v1 API. Each handler is a thin translation between HTTP and an engine call.
import { z } from 'zod';
import { BatonError } from '../../domain/errors.ts';
import {
  buildGraph,
  findCycles,
  graphMetrics,
  topologicalOrder,
} from '../../domain/graph/dependency-graph.ts';
import { renderDot, renderMermaid, renderText } from '../../domain/graph/render.ts';
import type { RevisionEngine } from '../../engines/revisions/revision-engine.ts';
import type { Store } from '../../ports/store.ts';
import { actor } from './caller.ts';
import { route, type Route } from './route-table.ts';
import {
  ApplyRequest,
  EventSchema,
  EventsQuery,
  GraphQuery,
  HistoryEntrySchema,
  HistoryQuery,
  ManifestRequest,
  PlanSchema,
  RevisionNumberParam,
  RevisionSchema,
  RollbackRequest,
  ServiceSummarySchema,
} from './schemas.ts';
import { streamEvents } from './event-stream.ts';
import { json, problems } from './responses.ts';

export interface RouteDependencies {
  readonly engine: RevisionEngine;
  readonly store: Store;
}

const NumberParams = z.strictObject({ number: RevisionNumberParam });

export function v1Routes({ engine, store }: RouteDependencies): Route[] {
  return [
    route({
      method: 'post',
      path: '/v1/validate',
      operationId: 'validate',
      role: 'viewer',
      audit: false,
      tag: 'manifest',
      summary:
        'Validate a manifest: syntax, schema, dependency graph and what the runtime cannot run; every problem located.',
      body: ManifestRequest,
      acceptsYaml: true,
      responses: {
        200: { description: 'Valid, with warnings if any' },
        ...problems(400, 413, 415, 422),
      },
      handler: async ({ body }) => {
        const { manifest, graph, warnings } = await engine.validate({
          text: body.manifest,
          file: body.file,
          baseDir: body.baseDir,
        });
        const topo = topologicalOrder(graph);
        return json({
          ok: true,
          name: manifest.name,
          services: Object.keys(manifest.services).length,
          edges: graph.edges.length,
          order: topo.ok ? topo.order : [],
          warnings,
        });
      },
    }),
    route({
      method: 'post',
      path: '/v1/plan',
      operationId: 'plan',
      role: 'viewer',
      audit: false,
      tag: 'revisions',
      summary:
        'Dry-run an apply: what would change, in which order, and whether every range holds at each step.',
      body: ManifestRequest,
      acceptsYaml: true,
      responses: { 200: { description: 'The plan', schema: PlanSchema }, ...problems(400, 413, 415, 422) },
      handler: async ({ body }) =>
        json(await engine.plan({ text: body.manifest, file: body.file, baseDir: body.baseDir })),
    }),
    route({
      method: 'post',
      path: '/v1/apply',
      operationId: 'apply',
      tag: 'revisions',
      summary: 'Record a manifest as a new revision (a no-op when identical to the current one).',
      body: ApplyRequest,
      acceptsYaml: true,
      responses: {
        200: { description: 'Unchanged: the current revision already is this manifest' },
        201: { description: 'A new revision was recorded' },
        ...problems(400, 409, 413, 415, 422),
      },
      handler: async ({ body, c }) => {
        const outcome = await engine.apply(
          { text: body.manifest, file: body.file, baseDir: body.baseDir },
          { author: actor(c), message: body.message, force: body.force },
        );
        return json(
          { applied: outcome.applied, revision: revisionHead(outcome.revision), plan: outcome.plan },
          outcome.applied ? 201 : 200,
        );
      },
    }),
    route({
      method: 'get',
      path: '/v1/revisions',
      operationId: 'history',
      tag: 'revisions',
      summary: 'Revision history, newest first.',
      query: HistoryQuery,
      responses: {
        200: { description: 'Revisions', schema: z.object({ revisions: z.array(HistoryEntrySchema) }) },
      },
      handler: async ({ query }) => json({ revisions: await engine.history(query) }),
    }),
    route({
      method: 'get',
      path: '/v1/revisions/{number}',
      operationId: 'show',
      tag: 'revisions',
      summary: 'One revision, with its manifest text and normalised form.',
      params: NumberParams,
      responses: { 200: { description: 'The revision', schema: RevisionSchema }, ...problems(400, 404) },
      handler: async ({ params }) => json(await engine.getRevision(params.number)),
    }),
    route({
      method: 'get',
      path: '/v1/revisions/{from}/diff/{to}',
      operationId: 'diff',
      tag: 'revisions',
      summary: 'What changed between two revisions, per service.',
      params: z.strictObject({ from: RevisionNumberParam, to: RevisionNumberParam }),
      responses: { 200: { description: 'The diff' }, ...problems(400, 404) },
      handler: async ({ params }) => json(await engine.diff(params.from, params.to)),
    }),
    route({
      method: 'post',
      path: '/v1/rollback/plan',
      operationId: 'planRollback',
      role: 'viewer',
      audit: false,
      tag: 'revisions',
      summary: 'Plan a rollback (whole architecture or one service) without recording anything.',
      body: RollbackRequest,
      responses: { 200: { description: 'The plan', schema: PlanSchema }, ...problems(400, 404, 409, 415) },
      handler: async ({ body }) => json(await engine.planRollback(rollbackRequest(body))),
    }),
    route({
      method: 'post',
      path: '/v1/rollback',
      operationId: 'rollback',
      tag: 'revisions',
      summary:
        'Roll back: record a new revision whose content is an earlier one (history is never rewritten).',
      body: RollbackRequest,
      responses: {
        200: { description: 'Unchanged: the architecture already is that' },
        201: { description: 'A rollback revision was recorded' },
        ...problems(400, 404, 409, 415),
      },
      handler: async ({ body, c }) => {
        const outcome = await engine.rollback(rollbackRequest(body), {
          author: actor(c),
          message: body.message,
          force: body.force,
        });
        return json(
          { applied: outcome.applied, revision: revisionHead(outcome.revision), plan: outcome.plan },
          outcome.applied ? 201 : 200,
        );
      },
    }),
    route({
      method: 'get',
      path: '/v1/services',
      operationId: 'services',
      tag: 'services',
      summary: 'Every service of the current revision, in rollout order.',
      responses: {
        200: {
          description: 'Services',
          schema: z.object({ revision: z.number().nullable(), services: z.array(ServiceSummarySchema) }),
        },
      },
      handler: async () => json(await engine.services()),
    }),
    route({
      method: 'get',
      path: '/v1/services/{name}',
      operationId: 'service',
      tag: 'services',
      summary: 'One service: spec, consumers and blast radius.',
      params: z.strictObject({ name: z.string().max(63) }),
      responses: { 200: { description: 'The service' }, ...problems(404, 409) },
      handler: async ({ params }) => json(await engine.service(params.name)),
    }),
    route({
      method: 'get',
      path: '/v1/graph',
      operationId: 'graph',
      tag: 'services',
      summary: 'The dependency graph of the current revision, as JSON, text, Mermaid or DOT.',
      query: GraphQuery,
      responses: { 200: { description: 'The graph' }, ...problems(400, 409) },
      handler: async ({ query }) => {
        const latest = await engine.latest();
        if (!latest)
          throw new BatonError('no-revision', 'nothing has been applied yet', { hint: 'run `baton apply`' });
        const { manifest } = latest;
        const graph = buildGraph(manifest);
        const text = (body: string) =>
          new Response(body, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
        switch (query.format) {
          case 'text':
            return text(renderText(manifest, graph));
          case 'mermaid':
            return text(renderMermaid(manifest, graph));
          case 'dot':
            return text(renderDot(manifest, graph));
          case 'json': {
            const topo = topologicalOrder(graph);
            return json({
              revision: latest.number,
              services: graph.services.map((name) => ({
                name,
                version: manifest.services[name]!.version,
                tier: manifest.services[name]!.tier,
              })),
              edges: graph.edges,
              order: topo.ok ? topo.order : [],
              cycles: findCycles(graph),
              metrics: graphMetrics(graph),
            });
          }
        }
      },
    }),
    route({
      method: 'get',
      path: '/v1/events',
      operationId: 'events',
      tag: 'events',
      summary:
        'The event log, oldest first. With `Accept: text/event-stream` it streams as Server-Sent Events from `after` or `Last-Event-ID` (from now on when neither is given), resumable.',
      query: EventsQuery,
      responses: {
        200: {
          description: 'Events (JSON) or a live stream (text/event-stream)',
          schema: z.object({ events: z.array(EventSchema), last: z.number() }),
        },
      },
      handler: async ({ query, c }) => {
        const kinds = query.kind?.split(',').filter(Boolean);
        const filter = { service: query.service, kinds };
        if ((c.req.header('accept') ?? '').includes('text/event-stream')) {
          // Without a start point a watch starts at the head: five hundred watchers must not each
          // replay the whole log. `after=0` asks for everything, in pages.
          const start = Number(c.req.header('last-event-id') ?? query.after ?? Number.NaN);
          const after = Number.isSafeInteger(start) && start >= 0 ? start : await store.lastEventSeq();
          return streamEvents(c, store, { ...filter, after });
        }
        const events = await store.readEvents({
          ...filter,
          after: query.after,
          limit: query.limit,
          newest: query.newest === 'true',
        });
        return json({ events, last: await store.lastEventSeq() });
      },
    }),
  ];
}

function revisionHead(revision: {
  number: number;
  hash: string;
  createdAt: string;
  message: string;
  source: unknown;
}) {
  const { number, hash, createdAt, message, source } = revision;
  return { number, hash, createdAt, message, source };
}

function rollbackRequest(body: z.output<typeof RollbackRequest>) {
  return body.to !== undefined ? { to: body.to } : { service: body.service!, toVersion: body.toVersion };
}
