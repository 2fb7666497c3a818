// Leadership over PostgreSQL: a lease row with an epoch, taken and renewed by single
// statements that compare against the database's clock. Why a lease row rather than an
// advisory lock, and how the timings were chosen, is in ARCHITECTURE.md beside this file.
//
// A candidate tries to take the lease every `pollMs`; it succeeds only when nobody holds it or
// the holder's lease ran out, and the epoch goes up by one. The holder renews every
// `renewEveryMs`. It counts its lease from the moment it *sent* the last renewal that
// succeeded (the database's expiry is later than that), and steps down by itself
// `stepDownMarginMs` before that lease would run out if no renewal succeeded meanwhile: a
// leader that cannot reach the database stops acting before anyone else may start.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { BatonError } from '../../domain/errors.ts';
import type { Clock, Timer } from '../../ports/clock.ts';
import type { Candidate, Leadership, LeadershipView, Term } from '../../ports/leadership.ts';
import { ensureLeaseTables, LEASE_TABLE, REPLICAS_TABLE } from '../store/postgres/lease-table.ts';

export interface PostgresLeadershipOptions {
  readonly connectionString: string;
  /** The store's schema, when it has one (tests). */
  readonly schema?: string | undefined;
  readonly candidate: Candidate;
  readonly clock: Clock;
  /** How long a lease lasts unless renewed. Default 3 s: a successor acts within ≈ 3.5 s of a kill -9. */
  readonly leaseMs?: number | undefined;
  /** Default 1 s: two renewals may fail before the holder steps down. */
  readonly renewEveryMs?: number | undefined;
  /** How often a candidate tries to take the lease. Default 250 ms: a released lease is taken at once. */
  readonly pollMs?: number | undefined;
  /** Default 500 ms. */
  readonly stepDownMarginMs?: number | undefined;
  /** A monotonic time in ms (never jumps with the wall clock). */
  readonly elapsedMs?: (() => number) | undefined;
}

interface Held {
  readonly term: Term;
  readonly holder: string;
  readonly epoch: number;
  readonly lost: AbortController;
  /** Monotonic ms: the term must not act from then on unless a renewal succeeds before. */
  stepDownAt: number;
  renewal: Timer | undefined;
  stepDown: Timer | undefined;
}

