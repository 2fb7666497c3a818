// Leadership on the embedded SQLite store: one control plane per database, always the
// leader while it runs. The lock is a row in the database itself, taken in a write
// transaction, so two control planes starting together cannot both win; it names its
// holder (pid, host, API address) so that the one refused can say who to stop.
//
// A holder is stale when it is known dead: on this machine, its pid is gone or now belongs to
// a process started at another time (pids are reused); on another machine (a database on a
// shared disk), it stopped renewing. A stale lock is taken over, with the next epoch.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { BatonError } from '../../domain/errors.ts';
import type { Clock, Timer } from '../../ports/clock.ts';
import type { Candidate, Leadership, LeadershipView, Term } from '../../ports/leadership.ts';
import { isGone, procAvailable, readProcStat } from '../runtime/process/proc-fs.ts';
import { inTransaction } from '../store/sqlite/sqlite-schema.ts';

export interface SqliteLeadershipOptions {
  /** The state database (`:memory:` has a single connection: always free). */
  readonly path: string;
  readonly candidate: Candidate;
  readonly clock: Clock;
  /** How often the holder marks the lock as still held. Default 2 s. */
  readonly renewEveryMs?: number | undefined;
  /** A holder on another machine that has not renewed for this long is gone. Default 15 s. */
  readonly staleAfterMs?: number | undefined;
}

interface LockRow {
  holder: string | null;
  pid: number | null;
  host: string | null;
  start_ticks: string | null;
  address: string | null;
  epoch: number;
  acquired_at: string | null;
  renewed_at: string | null;
}

// Not a migration of the store's schema: the lock is no state of the architecture, and a
// database without the table simply has no holder yet.
const TABLE = `
  CREATE TABLE IF NOT EXISTS leadership (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    holder      TEXT,
    pid         INTEGER,
    host        TEXT,
    start_ticks TEXT,
    address     TEXT,
    epoch       INTEGER NOT NULL,
    acquired_at TEXT,
    renewed_at  TEXT
  ) STRICT`;

/** Opens the database and takes the lock: rejects with `state-locked` at once when a live control plane holds it. */
export async function openSqliteLeadership(options: SqliteLeadershipOptions): Promise<Leadership> {
  if (options.path !== ':memory:') await mkdir(dirname(options.path), { recursive: true, mode: 0o700 });
  const db = new DatabaseSync(options.path);
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec(TABLE);
    const leadership = new SqliteLeadership(db, options, await procAvailable());
    await leadership.acquire();
    return leadership;
  } catch (error) {
    db.close();
    throw error;
  }
}

class SqliteLeadership implements Leadership {
  readonly name = 'sqlite-lock';
  readonly #db: DatabaseSync;
  readonly #o: Required<SqliteLeadershipOptions>;
  readonly #proc: boolean;
  #term: { readonly term: Term; readonly holder: string; readonly lost: AbortController } | undefined;
  #renewal: Timer | undefined;
  #failingSince: number | undefined;
  #closed = false;

  constructor(db: DatabaseSync, options: SqliteLeadershipOptions, proc: boolean) {
    this.#db = db;
    this.#o = { renewEveryMs: 2_000, staleAfterMs: 15_000, ...options };
    this.#proc = proc;
  }

