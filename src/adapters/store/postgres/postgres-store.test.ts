// Runs against a real PostgreSQL server, each store in a schema of its own that is dropped
// afterwards. An unreachable server fails the tests (with how to start one), never skips them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { storeContract } from '../../../ports/store.contract.ts';
import type { NewEvent, Store } from '../../../ports/store.ts';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.ts';
import { openPostgresStore } from './postgres-store.ts';

const url = process.env.BATON_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const HOW_TO_START =
  `PostgreSQL is not reachable at ${url}. The PostgreSQL store tests need a server: ` +
  'start one (Debian: `apt-get install -y postgresql && pg_ctlcluster 15 main start`, with trust auth ' +
  'for 127.0.0.1 in pg_hba.conf) or point BATON_TEST_POSTGRES_URL at another.';

const admin = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5_000 });
admin.on('error', () => {});
after(() => admin.end());

async function adminQuery(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  try {
    return await admin.query(sql, params);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || /timeout/i.test(String(error))) {
      throw new Error(HOW_TO_START, { cause: error });
    }
    throw error;
  }
}

function randomSchema(): string {
  return `baton_test_${randomBytes(6).toString('hex')}`;
}

/** A schema name for one test, dropped (with everything in it) by the returned function. */
async function scratchSchema(): Promise<{ schema: string; drop: () => Promise<void> }> {
  await adminQuery('SELECT 1'); // fails with HOW_TO_START before anything else is attempted
  const schema = randomSchema();
  return { schema, drop: async () => void (await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)) };
}

it('reaches the PostgreSQL test server', async () => {
  const { rows } = await adminQuery('SELECT 1 AS one');
  assert.equal(rows[0].one, 1);
});

storeContract('PostgreSQL', async () => {
  const { schema, drop } = await scratchSchema();
  const opened: Store[] = [];
  const openOne = async () => {
    const store = await openPostgresStore({ connectionString: url, schema });
    opened.push(store);
    return store;
  };
  return {
    store: await openOne(),
    reopen: openOne,
    cleanup: async () => {
      for (const store of opened) await store.close();
      await drop();
    },
  };
});

describe('PostgreSQL store', () => {
  let schema: string;
  let drop: (() => Promise<void>) | undefined;
  before(async () => ({ schema, drop } = await scratchSchema()));
  after(() => drop?.());

  it('migrates once when several replicas start together', async () => {
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => openPostgresStore({ connectionString: url, schema })),
    );
    for (const store of stores) await store.close();
    const { rows } = await adminQuery(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
    assert.deepEqual(
      rows.map((r) => r.version),
      POSTGRES_MIGRATIONS.map((m) => m.version),
    );
  });

  it('tells listeners of another connection about commits', { timeout: 10_000 }, async (t) => {
    const writer = await openPostgresStore({ connectionString: url, schema });
    const watcher = await openPostgresStore({ connectionString: url, schema });
    try {
      const heard = new Promise<number>((resolve, reject) => {
        watcher.onEvents(resolve);
        t.signal.addEventListener('abort', () => reject(t.signal.reason as Error), { once: true });
      });
      const [stored] = await writer.appendEvents([event('instance.started')]);
      assert.equal(await heard, stored!.seq);
    } finally {
      await writer.close();
      await watcher.close();
    }
  });

  it('catches listeners up after the LISTEN connection is lost', { timeout: 15_000 }, async (t) => {
    const store = await openPostgresStore({ connectionString: url, schema });
    try {
      const calls: number[] = [];
      let wake = () => {};
      store.onEvents((seq) => {
        calls.push(seq);
        wake();
      });
      const { rows } = await adminQuery(
        'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE query = $1',
        [`LISTEN baton_events_${schema}`],
      );
      assert.deepEqual(
        rows.map((r) => r.ended),
        [true],
      );
      const [stored] = await store.appendEvents([event('while-disconnected')]);
      while (!calls.includes(stored!.seq)) {
        await new Promise<void>((resolve, reject) => {
          wake = resolve;
          t.signal.addEventListener('abort', () => reject(t.signal.reason as Error), { once: true });
        });
      }
    } finally {
      await store.close();
    }
  });

  it('refuses a schema written by a newer Baton, saying so', async () => {
    await (await openPostgresStore({ connectionString: url, schema })).close();
    const newer = POSTGRES_MIGRATIONS.length + 1;
    await adminQuery(
      `INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, 'from the future')`,
      [newer],
    );
    try {
      await assert.rejects(openPostgresStore({ connectionString: url, schema }), (error: Error) => {
        assert.match(error.message, new RegExp(`schema ${schema} has schema version ${newer}`));
        assert.match(error.message, /Upgrade Baton/);
        return true;
      });
    } finally {
      await adminQuery(`DELETE FROM ${schema}.schema_migrations WHERE version = $1`, [newer]);
    }
  });

  it('refuses a schema name it would have to quote', async () => {
    await assert.rejects(openPostgresStore({ connectionString: url, schema: 'Robert"; DROP' }), /schema/);
  });
});

function event(kind: string): NewEvent {
  return { kind, actor: 'controller', message: kind, time: '2025-01-01T00:00:00.000Z' };
}
