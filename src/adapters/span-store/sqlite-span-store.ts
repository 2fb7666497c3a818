// The embedded span store: its own SQLite file (WAL), apart from the state database, so
// that a flood of spans never competes with revisions for locks or fsyncs. Tuned for the
// write path: one transaction per OTLP request, prepared statements, ids as raw bytes,
// resources stored once, and only the indexes the API's searches use. Spans are worth
// less than revisions: synchronous=NORMAL survives kill -9 and may lose the last commits
// only to a power cut.
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { routeOf, isError, SPAN_KINDS, SPAN_STATUSES } from '../../domain/telemetry/span.ts';
import type { Attributes, SpanKind, SpanRecord, SpanStatus } from '../../domain/telemetry/span.ts';
import type {
  RetentionPass,
  RetentionPolicy,
  SpanStore,
  TraceQuery,
  TraceSummary,
} from '../../ports/span-store.ts';
import { inTransaction, openSqlite } from '../store/sqlite/sqlite-schema.ts';
import { SPAN_STORE_MIGRATIONS } from './span-store-migrations.ts';

export async function openSqliteSpanStore(options: {
  path: string; /* ':memory:' allowed */
}): Promise<SpanStore> {
  const pragmas = [
    // Only takes effect on a new file, before the first table: lets retention give freed
    // pages back to the file system instead of keeping the file at its high-water mark.
    'auto_vacuum = INCREMENTAL',
    'journal_mode = WAL',
    'synchronous = NORMAL',
    'busy_timeout = 5000',
    'cache_size = -32000',
  ];
  return new SqliteSpanStore(await openSqlite(options.path, pragmas, SPAN_STORE_MIGRATIONS));
}

interface TraceDelta {
  startUs: number;
  endUs: number;
  spans: number;
  errors: number;
  rootRank: number;
  rootStart: number;
  rootService: string;
  rootRoute: string;
  readonly services: Map<string, number>;
}

interface SpanRow {
  span_id: Uint8Array;
  parent_id: Uint8Array | null;
  kind: number;
  status: number;
  start_us: number;
  duration_us: number;
  name: string;
  attributes: string;
  extra: string | null;
  service: string;
  instance: string | null;
  version: string | null;
  resource: string;
}

interface TraceRow {
  id: number;
  trace_id: Uint8Array;
  start_us: number;
  end_us: number;
  span_count: number;
  error_count: number;
  root_rank: number;
  root_service: string;
  root_route: string;
}

interface Extra {
  m?: string;
  e?: SpanRecord['events'];
  l?: SpanRecord['links'];
}

const KIND_NUMBER = new Map<SpanKind, number>(SPAN_KINDS.map((k, i) => [k, i]));
const STATUS_NUMBER = new Map<SpanStatus, number>(SPAN_STATUSES.map((s, i) => [s, i]));

