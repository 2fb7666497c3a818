// Telemetry over HTTP: OTLP/HTTP trace ingest (POST /v1/traces, protobuf or JSON, gzip or
// not), trace search and one trace as a call tree, the live service map with drift, and
// RED figures per service and route.
import type { Context } from 'hono';
import { z } from 'zod';
import { BatonError } from '../../domain/errors.ts';
import { buildTraceView } from '../../domain/telemetry/call-tree.ts';
import { parseSearchDuration, parseSearchTime } from '../../domain/telemetry/trace-query.ts';
import type { Telemetry } from '../../engines/telemetry/index.ts';
import { callerOf } from './caller.ts';
import { route, type Route } from './route-table.ts';
import { json, problems } from './responses.ts';

export interface TelemetryRouteDependencies {
  readonly telemetry: Pick<Telemetry, 'ingest' | 'map' | 'red' | 'store' | 'limits'>;
}

const duration = z
  .string()
  .max(32)
  .transform((text, ctx) => {
    const us = parseSearchDuration(text);
    if (us === undefined)
      ctx.addIssue({ code: 'custom', message: 'must be a duration: 250 (ms), 250ms, 1.5s, 2m' });
    return us ?? 0;
  });
const time = z
  .string()
  .max(64)
  .transform((text, ctx) => {
    const us = parseSearchTime(text);
    if (us === undefined)
      ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 time or epoch milliseconds' });
    return us ?? 0;
  });

const TraceSearchQuery = z.strictObject({
  service: z.string().min(1).max(256).optional().describe('Traces with a span of this service.'),
  route: z
    .string()
    .min(1)
    .max(512)
    .optional()
    .describe("The root span's route, e.g. `POST /api/checkout` (or the root span's name)."),
  status: z
    .enum(['error', 'ok'])
    .optional()
    .describe('error: at least one failed span (5xx or an error status).'),
  minDuration: duration.optional().describe('250 (ms), 250ms, 1.5s, 2m.'),
  maxDuration: duration.optional(),
  since: time.optional().describe('Traces that started at or after: ISO 8601 or epoch ms.'),
  until: time.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(20),
});

const TraceIdParam = z.strictObject({
  traceId: z
    .string()
    .regex(/^[0-9a-fA-F]{32}$/, { error: 'must be 32 hex digits' })
    .transform((id) => id.toLowerCase()),
});

const TraceSummarySchema = z.object({
  traceId: z.string(),
  start: z.string(),
  durationMs: z.number(),
  spanCount: z.number(),
  errorCount: z.number(),
  error: z.boolean(),
  root: z.object({ service: z.string(), route: z.string(), complete: z.boolean() }),
  services: z.array(z.string()),
});

const WaterfallRowSchema = z.object({
  spanId: z.string(),
  parentSpanId: z.string().nullable(),
  depth: z.number(),
  name: z.string(),
  kind: z.string(),
  service: z.string(),
  instance: z.string().nullable(),
  version: z.string().nullable(),
  startMs: z.number().describe('Offset from the start of the trace.'),
  gapMs: z
    .number()
    .describe(
      "From the previous sibling's end, or the parent's start for a first child; negative when concurrent.",
    ),
  durationMs: z.number(),
  selfMs: z.number().describe("Duration minus the union of the children's intervals (clipped to this span)."),
  status: z.string(),
  statusMessage: z.string().nullable(),
  error: z.boolean(),
  orphan: z.boolean().describe('The parent is not (yet) in the trace.'),
  children: z.array(z.string()),
  attributes: z.record(z.string(), z.unknown()),
  events: z.array(z.unknown()),
});

