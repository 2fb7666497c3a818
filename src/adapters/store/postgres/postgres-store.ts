// The production Store: PostgreSQL, shared by several control-plane replicas. Every write
// takes one advisory transaction lock, which serialises revision numbering and also makes
// events commit in seq order: with concurrent writers a watcher reading `seq > n` could
// otherwise see seq 11 commit before seq 10 and skip 10 forever.
import pg from 'pg';
import type { Manifest } from '../../../domain/manifest/model.ts';
import type {
  NewRevision,
  Revision,
  RevisionSource,
  RevisionSummary,
} from '../../../domain/revisions/revision.ts';
import { StoreConflictError } from '../../../ports/store.ts';
import type {
  ConfigRelease,
  ConfigReleaseStatus,
  NewConfigRelease,
  EventQuery,
  NewEvent,
  RevisionQuery,
  Store,
  StoredEvent,
  StoredSecret,
  TokenRecord,
  WriteOptions,
} from '../../../ports/store.ts';
import { BatonError } from '../../../domain/errors.ts';
import { epochHolds } from './lease-table.ts';
import { migratePostgres } from './postgres-migrate.ts';
import { inTransaction as pgTransaction } from './postgres-transaction.ts';
import { classifyPostgresError, withCodedErrors } from '../store-errors.ts';
import {
  announce,
  configRelease,
  eventRow,
  isoTime,
  kindsFilter,
  pageLimit,
  storedEvent,
  storedRevision,
} from '../store-values.ts';
import type { EventRow } from '../store-values.ts';
import { listenForEvents } from './event-listener.ts';
import type { EventListener } from './event-listener.ts';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.ts';

/** Unquoted-identifier shape, short enough that `baton_events_<schema>` fits in 63 bytes. */
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,48}$/;

export async function openPostgresStore(options: {
  connectionString: string;
  schema?: string;
}): Promise<Store> {
  const { connectionString, schema } = options;
  if (schema !== undefined && !SCHEMA_PATTERN.test(schema)) {
    throw new Error(`schema ${JSON.stringify(schema)} must be lowercase letters, digits and _ (at most 49)`);
  }
  const pool = new pg.Pool({ connectionString });
  // An idle client whose connection dies is dropped by the pool; the next query opens a
  // new one. Without a listener the 'error' event would crash the process.
  pool.on('error', () => {});
  if (schema !== undefined) {
    // Queued on the client before anything the pool hands it out for. It can only fail on a
    // broken connection, which the query that follows reports.
    pool.on('connect', (client) => void client.query(`SET search_path TO ${schema}`).catch(() => {}));
  }
  try {
    const namespace = schema ?? (await currentSchema(pool));
    await migratePostgres({
      inTransaction: (work) => inTransaction(pool, work),
      migrations: POSTGRES_MIGRATIONS,
      lockKey: `baton:migrate:${namespace}`,
      schema,
      database: schema === undefined ? 'PostgreSQL database' : `PostgreSQL schema ${schema}`,
    });
    const store = new PostgresStore(pool, {
      writeLock: `baton:write:${namespace}`,
      channel: schema === undefined ? 'baton_events' : `baton_events_${schema}`,
    });
    await store.listen(connectionString);
    return withCodedErrors(store, classifyPostgresError, 'PostgreSQL');
  } catch (error) {
    await pool.end();
    throw error;
  }
}

async function currentSchema(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ schema: string | null }>('SELECT current_schema() AS schema');
  return rows[0]?.schema ?? '';
}

/** One transaction; a revision number taken meanwhile by another replica is a conflict, not a failure. */
async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  try {
    return await pgTransaction(pool, work);
  } catch (error) {
    if ((error as { constraint?: string }).constraint === 'revisions_pkey') {
      throw new StoreConflictError('another revision with this number was recorded first', { cause: error });
    }
    throw error;
  }
}

interface SummaryRow {
  number: number;
  parent: number | null;
  hash: string;
  author: string;
  message: string;
  source_json: RevisionSource;
  created_at: Date;
  service_count: number;
}

interface RevisionRow extends SummaryRow {
  manifest_text: string;
  manifest_json: Manifest;
}