class SqliteSpanStore implements SpanStore {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  /** Spans of one OTLP resource share its attributes object: the id is found once per request. */
  readonly #resourceByObject = new WeakMap<object, Map<string, number>>();
  readonly #resourceByKey = new Map<string, number>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async append(spans: readonly SpanRecord[]): Promise<readonly SpanRecord[]> {
    if (spans.length === 0) return [];
    const byTrace = new Map<string, SpanRecord[]>();
    for (const span of spans) {
      const list = byTrace.get(span.traceId);
      if (list) list.push(span);
      else byTrace.set(span.traceId, [span]);
    }
    const findTrace = this.#statement('SELECT id FROM traces WHERE trace_id = ?');
    const lastTrace = this.#statement('SELECT coalesce(max(id), 0) AS id FROM traces');
    const insertSpan = this.#statement(
      `INSERT OR IGNORE INTO spans (trace, span_id, parent_id, resource_id, kind, status, start_us, duration_us,
         name, attributes, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertTrace = this.#statement(
      `INSERT INTO traces (id, trace_id, start_us, end_us, span_count, error_count, root_rank, root_start,
         root_service, root_route) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // Every right-hand side reads the row as it was: the root is replaced only by a better candidate.
    const updateTrace = this.#statement(
      `UPDATE traces SET
         start_us = min(start_us, ?2),
         end_us = max(end_us, ?3),
         span_count = span_count + ?4,
         error_count = error_count + ?5,
         root_service = iif((?6, ?7) < (root_rank, root_start), ?8, root_service),
         root_route = iif((?6, ?7) < (root_rank, root_start), ?9, root_route),
         root_start = iif((?6, ?7) < (root_rank, root_start), ?7, root_start),
         root_rank = min(root_rank, ?6)
       WHERE id = ?1`,
    );
    const insertService = this.#statement(
      'INSERT OR IGNORE INTO trace_services (trace, service, start_us) VALUES (?, ?, ?)',
    );
    return inTransaction(this.#db, () => {
      const stored: SpanRecord[] = [];
      // Read inside the (immediate) transaction: no other writer can take the same ids.
      let nextRef = (lastTrace.get() as { id: number }).id + 1;
      for (const [traceId, list] of byTrace) {
        const idBytes = Buffer.from(traceId, 'hex');
        const known = findTrace.get(idBytes) as { id: number } | undefined;
        const ref = known?.id ?? nextRef++;
        let delta: TraceDelta | undefined;
        for (const span of list) {
          const { changes } = insertSpan.run(
            ref,
            Buffer.from(span.spanId, 'hex'),
            span.parentSpanId === undefined ? null : Buffer.from(span.parentSpanId, 'hex'),
            this.#resourceId(span),
            KIND_NUMBER.get(span.kind) ?? 0,
            STATUS_NUMBER.get(span.status) ?? 0,
            span.startUs,
            span.durationUs,
            span.name,
            JSON.stringify(span.attributes),
            extraOf(span),
          );
          if (changes === 0) continue;
          stored.push(span);
          delta = accumulate(delta, span);
        }
        if (delta === undefined) continue; // every span was already stored
        const figures = [
          delta.startUs,
          delta.endUs,
          delta.spans,
          delta.errors,
          delta.rootRank,
          delta.rootStart,
        ];
        if (known) updateTrace.run(ref, ...figures, delta.rootService, delta.rootRoute);
        else insertTrace.run(ref, idBytes, ...figures, delta.rootService, delta.rootRoute);
        for (const [service, startUs] of delta.services) insertService.run(ref, service, startUs);
      }
      return stored;
    });
  }

  async searchTraces(query: TraceQuery): Promise<readonly TraceSummary[]> {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    // With a service, walk that service's index; otherwise the traces' own start index.
    const start = query.service === undefined ? 't.start_us' : 'ts.start_us';
    if (query.service !== undefined) {
      where.push('ts.service = ?');
      args.push(query.service);
    }
    if (query.sinceUs !== undefined) {
      where.push(`${start} >= ?`);
      args.push(query.sinceUs);
    }
    if (query.untilUs !== undefined) {
      where.push(`${start} <= ?`);
      args.push(query.untilUs);
    }
    if (query.route !== undefined) {
      where.push('t.root_route = ?');
      args.push(query.route);
    }
    if (query.status === 'error') where.push('t.error_count > 0');
    if (query.status === 'ok') where.push('t.error_count = 0');
    if (query.minDurationUs !== undefined) {
      where.push('t.end_us - t.start_us >= ?');
      args.push(query.minDurationUs);
    }
    if (query.maxDurationUs !== undefined) {
      where.push('t.end_us - t.start_us <= ?');
      args.push(query.maxDurationUs);
    }
    const from =
      query.service === undefined ? 'traces t' : 'trace_services ts JOIN traces t ON t.id = ts.trace';
    const sql = `SELECT t.id, t.trace_id, t.start_us, t.end_us, t.span_count, t.error_count, t.root_rank,
        t.root_service, t.root_route
      FROM ${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ${start} DESC LIMIT ?`;
    const rows = this.#statement(sql).all(...args, query.limit) as unknown as TraceRow[];
    const servicesOf = this.#statement('SELECT service FROM trace_services WHERE trace = ? ORDER BY service');
    return rows.map((row) => ({
      traceId: Buffer.from(row.trace_id).toString('hex'),
      start: new Date(Math.floor(row.start_us / 1000)).toISOString(),
      durationMs: (row.end_us - row.start_us) / 1000,
      spanCount: row.span_count,
      errorCount: row.error_count,
      error: row.error_count > 0,
      root: { service: row.root_service, route: row.root_route, complete: row.root_rank === 0 },
      services: (servicesOf.all(row.id) as { service: string }[]).map((r) => r.service),
    }));
  }

  async getTrace(traceId: string): Promise<readonly SpanRecord[]> {
    const rows = this.#statement(
      `SELECT s.span_id, s.parent_id, s.kind, s.status, s.start_us, s.duration_us, s.name, s.attributes,
         s.extra, r.service, r.instance, r.version, r.attributes AS resource
       FROM spans s JOIN resources r ON r.id = s.resource_id
       WHERE s.trace = (SELECT id FROM traces WHERE trace_id = ?)`,
    ).all(Buffer.from(traceId, 'hex')) as unknown as SpanRow[];
    return rows.map((row) => spanFromRow(traceId, row));
  }

  async enforceRetention(policy: RetentionPolicy, nowMs: number, chunk: number): Promise<RetentionPass> {
    const cutoffUs = (nowMs - policy.maxAgeMs) * 1000;
    let victims = this.#statement('SELECT id FROM traces WHERE start_us < ? ORDER BY start_us LIMIT ?').all(
      cutoffUs,
      chunk,
    ) as { id: number }[];
    if (victims.length === 0 && this.#usedBytes() > policy.maxBytes) {
      victims = this.#statement('SELECT id FROM traces ORDER BY start_us LIMIT ?').all(chunk) as {
        id: number;
      }[];
    }
    if (victims.length === 0) return { deletedTraces: 0, deletedSpans: 0, done: true };
    const deleteSpans = this.#statement('DELETE FROM spans WHERE trace = ?');
    const deleteServices = this.#statement('DELETE FROM trace_services WHERE trace = ?');
    const deleteTrace = this.#statement('DELETE FROM traces WHERE id = ?');
    const deletedSpans = inTransaction(this.#db, () => {
      let spans = 0;
      for (const { id } of victims) {
        spans += Number(deleteSpans.run(id).changes);
        deleteServices.run(id);
        deleteTrace.run(id);
      }
      return spans;
    });
    this.#releaseFreePages();
    return { deletedTraces: victims.length, deletedSpans, done: victims.length < chunk };
  }

  async sizeBytes(): Promise<number> {
    return this.#usedBytes();
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }

  #usedBytes(): number {
    const pages = this.#pragma('page_count') - this.#pragma('freelist_count');
    return pages * this.#pragma('page_size');
  }

  /** Gives free pages back to the file system once they are a sizeable share of the file. */
  #releaseFreePages(): void {
    const free = this.#pragma('freelist_count');
    if (free > 256 && free * 10 > this.#pragma('page_count'))
      this.#db.exec(`PRAGMA incremental_vacuum(${free})`);
  }

  #pragma(name: 'page_count' | 'freelist_count' | 'page_size'): number {
    const row = this.#statement(`PRAGMA ${name}`).get() as Record<string, number>;
    return row[name]!;
  }

  #resourceId(span: SpanRecord): number {
    const identity = `${span.service}\u0000${span.instance ?? ''}\u0000${span.version ?? ''}`;
    let byIdentity = this.#resourceByObject.get(span.resource);
    const known = byIdentity?.get(identity);
    if (known !== undefined) return known;
    const attributes = JSON.stringify(span.resource);
    const key = `${identity}\u0000${attributes}`;
    let id = this.#resourceByKey.get(key);
    if (id === undefined) {
      this.#statement(
        'INSERT OR IGNORE INTO resources (key, service, instance, version, attributes) VALUES (?, ?, ?, ?, ?)',
      ).run(key, span.service, span.instance ?? null, span.version ?? null, attributes);
      id = (this.#statement('SELECT id FROM resources WHERE key = ?').get(key) as { id: number }).id;
      // Bounded: a sender that changes its resource on every request cannot grow memory forever.
      if (this.#resourceByKey.size >= 10_000) this.#resourceByKey.clear();
      this.#resourceByKey.set(key, id);
    }
    if (byIdentity === undefined) {
      byIdentity = new Map();
      this.#resourceByObject.set(span.resource, byIdentity);
    }
    byIdentity.set(identity, id);
    return id;
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}

