// The replicas' shared state in PostgreSQL: one row per entry, stamped with a sequence on
// every change (a removal leaves a tombstone with its sequence, so that a replica following
// from where it was hears of it). A reader of `seq > n` must never skip a sequence committed
// late: only the leader publishes, one batch at a time, and its fence holds the lease row
// FOR SHARE so that no election commits meanwhile; so sequences commit in order. Each
// publish NOTIFYs on commit.
//
// Tombstones are pruned once they are far behind the newest sequence (KEEP_TOMBSTONES), and
// the horizon row remembers how far: a reader that was further behind (a replica cut off for
// long) cannot trust the changes after its sequence, so it gets the whole picture instead,
// marked `complete`, and drops what is not in it.
import pg from 'pg';
import { BatonError } from '../../../domain/errors.ts';
import type { SharedChanges, SharedEntry, SharedState } from '../../../ports/shared-state.ts';
import { listenForEvents, type EventListener } from './event-listener.ts';
import { epochHolds, LEASE_TABLE } from './lease-table.ts';
import { inTransaction } from './postgres-transaction.ts';

const TABLE = 'baton_shared_state';
/** How far tombstones have been pruned: changes at or below it may have lost their removals. */
const HORIZON = 'baton_shared_state_horizon';

const DDL = `
  CREATE SEQUENCE IF NOT EXISTS ${TABLE}_seq;
  CREATE TABLE IF NOT EXISTS ${TABLE} (
    key     text PRIMARY KEY,
    value   jsonb,
    seq     bigint NOT NULL,
    removed boolean NOT NULL DEFAULT false
  );
  CREATE INDEX IF NOT EXISTS ${TABLE}_by_seq ON ${TABLE} (seq);
  CREATE TABLE IF NOT EXISTS ${HORIZON} (
    id  integer PRIMARY KEY CHECK (id = 1),
    seq bigint NOT NULL
  );
  INSERT INTO ${HORIZON} (id, seq) VALUES (1, 0) ON CONFLICT DO NOTHING`;

/** Removals a reader can still hear of as changes; one further behind reads everything again. */
const KEEP_TOMBSTONES = 10_000;
/** Publishes between two prunings: pruning is one indexed DELETE, rare enough to cost nothing. */
const PRUNE_EVERY = 500;

export async function openPostgresSharedState(options: {
  connectionString: string;
  schema?: string | undefined;
  /** Tests: keep fewer tombstones, prune more often. */
  keepTombstones?: number | undefined;
  pruneEvery?: number | undefined;
}): Promise<SharedState> {
  const { connectionString, schema } = options;
  const pool = new pg.Pool({
    connectionString,
    max: 4,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  pool.on('error', () => {});
  const state = new PostgresSharedState(
    pool,
    schema === undefined ? 'baton_shared' : `baton_shared_${schema}`,
    {
      keep: options.keepTombstones ?? KEEP_TOMBSTONES,
      every: options.pruneEvery ?? PRUNE_EVERY,
    },
  );
  try {
    await state.transaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('baton:shared-ddl:' || current_schema()))");
      await client.query(DDL);
    });
    await state.listen(connectionString);
    return state;
  } catch (error) {
    await pool.end();
    throw error;
  }
}

/** The lease row, while `$1` holds it (see lease-table.ts). */
const FENCE = `SELECT 1 FROM ${LEASE_TABLE} WHERE id = 1 AND epoch = $1 AND holder IS NOT NULL AND expires_at > clock_timestamp() FOR SHARE`;

function stale(epoch: number): BatonError {
  return new BatonError('leadership-lost', `epoch ${epoch} no longer holds the lease`, {
    hint: 'a newer leader publishes the shared state now',
  });
}

class PostgresSharedState implements SharedState {
  readonly #pool: pg.Pool;
  readonly #channel: string;
  readonly #listeners = new Set<(seq: number) => void>();
  #listener: EventListener | undefined;
  readonly #prune: { readonly keep: number; readonly every: number };
  #publishes = 0;

  constructor(pool: pg.Pool, channel: string, prune: { keep: number; every: number }) {
    this.#pool = pool;
    this.#channel = channel;
    this.#prune = prune;
  }

