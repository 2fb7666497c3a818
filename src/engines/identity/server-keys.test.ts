// The keys every replica agrees on, against a real SQLite store: a new store, a store from
// before the keys were stored (its service tokens were MACs under the admin token), a single
// control plane rotating by its token file, and a replica that disagrees with a shared store.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, it } from 'node:test';
import { aesGcmSealer } from '../../adapters/secrets/aes-gcm-sealer.ts';
import { openSqliteStore } from '../../adapters/store/sqlite/sqlite-store.ts';
import type { Store } from '../../ports/store.ts';
import { serviceToken, tokenDigest } from './credentials.ts';
import { establishServerKeys } from './server-keys.ts';

const stores: Store[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});
const open = async () => {
  const store = await openSqliteStore({ path: ':memory:' });
  stores.push(store);
  return store;
};
const newSecret = () => randomBytes(32).toString('base64url');

it('mints an admin token and a separate service key on a new store, and finds both again', async () => {
  const store = await open();
  const sealer = aesGcmSealer(randomBytes(32));
  const first = await establishServerKeys({ store, sealer, localToken: undefined, single: true, newSecret });
  assert.ok(first.minted !== undefined && first.holdsAdminToken);
  assert.equal(first.adminDigest, tokenDigest(first.minted));
  assert.notEqual(first.serviceKey, first.minted, 'the service key is not the admin token');
  const again = await establishServerKeys({
    store,
    sealer,
    localToken: first.minted,
    single: true,
    newSecret,
  });
  assert.deepEqual(
    [again.serviceKey, again.adminDigest, again.minted, again.rotated],
    [first.serviceKey, first.adminDigest, undefined, false],
  );
  const tokens = await store.listTokens();
  assert.deepEqual(tokens, [], 'nothing in the tokens table');
});

it('keeps the service tokens of a store from before the keys were stored (derived from the admin token)', async () => {
  const store = await open();
  const legacy = 'an-admin-token-from-an-older-baton';
  const keys = await establishServerKeys({
    store,
    sealer: aesGcmSealer(randomBytes(32)),
    localToken: legacy,
    single: true,
    newSecret,
  });
  assert.equal(serviceToken(keys.serviceKey, 'orders'), serviceToken(legacy, 'orders'));
  assert.equal(keys.minted, undefined);
});

it('stores the service key sealed, never in plain text', async () => {
  const store = await open();
  const keys = await establishServerKeys({
    store,
    sealer: aesGcmSealer(randomBytes(32)),
    localToken: undefined,
    single: false,
    newSecret,
  });
  const stored = await store.claimServerKey('service-token-key', 'probe');
  assert.ok(!stored.includes(keys.serviceKey), 'the stored value does not contain the key');
  assert.match(stored, /^v1\./, 'sealed by the secrets sealer');
});

it('rotates every token on a single control plane when its token file is replaced or removed', async () => {
  const store = await open();
  const sealer = aesGcmSealer(randomBytes(32));
  const first = await establishServerKeys({ store, sealer, localToken: undefined, single: true, newSecret });
  const replaced = await establishServerKeys({
    store,
    sealer,
    localToken: 'new-token',
    single: true,
    newSecret,
  });
  assert.equal(replaced.adminDigest, tokenDigest('new-token'));
  assert.ok(replaced.rotated);
  assert.notEqual(replaced.serviceKey, first.serviceKey);
  const removed = await establishServerKeys({
    store,
    sealer,
    localToken: undefined,
    single: true,
    newSecret,
  });
  assert.ok(removed.minted !== undefined && removed.rotated);
  assert.equal(removed.adminDigest, tokenDigest(removed.minted));
});

it('makes new service tokens on a single control plane whose secrets key changed', async () => {
  const store = await open();
  const first = await establishServerKeys({
    store,
    sealer: aesGcmSealer(randomBytes(32)),
    localToken: undefined,
    single: true,
    newSecret,
  });
  const other = await establishServerKeys({
    store,
    sealer: aesGcmSealer(randomBytes(32)),
    localToken: first.minted,
    single: true,
    newSecret,
  });
  assert.ok(other.rotated);
  assert.equal(other.adminDigest, first.adminDigest, 'the admin token stays');
  assert.notEqual(other.serviceKey, first.serviceKey);
});

it('on a shared store, follows the first replica: no copy of its token, the same key; refuses a disagreeing folder or secrets key', async () => {
  const store = await open();
  const sealer = aesGcmSealer(randomBytes(32));
  const a = await establishServerKeys({ store, sealer, localToken: undefined, single: false, newSecret });
  const b = await establishServerKeys({ store, sealer, localToken: undefined, single: false, newSecret });
  assert.deepEqual(
    [b.serviceKey, b.adminDigest, b.minted, b.holdsAdminToken],
    [a.serviceKey, a.adminDigest, undefined, false],
  );
  const copied = await establishServerKeys({ store, sealer, localToken: a.minted, single: false, newSecret });
  assert.ok(copied.holdsAdminToken);
  await assert.rejects(
    establishServerKeys({ store, sealer, localToken: 'another-token', single: false, newSecret }),
    { code: 'bad-request', message: /not the bootstrap admin token/ },
  );
  await assert.rejects(
    establishServerKeys({
      store,
      sealer: aesGcmSealer(randomBytes(32)),
      localToken: undefined,
      single: false,
      newSecret,
    }),
    { code: 'secret-key-invalid', hint: /share the secrets key/ },
  );
  assert.equal(
    (await establishServerKeys({ store, sealer, localToken: undefined, single: false, newSecret }))
      .serviceKey,
    a.serviceKey,
    'nothing was replaced by the refused ones',
  );
});
