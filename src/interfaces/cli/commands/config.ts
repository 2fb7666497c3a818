// baton config: releases of config sets, apart from revisions (docs/config.md).
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { parse } from 'yaml';
import { contextOf } from '../context.ts';
import { CliExit, EXIT } from '../exit-codes.ts';
import { relativeTime, table } from '../output.ts';

interface Release {
  number: number;
  status: string;
  gray?: ({ share: number } | { version: string }) & { watch?: string; autoPromote?: boolean };
  author: string;
  message: string;
  createdAt: string;
  source: { kind: string; from?: number };
  content: unknown;
}

interface Outcome {
  release: Release;
  changes: { key: string; from?: unknown; to?: unknown }[];
  restarted: string[];
}

/** `KEY=VALUE`: numbers and booleans as such (quote them in a file to keep them strings). */
function assignment(text: string): { key: string; value: string | number | boolean | null } {
  const match = /^([^=]+)=(.*)$/s.exec(text);
  if (!match) throw new InvalidArgumentError('expected KEY=VALUE (KEY= removes the key)');
  const raw = match[2]!;
  if (raw === '') return { key: match[1]!, value: null };
  const value =
    raw === 'true' ? true : raw === 'false' ? false : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  return { key: match[1]!, value };
}

interface GrayOptions {
  gray?: string;
  grayVersion?: string;
  watch?: string;
  autoPromote?: boolean;
}

function gray(options: GrayOptions) {
  const watching = {
    ...(options.watch ? { watch: options.watch } : {}),
    ...(options.autoPromote ? { autoPromote: true } : {}),
  };
  if (options.grayVersion) return { version: options.grayVersion, ...watching };
  if (options.gray === undefined) {
    if (options.watch || options.autoPromote)
      throw new InvalidArgumentError('--watch and --auto-promote go with --gray or --gray-version');
    return undefined;
  }
  const share = Number(options.gray.replace(/%$/, ''));
  if (!Number.isInteger(share) || share < 1 || share > 99)
    throw new InvalidArgumentError('--gray is a share of instances from 1 to 99 (percent)');
  return { share, ...watching };
}

function printOutcome(out: ReturnType<typeof contextOf>['out'], outcome: Outcome): void {
  if (out.json) return out.printJson(outcome);
  const r = outcome.release;
  const grayText = r.gray
    ? ` gray to ${'share' in r.gray ? `${r.gray.share}% of instances` : `version ${r.gray.version}`}`
    : '';
  out.line(`✓ config release ${r.number}${grayText}: ${outcome.changes.length} change(s)`);
  for (const c of outcome.changes)
    out.line(`  ${c.key}: ${JSON.stringify(c.from) ?? '(none)'} → ${JSON.stringify(c.to) ?? '(removed)'}`);
  if (outcome.restarted.length > 0)
    out.line(`  restart: true keys changed: rolling restart of ${outcome.restarted.join(', ')}`);
  if (r.gray)
    out.line(
      `  watched for ${r.gray.watch ?? '5m'} against the services' gating SLOs (a breach rolls it back); ` +
        (r.gray.autoPromote
          ? 'promoted by itself if it stays healthy'
          : 'then `baton config promote` (or `baton config abort`)'),
    );
}