  /** Takes the lock or throws `state-locked`; a term already held is kept. */
  async acquire(): Promise<Term> {
    if (this.#term && !this.#term.lost.signal.aborted) return this.#term.term;
    const { candidate, clock } = this.#o;
    const startTicks = this.#proc ? ((await readProcStat(candidate.pid))?.startTicks ?? null) : null;
    // Liveness needs /proc or signals, which are async or slow: read the holder first, then
    // take the lock in a transaction that fails if the row changed in between.
    const seen = this.#row();
    if (seen?.holder && (await this.#alive(seen))) throw locked(this.#o.path, seen);
    const holder = randomBytes(12).toString('hex');
    const now = clock.now().toISOString();
    const epoch = inTransaction(this.#db, () => {
      const row = this.#row();
      if (row?.holder !== seen?.holder || row?.epoch !== seen?.epoch)
        throw locked(this.#o.path, row ?? seen!);
      const next = (row?.epoch ?? 0) + 1;
      this.#db
        .prepare(
          `INSERT INTO leadership (id, holder, pid, host, start_ticks, address, epoch, acquired_at, renewed_at)
           VALUES (1, ?, ?, ?, ?, NULL, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, pid = excluded.pid, host = excluded.host,
             start_ticks = excluded.start_ticks, address = NULL, epoch = excluded.epoch,
             acquired_at = excluded.acquired_at, renewed_at = excluded.renewed_at`,
        )
        .run(holder, candidate.pid, candidate.host, startTicks, next, now, now);
      return next;
    });
    const lost = new AbortController();
    const term: Term = {
      epoch,
      lost: lost.signal,
      announce: async (address) => {
        this.#db
          .prepare('UPDATE leadership SET address = ? WHERE id = 1 AND holder = ?')
          .run(address, holder);
      },
      release: () => this.#release(holder),
      // The lock is taken in the database every write goes to, and a second control plane is
      // refused: a holder that still runs is the only writer. What remains is being told.
      fence: async () => {
        if (lost.signal.aborted) throw lost.signal.reason as Error;
      },
    };
    this.#term = { term, holder, lost };
    this.#scheduleRenewal();
    return term;
  }

  async advertise(address: string): Promise<void> {
    await this.#term?.term.announce(address);
  }

  async observe(): Promise<LeadershipView> {
    const row = this.#row();
    const now = this.#o.clock.now().getTime();
    const renewed = row?.renewed_at ? Date.parse(row.renewed_at) : now;
    return {
      leadership: this.name,
      leader: row?.holder
        ? {
            pid: row.pid,
            host: row.host,
            address: row.address,
            epoch: row.epoch,
            since: row.acquired_at,
            leaseAgeMs: Math.max(0, now - renewed),
            expiresInMs: Math.max(0, renewed + this.#o.staleAfterMs - now),
          }
        : undefined,
      replicas: [],
    };
  }

  campaign(signal?: AbortSignal): Promise<Term> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return this.acquire();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#term) await this.#release(this.#term.holder);
    this.#closed = true;
    this.#db.close();
  }

  async #release(holder: string): Promise<void> {
    if (this.#term?.holder !== holder) return;
    this.#renewal?.cancel();
    this.#term = undefined;
    // The epoch stays: the next holder continues from it.
    this.#db
      .prepare(
        'UPDATE leadership SET holder = NULL, pid = NULL, start_ticks = NULL, address = NULL WHERE holder = ?',
      )
      .run(holder);
  }

  #scheduleRenewal(): void {
    this.#renewal = this.#o.clock.setTimeout(() => this.#renew(), this.#o.renewEveryMs);
  }

  /** Marks the lock held; finds out when it no longer is ours (taken over as stale, removed by hand). */
  #renew(): void {
    const current = this.#term;
    if (current === undefined || this.#closed) return;
    const now = this.#o.clock.now();
    try {
      const { changes } = this.#db
        .prepare('UPDATE leadership SET renewed_at = ? WHERE id = 1 AND holder = ?')
        .run(now.toISOString(), current.holder);
      this.#failingSince = undefined;
      if (Number(changes) === 0) {
        this.#term = undefined;
        current.lost.abort(
          new BatonError(
            'leadership-lost',
            `the lock on ${this.#o.path} is no longer held by this control plane`,
            {
              hint: 'another control plane took it over; stop one of them',
            },
          ),
        );
        return;
      }
    } catch (error) {
      // The database busy or briefly unwritable: the lock is still ours until it goes stale.
      this.#failingSince ??= now.getTime();
      if (now.getTime() - this.#failingSince >= this.#o.staleAfterMs) {
        this.#term = undefined;
        current.lost.abort(
          new BatonError('leadership-lost', `could not renew the lock on ${this.#o.path}`, { cause: error }),
        );
        return;
      }
    }
    this.#scheduleRenewal();
  }

  #row(): LockRow | undefined {
    return this.#db.prepare('SELECT * FROM leadership WHERE id = 1').get() as LockRow | undefined;
  }

  async #alive(row: LockRow): Promise<boolean> {
    if (row.host !== this.#o.candidate.host) {
      const renewed = row.renewed_at === null ? NaN : Date.parse(row.renewed_at);
      return this.#o.clock.now().getTime() - renewed < this.#o.staleAfterMs;
    }
    if (row.pid === null) return false;
    if (this.#proc) {
      const stat = await readProcStat(row.pid);
      return (
        stat !== undefined &&
        !isGone(stat) &&
        (row.start_ticks === null || stat.startTicks === row.start_ticks)
      );
    }
    try {
      process.kill(row.pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
}

function locked(path: string, row: LockRow): BatonError {
  const where = row.address ?? 'its API not listening yet';
  return new BatonError(
    'state-locked',
    `${path} is in use by another control plane: pid ${row.pid} on ${row.host}, ${where}, since ${row.acquired_at} (epoch ${row.epoch})`,
    {
      hint: `stop it first (Ctrl-C, or kill ${row.pid}), or give this one its own --state-dir`,
      details: {
        holder: {
          pid: row.pid,
          host: row.host,
          address: row.address,
          since: row.acquired_at,
          epoch: row.epoch,
        },
      },
    },
  );
}
