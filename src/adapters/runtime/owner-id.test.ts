// Replicas with state folders of their own recognise each other's containers: one owner id,
// claimed in the shared store; a single control plane keeps its folder's.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { openPostgresStore } from '../store/postgres/postgres-store.ts';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';
import { runtimeOwnerId } from './owner-id.ts';

const url = process.env.BATON_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const admin = new pg.Pool({ connectionString: url, max: 1 });
admin.on('error', () => {});
after(() => admin.end());

describe('the runtime owner id', () => {
  it("is the first replica's for every replica over PostgreSQL, each with a folder of its own", async () => {
    const schema = `baton_test_${randomBytes(6).toString('hex')}`;
    const folders = await Promise.all([1, 2].map(() => mkdtemp(join(tmpdir(), 'baton-owner-'))));
    const stores = await Promise.all(folders.map(() => openPostgresStore({ connectionString: url, schema })));
    try {
      const first = await runtimeOwnerId({ stateDir: folders[0]!, store: stores[0]!, shared: true });
      const second = await runtimeOwnerId({ stateDir: folders[1]!, store: stores[1]!, shared: true });
      assert.equal(second, first);
      assert.equal((await readFile(join(folders[0]!, 'owner'), 'utf8')).trim(), first);
      assert.notEqual(
        (await readFile(join(folders[1]!, 'owner'), 'utf8')).trim(),
        first,
        'its own folder had another',
      );
    } finally {
      for (const store of stores) await store.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      for (const folder of folders) await rm(folder, { recursive: true, force: true });
    }
  });

  it("is the state folder's own for a single control plane, the same at every start", async () => {
    const folder = await mkdtemp(join(tmpdir(), 'baton-owner-'));
    const store = await openSqliteStore({ path: ':memory:' });
    try {
      const once = await runtimeOwnerId({ stateDir: folder, store, shared: false });
      assert.match(once, /^[0-9a-f]{12}$/);
      assert.equal(await runtimeOwnerId({ stateDir: folder, store, shared: false }), once);
    } finally {
      await store.close();
      await rm(folder, { recursive: true, force: true });
    }
  });
});
