// The shared span store: PostgreSQL, so that a trace sent to any replica is found from every
// other. Shaped for the write path like the SQLite one: an OTLP request is one statement in
// one transaction (columns as arrays, unnest()ed into every table at once), ids as raw bytes,
// resources stored once, only the indexes the searches use. Why, and what it costs against
// SQLite, is in ARCHITECTURE.md beside this file.
import { createHash, randomInt } from 'node:crypto';
import pg from 'pg';
import { isError, routeOf, SPAN_KINDS, SPAN_STATUSES } from '../../domain/telemetry/span.ts';
import type { Attributes, SpanKind, SpanRecord, SpanStatus } from '../../domain/telemetry/span.ts';
import type {
  RetentionPass,
  RetentionPolicy,
  SpanStore,
  TraceQuery,
  TraceSummary,
} from '../../ports/span-store.ts';
import { migratePostgres } from '../store/postgres/postgres-migrate.ts';
import { inTransaction as pgTransaction } from '../store/postgres/postgres-transaction.ts';
import { classifyPostgresError, withCodedErrors } from '../store/store-errors.ts';
import { POSTGRES_SPAN_STORE_MIGRATIONS } from './postgres-span-store-migrations.ts';

export const DEFAULT_SPAN_SCHEMA = 'baton_traces';
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,48}$/;
/** As many as stored_bytes has rows (migration 1). */
const SIZE_SLOTS = 8;
/**
 * A deadlock between two appends (or an append and retention) is retried this many times,
 * after a short random pause. Sorted rows make them rare, not impossible (the summary and
 * service rows a statement touches are not all taken in key order): three attempts were not
 * enough with three replicas racing on one machine under load.
 */
const ATTEMPTS = 10;

export async function openPostgresSpanStore(options: {
  connectionString: string;
  /** Where its tables live; never the Store's schema. Default `baton_traces`. */
  schema?: string | undefined;
  /** Connections to keep: concurrent OTLP requests beyond this wait their turn. */
  maxConnections?: number | undefined;
}): Promise<SpanStore> {
  const schema = options.schema ?? DEFAULT_SPAN_SCHEMA;
  if (!SCHEMA_PATTERN.test(schema))
    throw new Error(`schema ${JSON.stringify(schema)} must be lowercase letters, digits and _ (at most 49)`);
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 6 });
  // An idle connection dropped: the next query opens another. Unheard, 'error' would end the process.
  pool.on('error', () => {});
  try {
    await migratePostgres({
      inTransaction: (work) => inTransaction(pool, work),
      migrations: POSTGRES_SPAN_STORE_MIGRATIONS,
      lockKey: `baton:span-migrate:${schema}`,
      schema,
      inSchema: true,
      database: `PostgreSQL span schema ${schema}`,
    });
  } catch (error) {
    await pool.end();
    throw error;
  }
  // A database that is down is retryable (503, and the exporter sends again), not a bug (500).
  return withCodedErrors<SpanStore>(
    new PostgresSpanStore(pool, schema),
    classifyPostgresError,
    'PostgreSQL span',
  );
}

/**
 * `work` in one transaction. Spans are worth less than revisions: a commit does not wait for
 * its WAL to reach the disk (synchronous_commit off), as the SQLite store's synchronous=NORMAL.
 * A crash of Baton loses nothing; a crash of PostgreSQL itself may lose the last ~0.6 s of spans.
 */
function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return pgTransaction(pool, work, 'BEGIN; SET LOCAL synchronous_commit TO off');
}

const DEADLOCK_OR_SERIALIZATION = new Set(['40P01', '40001']);

async function retryingDeadlocks<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (attempt >= ATTEMPTS || typeof code !== 'string' || !DEADLOCK_OR_SERIALIZATION.has(code))
        throw error;
      // Apart, so that the same two do not meet again at once.
      await new Promise((resolve) => setTimeout(resolve, randomInt(1, 10 * attempt)));
    }
  }
}

interface SpanRow {
  span_id: Buffer;
  parent_id: Buffer | null;
  kind: number;
  status: number;
  start_us: string; // bigint
  duration_us: string;
  name: string;
  attributes: string;
  extra: string | null;
  service: string;
  instance: string | null;
  version: string | null;
  resource: string;
}

