// The audit trail: every call that changes something, or tried to, as an `audit` event in
// the event log — who (the authenticated identity, never a claimed name), from which
// address, which operation, and how it ended. GET /v1/audit filters it.
import type { Context } from 'hono';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { StoredEvent, Store } from '../../ports/store.ts';
import { actor, sourceOf } from './caller.ts';
import { json, problems } from './responses.ts';
import { route, type Route } from './route-table.ts';
import { EventSchema } from './schemas.ts';

export const AUDIT_KIND = 'audit';
/** Audit events read at a time while a filtered search pages back through the trail. */
const PAGE = 1_000;

export async function recordAudit(
  store: Store,
  logger: Logger,
  c: Context,
  r: Route,
  status: number,
): Promise<void> {
  const event = {
    kind: AUDIT_KIND,
    actor: actor(c),
    message: `${r.operationId}: ${c.req.method} ${c.req.path} → ${status}`,
    data: { action: r.operationId, method: c.req.method, path: c.req.path, status, source: sourceOf(c) },
    time: new Date().toISOString(),
  };
  // A store that fails here has failed the request's own write too; the log keeps the trace.
  await store
    .appendEvents([event])
    .catch((error: unknown) => logger.error({ err: error, audit: event }, 'audit event lost'));
}

const AuditQuery = z.strictObject({
  actor: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Only this identity (a token name, `service:NAME`, `gateway`).'),
  action: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('Only this operation, e.g. `apply`, `scale`, `createToken`.'),
  since: z.iso.datetime({ offset: true }).optional().describe('Only at or after this time (ISO 8601).'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export function auditRoute(store: Store): Route {
  return route({
    method: 'get',
    path: '/v1/audit',
    operationId: 'audit',
    tag: 'events',
    summary:
      'The audit trail, newest first: every call that changed something or tried to, with the identity, its address and the outcome.',
    query: AuditQuery,
    responses: {
      200: { description: 'Audit events', schema: z.object({ events: z.array(EventSchema) }) },
      ...problems(400),
    },
    handler: async ({ query }) => {
      const since = query.since === undefined ? undefined : Date.parse(query.since);
      const matches = (e: StoredEvent) =>
        (query.actor === undefined || e.actor === query.actor) &&
        (query.action === undefined || e.data?.['action'] === query.action);
      // Back through the whole trail a page at a time, newest first, until the limit is met,
      // the trail ends, or the events are older than `since` (time grows with the sequence).
      const events: StoredEvent[] = [];
      let before: number | undefined;
      for (;;) {
        const page = (
          await store.readEvents({ kinds: [AUDIT_KIND], newest: true, before, limit: PAGE })
        ).reverse();
        for (const e of page) {
          if (since !== undefined && Date.parse(e.time) < since) return json({ events });
          if (matches(e)) events.push(e);
          if (events.length === query.limit) return json({ events });
        }
        if (page.length < PAGE) return json({ events });
        before = page.at(-1)!.seq;
      }
    },
  });
}
