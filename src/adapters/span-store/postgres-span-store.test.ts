// The SpanStore contract against a real PostgreSQL server, each store in a schema of its own
// that is dropped afterwards; then what only a shared store must do: replicas appending to
// the same traces at once, and migrating once. An unreachable server fails, never skips.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { spanOf } from '../../domain/telemetry/test-spans.ts';
import { spanStoreContract, T0, trace, traceId } from '../../ports/span-store.contract.ts';
import type { SpanStore } from '../../ports/span-store.ts';
import { openPostgresSpanStore } from './postgres-span-store.ts';

const url = process.env.BATON_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const admin = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5_000 });
admin.on('error', () => {});
after(() => admin.end());

async function scratchSchema(): Promise<{ schema: string; drop: () => Promise<void> }> {
  try {
    await admin.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${url}: start one, or point BATON_TEST_POSTGRES_URL at another`,
      { cause: error },
    );
  }
  const schema = `baton_spans_test_${randomBytes(6).toString('hex')}`;
  return { schema, drop: async () => void (await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)) };
}

spanStoreContract('PostgreSQL', async () => {
  const { schema, drop } = await scratchSchema();
  let current: SpanStore = await openPostgresSpanStore({ connectionString: url, schema });
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await openPostgresSpanStore({ connectionString: url, schema });
      return current;
    },
    cleanup: async () => {
      await current.close();
      await drop();
    },
  };
});

describe('PostgreSQL span store, shared by replicas', () => {
  it('adds up spans of the same traces sent to several replicas at once, each span once', async () => {
    const { schema, drop } = await scratchSchema();
    const replicas = await Promise.all(
      Array.from({ length: 3 }, () => openPostgresSpanStore({ connectionString: url, schema })),
    );
    try {
      // 40 traces; each replica gets every span of every trace, in its own order and batches
      // (three exporters retrying into three replicas): all race on the same trace rows.
      const spans = Array.from({ length: 40 }, (_, n) => trace(100 + n, n * 10, { error: n % 4 === 0 }));
      const all = spans.flat();
      const stored = await Promise.all(
        replicas.map(async (store, r) => {
          const mine = r === 1 ? [...all].reverse() : r === 2 ? [...all.slice(60), ...all.slice(0, 60)] : all;
          let count = 0;
          for (let i = 0; i < mine.length; i += 16)
            count += (await store.append(mine.slice(i, i + 16))).length;
          return count;
        }),
      );
      assert.equal(
        stored.reduce((a, b) => a + b, 0),
        all.length,
        'every span reported new by exactly one replica',
      );
      const summaries = await replicas[2]!.searchTraces({ limit: 100 });
      assert.equal(summaries.length, 40);
      for (const summary of summaries) {
        const n = Number.parseInt(summary.traceId, 16) - 100;
        assert.equal(summary.spanCount, 3, `trace ${n} counted once per span`);
        assert.equal(summary.errorCount, n % 4 === 0 ? 1 : 0);
        assert.deepEqual(summary.root, { service: 'web', route: 'POST /api/checkout', complete: true });
        assert.deepEqual(summary.services, ['orders', 'web']);
      }
      assert.equal((await replicas[0]!.getTrace(traceId(120))).length, 3, 'read from another replica');
    } finally {
      for (const store of replicas) await store.close();
      await drop();
    }
  });

  it('migrates once when replicas start together, in its own schema', async () => {
    const { schema, drop } = await scratchSchema();
    try {
      const stores = await Promise.all(
        Array.from({ length: 4 }, () => openPostgresSpanStore({ connectionString: url, schema })),
      );
      for (const store of stores) await store.close();
      const { rows } = await admin.query<{ version: number }>(
        `SELECT version FROM ${schema}.schema_migrations ORDER BY version`,
      );
      assert.deepEqual(
        rows.map((r) => r.version),
        [1],
      );
      const { rows: tables } = await admin.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
        [schema],
      );
      assert.deepEqual(
        tables.map((t) => t.table_name),
        ['resources', 'schema_migrations', 'spans', 'stored_bytes', 'trace_services', 'traces'],
      );
    } finally {
      await drop();
    }
  });

  it('deletes each trace once when two replicas run retention at the same moment', async () => {
    const { schema, drop } = await scratchSchema();
    const [a, b] = await Promise.all([
      openPostgresSpanStore({ connectionString: url, schema }),
      openPostgresSpanStore({ connectionString: url, schema }),
    ]);
    try {
      for (let n = 0; n < 20; n++) await a!.append(trace(n + 1, n));
      const policy = { maxAgeMs: 0, maxBytes: Number.MAX_SAFE_INTEGER };
      const passes = await Promise.all([
        a!.enforceRetention(policy, T0 + 60_000, 100),
        b!.enforceRetention(policy, T0 + 60_000, 100),
      ]);
      const deleted = passes.map((p) => p.deletedTraces).sort((x, y) => x - y);
      // One took the lock and the other skipped, or found nothing left after it.
      assert.deepEqual(deleted, [0, 20]);
      assert.deepEqual(await b!.searchTraces({ limit: 10 }), []);
      assert.equal(await a!.sizeBytes(), 0, 'the size estimate went back to nothing');
    } finally {
      await a!.close();
      await b!.close();
      await drop();
    }
  });

  it('takes the strings PostgreSQL cannot index or hold: 8 KiB names, NUL characters and lone surrogates', async () => {
    const { schema, drop } = await scratchSchema();
    const store = await openPostgresSpanStore({ connectionString: url, schema });
    try {
      const long = 'n'.repeat(8 * 1024);
      const spans = [
        spanOf({ traceId: traceId(1), id: 'root', name: long, kind: 'server', service: long, at: 0 }),
        spanOf({
          traceId: traceId(1),
          id: 'nul',
          parent: 'root',
          service: 'web',
          name: 'a\u0000b\ud800',
          attributes: { k: 'v\u0000w', half: 'x\udc00' },
          statusMessage: 'nul \u0000',
          at: 1,
        }),
      ];
      assert.equal((await store.append(spans)).length, 2);
      const [summary] = await store.searchTraces({ service: long, route: long, limit: 5 });
      assert.equal(summary?.traceId, traceId(1));
      const back = await store.getTrace(traceId(1));
      const nul = back.find((s) => s.service === 'web');
      assert.equal(nul?.name, 'a\ufffdb\ufffd', 'NUL and a lone surrogate replaced in plain text');
      assert.deepEqual(nul?.attributes, { k: 'v\u0000w', half: 'x\udc00' }, 'kept as sent in JSON');
      assert.equal(nul?.statusMessage, 'nul \u0000');
    } finally {
      await store.close();
      await drop();
    }
  });
});
