// The leader's lease, shared by the PostgreSQL leadership (which takes and renews it) and the
// PostgreSQL store (whose fenced writes check it in their own transaction). Not a migration:
// the lease is no state of the architecture, and a database without the table simply has no
// leader yet.
import type pg from 'pg';

export const LEASE_TABLE = 'baton_leader_lease';
export const REPLICAS_TABLE = 'baton_replicas';

const DDL = `
  CREATE TABLE IF NOT EXISTS ${LEASE_TABLE} (
    id          integer PRIMARY KEY CHECK (id = 1),
    holder      text,
    pid         integer,
    host        text,
    address     text,
    epoch       bigint NOT NULL,
    acquired_at timestamptz,
    renewed_at  timestamptz,
    expires_at  timestamptz
  );
  CREATE TABLE IF NOT EXISTS ${REPLICAS_TABLE} (
    id         text PRIMARY KEY,
    pid        integer NOT NULL,
    host       text NOT NULL,
    address    text,
    started_at timestamptz NOT NULL,
    seen_at    timestamptz NOT NULL
  )`;

/** Creates the tables once however many replicas start together (CREATE IF NOT EXISTS races otherwise). */
export async function ensureLeaseTables(client: pg.PoolClient): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('baton:lease-ddl:' || current_schema()))");
    await client.query(DDL);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/**
 * The fence of a write: true while `epoch` holds an unexpired lease, by the database's clock.
 * FOR SHARE holds the row until the write commits, so that no election slips in between.
 */
export async function epochHolds(client: pg.PoolClient, epoch: number): Promise<boolean> {
  const { rows } = await client.query(
    `SELECT 1 FROM ${LEASE_TABLE} WHERE id = 1 AND epoch = $1 AND holder IS NOT NULL AND expires_at > clock_timestamp() FOR SHARE`,
    [epoch],
  );
  return rows.length > 0;
}
