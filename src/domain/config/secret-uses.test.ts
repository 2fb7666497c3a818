import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMPTY_CONFIG_SET, type ConfigSet } from './config-set.ts';
import { secretsGivenTo, servicesGivenSecret } from './secret-uses.ts';

const set = (over: Partial<ConfigSet>): ConfigSet => ({ ...EMPTY_CONFIG_SET, ...over });
const SERVICES = ['orders', 'payments', 'web'];

describe('secrets a config set hands out', () => {
  it('names the services each scope reaches: global all, the others their own service', () => {
    assert.deepEqual(servicesGivenSecret(set({ global: { DB: '${secret:DB}' } }), SERVICES, 'DB'), SERVICES);
    assert.deepEqual(
      servicesGivenSecret(
        set({
          services: { orders: { URL: 'postgres://o:${secret:DB}@db/o' } },
          versions: { 'payments@2.0.0': { DB: '${secret:DB}' } },
          groups: { 'web/debug': { instances: ['web-1'], values: { DB: '${secret:DB}' } } },
        }),
        SERVICES,
        'DB',
      ),
      SERVICES,
    );
    assert.deepEqual(
      servicesGivenSecret(set({ services: { orders: { A: '${secret:DBX}' } } }), SERVICES, 'DB'),
      [],
    );
    assert.deepEqual(servicesGivenSecret(set({ services: { orders: { A: 5 } } }), SERVICES, 'DB'), []);
  });

  it("lists the secrets a service's config refers to", () => {
    const config = set({
      global: { A: '${secret:ONE}' },
      services: { orders: { B: 'x${secret:TWO}y${secret:ONE}' }, web: { C: '${secret:THREE}' } },
    });
    assert.deepEqual(secretsGivenTo(config, 'orders'), ['ONE', 'TWO']);
    assert.deepEqual(secretsGivenTo(config, 'payments'), ['ONE']);
  });
});
