import assert from 'node:assert/strict';
import { it } from 'node:test';
import { validateArchitecture } from '../validate.ts';
import { looksLikeCredential } from './credential-warnings.ts';
import { referencedSecrets, resolveSecretReferences } from './secret-references.ts';

it('finds each referenced secret once and resolves them, leaving other references alone', () => {
  const env = { A: '${secret:DB_PASSWORD}', B: 'u:${secret:DB_PASSWORD}@${services.db.url}/${secret:x.y-z}' };
  assert.deepEqual(referencedSecrets(env), ['DB_PASSWORD', 'x.y-z']);
  const values = new Map([
    ['DB_PASSWORD', 'pw'],
    ['x.y-z', 'v'],
  ]);
  assert.deepEqual(resolveSecretReferences(env, values), { A: 'pw', B: 'u:pw@${services.db.url}/v' });
});

it('tells credentials from ordinary values', () => {
  assert.match(looksLikeCredential('DB_PASSWORD', 'hunter2') ?? '', /named like a credential/);
  assert.match(looksLikeCredential('STRIPE_API_KEY', 'x') ?? '', /named like/);
  assert.match(looksLikeCredential('DATABASE_URL', 'postgres://app:pw@db/app') ?? '', /URL with a password/);
  assert.match(looksLikeCredential('SIGNING', 'q8Zk3LmP0vXw7RtY2bNc5HdJ') ?? '', /high entropy/);
  for (const [name, value] of [
    ['DB_PASSWORD', '${secret:DB_PASSWORD}'],
    ['API_TOKEN', ''],
    ['LOG_LEVEL', 'debug'],
    ['KEYCLOAK_URL', 'http://auth.internal:8080'],
    ['MONKEY', 'banana'],
    ['CONFIG_PATH', '/etc/app/config/production/settings.yaml'],
    ['DATABASE_URL', 'postgres://db.internal/app'],
  ])
    assert.equal(looksLikeCredential(name!, value!), undefined, `${name}=${value}`);
});

it('warns at the env entry of a plain credential, and refuses a malformed reference', () => {
  const text = [
    'name: shop',
    'services:',
    '  orders:',
    '    version: 1.0.0',
    '    tier: high',
    '    run: { command: node }',
    '    env:',
    '      DB_PASSWORD: hunter2',
    '      OK: "${secret:DB_PASSWORD}"',
  ].join('\n');
  const valid = validateArchitecture(text, { file: 'baton.yaml' });
  assert.ok(valid.ok);
  const warning = valid.warnings.find((w) => w.code === 'plain-credential');
  assert.deepEqual([warning?.line, warning?.path], [8, ['services', 'orders', 'env', 'DB_PASSWORD']]);
  assert.match(warning?.hint ?? '', /baton secrets set DB_PASSWORD/);
  assert.doesNotMatch(JSON.stringify(valid.warnings), /hunter2/, 'the warning never quotes the value');

  const bad = validateArchitecture(text.replace('${secret:DB_PASSWORD}', '${secret:two words}'));
  assert.ok(!bad.ok);
  assert.deepEqual(
    bad.problems.filter((p) => p.severity === 'error').map((p) => [p.code, p.line]),
    [['invalid-secret-reference', 9]],
  );
});