export function registerConfigCommands(program: Command): void {
  const config = program
    .command('config')
    .description('Config sets: layered, released and versioned apart from revisions, pushed to instances');

  config
    .command('set')
    .description('Release the current config with keys changed')
    .argument('<KEY=VALUE...>', 'keys to set; `KEY=` removes one', (v: string, acc: string[] = []) => [
      ...acc,
      v,
    ])
    .option('--service <name>', 'the service scope (default: global)')
    .option('--version <version>', 'with --service: only instances of this version')
    .option('-m, --message <text>', 'why', '')
    .addHelpText(
      'after',
      '\nExamples:\n  baton config set LOG_LEVEL=debug\n  baton config set --service orders TIMEOUT_MS=800 RETRIES=3\n  baton config set --service orders --version 2.1.0 NEW_CHECKOUT=true',
    )
    .action(
      async (
        assignments: string[],
        options: { service?: string; version?: string; message: string },
        command: Command,
      ) => {
        const { out, client } = contextOf(command);
        if (options.version && !options.service) {
          out.error('baton: --version needs --service');
          throw new CliExit(EXIT.usage);
        }
        const scope = options.service
          ? options.version
            ? `${options.service}@${options.version}`
            : options.service
          : 'global';
        const changes = assignments.map(assignment).map((a) => ({ scope, ...a }));
        printOutcome(
          out,
          await client.post<Outcome>('/v1/config/set', {
            changes,
            message: options.message,
          }),
        );
      },
    );

  config
    .command('apply')
    .description('Release a whole config set from a YAML or JSON file')
    .requiredOption('-f, --file <path>', 'the config set (global, services, versions, groups)')
    .option('-m, --message <text>', 'why', '')
    .option('--gray <percent>', 'release to this share of instances first')
    .option('--gray-version <version>', 'release to the instances of this version first')
    .option(
      '--watch <duration>',
      'with a gray release: how long its instances are held to the SLO gates (default 5m)',
    )
    .option('--auto-promote', 'with a gray release: promote it when it stays healthy for its watch')
    .action(async (options: { file: string; message: string } & GrayOptions, command: Command) => {
      const { out, client } = contextOf(command);
      let content: unknown;
      try {
        content = parse(await readFile(options.file, 'utf8')) ?? {};
      } catch (error) {
        out.error(`baton: cannot read ${options.file}: ${(error as Error).message}`);
        throw new CliExit(EXIT.invalid);
      }
      let selector: ReturnType<typeof gray>;
      try {
        selector = gray(options);
      } catch (error) {
        // Thrown in an action, commander would not print it (it prints its own parsing errors).
        out.error(`baton: ${(error as Error).message}`);
        throw new CliExit(EXIT.usage);
      }
      printOutcome(
        out,
        await client.post<Outcome>('/v1/config/releases', {
          content,
          message: options.message,
          ...(selector ? { gray: selector } : {}),
        }),
      );
    });

  config
    .command('history')
    .description('Config releases, newest first')
    .option('-n, --limit <n>', 'how many', '20')
    .action(async (options: { limit: string }, command: Command) => {
      const { out, client } = contextOf(command);
      const { releases } = await client.get<{ releases: Release[] }>(
        `/v1/config/releases?limit=${encodeURIComponent(options.limit)}`,
      );
      if (out.json) return out.printJson(releases);
      table(
        out,
        ['RELEASE', 'STATUS', 'WHEN', 'AUTHOR', 'MESSAGE'],
        releases.map((r) => [
          String(r.number),
          r.gray && r.status === 'gray'
            ? `gray (${'share' in r.gray ? `${r.gray.share}%` : r.gray.version})`
            : r.status,
          relativeTime(r.createdAt),
          r.author,
          r.message || (r.source.kind === 'rollback' ? `rollback to ${r.source.from}` : ''),
        ]),
      );
    });

  config
    .command('show')
    .description('A config release (default: the stable one), its content as YAML-friendly JSON')
    .argument('[release]')
    .action(async (release: string | undefined, _options: unknown, command: Command) => {
      const { out, client } = contextOf(command);
      const shown = release
        ? await client.get<Release>(`/v1/config/releases/${encodeURIComponent(release)}`)
        : (await client.get<{ stable?: Release }>('/v1/config')).stable;
      if (!shown) return out.line('no config released yet (`baton config set KEY=VALUE`)');
      out.printJson(out.json ? shown : shown.content);
    });

  config
    .command('diff')
    .description('What changed between two config releases')
    .argument('<from>')
    .argument('<to>')
    .action(async (from: string, to: string, _options: unknown, command: Command) => {
      const { out, client } = contextOf(command);
      const diff = await client.get<{ changes: Outcome['changes'] }>(
        `/v1/config/releases/${encodeURIComponent(from)}/diff/${encodeURIComponent(to)}`,
      );
      if (out.json) return out.printJson(diff);
      if (diff.changes.length === 0) return out.line('no changes');
      for (const c of diff.changes)
        out.line(`${c.key}: ${JSON.stringify(c.from) ?? '(none)'} → ${JSON.stringify(c.to) ?? '(removed)'}`);
    });

  config
    .command('rollback')
    .description('Release an earlier config release again, as a new release')
    .requiredOption('--to <release>', 'the release whose content comes back')
    .option('-m, --message <text>', 'why')
    .action(async (options: { to: string; message?: string }, command: Command) => {
      const { out, client } = contextOf(command);
      printOutcome(
        out,
        await client.post<Outcome>('/v1/config/rollback', {
          to: Number(options.to),
          message: options.message,
        }),
      );
    });

  for (const [name, description] of [
    ['promote', 'Give the gray config release to every instance'],
    ['abort', 'Roll the gray config release back: its instances return to the stable release'],
  ] as const) {
    config
      .command(name)
      .description(description)
      .action(async (_options: unknown, command: Command) => {
        const { out, client } = contextOf(command);
        const release = await client.post<Release>(`/v1/config/${name}`, {});
        if (out.json) return out.printJson(release);
        out.line(
          `config release ${release.number}: ${name === 'promote' ? 'promoted to every instance' : 'rolled back'}`,
        );
      });
  }

  config
    .command('instances')
    .description('Which config release each instance runs')
    .action(async (_options: unknown, command: Command) => {
      const { out, client } = contextOf(command);
      const { instances } = await client.get<{
        instances: { instance: string; service: string; version: string; release: number; gray?: boolean }[];
      }>('/v1/config/instances');
      if (out.json) return out.printJson(instances);
      table(
        out,
        ['INSTANCE', 'SERVICE', 'VERSION', 'CONFIG'],
        instances.map((i) => [i.instance, i.service, i.version, `${i.release}${i.gray ? ' (gray)' : ''}`]),
      );
    });
}
