// What every SQLite database of Baton's shares (the state store, the span store): the
// migrations table, applying pending migrations one transaction each, and the transaction
// wrapper itself.
import type { DatabaseSync } from 'node:sqlite';
import { pendingMigrations, type Migration } from '../migrations.ts';

export function migrateSqlite(db: DatabaseSync, migrations: readonly Migration[], path: string): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    ) STRICT`);
  const current = () =>
    (
      db.prepare('SELECT coalesce(max(version), 0) AS version FROM schema_migrations').get() as {
        version: number;
      }
    ).version;
  for (const migration of pendingMigrations(migrations, current(), path)) {
    inTransaction(db, () => {
      if (current() >= migration.version) return; // another process got there first
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name) VALUES (?, ?)').run(
        migration.version,
        migration.name,
      );
    });
  }
}

/** BEGIN IMMEDIATE: take the write lock at once, so two writers queue rather than deadlock. */
export function inTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