interface TraceRow {
  trace_id: Buffer;
  start_us: string;
  end_us: string;
  span_count: number;
  error_count: number;
  root_rank: number;
  root_service: string;
  root_route: string;
  services: string[];
}

interface Extra {
  m?: string;
  e?: SpanRecord['events'];
  l?: SpanRecord['links'];
}

const KIND_NUMBER = new Map<SpanKind, number>(SPAN_KINDS.map((k, i) => [k, i]));
const STATUS_NUMBER = new Map<SpanStatus, number>(SPAN_STATUSES.map((s, i) => [s, i]));
/**
 * What a span row costs beyond its text: the tuple header and line pointer, the fixed
 * columns, and its primary-key entry. An estimate, for the size limit; within a few
 * per cent of pg_total_relation_size on the bench's spans.
 */
const SPAN_OVERHEAD_BYTES = 150;

/**
 * Which rows of the request were new, and everything the trace summaries need from them, in
 * one statement: spans inserted (a known one skipped), their traces' summaries added to under
 * the traces' row locks (a better root candidate replaces the old one), services noted, the
 * size estimate bumped. Statements in CTEs all run, whether or not the result reads them.
 */
const appendSql = (schema: string) => `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::smallint[], $6::smallint[],
        $7::bigint[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
        $14::smallint[], $15::boolean[], $16::integer[])
      WITH ORDINALITY AS i(trace_hex, span_hex, parent_hex, resource_id, kind, status, start_us, duration_us,
        name, attributes, extra, service, route, rank, error, bytes, n)
  ),
  inserted AS (
    INSERT INTO ${schema}.spans (trace_id, span_id, parent_id, resource_id, kind, status, start_us, duration_us,
        name, attributes, extra)
    SELECT decode(trace_hex, 'hex'), decode(span_hex, 'hex'), decode(parent_hex, 'hex'), resource_id, kind, status,
        start_us, duration_us, name, attributes, extra
      FROM input ORDER BY n
    ON CONFLICT DO NOTHING
    RETURNING trace_id, span_id
  ),
  fresh AS (
    SELECT i.*, decode(i.trace_hex, 'hex') AS trace_id
      FROM input i JOIN inserted s ON s.trace_id = decode(i.trace_hex, 'hex') AND s.span_id = decode(i.span_hex, 'hex')
  ),
  roots AS (
    SELECT DISTINCT ON (trace_id) trace_id, rank, start_us, service, route
      FROM fresh ORDER BY trace_id, rank, start_us, n
  ),
  deltas AS (
    SELECT trace_id, min(start_us) AS start_us, max(start_us + duration_us) AS end_us, count(*) AS spans,
        count(*) FILTER (WHERE error) AS errors, sum(bytes) AS bytes
      FROM fresh GROUP BY trace_id
  ),
  summed AS (
    INSERT INTO ${schema}.traces AS t (trace_id, start_us, end_us, span_count, error_count, root_rank, root_start,
        root_service, root_route, bytes)
    SELECT d.trace_id, d.start_us, d.end_us, d.spans, d.errors, r.rank, r.start_us, r.service, r.route, d.bytes
      FROM deltas d JOIN roots r USING (trace_id) ORDER BY d.trace_id
    ON CONFLICT (trace_id) DO UPDATE SET
      start_us = least(t.start_us, excluded.start_us),
      end_us = greatest(t.end_us, excluded.end_us),
      span_count = t.span_count + excluded.span_count,
      error_count = t.error_count + excluded.error_count,
      root_service = CASE WHEN (excluded.root_rank, excluded.root_start) < (t.root_rank, t.root_start)
        THEN excluded.root_service ELSE t.root_service END,
      root_route = CASE WHEN (excluded.root_rank, excluded.root_start) < (t.root_rank, t.root_start)
        THEN excluded.root_route ELSE t.root_route END,
      root_start = CASE WHEN (excluded.root_rank, excluded.root_start) < (t.root_rank, t.root_start)
        THEN excluded.root_start ELSE t.root_start END,
      root_rank = least(t.root_rank, excluded.root_rank),
      bytes = t.bytes + excluded.bytes
  ),
  noted AS (
    INSERT INTO ${schema}.trace_services (trace_id, service, start_us)
    SELECT DISTINCT ON (trace_id, service) trace_id, service, start_us FROM fresh ORDER BY trace_id, service, n
    ON CONFLICT (trace_id, md5(service)) DO NOTHING
  ),
  sized AS (
    UPDATE ${schema}.stored_bytes SET bytes = bytes + (SELECT coalesce(sum(bytes), 0) FROM fresh) WHERE slot = $17
  )
  SELECT n FROM fresh`;