  async listen(connectionString: string): Promise<void> {
    const announce = (seq: number) => {
      for (const listener of this.#listeners) listener(seq);
    };
    this.#listener = await listenForEvents({
      connectionString,
      channel: this.#channel,
      onNotify: announce,
      // Notifications sent while the connection was down are lost: say where the state is now.
      onReconnect: () =>
        void this.#pool.query<{ seq: string }>(`SELECT coalesce(max(seq), 0) AS seq FROM ${TABLE}`).then(
          ({ rows }) => announce(Number(rows[0]!.seq)),
          () => {},
        ),
    });
  }

  async publish(
    entries: readonly SharedEntry[],
    options: { fence: number; replaceAll?: boolean },
  ): Promise<void> {
    const latest = new Map(entries.map((e) => [e.key, e.value])); // one row can change once per statement
    const keys = [...latest.keys()];
    const values = [...latest.values()].map((v) => (v === undefined ? null : JSON.stringify(v)));
    if (options.replaceAll) return this.#replaceAll(keys, values, options.fence);
    // The common case in one statement, one round trip: what a follower waits for. Only the
    // leader publishes, one batch at a time, and the fence's FOR SHARE keeps an election from
    // committing meanwhile, so sequences commit in order without a lock of their own.
    const { rows } = await this.#pool.query<{ holds: boolean }>(
      `WITH fence AS (${FENCE}),
            up AS (
              INSERT INTO ${TABLE} (key, value, seq, removed)
              SELECT k, v, nextval('${TABLE}_seq'), v IS NULL FROM unnest($2::text[], $3::jsonb[]) AS u (k, v)
               WHERE EXISTS (SELECT 1 FROM fence)
              ON CONFLICT (key) DO UPDATE SET value = excluded.value, seq = excluded.seq, removed = excluded.removed
              RETURNING seq)
       SELECT EXISTS (SELECT 1 FROM fence) AS holds,
              pg_notify($4, (SELECT max(seq) FROM up)::text) IS NULL AS notified`,
      [options.fence, keys, values, this.#channel],
    );
    if (!rows[0]?.holds) throw stale(options.fence);
    if (++this.#publishes % this.#prune.every === 0) await this.#pruneTombstones();
  }

  /** Drops the removals far behind the newest change, and moves the horizon past them, at once. */
  async #pruneTombstones(): Promise<void> {
    await this.transaction(async (client) => {
      const { rows } = await client.query<{ cut: string }>(
        `SELECT coalesce(max(seq), 0) - $1 AS cut FROM ${TABLE}`,
        [this.#prune.keep],
      );
      const cut = Number(rows[0]!.cut);
      if (cut <= 0) return;
      await client.query(`DELETE FROM ${TABLE} WHERE removed AND seq <= $1`, [cut]);
      await client.query(`UPDATE ${HORIZON} SET seq = greatest(seq, $1) WHERE id = 1`, [cut]);
    });
  }

  /** A new leader's first picture: every entry it does not have is removed. */
  async #replaceAll(keys: string[], values: (string | null)[], fence: number): Promise<void> {
    await this.transaction(async (client) => {
      if (!(await epochHolds(client, fence))) throw stale(fence);
      await client.query(
        `UPDATE ${TABLE} SET value = NULL, removed = true, seq = nextval('${TABLE}_seq')
          WHERE NOT removed AND NOT (key = ANY($1::text[]))`,
        [keys],
      );
      await client.query(
        `INSERT INTO ${TABLE} (key, value, seq, removed)
         SELECT k, v, nextval('${TABLE}_seq'), v IS NULL FROM unnest($1::text[], $2::jsonb[]) AS u (k, v)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, seq = excluded.seq, removed = excluded.removed`,
        [keys, values],
      );
      const { rows } = await client.query<{ seq: string }>(
        `SELECT coalesce(max(seq), 0) AS seq FROM ${TABLE}`,
      );
      await client.query('SELECT pg_notify($1, $2)', [this.#channel, rows[0]!.seq]);
    });
  }

  async read(after: number): Promise<SharedChanges> {
    if (after === 0) return this.#readAll();
    // The horizon and the changes in one statement, hence one snapshot: a pruning in between
    // cannot hide a removal.
    const { rows } = await this.#pool.query<{
      key: string | null;
      value: unknown;
      seq: string;
      removed: boolean;
    }>(
      `SELECT NULL AS key, NULL::jsonb AS value, seq, false AS removed, 0 AS part FROM ${HORIZON} WHERE id = 1
       UNION ALL
       SELECT key, value, seq, removed, 1 FROM ${TABLE} WHERE seq > $1
       ORDER BY part, seq`,
      [after],
    );
    const [horizon, ...changes] = rows;
    if (horizon !== undefined && Number(horizon.seq) > after) return this.#readAll();
    return {
      seq: changes.length === 0 ? after : Number(changes.at(-1)!.seq),
      entries: changes.map((r) => ({ key: r.key!, value: r.removed ? undefined : r.value })),
    };
  }

  /** Every live entry, and the newest sequence (a tombstone's, maybe). */
  async #readAll(): Promise<SharedChanges> {
    const { rows } = await this.#pool.query<{ key: string; value: unknown; seq: string; removed: boolean }>(
      `SELECT key, value, seq, removed FROM ${TABLE} WHERE NOT removed OR seq = (SELECT max(seq) FROM ${TABLE}) ORDER BY seq`,
    );
    return {
      seq: rows.length === 0 ? 0 : Number(rows.at(-1)!.seq),
      entries: rows.filter((r) => !r.removed).map((r) => ({ key: r.key, value: r.value })),
      complete: true,
    };
  }

  onPublish(listener: (seq: number) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    await this.#listener?.close();
    await this.#pool.end();
  }

  transaction(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    return inTransaction(this.#pool, work);
  }
}
