// validate and apply: the manifest's way in.
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Problem } from '../../../domain/problems.ts';
import { validateArchitecture } from '../../../domain/validate.ts';
import { contextOf } from '../context.ts';
import { CliExit, EXIT } from '../exit-codes.ts';
import { readManifestFile } from '../manifest-file.ts';
import { createOutput, printProblems } from '../output.ts';
import { followRollout } from '../follow-rollout.ts';
import { printPlan, type PlanJson } from '../plan-view.ts';

export function registerManifestCommands(program: Command): void {
  program
    .command('validate')
    .description(
      'Check a manifest: YAML syntax, schema, dependency graph (offline); with --server, also what its runtime cannot run',
    )
    .requiredOption('-f, --file <path>', 'manifest file (- for stdin)')
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  baton validate -f baton.yaml',
        '  baton validate -f baton.yaml -o json | jq .problems',
        '  baton --server http://127.0.0.1:7070 validate -f baton.yaml   # and ask the running server',
      ].join('\n'),
    )
    .action(async (options: { file: string; output: string }, command: Command) => {
      const out = createOutput({ json: options.output === 'json' });
      const text = await readManifestFile(options.file, out);
      const result = validateArchitecture(text, { file: options.file });
      // Only a server knows its runtime: asked when one is named, once the manifest is valid offline.
      const { server } = command.optsWithGlobals<{ server?: string }>();
      if (result.ok && (server ?? process.env['BATON_SERVER']) !== undefined) {
        const { client } = contextOf(command);
        const answer = await client.post<{ services: number; edges: number; warnings: Problem[] }>(
          '/v1/validate',
          {
            manifest: text,
            file: options.file,
            ...baseDirOf(options.file),
          },
        );
        if (out.json)
          return out.printJson({ ok: true, services: answer.services, warnings: answer.warnings });
        printProblems(out, answer.warnings);
        out.line(
          `${out.style('green', '✓')} ${options.file}: ${answer.services} services, ${answer.edges} dependencies, valid on ${client.server}`,
        );
        return;
      }
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
    .description('Record a manifest as a new revision, then follow the rollout until it converges or fails')
    .requiredOption('-f, --file <path>', 'manifest file (- for stdin)')
    .option('-m, --message <text>', 'why this change (kept in history)')
    .option('--dry-run', 'print the plan, record nothing')
    .option(
      '--force',
      'record even if a rollout step breaks a dependency range, or if every running service would be removed',
    )
    .option('--no-wait', 'return once the revision is recorded, without following the rollout')
    .option('--timeout <seconds>', 'how long to follow the rollout', Number, 900)
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  baton apply -f baton.yaml -m "payments 1.5.0"',
        '  baton apply -f baton.yaml --dry-run',
        '  baton apply -f baton.yaml --no-wait',
        '',
        'Exit codes: 0 recorded and converged; 1 invalid, refused, or the rollout failed (see history:',
        'a failed rollout with autoRollback is rolled back); 3 server unreachable.',
      ].join('\n'),
    )
    .action(async (options: ApplyOptions, command: Command) => {
      const { out, client } = contextOf(command);
      const manifest = await readManifestFile(options.file, out);
      if (options.dryRun) {
        const plan = await client.post<PlanJson>('/v1/plan', {
          manifest,
          file: options.file,
          ...baseDirOf(options.file),
        });
        if (out.json) return out.printJson(plan);
        printPlan(out, plan);
        if (!plan.rollout.ok) throw new CliExit(EXIT.invalid);
        return;
      }
      // Events after this point tell whether *this* apply converged or failed.
      const { last } = await client.get<{ last: number }>('/v1/events?limit=1');
      const result = await client.post<ApplyResult>('/v1/apply', {
        manifest,
        file: options.file,
        ...baseDirOf(options.file),
        message: options.message,
        force: options.force ?? false,
      });
      if (out.json && !options.wait) return out.printJson(result);
      if (!out.json) printPlan(out, result.plan);
      if (result.applied && !out.json)
        out.line(`\n${out.style('green', '✓')} recorded revision ${result.revision.number}`);
      if (!options.wait) return;
      await followRollout(client, out, result.revision.number, {
        afterSeq: result.applied ? last : 0,
        timeoutMs: options.timeout * 1000,
      });
      if (out.json) out.printJson(result);
    });
}

/** The manifest's folder, against which the server resolves relative paths; none for stdin. */
function baseDirOf(file: string): { baseDir?: string } {
  return file === '-' ? {} : { baseDir: dirname(resolve(file)) };
}

interface ApplyOptions {
  file: string;
  message?: string;
  dryRun?: boolean;
  force?: boolean;
  wait: boolean;
  timeout: number;
}

interface ApplyResult {
  applied: boolean;
  revision: { number: number };
  plan: PlanJson;
}
