// The composition root: the one place that chooses adapters and wires engines to them.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { pino, type Logger } from 'pino';
import { openPostgresStore } from './adapters/store/postgres/postgres-store.ts';
import { openSqliteStore } from './adapters/store/sqlite/sqlite-store.ts';
import { RevisionEngine } from './engines/revisions/revision-engine.ts';
import { createHttpApp } from './interfaces/http/app.ts';
import { systemClock } from './ports/clock.ts';
import type { Store } from './ports/store.ts';

export const BATON_VERSION = '0.1.0';
export const DEFAULT_PORT = 7070;

export interface ControlPlaneConfig {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Folder for local state: the SQLite database and the API token. */
  readonly stateDir: string;
  /** A SQLite file path, or a postgres:// URL. Defaults to `<stateDir>/state.db`. */
  readonly store?: string | undefined;
  /** Require a bearer token even on loopback. */
  readonly requireToken?: boolean | undefined;
  readonly logger?: Logger | undefined;
}

export interface ControlPlane {
  readonly url: string;
  /** The bearer token clients must send, when one is required. */
  readonly token: string | undefined;
  readonly store: Store;
  readonly engine: RevisionEngine;
  close(): Promise<void>;
}

export async function startControlPlane(config: ControlPlaneConfig): Promise<ControlPlane> {
  const logger = config.logger ?? pino({ level: 'info' }, pino.destination(2));
  const store = await openStore(config.store ?? join(config.stateDir, 'state.db'));
  const engine = new RevisionEngine({ store, clock: systemClock });
  // This API will start processes: it is never reachable from another host without a token.
  const token =
    config.requireToken || !isLoopback(config.host) ? await loadOrCreateToken(config.stateDir) : undefined;
  const app = createHttpApp({ engine, store, logger, version: BATON_VERSION, token });

  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  logger.info(
    { url, store: describeStore(config.store, config.stateDir), auth: token ? 'bearer' : 'loopback' },
    'listening',
  );

  return {
    url,
    token,
    store,
    engine,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open SSE streams would hold close() forever; they resume with Last-Event-ID.
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await store.close();
    },
  };
}

export async function openStore(spec: string): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(spec)) return openPostgresStore({ connectionString: spec });
  return openSqliteStore({ path: spec });
}

function describeStore(spec: string | undefined, stateDir: string): string {
  if (spec && /^postgres(ql)?:\/\//.test(spec)) return spec.replace(/\/\/[^@/]*@/, '//***@');
  return spec ?? join(stateDir, 'state.db');
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export async function loadOrCreateToken(stateDir: string): Promise<string> {
  const path = join(stateDir, 'token');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  // `wx` fails if another process created it first; then theirs is the token.
  try {
    await writeFile(path, token + '\n', { mode: 0o600, flag: 'wx' });
    return token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(path, 'utf8')).trim();
    throw error;
  }
}
