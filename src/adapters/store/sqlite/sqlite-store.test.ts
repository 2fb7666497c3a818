import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { storeContract } from '../../../ports/store.contract.ts';
import type { Store } from '../../../ports/store.ts';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.ts';
import { openSqliteStore } from './sqlite-store.ts';

storeContract('SQLite file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'baton-sqlite-'));
  const path = join(dir, 'state', 'baton.db');
  const opened: Store[] = [];
  const openOne = async () => {
    const store = await openSqliteStore({ path });
    opened.push(store);
    return store;
  };
  return {
    store: await openOne(),
    reopen: openOne,
    cleanup: async () => {
      for (const store of opened) await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

storeContract(
  'SQLite :memory:',
  async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    return { store, cleanup: () => store.close() };
  },
  { persistent: false },
);

describe('SQLite store', () => {
  it('creates a missing parent directory readable only by its owner', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-sqlite-'));
    try {
      const store = await openSqliteStore({ path: join(dir, '.baton', 'state.db') });
      await store.close();
      const mode = (await stat(join(dir, '.baton'))).mode & 0o777;
      assert.equal(mode & 0o077, 0, `mode ${mode.toString(8)}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps state.db and its journals 0600 even in a folder that already existed, open to all', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-sqlite-'));
    try {
      await chmod(dir, 0o755);
      const path = join(dir, 'state.db');
      const old = new DatabaseSync(path); // as an older Baton left it: the umask's 0644
      old.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER)');
      old.close();
      await chmod(path, 0o644);
      const store = await openSqliteStore({ path });
      await store.appendEvents([{ kind: 'k', actor: 'a', message: 'm', time: '2025-01-01T00:00:00.000Z' }]);
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        const mode = (await stat(file)).mode & 0o777;
        assert.equal(mode, 0o600, `${file}: mode ${mode.toString(8)}`);
      }
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a database written by a newer Baton, saying so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-sqlite-'));
    const path = join(dir, 'state.db');
    try {
      await (await openSqliteStore({ path })).close();
      const newer = SQLITE_MIGRATIONS.length + 1;
      const db = new DatabaseSync(path);
      db.prepare('INSERT INTO schema_migrations (version, name) VALUES (?, ?)').run(newer, 'from the future');
      db.close();
      await assert.rejects(openSqliteStore({ path }), (error: Error) => {
        assert.match(error.message, new RegExp(`schema version ${newer}`));
        assert.match(error.message, new RegExp(`only knows versions up to ${SQLITE_MIGRATIONS.length}`));
        assert.match(error.message, /Upgrade Baton/);
        assert.ok(error.message.includes(path), 'names the database');
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('applies each migration once, however often it is opened', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-sqlite-'));
    const path = join(dir, 'state.db');
    try {
      const stores = await Promise.all([openSqliteStore({ path }), openSqliteStore({ path })]);
      for (const store of stores) await store.close();
      await (await openSqliteStore({ path })).close();
      const db = new DatabaseSync(path);
      const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
      const journal = db.prepare('PRAGMA journal_mode').get();
      db.close();
      assert.deepEqual(
        versions.map((row) => row.version),
        SQLITE_MIGRATIONS.map((m) => m.version),
      );
      assert.equal(journal?.journal_mode, 'wal');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('SQLite store after kill -9', () => {
  it(
    'keeps every acknowledged revision whole, with its events, and nothing half-written',
    { timeout: 30_000 },
    async (t) => {
      const dir = await mkdtemp(join(tmpdir(), 'baton-sqlite-'));
      const path = join(dir, 'state.db');
      try {
        // The writer prints each revision number once appendRevision has resolved, and is
        // killed at whatever point of its next append it has reached by then.
        const writer = spawn(process.execPath, ['--input-type=module', '-e', crashWriter(path)], {
          stdio: ['ignore', 'pipe', 'inherit'],
          signal: t.signal, // a writer that hangs is killed when the test times out
          killSignal: 'SIGKILL',
        });
        const exited = once(writer, 'exit');
        let acknowledged = 0;
        for await (const line of createInterface({ input: writer.stdout })) {
          acknowledged = Number(line);
          if (acknowledged >= 20) {
            writer.kill('SIGKILL'); // before leaving the loop closes the pipe it writes to
            break;
          }
        }
        const [code, signal] = await exited;
        assert.equal(signal, 'SIGKILL', `the writer stopped on its own (exit code ${code})`);

        const store = await openSqliteStore({ path });
        try {
          const latest = (await store.latestRevision())?.number ?? 0;
          assert.ok(latest >= acknowledged, `revision ${acknowledged} was acknowledged, latest is ${latest}`);
          const history = await store.revisionHistory(latest);
          assert.deepEqual(
            history.map((r) => [r.number, r.parent]),
            Array.from({ length: latest }, (_, i) => [latest - i, latest - i - 1 || null]),
          );
          for (const revision of history) {
            assert.equal(Object.keys(revision.manifest.services).length, revision.number);
          }
          const events = await store.readEvents();
          assert.deepEqual(
            events.map((e) => e.revision),
            Array.from({ length: latest }, (_, i) => [i + 1, i + 1, i + 1]).flat(),
          );
        } finally {
          await store.close();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});

function crashWriter(path: string): string {
  const storeModule = new URL('./sqlite-store.ts', import.meta.url).href;
  return `
    import { openSqliteStore } from ${JSON.stringify(storeModule)};
    const store = await openSqliteStore({ path: ${JSON.stringify(path)} });
    const time = '2025-01-01T00:00:00.000Z';
    for (let number = 1; ; number++) {
      const services = {};
      for (let i = 0; i < number; i++) services['svc-' + i] = { version: '1.0.0', blob: 'x'.repeat(2000) };
      const manifest = { name: 'crash', services };
      const events = [1, 2, 3].map((n) => ({ kind: 'e' + n, revision: number, actor: 'test', message: '', time }));
      await store.appendRevision(
        { hash: 'h' + number, manifestText: JSON.stringify(manifest), manifest, author: 'test', message: '',
          source: { kind: 'apply' }, createdAt: time },
        { expectedParent: number === 1 ? null : number - 1, events },
      );
      process.stdout.write(number + '\\n');
    }`;
}
