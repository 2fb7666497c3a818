// PM2, the peer the process benchmarks compare against. It is installed on first use into
// bench/.peers (gitignored), never into the project: Baton does not depend on it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const PM2_VERSION = '7.0.4';
const PEERS = join(import.meta.dirname, '.peers');

/** Installs PM2 into bench/.peers unless it is there; returns the folder to load it from. */
export function ensurePm2(): string {
  const dir = join(PEERS, 'node_modules', 'pm2');
  if (!existsSync(join(dir, 'package.json'))) {
    console.log(`installing pm2@${PM2_VERSION} into ${PEERS} (once)`);
    execFileSync('npm', ['install', '--prefix', PEERS, `pm2@${PM2_VERSION}`, '--no-audit', '--no-fund'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  return dir;
}

/** The slice of PM2's programmatic API the benchmarks use (callback style, as PM2 has it). */
export interface Pm2Api {
  connect(callback: (error: Error | null) => void): void;
  start(config: { apps: readonly Record<string, unknown>[] }, callback: (error: Error | null) => void): void;
  delete(target: string, callback: (error: Error | null) => void): void;
  killDaemon(callback: (error: Error | null) => void): void;
  disconnect(): void;
}

/**
 * Loads PM2's API. PM2 reads PM2_HOME when it is loaded, so the caller sets it first (to a
 * private folder: a benchmark must never touch a user's own PM2).
 */
export function loadPm2(): Pm2Api {
  if (!process.env.PM2_HOME) throw new Error('set PM2_HOME to a private folder before loading PM2');
  return createRequire(import.meta.url)(ensurePm2()) as Pm2Api;
}

/** A PM2 callback call as a promise. */
export function pm2Call(call: (callback: (error: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => call((error) => (error ? reject(error) : resolve())));
}