interface EventTableRow {
  seq: string; // bigint
  time: Date;
  kind: string;
  service: string | null;
  revision: number | null;
  actor: string;
  message: string;
  data_json: Record<string, unknown> | null;
}

const SUMMARY_COLUMNS = 'number, parent, hash, author, message, source_json, created_at, service_count';
const REVISION_COLUMNS = `${SUMMARY_COLUMNS}, manifest_text, manifest_json`;
const EVENT_COLUMNS = 'seq, time, kind, service, revision, actor, message, data_json';
const TOKEN_COLUMNS = 'name, role, digest, created_at, created_by, revoked_at';
const UNIQUE_VIOLATION = '23505';

interface TokenRow {
  name: string;
  role: string;
  digest: string;
  created_at: Date;
  created_by: string;
  revoked_at: Date | null;
}

const SECRET_COLUMNS = 'name, sealed, fingerprint, updated_at, updated_by';
const CONFIG_COLUMNS =
  'number, parent, status, gray_json, author, message, source_json, created_at, content_json';

interface ConfigRow {
  number: number;
  parent: number | null;
  status: ConfigReleaseStatus;
  gray_json: NewConfigRelease['gray'] | null;
  author: string;
  message: string;
  source_json: NewConfigRelease['source'];
  created_at: Date;
  content_json: NewConfigRelease['content'];
}

interface SecretRow {
  name: string;
  sealed: string;
  fingerprint: string;
  updated_at: Date;
  updated_by: string;
}

class PostgresStore implements Store {
  readonly #pool: pg.Pool;
  readonly #writeLock: string;
  readonly #channel: string;
  readonly #listeners = new Set<(lastSeq: number) => void>();
  #listener: EventListener | undefined;
  #closed = false;

  constructor(pool: pg.Pool, options: { writeLock: string; channel: string }) {
    this.#pool = pool;
    this.#writeLock = options.writeLock;
    this.#channel = options.channel;
  }

  /** Resolves once LISTEN is in place: every commit after that reaches the listeners. */
  async listen(connectionString: string): Promise<void> {
    this.#listener = await listenForEvents({
      connectionString,
      channel: this.#channel,
      onNotify: (lastSeq) => announce(this.#listeners, lastSeq),
      // Notifications sent while the connection was down are lost: announce where the log is now.
      onReconnect: () => {
        this.lastEventSeq().then(
          (lastSeq) => {
            if (lastSeq > 0) announce(this.#listeners, lastSeq);
          },
          () => {}, // the next notification carries the news instead
        );
      },
    });
  }