export function telemetryRoutes({ telemetry }: TelemetryRouteDependencies): Route[] {
  return [
    route({
      method: 'post',
      path: '/v1/traces',
      operationId: 'exportTraces',
      role: 'operator',
      audit: false,
      tag: 'telemetry',
      summary:
        'OTLP/HTTP trace export: an ExportTraceServiceRequest as application/x-protobuf or application/json (ids in hex), optionally Content-Encoding: gzip.',
      responses: {
        200: { description: 'Accepted: an ExportTraceServiceResponse in the request encoding' },
        ...problems(400, 401, 413, 415),
      },
      handler: async ({ c }) => {
        const contentType = c.req.header('content-type');
        const body = await readBody(c, telemetry.limits.maxBodyBytes);
        const caller = callerOf(c);
        const outcome = await telemetry.ingest({
          body,
          contentType,
          contentEncoding: c.req.header('content-encoding'),
          onlyService: caller.kind === 'service' ? caller.service : undefined,
        });
        // An empty ExportTraceServiceResponse: every span accepted.
        return outcome.encoding === 'protobuf'
          ? new Response(new Uint8Array(0), {
              status: 200,
              headers: { 'content-type': 'application/x-protobuf' },
            })
          : json({});
      },
    }),
    route({
      method: 'get',
      path: '/v1/traces',
      operationId: 'searchTraces',
      tag: 'telemetry',
      summary:
        'Search traces, newest first: one summary per trace (root service and route, duration, spans, errors).',
      query: TraceSearchQuery,
      responses: {
        200: { description: 'Trace summaries', schema: z.object({ traces: z.array(TraceSummarySchema) }) },
        ...problems(400),
      },
      handler: async ({ query }) => {
        const traces = await telemetry.store.searchTraces({
          service: query.service,
          route: query.route,
          status: query.status,
          minDurationUs: query.minDuration,
          maxDurationUs: query.maxDuration,
          sinceUs: query.since,
          untilUs: query.until,
          limit: query.limit,
        });
        return json({ traces });
      },
    }),
    route({
      method: 'get',
      path: '/v1/traces/{traceId}',
      operationId: 'getTrace',
      tag: 'telemetry',
      summary:
        'One trace as a call tree: waterfall rows in depth-first order, each with start, gap, duration and self time.',
      params: TraceIdParam,
      responses: {
        200: {
          description: 'The trace',
          schema: z.object({
            traceId: z.string(),
            start: z.string(),
            durationMs: z.number(),
            spanCount: z.number(),
            errorCount: z.number(),
            services: z.array(z.string()),
            roots: z.array(z.string()),
            rows: z.array(WaterfallRowSchema),
          }),
        },
        ...problems(400, 404),
      },
      handler: async ({ params }) => {
        const view = buildTraceView(params.traceId, await telemetry.store.getTrace(params.traceId));
        if (view === undefined) {
          throw new BatonError('not-found', `no trace ${params.traceId}`, {
            hint: 'its spans may still be on their way (exporters batch for a second or more), or retention deleted it',
          });
        }
        return json(view);
      },
    }),
    route({
      method: 'get',
      path: '/v1/map',
      operationId: 'serviceMap',
      tag: 'telemetry',
      summary:
        'The live service map from traces: observed edges with rate, error rate, p50/p99; drift against dependsOn; observed cycles.',
      responses: { 200: { description: 'The service map' } },
      handler: async () => json(await telemetry.map()),
    }),
    route({
      method: 'get',
      path: '/v1/metrics/red',
      operationId: 'redMetrics',
      tag: 'telemetry',
      summary:
        'Rate, errors and duration per service and route, from server spans: totals and 10-second points over the last 15 minutes.',
      query: z.strictObject({ service: z.string().min(1).max(256).optional() }),
      responses: { 200: { description: 'RED figures' }, ...problems(400) },
      handler: ({ query }) => json(telemetry.red(query.service)),
    }),
  ];
}

/** The raw body, refusing (413) past `max` bytes without buffering more than that. */
async function readBody(c: Context, max: number): Promise<Uint8Array> {
  const stream = c.req.raw.body;
  if (stream === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > max) {
      throw new BatonError('payload-too-large', `the body exceeds ${max} bytes`, {
        hint: 'send smaller batches (the OTel SDK: maxExportBatchSize)',
      });
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