export async function openPostgresLeadership(options: PostgresLeadershipOptions): Promise<Leadership> {
  const renewEveryMs = options.renewEveryMs ?? 1_000;
  // Every query must end well inside a renewal period, or a hung connection would hold the
  // holder past its step-down; no session state is used, so a transaction pooler fits.
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: 2,
    connectionTimeoutMillis: renewEveryMs,
    query_timeout: renewEveryMs,
    idleTimeoutMillis: 10_000,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
  });
  pool.on('error', () => {}); // an idle connection dropped: the next query opens another
  try {
    const client = await pool.connect();
    try {
      if (options.schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
      await ensureLeaseTables(client);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end();
    throw error;
  }
  return new PostgresLeadership(pool, { ...options, renewEveryMs });
}

class PostgresLeadership implements Leadership {
  readonly name = 'postgres-lease';
  readonly #pool: pg.Pool;
  readonly #o: PostgresLeadershipOptions & { renewEveryMs: number };
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #marginMs: number;
  readonly #elapsed: () => number;
  /** This replica, in the roster. */
  readonly #id = randomBytes(8).toString('hex');
  #address: string | null = null;
  #held: Held | undefined;
  #heartbeat: Timer | undefined;
  #closed = false;

  constructor(pool: pg.Pool, options: PostgresLeadershipOptions & { renewEveryMs: number }) {
    this.#pool = pool;
    this.#o = options;
    this.#leaseMs = options.leaseMs ?? 3_000;
    this.#pollMs = options.pollMs ?? 250;
    this.#marginMs = options.stepDownMarginMs ?? 500;
    this.#elapsed = options.elapsedMs ?? (() => performance.now());
    if (this.#marginMs + options.renewEveryMs >= this.#leaseMs)
      throw new Error('the lease must outlast a renewal period plus the step-down margin');
    this.#beat();
  }

  async campaign(signal?: AbortSignal): Promise<Term> {
    for (;;) {
      if (signal?.aborted) throw signal.reason as Error;
      if (this.#closed) throw new BatonError('leadership-lost', 'this control plane is closing');
      const term = await this.#tryAcquire().catch(() => undefined); // the database away: try again
      if (term) {
        if (signal?.aborted) {
          await term.release();
          throw signal.reason as Error;
        }
        return term;
      }
      await new Promise<void>((resolve) => {
        const timer = this.#o.clock.setTimeout(resolve, this.#pollMs);
        signal?.addEventListener(
          'abort',
          () => {
            timer.cancel();
            resolve();
          },
          { once: true },
        );
      });
    }
  }

  async advertise(address: string): Promise<void> {
    this.#address = address;
    await this.#upsertReplica().catch(() => {});
  }

  async observe(): Promise<LeadershipView> {
    const { rows: lease } = await this.#pool.query<{
      holder: string | null;
      pid: number | null;
      host: string | null;
      address: string | null;
      epoch: string;
      acquired_at: Date | null;
      age_ms: number | null;
      left_ms: number | null;
    }>(
      `SELECT holder, pid, host, address, epoch, acquired_at,
              (extract(epoch FROM clock_timestamp() - renewed_at) * 1000)::float8 AS age_ms,
              (extract(epoch FROM expires_at - clock_timestamp()) * 1000)::float8 AS left_ms
         FROM ${LEASE_TABLE} WHERE id = 1`,
    );
    const { rows: replicas } = await this.#pool.query<{
      id: string;
      pid: number;
      host: string;
      address: string | null;
      seen_ms: number;
    }>(
      `SELECT id, pid, host, address, (extract(epoch FROM clock_timestamp() - seen_at) * 1000)::float8 AS seen_ms
         FROM ${REPLICAS_TABLE} WHERE seen_at > clock_timestamp() - $1 * interval '1 millisecond'
        ORDER BY started_at`,
      [this.#leaseMs],
    );
    const row = lease[0];
    const live = row?.holder != null && (row.left_ms ?? 0) > 0;
    return {
      leadership: this.name,
      leader: live
        ? {
            pid: row.pid,
            host: row.host,
            address: row.address,
            epoch: Number(row.epoch),
            since: row.acquired_at?.toISOString() ?? null,
            leaseAgeMs: Math.max(0, Math.round(row.age_ms ?? 0)),
            expiresInMs: Math.round(row.left_ms ?? 0),
          }
        : undefined,
      replicas: replicas.map((r) => ({
        id: r.id,
        pid: r.pid,
        host: r.host,
        address: r.address,
        leader: live && r.address !== null && r.address === row.address,
        seenAgoMs: Math.max(0, Math.round(r.seen_ms)),
      })),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#heartbeat?.cancel();
    if (this.#held) await this.#release(this.#held);
    await this.#pool.query(`DELETE FROM ${REPLICAS_TABLE} WHERE id = $1`, [this.#id]).catch(() => {});
    await this.#pool.end();
  }

  async #tryAcquire(): Promise<Term | undefined> {
    if (this.#held && !this.#held.lost.signal.aborted) return this.#held.term;
    const { pid, host } = this.#o.candidate;
    const holder = `${this.#id}-${randomBytes(4).toString('hex')}`;
    const sentAt = this.#elapsed();
    // One statement: taking a free or expired lease and raising the epoch cannot interleave
    // with another candidate doing the same (the row lock serialises them, and the second
    // finds the lease taken).
    const { rows } = await this.#pool.query<{ epoch: string }>(
      `INSERT INTO ${LEASE_TABLE} AS l (id, holder, pid, host, address, epoch, acquired_at, renewed_at, expires_at)
       VALUES (1, $1, $2, $3, $4, 1, clock_timestamp(), clock_timestamp(), clock_timestamp() + $5 * interval '1 millisecond')
       ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, pid = excluded.pid, host = excluded.host,
         address = excluded.address, epoch = l.epoch + 1, acquired_at = excluded.acquired_at,
         renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
       WHERE l.holder IS NULL OR l.expires_at <= clock_timestamp()
       RETURNING epoch`,
      [holder, pid, host, this.#address, this.#leaseMs],
    );
    if (rows[0] === undefined) return undefined;
    const epoch = Number(rows[0].epoch);
    const lost = new AbortController();
    const held: Held = {
      holder,
      epoch,
      lost,
      stepDownAt: sentAt + this.#leaseMs - this.#marginMs,
      renewal: undefined,
      stepDown: undefined,
      term: {
        epoch,
        lost: lost.signal,
        announce: async (address) => {
          this.#address = address;
          await this.#pool.query(`UPDATE ${LEASE_TABLE} SET address = $1 WHERE id = 1 AND holder = $2`, [
            address,
            holder,
          ]);
          await this.#upsertReplica().catch(() => {});
        },
        release: () => this.#release(held),
        fence: () => this.#fence(held),
      },
    };
    this.#held = held;
    this.#scheduleRenewal(held);
    this.#armStepDown(held);
    return held.term;
  }

  #scheduleRenewal(held: Held): void {
    held.renewal = this.#o.clock.setTimeout(() => void this.#renew(held), this.#o.renewEveryMs);
  }

  #armStepDown(held: Held): void {
    held.stepDown?.cancel();
    const inMs = Math.max(0, held.stepDownAt - this.#elapsed());
    held.stepDown = this.#o.clock.setTimeout(() => {
      if (this.#elapsed() >= held.stepDownAt)
        this.#lose(held, `could not renew the lease for ${this.#leaseMs - this.#marginMs} ms`);
      else this.#armStepDown(held);
    }, inMs);
  }

  async #renew(held: Held): Promise<void> {
    if (held.lost.signal.aborted || this.#held !== held) return;
    const sentAt = this.#elapsed();
    try {
      const { rows } = await this.#pool.query(
        `UPDATE ${LEASE_TABLE} SET renewed_at = clock_timestamp(),
                expires_at = clock_timestamp() + $3 * interval '1 millisecond'
          WHERE id = 1 AND holder = $1 AND epoch = $2 AND expires_at > clock_timestamp()
          RETURNING 1`,
        [held.holder, held.epoch, this.#leaseMs],
      );
      if (rows.length === 0) {
        this.#lose(held, 'the lease ran out and was taken over (or cleared by hand)');
        return;
      }
      // Only a renewal sent before the step-down deadline extends it: one that left later
      // may have reached the database after the lease ran out.
      if (sentAt < held.stepDownAt) {
        held.stepDownAt = sentAt + this.#leaseMs - this.#marginMs;
        this.#armStepDown(held);
      }
    } catch {
      // Unreachable for now: the step-down timer decides when that is too long.
    }
    if (!held.lost.signal.aborted && this.#held === held) this.#scheduleRenewal(held);
  }

  async #fence(held: Held): Promise<void> {
    if (!held.lost.signal.aborted && this.#elapsed() >= held.stepDownAt)
      this.#lose(held, 'the lease was not renewed in time (this process was paused or cut off)');
    if (held.lost.signal.aborted) throw held.lost.signal.reason as Error;
    let holds: boolean;
    try {
      const { rows } = await this.#pool.query(
        `SELECT 1 FROM ${LEASE_TABLE} WHERE id = 1 AND holder = $1 AND epoch = $2 AND expires_at > clock_timestamp()`,
        [held.holder, held.epoch],
      );
      holds = rows.length > 0;
    } catch (error) {
      throw new BatonError('leadership-lost', 'could not confirm the lease before acting', { cause: error });
    }
    if (!holds) this.#lose(held, 'the lease is held by another epoch');
    if (held.lost.signal.aborted) throw held.lost.signal.reason as Error;
  }

  #lose(held: Held, why: string): void {
    if (held.lost.signal.aborted) return;
    held.renewal?.cancel();
    held.stepDown?.cancel();
    if (this.#held === held) this.#held = undefined;
    held.lost.abort(
      new BatonError('leadership-lost', `epoch ${held.epoch} is over: ${why}`, {
        hint: 'this replica stopped acting; another replica leads, or this one campaigns again',
      }),
    );
  }

  async #release(held: Held): Promise<void> {
    held.renewal?.cancel();
    held.stepDown?.cancel();
    if (this.#held === held) this.#held = undefined;
    // The epoch stays: the next holder continues from it, at once.
    await this.#pool
      .query(
        `UPDATE ${LEASE_TABLE} SET holder = NULL, pid = NULL, address = NULL, expires_at = clock_timestamp()
          WHERE id = 1 AND holder = $1`,
        [held.holder],
      )
      .catch(() => {}); // the database away: the lease runs out by itself
  }

  /** Says this replica is alive every renewal period, leader or not. */
  #beat(): void {
    if (this.#closed) return;
    void this.#upsertReplica()
      .catch(() => {})
      .finally(() => {
        if (!this.#closed)
          this.#heartbeat = this.#o.clock.setTimeout(() => this.#beat(), this.#o.renewEveryMs);
      });
  }

  async #upsertReplica(): Promise<void> {
    if (this.#closed) return;
    const { pid, host } = this.#o.candidate;
    await this.#pool.query(
      `INSERT INTO ${REPLICAS_TABLE} (id, pid, host, address, started_at, seen_at)
       VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp())
       ON CONFLICT (id) DO UPDATE SET address = excluded.address, seen_at = excluded.seen_at`,
      [this.#id, pid, host, this.#address],
    );
  }
}
