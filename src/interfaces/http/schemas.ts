// Request and response shapes of the /v1 API. The same zod schemas validate requests and
// generate the OpenAPI document (openapi.ts), so the two cannot drift apart.
import { z } from 'zod';
import { LIMITS, TIERS } from '../../domain/manifest/schema.ts';
import { REVISION_OUTCOMES } from '../../domain/revisions/revision-outcome.ts';

export const ManifestRequest = z.strictObject({
  manifest: z.string().describe('The manifest text (YAML or JSON).'),
  file: z.string().max(4096).optional().describe('File name used in error locations.'),
  baseDir: z
    .string()
    .max(4096)
    .refine((p) => p.startsWith('/'), { error: 'must be an absolute path' })
    .optional()
    .describe('Absolute folder of the manifest, against which relative `run.cwd` paths resolve.'),
});

export const ApplyRequest = ManifestRequest.extend({
  message: z.string().max(2000).optional(),
  force: z
    .boolean()
    .default(false)
    .describe('Record the revision even if a rollout step breaks a range, or if it removes every service.'),
});

export const RollbackRequest = z
  .strictObject({
    to: z.number().int().positive().optional().describe('Roll the whole architecture back to this revision.'),
    service: z
      .string()
      .max(LIMITS.nameLength)
      .optional()
      .describe('Roll back one service (and what must move with it).'),
    toVersion: z.string().max(256).optional().describe('With `service`: the version to return to.'),
    message: z.string().max(2000).optional(),
    force: z.boolean().default(false),
  })
  .refine((r) => (r.to === undefined) !== (r.service === undefined), {
    error: 'give exactly one of `to` (a revision number) or `service` (a service name)',
  });

export const RevisionNumberParam = z.coerce.number().int().positive();

export const HistoryQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().positive().optional(),
});

export const EventsQuery = z.strictObject({
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  service: z.string().max(LIMITS.nameLength).optional(),
  kind: z
    .string()
    .max(200)
    .optional()
    .describe('Comma-separated kinds, e.g. revision.applied,revision.rolled-back'),
  newest: z
    .enum(['true', 'false'])
    .default('false')
    .describe(
      'The newest `limit` matching events instead of the oldest (still oldest first): recent history.',
    ),
});

export const GraphQuery = z.strictObject({
  format: z.enum(['json', 'text', 'mermaid', 'dot']).default('json'),
});

const Located = z.object({
  severity: z.enum(['error', 'warning']),
  code: z.string(),
  message: z.string(),
  path: z.array(z.union([z.string(), z.number()])),
  file: z.string().optional(),
  line: z.number().optional(),
  column: z.number().optional(),
  hint: z.string().optional(),
});

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number(),
    code: z.string(),
    detail: z.string(),
    hint: z.string().optional(),
    problems: z.array(Located).optional(),
  })
  .describe('RFC 9457 problem details with a stable `code`.');

export const RevisionSummarySchema = z.object({
  number: z.number(),
  parent: z.number().nullable(),
  hash: z.string(),
  author: z.string(),
  message: z.string(),
  source: z.object({ kind: z.enum(['apply', 'rollback', 'rollback-service']) }).loose(),
  createdAt: z.string(),
  services: z.number(),
});

/** A history entry: a summary and what became of it. */
export const HistoryEntrySchema = RevisionSummarySchema.extend({
  outcome: z
    .enum(REVISION_OUTCOMES)
    .describe(
      'converged, failed, rolled-back (failed, then rolled back automatically), in-progress or superseded',
    ),
});

export const RevisionSchema = RevisionSummarySchema.omit({ services: true }).extend({
  manifestText: z.string(),
  manifest: z.record(z.string(), z.unknown()),
});

export const PlanSchema = z
  .object({
    from: z.number().nullable(),
    hash: z.string(),
    unchanged: z.boolean(),
    rollout: z.object({ ok: z.boolean(), steps: z.array(z.unknown()), breaks: z.array(z.unknown()) }).loose(),
    warnings: z.array(Located),
  })
  .loose();

export const ServiceSummarySchema = z
  .object({ name: z.string(), version: z.string(), tier: z.enum(TIERS), order: z.number() })
  .loose();

export const EventSchema = z.object({
  seq: z.number(),
  time: z.string(),
  kind: z.string(),
  service: z.string().optional(),
  revision: z.number().optional(),
  actor: z.string(),
  message: z.string(),
  data: z.record(z.string(), z.unknown()).optional(),
});
