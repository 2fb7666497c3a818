// history, show, diff, rollback: the VersionSet of the whole architecture.
import { createInterface } from 'node:readline/promises';
import { InvalidArgumentError, type Command } from 'commander';
import type { ManifestDiff } from '../../../domain/revisions/diff.ts';
import type { Revision, RevisionSource, RevisionSummary } from '../../../domain/revisions/revision.ts';
import type { RevisionOutcome } from '../../../domain/revisions/revision-outcome.ts';
import { contextOf } from '../context.ts';
import { CliExit, EXIT } from '../exit-codes.ts';
import { relativeTime, table, type Output } from '../output.ts';
import { followRollout } from '../follow-rollout.ts';
import { printPlan, type PlanJson } from '../plan-view.ts';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a revision number (1, 2, …)');
  return n;
}

export function registerRevisionCommands(program: Command): void {
  program
    .command('history')
    .description('List revisions of the architecture, newest first')
    .option('-n, --limit <count>', 'how many', positiveInt, 20)
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (options: { limit: number }, command: Command) => {
      const { out, client } = contextOf(command);
      const { revisions } = await client.get<{
        revisions: (RevisionSummary & { outcome: RevisionOutcome })[];
      }>(`/v1/revisions?limit=${options.limit}`);
      if (out.json) return out.printJson(revisions);
      if (revisions.length === 0)
        return out.line('No revisions yet. Record one with `baton apply -f baton.yaml`.');
      table(
        out,
        ['REV', 'WHEN', 'AUTHOR', 'SOURCE', 'OUTCOME', 'SERVICES', 'MESSAGE'],
        revisions.map((r) => [
          String(r.number),
          relativeTime(r.createdAt),
          r.author,
          describeSource(r.source),
          outcome(out, r.outcome),
          String(r.services),
          r.message,
        ]),
      );
    });

  program
    .command('show')
    .description('Show one revision and its manifest')
    .argument('<revision>', 'revision number', positiveInt)
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (number: number, _options: unknown, command: Command) => {
      const { out, client } = contextOf(command);
      const r = await client.get<Revision>(`/v1/revisions/${number}`);
      if (out.json) return out.printJson(r);
      out.line(`${out.style('bold', `revision ${r.number}`)}  ${r.hash}`);
      out.line(`parent:  ${r.parent ?? '—'}`);
      out.line(`author:  ${r.author}`);
      out.line(`date:    ${r.createdAt}`);
      out.line(`source:  ${describeSource(r.source)}`);
      out.line(`message: ${r.message}`);
      out.line();
      out.line(r.manifestText.trimEnd());
    });

  program
    .command('diff')
    .description('What changed between two revisions, per service')
    .argument('<from>', 'older revision', positiveInt)
    .argument('<to>', 'newer revision', positiveInt)
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (from: number, to: number, _options: unknown, command: Command) => {
      const { out, client } = contextOf(command);
      const diff = await client.get<ManifestDiff>(`/v1/revisions/${from}/diff/${to}`);
      if (out.json) return out.printJson(diff);
      printDiff(out, diff, from, to);
    });

  program
    .command('rollback')
    .description('Roll back the whole architecture (--to N) or one service and whatever must move with it')
    .argument('[service]', 'service to roll back to its previous version')
    .option('--to <revision>', 'roll the whole architecture back to this revision', positiveInt)
    .option('--to-version <version>', 'with SERVICE: the version to return to')
    .option('--dry-run', 'print the plan, change nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--force', 'record even if a rollout step breaks a dependency range')
    .option('-m, --message <text>', 'why (kept in history)')
    .option('--no-wait', 'return once the revision is recorded, without following the rollout')
    .option('--timeout <seconds>', 'how long to follow the rollout', Number, 900)
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  baton rollback --to 3              whole architecture back to revision 3',
        '  baton rollback payments --dry-run  payments to its previous version, and who must follow',
        '  baton rollback payments --yes --no-wait',
        '',
        'Like apply, it follows the rollout: exit 0 once converged, 1 if it failed.',
      ].join('\n'),
    )
    .action(
      async (
        service: string | undefined,
        options: {
          to?: number;
          toVersion?: string;
          dryRun?: boolean;
          yes?: boolean;
          force?: boolean;
          message?: string;
          wait: boolean;
          timeout: number;
        },
        command: Command,
      ) => {
        const { out, client } = contextOf(command);
        if ((service === undefined) === (options.to === undefined)) {
          out.error('baton rollback: give either a SERVICE or --to REVISION (see `baton rollback --help`)');
          throw new CliExit(EXIT.usage);
        }
        const request =
          service !== undefined ? { service, toVersion: options.toVersion } : { to: options.to };
        const plan = await client.post<PlanJson>('/v1/rollback/plan', request);
        if (options.dryRun) {
          if (out.json) return out.printJson(plan);
          printPlan(out, plan);
          return;
        }
        if (!out.json) printPlan(out, plan);
        if (plan.unchanged) return;
        if (!options.yes) {
          if (!process.stdin.isTTY) {
            out.error('baton rollback: refusing to act without confirmation; pass --yes in scripts');
            throw new CliExit(EXIT.usage);
          }
          if (!(await confirm('Record this rollback as a new revision?')))
            throw new CliExit(EXIT.invalid, 'cancelled');
        }
        // Events after this point tell whether *this* rollback converged or failed.
        const { last } = await client.get<{ last: number }>('/v1/events?limit=1');
        const result = await client.post<{ applied: boolean; revision: { number: number } }>('/v1/rollback', {
          ...request,
          message: options.message,
          force: options.force ?? false,
        });
        if (out.json && !options.wait) return out.printJson(result);
        if (!out.json) out.line(`\n${out.style('green', '✓')} recorded revision ${result.revision.number}`);
        if (!options.wait) return;
        await followRollout(client, out, result.revision.number, {
          afterSeq: result.applied ? last : 0,
          timeoutMs: options.timeout * 1000,
        });
        if (out.json) out.printJson(result);
      },
    );
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