class PostgresSpanStore implements SpanStore {
  readonly #pool: pg.Pool;
  readonly #schema: string;
  readonly #appendSql: string;
  /** Resource ids by key digest; ids are never reused (retention keeps resources), so any replica's are good. */
  readonly #resourceByKey = new Map<string, number>();
  /** Spans of one OTLP resource share its attributes object: its key is hashed once per request. */
  readonly #keyByObject = new WeakMap<object, Map<string, string>>();

  constructor(pool: pg.Pool, schema: string) {
    this.#pool = pool;
    this.#schema = schema;
    this.#appendSql = appendSql(schema);
  }

  async append(spans: readonly SpanRecord[]): Promise<readonly SpanRecord[]> {
    if (spans.length === 0) return [];
    // One row per (trace, span): a span twice in one request is stored once, the first as sent.
    const unique = new Map<string, { span: SpanRecord; order: number }>();
    spans.forEach((span, order) => {
      const key = span.traceId + span.spanId;
      if (!unique.has(key)) unique.set(key, { span, order });
    });
    // In key order, so that two requests touching the same traces lock them in the same order.
    const rows = [...unique.values()].sort((a, b) =>
      a.span.traceId === b.span.traceId
        ? compare(a.span.spanId, b.span.spanId)
        : compare(a.span.traceId, b.span.traceId),
    );
    const keys = rows.map(({ span }) => this.#resourceKey(span));
    const resourceIds = await this.#resourceIds(
      rows.map((r) => r.span),
      keys,
    );
    const columns = columnsOf(
      rows.map((r) => r.span),
      keys.map((key) => resourceIds.get(key)!),
    );
    const slot = randomInt(SIZE_SLOTS);
    const { rows: fresh } = await retryingDeadlocks(() =>
      inTransaction(this.#pool, (client) =>
        client.query<{ n: string }>({
          name: `baton-span-append-${this.#schema}`,
          text: this.#appendSql,
          values: [...columns, slot],
        }),
      ),
    );
    // In the order they were sent, as the SQLite store gives them.
    return fresh
      .map(({ n }) => rows[Number(n) - 1]!)
      .sort((a, b) => a.order - b.order)
      .map((r) => r.span);
  }

  async searchTraces(query: TraceQuery): Promise<readonly TraceSummary[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (value: unknown) => {
      args.push(value);
      return `$${args.length}`;
    };
    // With a service, walk that service's index; otherwise the traces' own start index. Names
    // are matched by their digest alone: a second condition on the name itself would square
    // the planner's row estimate, and with few rows expected it sorts every match instead of
    // walking the index newest first. A digest collision is filtered out below.
    const start = query.service === undefined ? 't.start_us' : 'ts.start_us';
    if (query.service !== undefined) where.push(`md5(ts.service) = md5(${arg(query.service)})`);
    if (query.sinceUs !== undefined) where.push(`${start} >= ${arg(query.sinceUs)}`);
    if (query.untilUs !== undefined) where.push(`${start} <= ${arg(query.untilUs)}`);
    if (query.route !== undefined) where.push(`md5(t.root_route) = md5(${arg(query.route)})`);
    if (query.status === 'error') where.push('t.error_count > 0');
    if (query.status === 'ok') where.push('t.error_count = 0');
    if (query.minDurationUs !== undefined) where.push(`t.end_us - t.start_us >= ${arg(query.minDurationUs)}`);
    if (query.maxDurationUs !== undefined) where.push(`t.end_us - t.start_us <= ${arg(query.maxDurationUs)}`);
    const s = this.#schema;
    const from =
      query.service === undefined
        ? `${s}.traces t`
        : `${s}.trace_services ts JOIN ${s}.traces t ON t.trace_id = ts.trace_id`;
    // Services in byte order (COLLATE "C"), as SQLite's BINARY sorts them.
    const sql = `SELECT t.trace_id, t.start_us, t.end_us, t.span_count, t.error_count, t.root_rank,
        t.root_service, t.root_route,
        ARRAY(SELECT x.service FROM ${s}.trace_services x WHERE x.trace_id = t.trace_id
          ORDER BY x.service COLLATE "C") AS services
      FROM ${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ${start} DESC LIMIT ${arg(query.limit)}`;
    const { rows } = await this.#pool.query<TraceRow>(sql, args);
    const matching = rows.filter(
      (row) =>
        (query.service === undefined || row.services.includes(query.service)) &&
        (query.route === undefined || row.root_route === query.route),
    );
    return matching.map((row) => {
      const startUs = Number(row.start_us);
      return {
        traceId: row.trace_id.toString('hex'),
        start: new Date(Math.floor(startUs / 1000)).toISOString(),
        durationMs: (Number(row.end_us) - startUs) / 1000,
        spanCount: row.span_count,
        errorCount: row.error_count,
        error: row.error_count > 0,
        root: { service: row.root_service, route: row.root_route, complete: row.root_rank === 0 },
        services: row.services,
      };
    });
  }

