// The script an interpreter is asked to run (`node services/orders.ts`), found the way the
// interpreter finds it, so that a missing one is refused before anything starts — instead of
// a process that prints `Cannot find module` and dies, again and again.
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';

/** Commands that take a script file as their first argument. */
const INTERPRETER = /^(node|nodejs|bun|tsx|ts-node|python[0-9.]*|ruby|perl|php|bash|sh|zsh|dash)$/;
/** Options after which there is no script file (code inline, a module name). */
const NO_SCRIPT = new Set(['-e', '--eval', '-p', '--print', '-c', '-m']);
/** Options whose value is the next argument, not the script. */
const TAKES_VALUE = new Set([
  '-r',
  '--require',
  '--import',
  '--loader',
  '--experimental-loader',
  '-C',
  '--conditions',
  '--title',
  '--input-type',
  '-W',
  '-X',
  '-I',
]);

/** The script argument of a run, if its command is an interpreter given one: its index and text. */
export function scriptArgument(
  command: string,
  args: readonly string[],
): { readonly index: number; readonly script: string } | undefined {
  if (!INTERPRETER.test(basename(command))) return undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (NO_SCRIPT.has(arg)) return undefined;
    if (TAKES_VALUE.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    return { index: i, script: arg };
  }
  return undefined;
}

/** The script's absolute path when it is missing (or a folder), relative to the working directory. */
export async function missingScript(
  command: string,
  args: readonly string[],
  cwd: string,
): Promise<{ readonly index: number; readonly script: string; readonly path: string } | undefined> {
  const found = scriptArgument(command, args);
  if (found === undefined) return undefined;
  const path = resolve(cwd, found.script);
  const info = await stat(path).catch(() => undefined);
  // A folder is fine for node (its index or package.json), and bash will say what is wrong.
  return info === undefined ? { ...found, path } : undefined;
}
