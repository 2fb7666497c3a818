import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffManifests, diffValues, versionBump } from './diff.ts';
import { manifest } from './test-fixtures.ts';

describe('diffManifests', () => {
  it('lists added, removed and changed services by name and counts the unchanged ones', () => {
    const from = manifest({
      orders: { version: '2.0.0' },
      legacy: { version: '0.9.0' },
      catalog: { version: '1.0.0' },
    });
    const to = manifest({
      orders: { version: '2.1.0' },
      ledger: { version: '3.0.0' },
      catalog: { version: '1.0.0' },
    });
    const diff = diffManifests(from, to);
    assert.deepEqual(
      diff.services.map((s) => [s.service, s.change, s.version]),
      [
        ['ledger', 'added', { to: '3.0.0', bump: 'none' }],
        ['legacy', 'removed', { from: '0.9.0', bump: 'none' }],
        ['orders', 'changed', { from: '2.0.0', to: '2.1.0', bump: 'minor' }],
      ],
    );
    assert.equal(diff.unchanged, 1);
    assert.deepEqual(diff.top, []);
  });

  it('treats a missing starting manifest as empty', () => {
    const diff = diffManifests(undefined, manifest({ b: { version: '1.0.0' }, a: { version: '1.0.0' } }));
    assert.deepEqual(
      diff.services.map((s) => [s.service, s.change]),
      [
        ['a', 'added'],
        ['b', 'added'],
      ],
    );
    assert.deepEqual(diff.top, [{ path: 'name', after: 'shop' }]);
  });

  it('reports an added service field by field, with only the after side', () => {
    const diff = diffManifests(undefined, manifest({ a: { version: '1.0.0', env: { LOG_LEVEL: 'debug' } } }));
    const fields = diff.services[0]!.fields;
    assert.ok(fields.every((f) => !('before' in f)));
    assert.deepEqual(
      fields.find((f) => f.path === 'env.LOG_LEVEL'),
      { path: 'env.LOG_LEVEL', after: 'debug' },
    );
    assert.deepEqual(
      fields.find((f) => f.path === 'version'),
      { path: 'version', after: '1.0.0' },
    );
  });

  it('reports leaf paths inside dependsOn, env, instances and routes', () => {
    const from = manifest({
      orders: {
        version: '2.0.0',
        dependsOn: { payments: '^1.4.0' },
        env: { LOG_LEVEL: 'info', OLD: 'x' },
        routes: [{ path: '/orders' }],
      },
      payments: { version: '1.5.0' },
    });
    const to = manifest({
      orders: {
        version: '2.0.0',
        dependsOn: { payments: { range: '^1.5.0', optional: true } },
        env: { LOG_LEVEL: 'debug', NEW: 'y' },
        instances: { min: 1, max: 3 },
        routes: [{ path: '/v2/orders' }, { path: '/cart', methods: ['GET'] }],
      },
      payments: { version: '1.5.0' },
    });
    const [orders] = diffManifests(from, to).services;
    assert.equal(orders!.version!.bump, 'none');
    assert.deepEqual(orders!.fields, [
      { path: 'dependsOn.payments.optional', before: false, after: true },
      { path: 'dependsOn.payments.range', before: '^1.4.0', after: '^1.5.0' },
      { path: 'env.LOG_LEVEL', before: 'info', after: 'debug' },
      { path: 'env.NEW', after: 'y' },
      { path: 'env.OLD', before: 'x' },
      { path: 'instances.max', before: 1, after: 3 },
      { path: 'routes.length', before: 1, after: 2 },
      { path: 'routes[0].path', before: '/orders', after: '/v2/orders' },
      { path: 'routes[1].methods[0]', after: 'GET' },
      { path: 'routes[1].path', after: '/cart' },
      { path: 'routes[1].stripPrefix', after: false },
    ]);
  });

  it('reports manifest-level name and description changes', () => {
    const from = manifest({ a: { version: '1.0.0' } }, { description: 'old' });
    const to = manifest({ a: { version: '1.0.0' } }, { name: 'store' });
    assert.deepEqual(diffManifests(from, to), {
      services: [],
      top: [
        { path: 'name', before: 'shop', after: 'store' },
        { path: 'description', before: 'old' },
      ],
      unchanged: 1,
    });
  });
});

describe('versionBump', () => {
  const cases: [string, string, string][] = [
    ['1.4.0', '2.0.0', 'major'],
    ['1.4.0', '2.0.0-rc.1', 'major'],
    ['1.4.0', '1.5.0', 'minor'],
    ['1.4.0', '1.4.1', 'patch'],
    ['1.5.0-rc.1', '1.5.0', 'prerelease'],
    ['1.5.0-rc.1', '1.5.0-rc.2', 'prerelease'],
    ['1.5.0', '1.4.9', 'downgrade'],
    ['1.5.0', '1.5.0-rc.1', 'downgrade'],
    ['1.5.0', '1.5.0', 'none'],
  ];
  for (const [from, to, bump] of cases) {
    it(`${from} → ${to} is ${bump}`, () => assert.equal(versionBump(from, to), bump));
  }
});

describe('diffValues', () => {
  it('reports an empty container appearing, and a change of kind, as one leaf', () => {
    assert.deepEqual(diffValues({ a: 1 }, { a: 1, labels: {} }), [{ path: 'labels', after: {} }]);
    assert.deepEqual(diffValues({ cpu: '500m' }, { cpu: 0.5 }), [
      { path: 'cpu', before: '500m', after: 0.5 },
    ]);
    assert.deepEqual(diffValues({ args: ['a'] }, { args: 'a' }), [
      { path: 'args', before: ['a'], after: 'a' },
    ]);
  });

  it('finds nothing between equal values', () => {
    assert.deepEqual(diffValues({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), []);
  });
});
