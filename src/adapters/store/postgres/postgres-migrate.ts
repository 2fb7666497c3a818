// Versioned migrations on PostgreSQL, for the Store and the span store alike: each migration
// in its own transaction under an advisory lock, so that replicas starting together apply it
// once (the loser of the lock finds it applied and moves on).
import type pg from 'pg';
import { pendingMigrations, type Migration } from '../migrations.ts';

export interface PostgresMigrationOptions {
  /** Runs `work` in one transaction on a client of the adapter's pool. */
  readonly inTransaction: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>;
  readonly migrations: readonly Migration[];
  /** The advisory lock's name: one per schema that migrates. */
  readonly lockKey: string;
  /** Created when missing. */
  readonly schema?: string | undefined;
  /** Migrate in `schema` whatever the pool's search_path (a pool shared with other schemas). */
  readonly inSchema?: boolean | undefined;
  /** Names the database in the error a newer schema gets. */
  readonly database: string;
}

export async function migratePostgres(options: PostgresMigrationOptions): Promise<void> {
  const { inTransaction, schema } = options;
  const lockedVersion = async (client: pg.PoolClient) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [options.lockKey]);
    if (schema !== undefined) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      if (options.inSchema) await client.query(`SET LOCAL search_path TO ${schema}`);
    }
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await client.query<{ version: number }>(
      'SELECT coalesce(max(version), 0) AS version FROM schema_migrations',
    );
    return rows[0]!.version;
  };
  const current = await inTransaction(lockedVersion);
  for (const migration of pendingMigrations(options.migrations, current, options.database)) {
    await inTransaction(async (client) => {
      if ((await lockedVersion(client)) >= migration.version) return;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
    });
  }
}
