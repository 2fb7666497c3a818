// import compose: a docker-compose file as a baton.yaml, with a line for everything it could
// not map. Reads the compose file, the `.env` beside it and every env_file; the mapping
// itself is pure (domain/compose).
import { access, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseDocument } from 'yaml';
import { envFilesOf, importCompose } from '../../../domain/compose/compose-import.ts';
import { parseDotEnv } from '../../../domain/compose/dotenv.ts';
import { renderImport } from '../../../domain/compose/render-import.ts';
import { validateArchitecture } from '../../../domain/validate.ts';
import { CliExit, EXIT } from '../exit-codes.ts';
import { createOutput, printProblems } from '../output.ts';

const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

export function registerImportCommand(program: Command): void {
  const importCommand = program.command('import').description('Write a baton.yaml from another tool’s files');
  importCommand
    .command('compose')
    .description('Write a baton.yaml from a docker-compose file, with a line for everything it could not map')
    .argument('[file]', `the compose file (default: the first of ${DEFAULT_FILES.join(', ')})`)
    .option('-o, --output <path>', 'where to write the manifest (- for stdout)', 'baton.yaml')
    .option('--name <name>', 'the architecture’s name (default: the file’s `name`, else its folder’s)')
    .option('--force', 'overwrite the output file')
    .addHelpText(
      'after',
      [
        '',
        '`${VAR}` in the compose file takes its value from the .env file beside it, never from your shell.',
        '',
        'Examples:',
        '  baton import compose                       # ./compose.yaml → ./baton.yaml',
        '  baton import compose docker-compose.yml -o - | less',
      ].join('\n'),
    )
    .action(async (file: string | undefined, options: { output: string; name?: string; force?: boolean }) => {
      const out = createOutput({ json: false });
      const path = file ?? (await firstExisting(DEFAULT_FILES));
      if (path === undefined) {
        out.error(`baton import compose: no compose file here (looked for ${DEFAULT_FILES.join(', ')})`);
        throw new CliExit(EXIT.invalid);
      }
      const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
        out.error(
          `baton import compose: cannot read ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`,
        );
        throw new CliExit(EXIT.invalid);
      });
      const parsed = parseDocument(text, { merge: true });
      if (parsed.errors.length > 0) {
        for (const error of parsed.errors) out.error(`${path}: ${error.message}`);
        throw new CliExit(EXIT.invalid);
      }
      const folder = dirname(resolve(path));
      const dotEnv = await readFile(resolve(folder, '.env'), 'utf8').catch(() => '');
      const variables = parseDotEnv(dotEnv).values;
      const document: unknown = parsed.toJS({ maxAliasCount: 1000 });
      const envFiles: Record<string, string | undefined> = {};
      for (const envFile of envFilesOf(document, variables))
        envFiles[envFile] = await readFile(resolve(folder, envFile), 'utf8').catch(() => undefined);

      const result = importCompose({
        document,
        fallbackName: options.name ?? basename(folder),
        variables,
        envFiles,
      });
      if (!result.ok) {
        out.error(`baton import compose: ${path}: ${result.error}`);
        throw new CliExit(EXIT.invalid);
      }
      const manifest =
        options.name === undefined ? result.manifest : { ...result.manifest, name: options.name };
      const rendered = renderImport(manifest, result.notes, basename(path));
      // What it writes must be a manifest Baton accepts: a failure here is a bug of the mapping.
      const validation = validateArchitecture(rendered, { file: options.output });
      if (!validation.ok) {
        printProblems(out, validation.problems);
        out.error(
          'baton import compose: the manifest it made is invalid (a bug in the import; please report it)',
        );
        throw new CliExit(EXIT.unavailable);
      }
      if (options.output === '-') {
        process.stdout.write(rendered);
      } else {
        if (!options.force && (await exists(options.output))) {
          out.error(
            `baton import compose: ${options.output} exists; pass --force to overwrite it, or -o another path`,
          );
          throw new CliExit(EXIT.invalid);
        }
        await writeFile(options.output, rendered);
      }
      const services = Object.keys(manifest.services as object).length;
      for (const { path: where, message } of result.notes)
        out.error(`${out.style('yellow', 'note')} ${where}: ${message}`);
      out.error(
        `${out.style('green', '✓')} ${services} service${services === 1 ? '' : 's'} from ${path}${options.output === '-' ? '' : ` → ${options.output}`}, ${result.notes.length} note${result.notes.length === 1 ? '' : 's'}`,
      );
    });
}

async function firstExisting(files: readonly string[]): Promise<string | undefined> {
  for (const file of files) if (await exists(file)) return file;
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