function extraOf(span: SpanRecord): string | null {
  if (span.statusMessage === undefined && span.events === undefined && span.links === undefined) return null;
  const extra: Extra = {};
  if (span.statusMessage !== undefined) extra.m = span.statusMessage;
  if (span.events !== undefined) extra.e = span.events;
  if (span.links !== undefined) extra.l = span.links;
  return JSON.stringify(extra);
}

function accumulate(delta: TraceDelta | undefined, span: SpanRecord): TraceDelta {
  const end = span.startUs + span.durationUs;
  const rank = span.parentSpanId === undefined ? 0 : span.kind === 'server' ? 1 : 2;
  if (delta === undefined) {
    delta = {
      startUs: span.startUs,
      endUs: end,
      spans: 0,
      errors: 0,
      rootRank: rank,
      rootStart: span.startUs,
      rootService: span.service,
      rootRoute: routeOf(span),
      services: new Map(),
    };
  } else {
    delta.startUs = Math.min(delta.startUs, span.startUs);
    delta.endUs = Math.max(delta.endUs, end);
    if (rank < delta.rootRank || (rank === delta.rootRank && span.startUs < delta.rootStart)) {
      delta.rootRank = rank;
      delta.rootStart = span.startUs;
      delta.rootService = span.service;
      delta.rootRoute = routeOf(span);
    }
  }
  delta.spans++;
  if (isError(span)) delta.errors++;
  if (!delta.services.has(span.service)) delta.services.set(span.service, span.startUs);
  return delta;
}

function spanFromRow(traceId: string, row: SpanRow): SpanRecord {
  const extra = row.extra === null ? {} : (JSON.parse(row.extra) as Extra);
  return {
    traceId,
    spanId: Buffer.from(row.span_id).toString('hex'),
    parentSpanId: row.parent_id === null ? undefined : Buffer.from(row.parent_id).toString('hex'),
    service: row.service,
    instance: row.instance ?? undefined,
    version: row.version ?? undefined,
    name: row.name,
    kind: SPAN_KINDS[row.kind] ?? 'unspecified',
    startUs: row.start_us,
    durationUs: row.duration_us,
    status: SPAN_STATUSES[row.status] ?? 'unset',
    ...(extra.m !== undefined ? { statusMessage: extra.m } : {}),
    attributes: JSON.parse(row.attributes) as Attributes,
    ...(extra.e !== undefined ? { events: extra.e } : {}),
    ...(extra.l !== undefined ? { links: extra.l } : {}),
    resource: JSON.parse(row.resource) as Attributes,
  };
}
