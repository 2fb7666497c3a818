// What every SQLite database of Baton's shares (the state store, the span store): opening
// it, the migrations table, applying pending migrations one transaction each, and the
// transaction wrapper itself.
import { chmod, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pendingMigrations, type Migration } from '../migrations.ts';

/**
 * The database and its journals are the user's alone, whatever the folder or an older Baton
 * left: SQLite gives the -wal and -shm files the database file's mode, so that one is set
 * before SQLite opens it.
 */
async function makePrivate(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await (await open(path, 'a', 0o600)).close();
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    await chmod(file, 0o600).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

/**
 * Opens (creating its folder, private to the user) and migrates a database, after the
 * pragmas that must come first; closed again if any of that fails. `:memory:` is allowed.
 */
export async function openSqlite(
  path: string,
  pragmas: readonly string[],
  migrations: readonly Migration[],
): Promise<DatabaseSync> {
  if (path !== ':memory:') await makePrivate(path);
  const db = new DatabaseSync(path);
  try {
    for (const pragma of pragmas) db.exec(`PRAGMA ${pragma}`);
    migrateSqlite(db, migrations, path);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

function migrateSqlite(db: DatabaseSync, migrations: readonly Migration[], path: string): void {
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
