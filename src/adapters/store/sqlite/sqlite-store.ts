// The embedded Store: one SQLite file (WAL), written by one control-plane process.
// node:sqlite is synchronous, so each call runs to completion without yielding: calls
// from one process are serialised for free, and BEGIN IMMEDIATE serialises them against
// another process (a CLI) opening the same file; busy_timeout lets a writer wait up to 5 s
// for the other, blocking this thread meanwhile, which is fine for one short write.
import type { DatabaseSync } from 'node:sqlite';
import type { SQLInputValue, StatementSync } from 'node:sqlite';
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
  TokenRecord,
  StoredSecret,
} from '../../../ports/store.ts';
import { inTransaction, openSqlite } from './sqlite-schema.ts';
import {
  announce,
  configRelease,
  eventRow,
  isoTime,
  kindsFilter,
  pageLimit,
  storedEventFromRow,
  storedRevision,
} from '../store-values.ts';
import type { EventRow } from '../store-values.ts';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.ts';
import { classifySqliteError, withCodedErrors } from '../store-errors.ts';

export async function openSqliteStore(options: { path: string /* ':memory:' allowed */ }): Promise<Store> {
  // WAL with synchronous=NORMAL already survives kill -9 (a commit is in the WAL, in the
  // OS page cache, before COMMIT returns); only an OS crash or power cut could lose the
  // last commits. FULL syncs the WAL at every commit so that an acknowledged revision
  // number is never handed out twice, even then. Writes here are few: the fsync is cheap.
  const pragmas = ['journal_mode = WAL', 'synchronous = FULL', 'busy_timeout = 5000', 'foreign_keys = ON'];
  const store = new SqliteStore(await openSqlite(options.path, pragmas, SQLITE_MIGRATIONS));
  return withCodedErrors(store, classifySqliteError, 'SQLite');
}

interface RevisionRow {
  number: number;
  parent: number | null;
  hash: string;
  manifest_text: string;
  manifest_json: string;
  author: string;
  message: string;
  source_json: string;
  created_at: string;
  service_count: number;
}

type SummaryRow = Omit<RevisionRow, 'manifest_text' | 'manifest_json'>;

interface EventTableRow {
  seq: number;
  time: string;
  kind: string;
  service: string | null;
  revision: number | null;
  actor: string;
  message: string;
  data_json: string | null;
}

const SUMMARY_COLUMNS = 'number, parent, hash, author, message, source_json, created_at, service_count';
const REVISION_COLUMNS = `${SUMMARY_COLUMNS}, manifest_text, manifest_json`;
const EVENT_COLUMNS = 'seq, time, kind, service, revision, actor, message, data_json';
const TOKEN_COLUMNS = 'name, role, digest, created_at, created_by, revoked_at';

interface TokenRow {
  name: string;
  role: string;
  digest: string;
  created_at: string;
  created_by: string;
  revoked_at: string | null;
}

const SECRET_COLUMNS = 'name, sealed, fingerprint, updated_at, updated_by';
const CONFIG_COLUMNS =
  'number, parent, status, gray_json, author, message, source_json, created_at, content_json';

interface ConfigRow {
  number: number;
  parent: number | null;
  status: ConfigReleaseStatus;
  gray_json: string | null;
  author: string;
  message: string;
  source_json: string;
  created_at: string;
  content_json: string;
}

interface SecretRow {
  name: string;
  sealed: string;
  fingerprint: string;
  updated_at: string;
  updated_by: string;
}

