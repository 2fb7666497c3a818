import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parse } from 'yaml';
import { validateArchitecture } from '../validate.ts';
import { envFilesOf, expandEnvFiles } from './env-files.ts';
import { interpolateManifest } from './interpolation.ts';

const MANIFEST = [
  'name: shop # the comment stays',
  'services:',
  '  orders:',
  '    version: ${ORDERS_VERSION:-1.0.0}',
  '    tier: high',
  '    run: { command: node }',
  '    ports:',
  '      - name: http',
  '        port: ${PORT}',
  '    env:',
  '      REGION: "${REGION:?the region to run in}"',
  '      BASE: ${BASE-http://default}/v1',
  '      LITERAL: $${NOT_ME}',
  '      DB: ${secret:DB_PASSWORD}',
  '      PAYMENTS: ${services.payments.url}',
  '',
].join('\n');

it('interpolates values like compose, keeps Baton references and types, and locates what is missing', () => {
  const { text, problems } = interpolateManifest(
    MANIFEST,
    { PORT: '8080', REGION: 'eu-1', BASE: '' },
    { file: 'baton.yaml' },
  );
  assert.deepEqual(problems, []);
  const data = parse(text) as {
    services: { orders: { version: string; ports: { port: unknown }[]; env: unknown } };
  };
  assert.equal(data.services.orders.version, '1.0.0');
  assert.equal(data.services.orders.ports[0]!.port, 8080, 'a plain number stays a number');
  assert.deepEqual(data.services.orders.env, {
    REGION: 'eu-1',
    BASE: '/v1',
    LITERAL: '${NOT_ME}',
    DB: '${secret:DB_PASSWORD}',
    PAYMENTS: '${services.payments.url}',
  });
  assert.match(text, /# the comment stays/);

  const missing = interpolateManifest(MANIFEST, {}, { file: 'baton.yaml' });
  assert.deepEqual(
    missing.problems.map((p) => [p.severity, p.code, p.line, p.path.join('.')]),
    [
      ['warning', 'variable-unset', 9, 'services.orders.ports.0.port'],
      ['error', 'variable-required', 11, 'services.orders.env.REGION'],
    ],
  );
  assert.match(missing.problems[1]!.message, /the region to run in/);
});

it('folds env files into env in order, env winning, and locates unreadable files and bad lines', () => {
  const text = [
    'name: shop',
    'services:',
    '  orders:',
    '    version: 1.0.0',
    '    tier: high',
    '    run: { command: node }',
    '    envFile: [common.env, orders.env]',
    '    env: { LEVEL: debug }',
    '  web:',
    '    version: 1.0.0',
    '    tier: high',
    '    run: { command: node }',
    '    envFile: web.env',
    '',
  ].join('\n');
  assert.deepEqual(envFilesOf(text), ['common.env', 'orders.env', 'web.env']);
  const contents = new Map([
    ['common.env', '# shared\nLEVEL=info\nREGION=eu-1\nMODE="a b"\n'],
    ['orders.env', 'export REGION=us-2\n'],
    ['web.env', 'A=1\nthis is not a line\n'],
  ]);
  const expanded = expandEnvFiles(text, contents, { file: 'baton.yaml' });
  assert.deepEqual(
    expanded.problems.map((p) => [p.code, p.line, p.message]),
    [['env-file-invalid', 13, 'web: web.env line 2: "this is not a line" is not KEY=VALUE']],
  );
  const valid = validateArchitecture(expanded.text);
  assert.ok(valid.ok, JSON.stringify(!valid.ok && valid.problems));
  assert.deepEqual(valid.value.manifest.services['orders']!.env, {
    LEVEL: 'debug',
    REGION: 'us-2',
    MODE: 'a b',
  });
  assert.deepEqual(valid.value.manifest.services['web']!.env, { A: '1' });
  assert.equal(valid.value.manifest.services['web']!.envFile, undefined);

  const unreadable = expandEnvFiles(text, new Map(), { file: 'baton.yaml' });
  assert.deepEqual(
    unreadable.problems.map((p) => [p.code, p.line]),
    [
      ['env-file-unreadable', 7],
      ['env-file-unreadable', 7],
      ['env-file-unreadable', 13],
    ],
  );
  const raw = validateArchitecture(text);
  assert.ok(!raw.ok && raw.problems.some((p) => p.code === 'env-file-unexpanded' && p.line === 7));
});
