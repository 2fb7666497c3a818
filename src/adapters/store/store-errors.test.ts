import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatonError } from '../../domain/errors.ts';
import { StoreConflictError, type Store } from '../../ports/store.ts';
import { classifyPostgresError, classifySqliteError, withCodedErrors } from './store-errors.ts';

describe('store errors', () => {
  it('reads PostgreSQL failures: connection and shutdown states retry, the rest is terminal', () => {
    for (const code of ['57P01', '57P03', '08006', '53300', '40001', 'ECONNREFUSED', 'ECONNRESET'])
      assert.equal(classifyPostgresError({ code }), 'retryable', code);
    assert.equal(classifyPostgresError(new Error('Connection terminated unexpectedly')), 'retryable');
    for (const code of ['42P01', '23505', '22P02'])
      assert.equal(classifyPostgresError({ code }), 'terminal', code);
  });

  it('reads SQLite result codes, extended ones by their primary code', () => {
    assert.equal(classifySqliteError({ errcode: 5 }), 'retryable', 'SQLITE_BUSY');
    assert.equal(classifySqliteError({ errcode: 261 }), 'retryable', 'SQLITE_BUSY_RECOVERY');
    assert.equal(classifySqliteError({ errcode: 11 }), 'terminal', 'SQLITE_CORRUPT');
  });

  it('codes what a store method throws or rejects with, and lets conflicts and caller mistakes through', async () => {
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const conflict = new StoreConflictError('revision 3 exists');
    const fake = {
      lastEventSeq: () => Promise.reject(down),
      latestRevision: () => Promise.reject(conflict),
      listRevisions: () => Promise.reject(new RangeError('limit must be positive')),
      readEvents: () => Promise.reject(new Error('syntax error at or near "SELEC"')),
      onEvents: () => {
        throw Object.assign(new Error('database is locked'), { errcode: 5 });
      },
    } as unknown as Store;
    const store = withCodedErrors(fake, (e) => classifyPostgresError(e), 'PostgreSQL');
    await assert.rejects(store.lastEventSeq(), (error) => {
      assert.ok(error instanceof BatonError);
      assert.equal(error.code, 'store-unavailable');
      assert.equal(error.retryable, true);
      assert.equal(error.cause, down);
      return true;
    });
    await assert.rejects(store.latestRevision(), (error) => error === conflict);
    await assert.rejects(store.listRevisions(), RangeError);
    await assert.rejects(
      store.readEvents(),
      (error) => error instanceof BatonError && error.code === 'store-failed',
    );
    assert.throws(
      () => store.onEvents(() => {}),
      (error) => error instanceof BatonError && !error.retryable,
    );
  });
});
