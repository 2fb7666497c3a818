// Versioned schema migrations, shared by the SQLite and PostgreSQL stores. Each adapter
// keeps its own ordered list; a migration, once released, is never edited: later work
// (instances, registry, traces) appends new versions instead.

export interface Migration {
  /** 1, 2, 3, … without gaps: the list is the history of the schema. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * The migrations still to apply on a database at `current`, or an error when the database
 * was written by a newer Baton: guessing at a schema we do not know could corrupt it.
 */
export function pendingMigrations(
  migrations: readonly Migration[],
  current: number,
  database: string,
): readonly Migration[] {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`migration list out of order: ${m.name} is version ${m.version}`);
  });
  const known = migrations.length;
  if (current > known) {
    throw new Error(
      `The database ${database} has schema version ${current}, but this Baton only knows versions up to ` +
        `${known}: it was written by a newer Baton. Upgrade Baton, or point it at another database.`,
    );
  }
  return migrations.slice(current);
}