  async appendRevision(
    revision: NewRevision,
    options: Parameters<Store['appendRevision']>[1],
  ): Promise<Revision> {
    const createdAt = isoTime(revision.createdAt, 'revision createdAt');
    const events = options.events.map(eventRow);
    const number = await inTransaction(this.#pool, async (client) => {
      await this.#lockWrites(client, options.fence);
      const { rows } = await client.query<{ number: number | null }>(
        'SELECT max(number) AS number FROM revisions',
      );
      const latest = rows[0]!.number;
      if (latest !== options.expectedParent) {
        throw new StoreConflictError(
          `expected the latest revision to be ${options.expectedParent ?? 'none'}, but it is ${latest ?? 'none'}`,
        );
      }
      const number = (latest ?? 0) + 1;
      await client.query(
        `INSERT INTO revisions (${REVISION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10::json)`,
        [
          number,
          latest,
          revision.hash,
          revision.author,
          revision.message,
          JSON.stringify(revision.source),
          createdAt,
          Object.keys(revision.manifest.services).length,
          revision.manifestText,
          JSON.stringify(revision.manifest),
        ],
      );
      await this.#insertEvents(client, events);
      return number;
    });
    return storedRevision(revision, number, options.expectedParent, createdAt);
  }

  async getRevision(number: number): Promise<Revision | undefined> {
    if (!Number.isSafeInteger(number)) return undefined;
    const { rows } = await this.#pool.query<RevisionRow>(
      `SELECT ${REVISION_COLUMNS} FROM revisions WHERE number = $1`,
      [number],
    );
    return rows[0] && toRevision(rows[0]);
  }

  async latestRevision(): Promise<Revision | undefined> {
    const { rows } = await this.#pool.query<RevisionRow>(
      `SELECT ${REVISION_COLUMNS} FROM revisions ORDER BY number DESC LIMIT 1`,
    );
    return rows[0] && toRevision(rows[0]);
  }

  async listRevisions(query: RevisionQuery = {}): Promise<RevisionSummary[]> {
    const params: unknown[] = [];
    const where = query.before === undefined ? [] : [`number < $${params.push(query.before)}`];
    const rows = await this.#select<SummaryRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM revisions`,
      where,
      'number DESC',
      pageLimit(query.limit),
      params,
    );
    return rows.map(toSummary);
  }

  async revisionHistory(limit: number): Promise<Revision[]> {
    const rows = await this.#select<RevisionRow>(
      `SELECT ${REVISION_COLUMNS} FROM revisions`,
      [],
      'number DESC',
      pageLimit(limit),
      [],
    );
    return rows.map(toRevision);
  }

  async appendEvents(events: readonly NewEvent[], options: WriteOptions = {}): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    const rows = events.map(eventRow);
    return inTransaction(this.#pool, async (client) => {
      await this.#lockWrites(client, options.fence);
      return this.#insertEvents(client, rows);
    });
  }

  async readEvents(query: EventQuery = {}): Promise<StoredEvent[]> {
    const limit = pageLimit(query.limit);
    const kinds = kindsFilter(query.kinds);
    const params: unknown[] = [];
    const where: string[] = [];
    if (query.after !== undefined) where.push(`seq > $${params.push(query.after)}`);
    if (query.before !== undefined) where.push(`seq < $${params.push(query.before)}`);
    if (query.service !== undefined) where.push(`service = $${params.push(query.service)}`);
    if (kinds !== undefined) where.push(`kind = ANY($${params.push(kinds)}::text[])`);
    const rows = await this.#select<EventTableRow>(
      `SELECT ${EVENT_COLUMNS} FROM events`,
      where,
      query.newest ? 'seq DESC' : 'seq',
      limit,
      params,
    );
    const events = rows.map((row) =>
      storedEvent(Number(row.seq), { ...row, time: row.time.toISOString(), data: row.data_json }),
    );
    return query.newest ? events.reverse() : events;
  }

  async lastEventSeq(): Promise<number> {
    const { rows } = await this.#pool.query<{ seq: string }>(
      'SELECT coalesce(max(seq), 0) AS seq FROM events',
    );
    return Number(rows[0]!.seq);
  }

  onEvents(listener: (lastSeq: number) => void): () => void {
    const subscription = (lastSeq: number) => listener(lastSeq);
    this.#listeners.add(subscription);
    return () => void this.#listeners.delete(subscription);
  }

  async createToken(token: TokenRecord): Promise<void> {
    try {
      await this.#pool.query(`INSERT INTO tokens (${TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`, [
        token.name,
        token.role,
        token.digest,
        isoTime(token.createdAt, 'createdAt'),
        token.createdBy,
        token.revokedAt ?? null,
      ]);
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION)
        throw new StoreConflictError(`a token named ${token.name} already exists`);
      throw error;
    }
  }

  async tokenByDigest(digest: string): Promise<TokenRecord | undefined> {
    const { rows } = await this.#pool.query<TokenRow>(
      `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE digest = $1 AND revoked_at IS NULL`,
      [digest],
    );
    return rows[0] && toToken(rows[0]);
  }

  async listTokens(): Promise<TokenRecord[]> {
    const { rows } = await this.#pool.query<TokenRow>(
      `SELECT ${TOKEN_COLUMNS} FROM tokens ORDER BY created_at, name`,
    );
    return rows.map(toToken);
  }

  async revokeToken(name: string, at: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      'UPDATE tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL',
      [isoTime(at, 'revokedAt'), name],
    );
    return (rowCount ?? 0) > 0;
  }

  async claimServerKey(name: string, value: string): Promise<string> {
    // Two statements, not one with a CTE: an insert that lost the race waits for the winner to
    // commit, but a SELECT in the same statement would still read the snapshot from before it.
    await this.#pool.query(
      'INSERT INTO server_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
      [name, value],
    );
    const { rows } = await this.#pool.query<{ value: string }>(
      'SELECT value FROM server_keys WHERE name = $1',
      [name],
    );
    return rows[0]!.value;
  }

  async replaceServerKey(name: string, value: string): Promise<void> {
    await this.#pool.query(
      `INSERT INTO server_keys (name, value) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value, created_at = now()`,
      [name, value],
    );
  }

  async putSecret(secret: StoredSecret, events: readonly NewEvent[]): Promise<void> {
    const updatedAt = isoTime(secret.updatedAt, 'secret updatedAt');
    const rows = events.map(eventRow);
    await inTransaction(this.#pool, async (client) => {
      await this.#lockWrites(client, undefined);
      await client.query(
        `INSERT INTO secrets (${SECRET_COLUMNS}) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, fingerprint = excluded.fingerprint,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        [secret.name, secret.sealed, secret.fingerprint, updatedAt, secret.updatedBy],
      );
      await this.#insertEvents(client, rows);
    });
  }

  async getSecret(name: string): Promise<StoredSecret | undefined> {
    const { rows } = await this.#pool.query<SecretRow>(
      `SELECT ${SECRET_COLUMNS} FROM secrets WHERE name = $1`,
      [name],
    );
    return rows[0] && toSecret(rows[0]);
  }

  async listSecrets(): Promise<StoredSecret[]> {
    const { rows } = await this.#pool.query<SecretRow>(`SELECT ${SECRET_COLUMNS} FROM secrets ORDER BY name`);
    return rows.map(toSecret);
  }

  async deleteSecret(name: string, events: readonly NewEvent[]): Promise<boolean> {
    const rows = events.map(eventRow);
    return inTransaction(this.#pool, async (client) => {
      await this.#lockWrites(client, undefined);
      const { rowCount } = await client.query('DELETE FROM secrets WHERE name = $1', [name]);
      if (!rowCount) return false;
      await this.#insertEvents(client, rows);
      return true;
    });
  }

  async appendConfigRelease(
    release: NewConfigRelease,
    options: { readonly expectedParent: number | null; readonly events: readonly NewEvent[] },
  ): Promise<ConfigRelease> {
    const createdAt = isoTime(release.createdAt, 'config release createdAt');
    const rows = options.events.map(eventRow);
    const number = await inTransaction(this.#pool, async (client) => {
      await this.#lockWrites(client, undefined);
      const { rows: latestRows } = await client.query<{ number: number | null }>(
        'SELECT max(number) AS number FROM config_releases',
      );
      const latest = latestRows[0]!.number;
      if (latest !== options.expectedParent) {
        throw new StoreConflictError(
          `expected the latest config release to be ${options.expectedParent ?? 'none'}, but it is ${latest ?? 'none'}`,
        );
      }
      const number = (latest ?? 0) + 1;
      await client.query(
        `INSERT INTO config_releases (${CONFIG_COLUMNS}) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7::jsonb, $8, $9::json)`,
        [
          number,
          latest,
          release.status,
          release.gray === undefined ? null : JSON.stringify(release.gray),
          release.author,
          release.message,
          JSON.stringify(release.source),
          createdAt,
          JSON.stringify(release.content),
        ],
      );
      await this.#insertEvents(client, rows);
      return number;
    });
    return { ...release, createdAt, number, parent: options.expectedParent };
  }

  async getConfigRelease(number: number): Promise<ConfigRelease | undefined> {
    if (!Number.isSafeInteger(number)) return undefined;
    const { rows } = await this.#pool.query<ConfigRow>(
      `SELECT ${CONFIG_COLUMNS} FROM config_releases WHERE number = $1`,
      [number],
    );
    return rows[0] && toConfigRelease(rows[0]);
  }

  async listConfigReleases(query: RevisionQuery = {}): Promise<ConfigRelease[]> {
    const params: unknown[] = [];
    const where = query.before === undefined ? [] : [`number < $${params.push(query.before)}`];
    const rows = await this.#select<ConfigRow>(
      `SELECT ${CONFIG_COLUMNS} FROM config_releases`,
      where,
      'number DESC',
      pageLimit(query.limit),
      params,
    );
    return rows.map(toConfigRelease);
  }

  async setConfigReleaseStatus(
    number: number,
    status: ConfigReleaseStatus,
    events: readonly NewEvent[],
  ): Promise<void> {
    const rows = events.map(eventRow);
    await inTransaction(this.#pool, async (client) => {
      await this.#lockWrites(client, undefined);
      await client.query('UPDATE config_releases SET status = $1 WHERE number = $2', [status, number]);
      await this.#insertEvents(client, rows);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    await this.#listener?.close();
    await this.#pool.end();
  }

  /** Serialises writes; a leader's write also checks, under the lock, that its epoch still holds. */
  async #lockWrites(client: pg.PoolClient, fence: number | undefined): Promise<void> {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.#writeLock]);
    if (fence !== undefined && !(await epochHolds(client, fence)))
      throw new BatonError(
        'leadership-lost',
        `epoch ${fence} no longer holds the lease: the write was refused`,
        {
          hint: 'a newer leader acts now; this replica stopped acting',
        },
      );
  }

  /** Inserts in order, and NOTIFYs inside the transaction: listeners hear of it only on commit. */
  async #insertEvents(client: pg.PoolClient, rows: readonly EventRow[]): Promise<StoredEvent[]> {
    if (rows.length === 0) return [];
    const { rows: inserted } = await client.query<{ seq: string }>(
      `INSERT INTO events (time, kind, service, revision, actor, message, data_json)
       SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::integer[], $5::text[], $6::text[], $7::jsonb[])
       RETURNING seq`,
      [
        rows.map((r) => r.time),
        rows.map((r) => r.kind),
        rows.map((r) => r.service),
        rows.map((r) => r.revision),
        rows.map((r) => r.actor),
        rows.map((r) => r.message),
        rows.map((r) => r.dataJson),
      ],
    );
    // Identity values are drawn row by row in unnest order, so sorted seqs match the input order.
    const seqs = inserted.map((r) => Number(r.seq)).sort((a, b) => a - b);
    await client.query('SELECT pg_notify($1, $2)', [this.#channel, String(seqs.at(-1))]);
    return rows.map((row, i) =>
      storedEvent(seqs[i]!, {
        ...row,
        data: row.dataJson === null ? null : (JSON.parse(row.dataJson) as Record<string, unknown>),
      }),
    );
  }

  async #select<Row extends pg.QueryResultRow>(
    from: string,
    where: readonly string[],
    orderBy: string,
    limit: number | undefined,
    params: unknown[],
  ): Promise<Row[]> {
    let sql = from;
    if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
    sql += ` ORDER BY ${orderBy}`;
    if (limit !== undefined) sql += ` LIMIT $${params.push(limit)}`;
    return (await this.#pool.query<Row>(sql, params)).rows;
  }
}

function toSummary(row: SummaryRow): RevisionSummary {
  return {
    number: row.number,
    parent: row.parent,
    hash: row.hash,
    author: row.author,
    message: row.message,
    source: row.source_json,
    createdAt: row.created_at.toISOString(),
    services: row.service_count,
  };
}

function toRevision(row: RevisionRow): Revision {
  const { services: _services, ...summary } = toSummary(row);
  return { ...summary, manifestText: row.manifest_text, manifest: row.manifest_json };
}

function toToken(row: TokenRow): TokenRecord {
  return {
    name: row.name,
    role: row.role,
    digest: row.digest,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
    ...(row.revoked_at === null ? {} : { revokedAt: row.revoked_at.toISOString() }),
  };
}

function toSecret(row: SecretRow): StoredSecret {
  return {
    name: row.name,
    sealed: row.sealed,
    fingerprint: row.fingerprint,
    updatedAt: row.updated_at.toISOString(),
    updatedBy: row.updated_by,
  };
}

function toConfigRelease(row: ConfigRow): ConfigRelease {
  return configRelease({
    ...row,
    created_at: row.created_at.toISOString(),
    gray: row.gray_json ?? undefined,
    source: row.source_json,
    content: row.content_json,
  });
}
