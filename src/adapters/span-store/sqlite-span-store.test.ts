import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { it } from 'node:test';
import { spanStoreContract } from '../../ports/span-store.contract.ts';
import type { SpanStore } from '../../ports/span-store.ts';
import { openSqliteSpanStore } from './sqlite-span-store.ts';

spanStoreContract('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'baton-spans-'));
  const path = join(dir, 'state', 'traces.db');
  let current: SpanStore = await openSqliteSpanStore({ path });
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await openSqliteSpanStore({ path });
      return current;
    },
    cleanup: async () => {
      await current.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

it('keeps its file in WAL mode with incremental vacuum, so retention gives space back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'baton-spans-'));
  try {
    const path = join(dir, 'traces.db');
    await (await openSqliteSpanStore({ path })).close();
    const db = new DatabaseSync(path);
    const mode = db.prepare('PRAGMA journal_mode').get() as { journal_mode: string };
    const vacuum = db.prepare('PRAGMA auto_vacuum').get() as { auto_vacuum: number };
    db.close();
    assert.equal(mode.journal_mode, 'wal');
    assert.equal(vacuum.auto_vacuum, 2, 'incremental: freed pages go back to the file system');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
