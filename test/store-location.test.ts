import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatonError } from '../src/domain/errors.ts';
import { storeLocation } from '../src/server.ts';

describe('--store', () => {
  it('defaults to state.db in the state folder', () => {
    assert.deepEqual(storeLocation(undefined, '/srv/baton'), { kind: 'sqlite', path: '/srv/baton/state.db' });
  });

  it('takes a path, or the URL form sqlite:PATH, never a folder named `sqlite:`', () => {
    const cwd = process.cwd();
    assert.deepEqual(storeLocation('/data/state.db', '/x'), { kind: 'sqlite', path: '/data/state.db' });
    assert.deepEqual(storeLocation('sqlite:/data/state.db', '/x'), {
      kind: 'sqlite',
      path: '/data/state.db',
    });
    assert.deepEqual(storeLocation('sqlite:///data/state.db', '/x'), {
      kind: 'sqlite',
      path: '/data/state.db',
    });
    assert.deepEqual(storeLocation('sqlite:data/state.db', '/x'), {
      kind: 'sqlite',
      path: `${cwd}/data/state.db`,
    });
    assert.deepEqual(storeLocation('state.db', '/x'), { kind: 'sqlite', path: `${cwd}/state.db` });
  });

  it('takes a postgres:// URL and refuses a scheme it does not know', () => {
    assert.deepEqual(storeLocation('postgresql://u@db/baton', '/x'), {
      kind: 'postgres',
      url: 'postgresql://u@db/baton',
    });
    assert.throws(
      () => storeLocation('mysql://db/baton', '/x'),
      (error) =>
        error instanceof BatonError && error.code === 'bad-request' && /postgres:\/\//.test(error.hint ?? ''),
    );
  });
});
