// Drives the real `baton` binary: a server as a child process, and CLI invocations.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serverToken } from './api-token.ts';

export const REPO = resolve(import.meta.dirname, '../..');
export const BATON_BIN = join(REPO, 'bin/baton.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  cwd = REPO,
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BATON_BIN, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

export interface ServerProcess {
  readonly url: string;
  /** The admin token the server wrote to its state folder. */
  readonly token: string;
  /** For `runCli`: this server and its token. */
  readonly env: { readonly BATON_SERVER: string; readonly BATON_TOKEN: string };
  readonly child: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `baton server` on a free port and resolves once it prints its URL. */
export async function startServer(
  stateDir: string,
  extraArgs: readonly string[] = [],
  env: Readonly<Record<string, string>> = {},
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [
      BATON_BIN,
      'server',
      '--listen',
      '127.0.0.1:0',
      '--state-dir',
      stateDir,
      '--log-level',
      'warn',
      ...extraArgs,
    ],
    { cwd: REPO, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let stdout = '';
    const deadline = setTimeout(
      () => reject(new Error(`server did not start within 60 s\n${stderr}`)),
      60_000,
    );
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(deadline);
        resolveUrl(match[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(deadline);
      reject(new Error(`server exited with ${code} before listening\n${stderr}`));
    });
  });
  const token = await serverToken(stateDir);
  return {
    url,
    token,
    env: { BATON_SERVER: url, BATON_TOKEN: token },
    child,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `baton-${prefix}-`));
  // Readable by all, as a project folder is: as root, Baton runs instances as `nobody`, who
  // must reach the services a test writes here. The state folder inside stays Baton's alone.
  await chmod(path, 0o755);
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
