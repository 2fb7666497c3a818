// What the CLI does to a manifest before sending it, as docker compose does: `${VAR}` from
// the operator's environment and the `.env` file beside the manifest (the environment wins),
// then each service's `envFile:` folded into its `env`. Problems are located like the rest of
// validation; an error stops the command before anything is sent.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDotEnv } from '../../domain/compose/dotenv.ts';
import { envFilesOf, expandEnvFiles } from '../../domain/manifest/env-files.ts';
import { interpolateManifest } from '../../domain/manifest/interpolation.ts';
import { isError } from '../../domain/problems.ts';
import { CliExit, EXIT } from './exit-codes.ts';
import { printProblems, type Output } from './output.ts';

export async function expandManifest(text: string, path: string, out: Output): Promise<string> {
  const folder = path === '-' ? process.cwd() : dirname(resolve(path));
  const file = path === '-' ? undefined : path;
  const dotEnv = parseDotEnv((await readOptional(resolve(folder, '.env'))) ?? '').values;
  const interpolated = interpolateManifest(text, { ...dotEnv, ...process.env }, { file });
  const contents = new Map<string, string | undefined>();
  for (const envFile of envFilesOf(interpolated.text))
    contents.set(envFile, await readOptional(resolve(folder, envFile)));
  const expanded = expandEnvFiles(interpolated.text, contents, { file });
  const problems = [...interpolated.problems, ...expanded.problems];
  if (problems.length > 0) printProblems(out, problems);
  if (problems.some(isError)) throw new CliExit(EXIT.invalid);
  return expanded.text;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}
