// Where the key that seals secrets comes from, first match wins:
// 1. BATON_SECRETS_KEY (32 bytes as base64 or 64 hex digits), e.g. from a CI secret store;
// 2. a command whose output is the key (`--secrets-key-command 'vault kv get -field=key …'`),
//    for a KMS: the key never touches this machine's disk;
// 3. `<stateDir>/secrets.key`, created on first use (0600), refused when others may read it.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BatonError } from '../../domain/errors.ts';

export interface SecretKeyOptions {
  readonly stateDir: string;
  /** BATON_SECRETS_KEY, read by the CLI. */
  readonly value?: string | undefined;
  readonly command?: string | undefined;
}

export interface SecretKey {
  readonly key: Buffer;
  /** For the start-up log: where it came from, never the key. */
  readonly source: string;
}

const HOW = 'generate one with `openssl rand -base64 32`';
const COMMAND_TIMEOUT_MS = 15_000;

export async function loadSecretKey(options: SecretKeyOptions): Promise<SecretKey> {
  if (options.value !== undefined && options.value !== '')
    return { key: decodeKey(options.value, 'BATON_SECRETS_KEY'), source: 'BATON_SECRETS_KEY' };
  if (options.command !== undefined && options.command !== '')
    return { key: decodeKey(await runKeyCommand(options.command), 'the key command'), source: 'command' };
  const path = join(options.stateDir, 'secrets.key');
  return { key: await loadOrCreateKeyFile(path), source: path };
}

export function decodeKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32)
    throw new BatonError('secret-key-invalid', `${where} is not a 32-byte key (base64 or 64 hex digits)`, {
      hint: HOW,
    });
  return key;
}

function runKeyCommand(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      '/bin/sh',
      ['-c', command],
      { timeout: COMMAND_TIMEOUT_MS, maxBuffer: 64 * 1024 },
      (error, stdout) => {
        // stderr and the output stay out of the error: they may hold the key, or part of it.
        if (error)
          reject(
            new BatonError(
              'secret-key-invalid',
              `the secrets key command failed (${error.code ?? error.signal ?? 'error'})`,
              {
                hint: 'run it by hand: it must print the key (base64 or hex) and exit 0',
              },
            ),
          );
        else resolve(stdout);
      },
    );
  });
}

async function loadOrCreateKeyFile(path: string): Promise<Buffer> {
  const found = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (found === undefined) {
    await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
    try {
      await writeFile(path, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process created it first: theirs is the key.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  } else if ((found.mode & 0o077) !== 0) {
    throw new BatonError(
      'secret-key-invalid',
      `${path} may be read by other users (mode ${(found.mode & 0o777).toString(8)})`,
      { hint: `\`chmod 600 ${path}\`: whoever reads it can open every secret` },
    );
  }
  return decodeKey(await readFile(path, 'utf8'), path);
}