function outcome(out: Output, value: RevisionOutcome): string {
  const color = (
    {
      converged: 'green',
      failed: 'red',
      'rolled-back': 'red',
      'in-progress': 'yellow',
      superseded: 'gray',
    } as const
  )[value];
  return out.style(color, value);
}

export function describeSource(source: RevisionSource): string {
  switch (source.kind) {
    case 'apply':
      return 'apply';
    case 'rollback':
      return `rollback to ${source.toRevision}`;
    case 'rollback-service':
      return `rollback ${source.service}`;
  }
}

function printDiff(out: Output, diff: ManifestDiff, from: number, to: number): void {
  out.line(out.style('bold', `revision ${from} → ${to}`));
  for (const change of diff.top) out.line(`  ${change.path}: ${show(change.before)} → ${show(change.after)}`);
  if (diff.services.length === 0) out.line('  no service changed');
  for (const s of diff.services) {
    const mark = {
      added: out.style('green', '+'),
      removed: out.style('red', '-'),
      changed: out.style('yellow', '~'),
    }[s.change];
    const version = s.version
      ? ` ${s.version.from ?? ''}${s.version.from && s.version.to ? ' → ' : ''}${s.version.to ?? ''}${s.version.bump !== 'none' ? ` (${s.version.bump})` : ''}`
      : '';
    out.line(`${mark} ${out.style('bold', s.service)}${version}`);
    if (s.change !== 'changed') continue;
    for (const f of s.fields) {
      if (f.path === 'version') continue;
      out.line(`    ${f.path}: ${show(f.before)} → ${show(f.after)}`);
    }
  }
  out.line(out.style('gray', `${diff.unchanged} service${diff.unchanged === 1 ? '' : 's'} unchanged`));
}

function show(value: unknown): string {
  return value === undefined ? '∅' : typeof value === 'string' ? value : JSON.stringify(value);
}
