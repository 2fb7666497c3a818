// For tests against a real Swarm: the three-node cluster of scripts/local-swarm.sh, made in
// `before` and taken down in `after`, one test file at a time (a lock folder: a second file
// waits for the first to finish, since `down` would pull the cluster from under it).
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { connectEngine } from '../docker/docker-engine.ts';

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, '../../../../scripts/local-swarm.sh');
const LOCK = '/run/baton-swarm.test-lock';

export const MANAGER_HOST = 'unix:///run/baton-swarm/node1/docker.sock';
/** The host's address on the cluster's bridge: where instances reach the data plane. */
export const HOST_ADDRESS = '10.77.0.1';

export interface TestCluster {
  readonly manager: Docker;
  /** Runs scripts/local-swarm.sh with these arguments. */
  readonly script: (...args: string[]) => Promise<string>;
  /** Takes the cluster down and lets the next test file have it. */
  readonly down: () => Promise<void>;
}

export async function script(...args: string[]): Promise<string> {
  const { stdout } = await run(SCRIPT, args, { timeout: 180_000 });
  return stdout;
}

export async function upTestCluster(images: readonly string[]): Promise<TestCluster> {
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      await mkdir(LOCK);
      await writeFile(join(LOCK, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) throw error;
      // A holder killed before its `after` ran left the lock: take it over.
      const holder = Number(await readFile(join(LOCK, 'pid'), 'utf8').catch(() => ''));
      if (holder > 0 && !alive(holder)) await rm(LOCK, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  const down = async () => {
    try {
      await script('down');
    } finally {
      await rm(LOCK, { recursive: true, force: true });
    }
  };
  try {
    await script('up');
    if (images.length > 0) await script('load', ...images);
  } catch (error) {
    await down();
    throw error;
  }
  return { manager: connectEngine(MANAGER_HOST), script, down };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
