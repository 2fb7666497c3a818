import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { aesGcmSealer } from './aes-gcm-sealer.ts';
import { loadSecretKey } from './secret-key.ts';

const dir = await mkdtemp(join(tmpdir(), 'baton-secrets-'));
after(() => rm(dir, { recursive: true, force: true }));

it('seals with a fresh nonce, opens only under its own name and key, and fingerprints by value', () => {
  const key = randomBytes(32);
  const sealer = aesGcmSealer(key);
  const a = sealer.seal('DB', 'hunter2');
  assert.notEqual(a, sealer.seal('DB', 'hunter2'), 'a fresh nonce each time');
  assert.ok(!a.includes('hunter2') && !Buffer.from(a).includes(Buffer.from('hunter2').toString('base64')));
  assert.equal(sealer.open('DB', a), 'hunter2');
  assert.throws(() => sealer.open('OTHER', a), { code: 'secret-key-invalid' });
  assert.throws(() => aesGcmSealer(randomBytes(32)).open('DB', a), /sealed with key/);
  const parts = a.split('.');
  parts[3] = Buffer.from('tampered').toString('base64url');
  assert.throws(() => sealer.open('DB', parts.join('.')), /altered/);
  assert.equal(sealer.fingerprint('hunter2'), sealer.fingerprint('hunter2'));
  assert.notEqual(sealer.fingerprint('hunter2'), sealer.fingerprint('hunter3'));
  assert.notEqual(sealer.fingerprint('hunter2'), aesGcmSealer(randomBytes(32)).fingerprint('hunter2'));
});

it('creates the key file 0600 once, refuses it readable by others, and prefers the variable', async () => {
  const stateDir = join(dir, 'state');
  const first = await loadSecretKey({ stateDir });
  assert.equal((await stat(join(stateDir, 'secrets.key'))).mode & 0o777, 0o600);
  assert.deepEqual((await loadSecretKey({ stateDir })).key, first.key, 'the same key next start');
  await chmod(join(stateDir, 'secrets.key'), 0o644);
  await assert.rejects(loadSecretKey({ stateDir }), { code: 'secret-key-invalid', message: /other users/ });
  const hex = randomBytes(32).toString('hex');
  assert.deepEqual((await loadSecretKey({ stateDir, value: hex })).key, Buffer.from(hex, 'hex'));
  await assert.rejects(loadSecretKey({ stateDir, value: 'short' }), /32-byte key/);
  const b64 = (await readFile(join(stateDir, 'secrets.key'), 'utf8')).trim();
  const fromCommand = await loadSecretKey({ stateDir, command: `printf %s ${b64}` });
  assert.deepEqual([fromCommand.key, fromCommand.source], [first.key, 'command']);
  await assert.rejects(loadSecretKey({ stateDir, command: 'echo nope >&2; exit 3' }), (error: Error) => {
    assert.match(error.message, /command failed/);
    assert.doesNotMatch(error.message, /nope/);
    return true;
  });
});
