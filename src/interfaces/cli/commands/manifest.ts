// validate and apply: the manifest's way in.
import type { Command } from 'commander';
import { validateArchitecture } from '../../../domain/validate.ts';
import { author, contextOf } from '../context.ts';
import { CliExit, EXIT } from '../exit-codes.ts';
import { readManifestFile } from '../manifest-file.ts';
import { createOutput, printProblems } from '../output.ts';
import { printPlan, type PlanJson } from '../plan-view.ts';

export function registerManifestCommands(program: Command): void {
  program
    .command('validate')
    .description('Check a manifest offline: YAML syntax, schema, dependency graph (no server needed)')
    .requiredOption('-f, --file <path>', 'manifest file (- for stdin)')
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      '\nExamples:\n  baton validate -f baton.yaml\n  baton validate -f baton.yaml -o json | jq .problems',
    )
    .action(async (options: { file: string; output: string }) => {
      const out = createOutput({ json: options.output === 'json' });
      const text = await readManifestFile(options.file, out);
      const result = validateArchitecture(text, { file: options.file });
      if (out.json) {
        out.printJson(
          result.ok
            ? {
                ok: true,
                services: Object.keys(result.value.manifest.services).length,
                warnings: result.warnings,
              }
            : { ok: false, problems: result.problems },
        );
      } else if (result.ok) {
        printProblems(out, result.warnings);
        const count = Object.keys(result.value.manifest.services).length;
        out.line(
          `${out.style('green', '✓')} ${options.file}: ${count} services, ${result.value.graph.edges.length} dependencies, valid`,
        );
      } else {
        printProblems(out, result.problems);
        const errors = result.problems.filter((p) => p.severity === 'error').length;
        out.error(`${options.file}: ${errors} error${errors === 1 ? '' : 's'}`);
      }
      if (!result.ok) throw new CliExit(EXIT.invalid);
    });

  program
    .command('apply')
    .description('Record a manifest as a new revision of the architecture')
    .requiredOption('-f, --file <path>', 'manifest file (- for stdin)')
    .option('-m, --message <text>', 'why this change (kept in history)')
    .option('--dry-run', 'print the plan, record nothing')
    .option('--force', 'record even if a rollout step breaks a dependency range')
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      '\nExamples:\n  baton apply -f baton.yaml -m "payments 1.5.0"\n  baton apply -f baton.yaml --dry-run',
    )
    .action(
      async (
        options: { file: string; message?: string; dryRun?: boolean; force?: boolean },
        command: Command,
      ) => {
        const { out, client } = contextOf(command);
        const manifest = await readManifestFile(options.file, out);
        if (options.dryRun) {
          const plan = await client.post<PlanJson>('/v1/plan', { manifest, file: options.file });
          if (out.json) return out.printJson(plan);
          printPlan(out, plan);
          if (!plan.rollout.ok) throw new CliExit(EXIT.invalid);
          return;
        }
        const result = await client.post<{ applied: boolean; revision: { number: number }; plan: PlanJson }>(
          '/v1/apply',
          {
            manifest,
            file: options.file,
            message: options.message,
            author: author(),
            force: options.force ?? false,
          },
        );
        if (out.json) return out.printJson(result);
        printPlan(out, result.plan);
        if (result.applied)
          out.line(`\n${out.style('green', '✓')} recorded revision ${result.revision.number}`);
      },
    );
}
