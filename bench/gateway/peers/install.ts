// The npm peers (fastify + @fastify/http-proxy, http-proxy) are installed at bench time into
// bench/.peers (gitignored), as bench/pm2-peer.ts does for PM2: Baton does not depend on them.
// Versions are pinned so that reruns compare like with like.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const PEERS = join(import.meta.dirname, '..', '..', '.peers');
export const PEER_PACKAGES = {
  fastify: '5.12.8',
  '@fastify/http-proxy': '11.6.3',
  'http-proxy': '1.18.1',
} as const;

/**
 * Installs the peers unless all are there. `--no-save`: bench/.peers may hold other peers
 * (PM2) with a package.json of its own; an install there that saves would rewrite it.
 */
export function ensurePeerPackages(): void {
  const missing = Object.keys(PEER_PACKAGES).filter(
    (name) => !existsSync(join(PEERS, 'node_modules', name, 'package.json')),
  );
  if (missing.length === 0) return;
  console.log(`installing ${missing.join(', ')} into ${PEERS}`);
  execFileSync(
    'npm',
    [
      'install',
      '--prefix',
      PEERS,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      ...Object.entries(PEER_PACKAGES).map(([name, version]) => `${name}@${version}`),
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
}

/** Loads a peer package from bench/.peers (CommonJS, like PM2). */
export function requirePeer(name: keyof typeof PEER_PACKAGES): unknown {
  return createRequire(join(PEERS, 'package.json'))(name);
}
