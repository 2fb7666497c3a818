import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { DiscoveryError, forget, overrideVariable, resolve } from './discovery.ts';
import { fakeBaton } from './fake-baton.ts';

describe('resolve', () => {
  let baton: Awaited<ReturnType<typeof fakeBaton>>;
  const endpoints: Record<string, { address: string; port: number }[]> = {
    payments: [
      { address: '10.0.0.1', port: 7001 },
      { address: '10.0.0.2', port: 7002 },
    ],
    'fraud-check': [{ address: '::1', port: 7003 }],
    ledger: [],
  };

  before(async () => {
    baton = await fakeBaton(endpoints);
  });
  afterEach(() => {
    for (const name of Object.keys(endpoints)) forget(name);
    baton.requests.length = 0;
    delete process.env.BATON_SERVER;
    delete process.env.BATON_TOKEN;
    delete process.env.BATON_ENDPOINT_PAYMENTS;
  });
  after(() => baton.server.close());

  it('names the override variable in upper case with underscores', () => {
    assert.equal(overrideVariable('fraud-check'), 'BATON_ENDPOINT_FRAUD_CHECK');
  });

  it('prefers the override variable and never asks Baton then', async () => {
    process.env.BATON_SERVER = baton.url;
    process.env.BATON_ENDPOINT_PAYMENTS = 'http://127.0.0.1:7104/';
    assert.equal(await resolve('payments'), 'http://127.0.0.1:7104');
    assert.equal(baton.requests.length, 0);
  });

  it('asks Baton with the bearer token, caches the answer and takes turns across instances', async () => {
    process.env.BATON_SERVER = `${baton.url}/`;
    process.env.BATON_TOKEN = 'secret-token';
    const urls = [await resolve('payments'), await resolve('payments'), await resolve('payments')];
    assert.deepEqual(new Set(urls), new Set(['http://10.0.0.1:7001', 'http://10.0.0.2:7002']));
    assert.notEqual(urls[0], urls[1]);
    assert.equal(urls[0], urls[2]);
    assert.deepEqual(baton.requests, [
      { path: '/v1/discovery/payments', authorization: 'Bearer secret-token' },
    ]);
  });

  it('asks again after forget, and brackets IPv6 addresses', async () => {
    process.env.BATON_SERVER = baton.url;
    assert.equal(await resolve('fraud-check'), 'http://[::1]:7003');
    forget('fraud-check');
    await resolve('fraud-check');
    assert.equal(baton.requests.length, 2);
    assert.equal(baton.requests[0]?.authorization, undefined);
  });

  it('fails clearly when a service has no healthy instance, and does not cache the failure', async () => {
    process.env.BATON_SERVER = baton.url;
    await assert.rejects(resolve('ledger'), {
      name: 'DiscoveryError',
      message: /no healthy instance of "ledger"/,
    });
    endpoints.ledger = [{ address: '10.0.0.9', port: 7009 }];
    assert.equal(await resolve('ledger'), 'http://10.0.0.9:7009');
  });

  it('fails clearly when Baton does not know the service', async () => {
    process.env.BATON_SERVER = baton.url;
    await assert.rejects(resolve('nowhere'), { name: 'DiscoveryError', message: /answered 404/ });
  });

  it('says which variables to set when there is neither an override nor a Baton server', async () => {
    await assert.rejects(resolve('payments'), (error: unknown) => {
      assert.ok(error instanceof DiscoveryError);
      assert.match(error.message, /BATON_ENDPOINT_PAYMENTS/);
      assert.match(error.message, /BATON_SERVER/);
      return true;
    });
  });
});