  async getTrace(traceId: string): Promise<readonly SpanRecord[]> {
    const s = this.#schema;
    const { rows } = await this.#pool.query<SpanRow>(
      `SELECT s.span_id, s.parent_id, s.kind, s.status, s.start_us, s.duration_us, s.name, s.attributes,
         s.extra, r.service, r.instance, r.version, r.attributes AS resource
       FROM ${s}.spans s JOIN ${s}.resources r ON r.id = s.resource_id
       WHERE s.trace_id = decode($1, 'hex')`,
      [/^[0-9a-f]*$/.test(traceId) && traceId.length % 2 === 0 ? traceId : ''],
    );
    return rows.map((row) => spanFromRow(traceId, row));
  }

  /**
   * Every replica runs retention; one deletes at a time (a try-lock: the others skip the
   * chunk rather than queue behind it). Trace rows go first, in their own statement, so that
   * an append racing the delete either lands before it (and is deleted with the trace) or
   * waits for it and starts the trace again: no span is left without its trace.
   */
  async enforceRetention(policy: RetentionPolicy, nowMs: number, chunk: number): Promise<RetentionPass> {
    const s = this.#schema;
    const cutoffUs = (nowMs - policy.maxAgeMs) * 1000;
    return await retryingDeadlocks(() =>
      inTransaction(this.#pool, async (client) => {
        const { rows: locked } = await client.query<{ ours: boolean }>(
          'SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ours',
          [`baton:span-retention:${s}`],
        );
        if (!locked[0]!.ours) return { deletedTraces: 0, deletedSpans: 0, done: true };
        await analyzeFirstSpans(client, s);
        let { rows: victims } = await client.query<{ trace_id: Buffer }>(
          `SELECT trace_id FROM ${s}.traces WHERE start_us < $1 ORDER BY start_us LIMIT $2`,
          [cutoffUs, chunk],
        );
        if (victims.length === 0 && (await this.#storedBytes(client)) > policy.maxBytes) {
          ({ rows: victims } = await client.query<{ trace_id: Buffer }>(
            `SELECT trace_id FROM ${s}.traces ORDER BY start_us LIMIT $1`,
            [chunk],
          ));
        }
        if (victims.length === 0) return { deletedTraces: 0, deletedSpans: 0, done: true };
        const { rows: gone } = await client.query<{ trace_id: Buffer; bytes: string }>(
          `DELETE FROM ${s}.traces WHERE trace_id = ANY($1::bytea[]) RETURNING trace_id, bytes`,
          [victims.map((v) => v.trace_id)],
        );
        const ids = gone.map((g) => g.trace_id);
        const bytes = gone.reduce((sum, g) => sum + Number(g.bytes), 0);
        const { rows: counted } = await client.query<{ spans: string }>(
          `WITH spans_gone AS (DELETE FROM ${s}.spans WHERE trace_id = ANY($1::bytea[]) RETURNING 1),
             services_gone AS (DELETE FROM ${s}.trace_services WHERE trace_id = ANY($1::bytea[])),
             sized AS (UPDATE ${s}.stored_bytes SET bytes = bytes - $2 WHERE slot = $3)
           SELECT count(*) AS spans FROM spans_gone`,
          [ids, bytes, randomInt(SIZE_SLOTS)],
        );
        return {
          deletedTraces: gone.length,
          deletedSpans: Number(counted[0]!.spans),
          done: victims.length < chunk,
        };
      }),
    );
  }

  /** The estimated bytes of the spans stored (rows and their key), not the files: see stored_bytes. */
  async sizeBytes(): Promise<number> {
    return await this.#storedBytes(this.#pool);
  }

  async close(): Promise<void> {
    if (!this.#pool.ended) await this.#pool.end();
  }

  async #storedBytes(on: pg.Pool | pg.PoolClient): Promise<number> {
    const { rows } = await on.query<{ bytes: string }>(
      `SELECT coalesce(sum(bytes), 0) AS bytes FROM ${this.#schema}.stored_bytes`,
    );
    return Number(rows[0]!.bytes);
  }

  #resourceKey(span: SpanRecord): string {
    const identity = `${span.service}\u0000${span.instance ?? ''}\u0000${span.version ?? ''}`;
    let byIdentity = this.#keyByObject.get(span.resource);
    let key = byIdentity?.get(identity);
    if (key !== undefined) return key;
    key = createHash('sha256')
      .update(identity)
      .update('\u0000')
      .update(JSON.stringify(span.resource))
      .digest('hex');
    if (byIdentity === undefined) {
      byIdentity = new Map();
      this.#keyByObject.set(span.resource, byIdentity);
    }
    byIdentity.set(identity, key);
    return key;
  }

  /** Ids of the request's resources: from memory, else found or created (outside the append's transaction). */
  async #resourceIds(spans: readonly SpanRecord[], keys: readonly string[]): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    const missing = new Map<string, SpanRecord>();
    keys.forEach((key, i) => {
      const id = this.#resourceByKey.get(key);
      if (id !== undefined) ids.set(key, id);
      else if (!missing.has(key)) missing.set(key, spans[i]!);
    });
    if (missing.size === 0) return ids;
    const s = this.#schema;
    const wanted = [...missing.entries()];
    // Inserted if new; a row another replica inserts meanwhile is not in this statement's
    // snapshot, so whatever is still missing is read again once that one has committed.
    await this.#pool.query(
      `INSERT INTO ${s}.resources (key, service, instance, version, attributes)
       SELECT decode(k, 'hex'), service, instance, version, attributes
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS r(k, service, instance, version, attributes)
       ON CONFLICT (key) DO NOTHING`,
      [
        wanted.map(([key]) => key),
        wanted.map(([, span]) => pgText(span.service)),
        wanted.map(([, span]) => (span.instance === undefined ? null : pgText(span.instance))),
        wanted.map(([, span]) => (span.version === undefined ? null : pgText(span.version))),
        wanted.map(([, span]) => JSON.stringify(span.resource)),
      ],
    );
    const { rows } = await this.#pool.query<{ id: string; key: string }>(
      `SELECT id, encode(key, 'hex') AS key FROM ${s}.resources WHERE key = ANY($1::bytea[])`,
      [wanted.map(([key]) => Buffer.from(key, 'hex'))],
    );
    // Bounded: a sender that changes its resource on every request cannot grow memory forever.
    if (this.#resourceByKey.size + rows.length > 10_000) this.#resourceByKey.clear();
    for (const row of rows) {
      ids.set(row.key, Number(row.id));
      this.#resourceByKey.set(row.key, Number(row.id));
    }
    return ids;
  }
}

