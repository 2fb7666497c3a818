import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAddresses } from './check-addresses.ts';
import { manifestOf } from './test-manifest.ts';

const codes = (manifest: Parameters<typeof checkAddresses>[0]) =>
  checkAddresses(manifest).map((p) => `${p.severity} ${p.code} ${p.path.join('.')}`);

describe('checkAddresses', () => {
  it('accepts references to declared dependencies and leaves other ${…} alone', () => {
    const manifest = manifestOf({
      web: {
        dependsOn: { hotel: '^1.0.0', 'room-service': { range: '^2.0.0', env: 'ROOMS' } },
        env: {
          HOTEL_API: '${services.hotel.url}/v1',
          ROOMS_HOST: '${services.room-service.host}',
          KEY: '${secret:KEY}',
        },
      },
      hotel: {},
      'room-service': { version: '2.0.0' },
    });
    assert.deepEqual(codes(manifest), []);
  });

  it('refuses a reference to a service the consumer does not declare, naming the fix', () => {
    const manifest = manifestOf({
      web: {
        dependsOn: { hotel: '^1.0.0' },
        env: { PAY: 'x ${services.payments.url} ${services.payments.port}' },
      },
      hotel: {},
      payments: {},
    });
    const [problem, ...rest] = checkAddresses(manifest);
    assert.equal(rest.length, 0, 'one problem per variable and service');
    assert.equal(problem?.code, 'undeclared-reference');
    assert.deepEqual(problem?.path, ['services', 'web', 'env', 'PAY']);
    assert.match(problem!.hint!, /add `payments` to web's dependsOn/);
  });

  it('refuses two dependencies given the same variable, and a variable Baton sets', () => {
    const manifest = manifestOf({
      web: {
        dependsOn: {
          hotel: { range: '^1.0.0', env: 'API' },
          payments: { range: '^1.0.0', env: 'API' },
          port: { range: '^1.0.0', env: 'PORT' },
        },
      },
      hotel: {},
      payments: {},
      port: {},
    });
    assert.deepEqual(codes(manifest), [
      'error dependency-variable-clash services.web.dependsOn.payments',
      'error dependency-variable-reserved services.web.dependsOn.port',
    ]);
  });

  it('warns when env replaces the address Baton gives a dependency', () => {
    const manifest = manifestOf({
      web: { dependsOn: { hotel: '^1.0.0' }, env: { HOTEL_URL: 'http://hotel.internal' } },
      hotel: {},
    });
    assert.deepEqual(codes(manifest), ['warning dependency-variable-overridden services.web.env.HOTEL_URL']);
  });
});
