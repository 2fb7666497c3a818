// The owner id: what marks a control plane's containers, volumes and network (labels, names)
// so that it adopts its own after a restart and never a stranger's. One control plane keeps
// it in its state folder. Replicas over PostgreSQL may each have a folder of their own (other
// machines) yet drive one engine (a Swarm): whoever leads must recognise what the last leader
// started, so the first replica's id is claimed in the store and every other one takes it.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../../ports/store.ts';

const CLAIMED_AS = 'runtime-owner';

export async function runtimeOwnerId(options: {
  readonly stateDir: string;
  readonly store: Store;
  /** Several replicas share the store. */
  readonly shared: boolean;
}): Promise<string> {
  const local = await localOwnerId(options.stateDir);
  return options.shared ? options.store.claimServerKey(CLAIMED_AS, local) : local;
}

/** Opaque and stable: made once per state folder. */
async function localOwnerId(stateDir: string): Promise<string> {
  const path = join(stateDir, 'owner');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const owner = randomBytes(6).toString('hex');
  try {
    await writeFile(path, owner + '\n', { flag: 'wx', mode: 0o600 });
    return owner;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(path, 'utf8')).trim();
    throw error;
  }
}