/**
 * PostgreSQL's text cannot hold U+0000, which OTLP strings may: it becomes U+FFFD, as a lone
 * surrogate does on its way to UTF-8, rather than failing the whole request. (The JSON
 * columns keep both, escaped.)
 */
function pgText(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '\ufffd') : value;
}

/**
 * A search chooses between walking an index newest first (stopping at the limit) and sorting
 * every match, by the planner's row estimates. Tables never analyzed estimate a service's
 * traces at almost none, and a search by a common service then sorts all its traces (110 ms
 * at 25,000 traces in the bench, and growing). Autovacuum analyzes within a minute or so of
 * the first spans (the migration lowers its thresholds); retention does not wait for it.
 */
async function analyzeFirstSpans(client: pg.PoolClient, schema: string): Promise<void> {
  const { rows } = await client.query<{ relname: string }>(
    `SELECT relname FROM pg_stat_user_tables
      WHERE schemaname = $1 AND relname IN ('traces', 'trace_services')
        AND last_analyze IS NULL AND last_autoanalyze IS NULL AND n_mod_since_analyze > 0`,
    [schema],
  );
  for (const { relname } of rows) await client.query(`ANALYZE ${schema}.${relname}`);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The append statement's sixteen column arrays ($1–$16). */
function columnsOf(spans: readonly SpanRecord[], resourceIds: readonly number[]): unknown[][] {
  const traceHex: string[] = [];
  const spanHex: string[] = [];
  const parentHex: (string | null)[] = [];
  const kinds: number[] = [];
  const statuses: number[] = [];
  const starts: number[] = [];
  const durations: number[] = [];
  const names: string[] = [];
  const attributes: string[] = [];
  const extras: (string | null)[] = [];
  const services: string[] = [];
  const routes: string[] = [];
  const ranks: number[] = [];
  const errors: boolean[] = [];
  const bytes: number[] = [];
  for (const span of spans) {
    const attributesJson = JSON.stringify(span.attributes);
    const extra = extraOf(span);
    traceHex.push(span.traceId);
    spanHex.push(span.spanId);
    parentHex.push(span.parentSpanId ?? null);
    kinds.push(KIND_NUMBER.get(span.kind) ?? 0);
    statuses.push(STATUS_NUMBER.get(span.status) ?? 0);
    starts.push(span.startUs);
    durations.push(span.durationUs);
    names.push(pgText(span.name));
    attributes.push(attributesJson);
    extras.push(extra);
    services.push(pgText(span.service));
    routes.push(pgText(routeOf(span)));
    ranks.push(span.parentSpanId === undefined ? 0 : span.kind === 'server' ? 1 : 2);
    errors.push(isError(span));
    bytes.push(SPAN_OVERHEAD_BYTES + span.name.length + attributesJson.length + (extra?.length ?? 0));
  }
  return [
    traceHex,
    spanHex,
    parentHex,
    [...resourceIds],
    kinds,
    statuses,
    starts,
    durations,
    names,
    attributes,
    extras,
    services,
    routes,
    ranks,
    errors,
    bytes,
  ];
}

function extraOf(span: SpanRecord): string | null {
  if (span.statusMessage === undefined && span.events === undefined && span.links === undefined) return null;
  const extra: Extra = {};
  if (span.statusMessage !== undefined) extra.m = span.statusMessage;
  if (span.events !== undefined) extra.e = span.events;
  if (span.links !== undefined) extra.l = span.links;
  return JSON.stringify(extra);
}

function spanFromRow(traceId: string, row: SpanRow): SpanRecord {
  const extra = row.extra === null ? {} : (JSON.parse(row.extra) as Extra);
  return {
    traceId,
    spanId: row.span_id.toString('hex'),
    parentSpanId: row.parent_id === null ? undefined : row.parent_id.toString('hex'),
    service: row.service,
    instance: row.instance ?? undefined,
    version: row.version ?? undefined,
    name: row.name,
    kind: SPAN_KINDS[row.kind] ?? 'unspecified',
    startUs: Number(row.start_us),
    durationUs: Number(row.duration_us),
    status: SPAN_STATUSES[row.status] ?? 'unset',
    ...(extra.m !== undefined ? { statusMessage: extra.m } : {}),
    attributes: JSON.parse(row.attributes) as Attributes,
    ...(extra.e !== undefined ? { events: extra.e } : {}),
    ...(extra.l !== undefined ? { links: extra.l } : {}),
    resource: JSON.parse(row.resource) as Attributes,
  };
}
