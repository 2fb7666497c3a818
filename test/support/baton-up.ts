// `baton up` as a child process (control plane + a manifest, instances stopped on exit), and
// the web console's build, for the browser tests.
import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { findOwnedProcesses } from '../../src/adapters/runtime/process/process-runtime.ts';
import { serverToken } from './api-token.ts';
import { BATON_BIN, REPO } from './baton-process.ts';

export const DIST_WEB = join(REPO, 'dist/web');

export interface UpProcess {
  readonly url: string;
  /** The admin token `up` wrote to its state folder. */
  readonly token: string;
  /** For `runCli`: this server and its token. */
  readonly env: { readonly BATON_SERVER: string; readonly BATON_TOKEN: string };
  /** The `baton up` process. */
  readonly pid: number;
  /** What `up` printed so far (stdout and stderr). */
  readonly output: () => string;
  /** SIGTERM, as Ctrl-C: `up` stops every instance, then exits. Kills leftovers, if any. */
  stop(): Promise<void>;
}

export async function startUp(
  manifest: string,
  stateDir: string,
  extraArgs: readonly string[] = [],
  /** Until `up` prints its API's URL: after it has built any images (`--runtime docker`). */
  startTimeoutMs = 30_000,
  /** Added to this process's environment (DOCKER_HOST of a Swarm manager, say). */
  env: Readonly<Record<string, string>> = {},
): Promise<UpProcess> {
  const child = spawn(
    process.execPath,
    [BATON_BIN, 'up', '-f', manifest, '--listen', '127.0.0.1:0', '--state-dir', stateDir, ...extraArgs],
    { cwd: REPO, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let output = '';
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const deadline = setTimeout(() => {
      // Never left behind: a `baton up` still running would hold the test file open for good.
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
      reject(new Error(`baton up did not start within ${startTimeoutMs / 1000} s\n${output}`));
    }, startTimeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const match = /API: (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(deadline);
        resolveUrl(match[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(deadline);
      reject(new Error(`baton up exited with ${code} before listening\n${output}`));
    });
  });
  const token = await serverToken(stateDir);
  return {
    url,
    token,
    env: { BATON_SERVER: url, BATON_TOKEN: token },
    pid: child.pid!,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
      for (const { pid } of await findOwnedProcesses(stateDir)) process.kill(pid, 'SIGKILL');
    },
  };
}

/** Builds the console (vite, with this Node) when dist/web is missing or older than web/. */
export async function ensureWebBuilt(): Promise<void> {
  const built = await stat(join(DIST_WEB, 'index.html')).catch(() => undefined);
  if (built && built.mtimeMs >= (await newestMtime(join(REPO, 'web')))) return;
  const vite = join(REPO, 'node_modules/vite/bin/vite.js');
  const child = spawn(
    process.execPath,
    [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`npm run build failed (${code}):\n${output}`);
}

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}