class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  readonly #listeners = new Set<(lastSeq: number) => void>();
  #closed = false;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async appendRevision(
    revision: NewRevision,
    options: { readonly expectedParent: number | null; readonly events: readonly NewEvent[] },
  ): Promise<Revision> {
    const createdAt = isoTime(revision.createdAt, 'revision createdAt');
    const events = options.events.map(eventRow);
    const { number, stored } = inTransaction(this.#db, () => {
      const latest = this.#latestNumber();
      if (latest !== options.expectedParent) {
        throw new StoreConflictError(
          `expected the latest revision to be ${options.expectedParent ?? 'none'}, but it is ${latest ?? 'none'}`,
        );
      }
      const number = (latest ?? 0) + 1;
      this.#statement(
        `INSERT INTO revisions (${REVISION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
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
      );
      return { number, stored: this.#insertEvents(events) };
    });
    this.#announce(stored);
    return storedRevision(revision, number, options.expectedParent, createdAt);
  }

  async getRevision(number: number): Promise<Revision | undefined> {
    const row = this.#statement(`SELECT ${REVISION_COLUMNS} FROM revisions WHERE number = ?`).get(number);
    return row === undefined ? undefined : toRevision(row as unknown as RevisionRow);
  }

  async latestRevision(): Promise<Revision | undefined> {
    const row = this.#statement(
      `SELECT ${REVISION_COLUMNS} FROM revisions ORDER BY number DESC LIMIT 1`,
    ).get();
    return row === undefined ? undefined : toRevision(row as unknown as RevisionRow);
  }

  async listRevisions(query: RevisionQuery = {}): Promise<RevisionSummary[]> {
    const limit = pageLimit(query.limit);
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (query.before !== undefined) {
      where.push('number < ?');
      params.push(query.before);
    }
    const rows = this.#select(
      `SELECT ${SUMMARY_COLUMNS} FROM revisions`,
      where,
      'number DESC',
      limit,
      params,
    );
    return (rows as unknown as SummaryRow[]).map(toSummary);
  }

  async revisionHistory(limit: number): Promise<Revision[]> {
    const rows = this.#select(
      `SELECT ${REVISION_COLUMNS} FROM revisions`,
      [],
      'number DESC',
      pageLimit(limit),
      [],
    );
    return (rows as unknown as RevisionRow[]).map(toRevision);
  }

  async appendEvents(events: readonly NewEvent[]): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    const rows = events.map(eventRow);
    const stored = inTransaction(this.#db, () => this.#insertEvents(rows));
    this.#announce(stored);
    return stored;
  }

  async readEvents(query: EventQuery = {}): Promise<StoredEvent[]> {
    const limit = pageLimit(query.limit);
    const kinds = kindsFilter(query.kinds);
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (query.after !== undefined) {
      where.push('seq > ?');
      params.push(query.after);
    }
    if (query.before !== undefined) {
      where.push('seq < ?');
      params.push(query.before);
    }
    if (query.service !== undefined) {
      where.push('service = ?');
      params.push(query.service);
    }
    if (kinds !== undefined) {
      where.push('kind IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(kinds));
    }
    const order = query.newest ? 'seq DESC' : 'seq';
    const rows = this.#select(`SELECT ${EVENT_COLUMNS} FROM events`, where, order, limit, params);
    const events = (rows as unknown as EventTableRow[]).map((row) =>
      storedEventFromRow(row.seq, eventFromTable(row)),
    );
    return query.newest ? events.reverse() : events;
  }

  async lastEventSeq(): Promise<number> {
    return (this.#statement('SELECT coalesce(max(seq), 0) AS seq FROM events').get() as { seq: number }).seq;
  }

  onEvents(listener: (lastSeq: number) => void): () => void {
    // A fresh function per subscription, so subscribing the same listener twice is two subscriptions.
    const subscription = (lastSeq: number) => listener(lastSeq);
    this.#listeners.add(subscription);
    return () => void this.#listeners.delete(subscription);
  }

  async createToken(token: TokenRecord): Promise<void> {
    inTransaction(this.#db, () => {
      if (this.#statement('SELECT 1 FROM tokens WHERE name = ? OR digest = ?').get(token.name, token.digest))
        throw new StoreConflictError(`a token named ${token.name} already exists`);
      this.#statement(`INSERT INTO tokens (${TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`).run(
        token.name,
        token.role,
        token.digest,
        token.createdAt,
        token.createdBy,
        token.revokedAt ?? null,
      );
    });
  }

  async tokenByDigest(digest: string): Promise<TokenRecord | undefined> {
    const row = this.#statement(
      `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE digest = ? AND revoked_at IS NULL`,
    ).get(digest);
    return row === undefined ? undefined : toToken(row as unknown as TokenRow);
  }

  async listTokens(): Promise<TokenRecord[]> {
    const rows = this.#statement(`SELECT ${TOKEN_COLUMNS} FROM tokens ORDER BY created_at, name`).all();
    return (rows as unknown as TokenRow[]).map(toToken);
  }

  async revokeToken(name: string, at: string): Promise<boolean> {
    const { changes } = this.#statement(
      'UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL',
    ).run(isoTime(at, 'revokedAt'), name);
    return Number(changes) > 0;
  }

  async claimServerKey(name: string, value: string): Promise<string> {
    return inTransaction(this.#db, () => {
      this.#statement(
        'INSERT INTO server_keys (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING',
      ).run(name, value);
      return (this.#statement('SELECT value FROM server_keys WHERE name = ?').get(name) as { value: string })
        .value;
    });
  }

  async replaceServerKey(name: string, value: string): Promise<void> {
    this.#statement(
      `INSERT INTO server_keys (name, value) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value,
         created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
    ).run(name, value);
  }

  async putSecret(secret: StoredSecret, events: readonly NewEvent[]): Promise<void> {
    const updatedAt = isoTime(secret.updatedAt, 'secret updatedAt');
    const rows = events.map(eventRow);
    const stored = inTransaction(this.#db, () => {
      this.#statement(
        `INSERT INTO secrets (${SECRET_COLUMNS}) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, fingerprint = excluded.fingerprint,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      ).run(secret.name, secret.sealed, secret.fingerprint, updatedAt, secret.updatedBy);
      return this.#insertEvents(rows);
    });
    this.#announce(stored);
  }

  async getSecret(name: string): Promise<StoredSecret | undefined> {
    const row = this.#statement(`SELECT ${SECRET_COLUMNS} FROM secrets WHERE name = ?`).get(name);
    return row === undefined ? undefined : toSecret(row as unknown as SecretRow);
  }

  async listSecrets(): Promise<StoredSecret[]> {
    const rows = this.#statement(`SELECT ${SECRET_COLUMNS} FROM secrets ORDER BY name`).all();
    return (rows as unknown as SecretRow[]).map(toSecret);
  }

  async deleteSecret(name: string, events: readonly NewEvent[]): Promise<boolean> {
    const rows = events.map(eventRow);
    const stored = inTransaction(this.#db, () => {
      const { changes } = this.#statement('DELETE FROM secrets WHERE name = ?').run(name);
      return Number(changes) === 0 ? undefined : this.#insertEvents(rows);
    });
    if (stored !== undefined) this.#announce(stored);
    return stored !== undefined;
  }

  async appendConfigRelease(
    release: NewConfigRelease,
    options: { readonly expectedParent: number | null; readonly events: readonly NewEvent[] },
  ): Promise<ConfigRelease> {
    const createdAt = isoTime(release.createdAt, 'config release createdAt');
    const rows = options.events.map(eventRow);
    const { number, stored } = inTransaction(this.#db, () => {
      const latest = (
        this.#statement('SELECT max(number) AS number FROM config_releases').get() as {
          number: number | null;
        }
      ).number;
      if (latest !== options.expectedParent) {
        throw new StoreConflictError(
          `expected the latest config release to be ${options.expectedParent ?? 'none'}, but it is ${latest ?? 'none'}`,
        );
      }
      const number = (latest ?? 0) + 1;
      this.#statement(
        `INSERT INTO config_releases (${CONFIG_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        number,
        latest,
        release.status,
        release.gray === undefined ? null : JSON.stringify(release.gray),
        release.author,
        release.message,
        JSON.stringify(release.source),
        createdAt,
        JSON.stringify(release.content),
      );
      return { number, stored: this.#insertEvents(rows) };
    });
    this.#announce(stored);
    return { ...release, createdAt, number, parent: options.expectedParent };
  }

  async getConfigRelease(number: number): Promise<ConfigRelease | undefined> {
    const row = this.#statement(`SELECT ${CONFIG_COLUMNS} FROM config_releases WHERE number = ?`).get(number);
    return row === undefined ? undefined : toConfigRelease(row as unknown as ConfigRow);
  }

  async listConfigReleases(query: RevisionQuery = {}): Promise<ConfigRelease[]> {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (query.before !== undefined) {
      where.push('number < ?');
      params.push(query.before);
    }
    const rows = this.#select(
      `SELECT ${CONFIG_COLUMNS} FROM config_releases`,
      where,
      'number DESC',
      pageLimit(query.limit),
      params,
    );
    return (rows as unknown as ConfigRow[]).map(toConfigRelease);
  }

  async setConfigReleaseStatus(
    number: number,
    status: ConfigReleaseStatus,
    events: readonly NewEvent[],
  ): Promise<void> {
    const rows = events.map(eventRow);
    const stored = inTransaction(this.#db, () => {
      this.#statement('UPDATE config_releases SET status = ? WHERE number = ?').run(status, number);
      return this.#insertEvents(rows);
    });
    this.#announce(stored);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    this.#db.close();
  }

  #latestNumber(): number | null {
    return (this.#statement('SELECT max(number) AS number FROM revisions').get() as { number: number | null })
      .number;
  }

  #insertEvents(rows: readonly EventRow[]): StoredEvent[] {
    const insert = this.#statement(
      'INSERT INTO events (time, kind, service, revision, actor, message, data_json) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    return rows.map((row) => {
      const { lastInsertRowid } = insert.run(
        row.time,
        row.kind,
        row.service,
        row.revision,
        row.actor,
        row.message,
        row.dataJson,
      );
      return storedEventFromRow(Number(lastInsertRowid), row);
    });
  }

  #announce(stored: readonly StoredEvent[]): void {
    const last = stored.at(-1);
    if (last !== undefined) announce(this.#listeners, last.seq);
  }

  /** Queries differ only by which filters are present: a handful of shapes, each prepared once. */
  #select(
    from: string,
    where: readonly string[],
    orderBy: string,
    limit: number | undefined,
    params: SQLInputValue[],
  ): unknown[] {
    let sql = from;
    if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
    sql += ` ORDER BY ${orderBy}`;
    if (limit !== undefined) {
      sql += ' LIMIT ?';
      params.push(limit);
    }
    return this.#statement(sql).all(...params);
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

function toSummary(row: SummaryRow): RevisionSummary {
  return {
    number: row.number,
    parent: row.parent,
    hash: row.hash,
    author: row.author,
    message: row.message,
    source: JSON.parse(row.source_json) as RevisionSource,
    createdAt: row.created_at,
    services: row.service_count,
  };
}

function toRevision(row: RevisionRow): Revision {
  const { services: _services, ...summary } = toSummary(row);
  return {
    ...summary,
    manifestText: row.manifest_text,
    manifest: JSON.parse(row.manifest_json) as Manifest,
  };
}

function eventFromTable(row: EventTableRow): EventRow {
  return {
    time: row.time,
    kind: row.kind,
    service: row.service,
    revision: row.revision,
    actor: row.actor,
    message: row.message,
    dataJson: row.data_json,
  };
}

function toToken(row: TokenRow): TokenRecord {
  return {
    name: row.name,
    role: row.role,
    digest: row.digest,
    createdAt: row.created_at,
    createdBy: row.created_by,
    ...(row.revoked_at === null ? {} : { revokedAt: row.revoked_at }),
  };
}

function toSecret(row: SecretRow): StoredSecret {
  return {
    name: row.name,
    sealed: row.sealed,
    fingerprint: row.fingerprint,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

function toConfigRelease(row: ConfigRow): ConfigRelease {
  return configRelease({
    ...row,
    gray: row.gray_json === null ? undefined : JSON.parse(row.gray_json),
    source: JSON.parse(row.source_json),
    content: JSON.parse(row.content_json),
  });
}
