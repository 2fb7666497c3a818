// Where a `run` section points on this machine: its working directory and its command,
// resolved the way the process runtime starts them, so that admission checks exactly what
// a start will use.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { Workload } from '../../../ports/runtime.ts';

type Run = NonNullable<Workload['run']>;

/** `run.cwd` against the manifest's folder; the folder itself when absent. */
export function runCwd(run: Run, baseDir: string): string {
  return resolve(baseDir, run.cwd ?? '.');
}

/** A command with a slash is a file relative to the working directory; a bare name is looked up on PATH. */
export function runCommand(run: Run, cwd: string): string {
  return run.command.includes('/') && !isAbsolute(run.command) ? resolve(cwd, run.command) : run.command;
}

export async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

export type CommandLookup =
  | { readonly found: true; readonly path: string }
  | { readonly found: false; readonly reason: 'missing' | 'not-executable'; readonly path?: string };

/** What spawning `command` with this PATH would run, found the way execvp finds it. */
export async function lookupCommand(command: string, path: string | undefined): Promise<CommandLookup> {
  const candidates = isAbsolute(command)
    ? [command]
    : (path ?? '')
        .split(delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => join(dir, command));
  let notExecutable: string | undefined;
  for (const candidate of candidates) {
    const info = await stat(candidate).catch(() => undefined);
    if (info === undefined || info.isDirectory()) continue;
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return { found: true, path: candidate };
    notExecutable ??= candidate;
  }
  return notExecutable === undefined
    ? { found: false, reason: 'missing' }
    : { found: false, reason: 'not-executable', path: notExecutable };
}
