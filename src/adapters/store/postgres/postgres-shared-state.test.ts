// The replicas' shared state against a real PostgreSQL, each test in a schema of its own:
// followers hear of every removal, and one too far behind for the pruned removals gets the
// whole picture instead of a partial one.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import type { SharedState } from '../../../ports/shared-state.ts';
import { ensureLeaseTables, LEASE_TABLE } from './lease-table.ts';
import { openPostgresSharedState } from './postgres-shared-state.ts';

const url = process.env.BATON_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const admin = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5_000 });
admin.on('error', () => {});
after(() => admin.end());

const EPOCH = 7;

/** A shared state in a fresh schema whose lease epoch 7 holds, and a way to drop it all. */
async function open(prune?: { keepTombstones: number; pruneEvery: number }) {
  const schema = `baton_test_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  const client = await admin.connect();
  try {
    await client.query(`SET search_path = ${schema}`);
    await ensureLeaseTables(client);
    await client.query(
      `INSERT INTO ${LEASE_TABLE} (id, holder, epoch, expires_at) VALUES (1, 'test', $1, now() + interval '1 hour')`,
      [EPOCH],
    );
    await client.query('RESET search_path');
  } finally {
    client.release();
  }
  const opened: SharedState[] = [];
  const handle = async () => {
    const state = await openPostgresSharedState({ connectionString: url, schema, ...prune });
    opened.push(state);
    return state;
  };
  return {
    schema,
    handle,
    async close() {
      for (const state of opened) await state.close();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    },
  };
}

const keysOf = (entries: readonly { key: string; value: unknown }[]) =>
  entries.map((e) => `${e.key}${e.value === undefined ? ' removed' : ''}`);

describe('PostgreSQL shared state', () => {
  it('gives a follower every change after its sequence, removals included', async () => {
    const db = await open();
    try {
      const leader = await db.handle();
      const follower = await db.handle();
      await leader.publish(
        ['a', 'b', 'c'].map((key) => ({ key, value: { key } })),
        { fence: EPOCH },
      );
      const first = await follower.read(0);
      assert.deepEqual(keysOf(first.entries), ['a', 'b', 'c']);
      assert.equal(first.complete, true);
      await leader.publish([{ key: 'b', value: undefined }], { fence: EPOCH });
      const next = await follower.read(first.seq);
      assert.deepEqual(keysOf(next.entries), ['b removed']);
      assert.ok(!next.complete);
      await assert.rejects(leader.publish([{ key: 'd', value: 1 }], { fence: EPOCH - 1 }), {
        code: 'leadership-lost',
      });
    } finally {
      await db.close();
    }
  });

  it('prunes old removals, and gives a follower behind them the whole picture', async () => {
    const db = await open({ keepTombstones: 2, pruneEvery: 1 });
    try {
      const leader = await db.handle();
      const follower = await db.handle();
      await leader.publish(
        ['a', 'b', 'c', 'd', 'e', 'f'].map((key) => ({ key, value: { key } })),
        { fence: EPOCH },
      );
      const behind = (await follower.read(0)).seq;
      for (const key of ['a', 'b', 'c', 'd'])
        await leader.publish([{ key, value: undefined }], { fence: EPOCH });
      const { rows } = await admin.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${db.schema}.baton_shared_state WHERE removed`,
      );
      assert.ok(Number(rows[0]!.n) < 4, `removals pruned: ${rows[0]!.n} of 4 left`);
      const caught = await follower.read(behind);
      assert.equal(caught.complete, true, 'behind the pruned removals: the whole picture');
      assert.deepEqual(keysOf(caught.entries), ['e', 'f']);
      // From there on, changes again.
      await leader.publish([{ key: 'e', value: undefined }], { fence: EPOCH });
      const next = await follower.read(caught.seq);
      assert.deepEqual(keysOf(next.entries), ['e removed']);
      assert.ok(!next.complete);
    } finally {
      await db.close();
    }
  });
});
