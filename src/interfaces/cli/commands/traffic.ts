// traffic and faults: steering the gateway — version splits (canaries) and game-day faults.
import { InvalidArgumentError, type Command } from 'commander';
import type { FaultInjection, TrafficSplit } from '../../../domain/gateway/snapshot.ts';
import { contextOf } from '../context.ts';
import { CliExit, EXIT } from '../exit-codes.ts';
import { table } from '../output.ts';

function weight(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const match = /^([^=]+)=(\d+(?:\.\d+)?)%?$/.exec(value);
  if (!match) throw new InvalidArgumentError(`expected VERSION=PERCENT, e.g. 2.2.0=10, got \`${value}\``);
  return { ...previous, [match[1]!]: Number(match[2]) };
}

function percent(value: string): number {
  const n = Number(value.replace(/%$/, ''));
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError('expected a percentage, 0–100');
  return n;
}

function milliseconds(value: string): number {
  const match = /^(\d+)(ms|s)?$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected a delay such as 200ms or 2s');
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

function httpStatus(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 400 || n > 599)
    throw new InvalidArgumentError('expected a status, 400–599');
  return n;
}

export function registerTrafficCommands(program: Command): void {
  program
    .command('traffic')
    .description("Show or set a service's traffic split between versions (a canary)")
    .argument('<service>')
    .argument('[weights...]', 'VERSION=PERCENT pairs adding up to 100')
    .option('--clear', 'remove the split: every healthy instance alike')
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      '\nExamples:\n  baton traffic orders                      # the split in force\n  baton traffic orders 2.1.0=90 2.2.0=10    # 10% to the canary\n  baton traffic orders --clear',
    )
    .action(async (service: string, pairs: string[], options: { clear?: boolean }, command: Command) => {
      const { out, client } = contextOf(command);
      const path = `/v1/services/${encodeURIComponent(service)}/traffic`;
      if (options.clear) {
        await client.request('DELETE', path);
        out.line(`${service}: traffic spread over every healthy instance`);
        return;
      }
      let split: TrafficSplit | null;
      if (pairs.length > 0) {
        const weights = pairs.reduce<Record<string, number>>((acc, pair) => weight(pair, acc), {});
        split = (await client.request<{ split: TrafficSplit }>('PUT', path, { weights })).split;
      } else {
        split = (await client.get<{ split: TrafficSplit | null }>(path)).split;
      }
      if (out.json) return out.printJson({ service, split });
      if (!split) return out.line(`${service}: no split; traffic spread over every healthy instance`);
      table(
        out,
        ['VERSION', 'WEIGHT'],
        Object.entries(split.weights).map(([version, w]) => [version, `${w}%`]),
      );
      out.line(out.style('dim', `set by ${split.setBy} at ${split.since}`));
    });

  const faults = program
    .command('faults')
    .description('Fault injection at the gateway for game days: list, inject, clear')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (_options: unknown, command: Command) => {
      const { out, client } = contextOf(command);
      const { faults: active } = await client.get<{ faults: FaultInjection[] }>('/v1/faults');
      if (out.json) return out.printJson(active);
      if (active.length === 0) return out.line('no active fault injections');
      printFaults(out, active);
    });

  faults
    .command('inject')
    .description("Delay and/or abort a share of a service's requests at the gateway, until it expires")
    .argument('<service>')
    .option('--path <prefix>', 'only requests under this path (default: every route of the service)')
    .option('--delay <ms>', 'added latency, e.g. 300ms or 2s', milliseconds)
    .option('--delay-percent <percent>', 'share of requests delayed', percent, 100)
    .option('--abort <status>', 'answer this status instead of forwarding, e.g. 503', httpStatus)
    .option('--abort-percent <percent>', 'share of requests aborted', percent, 100)
    .option('--for <duration>', 'until it expires (at most 24h)', '10m')
    .addHelpText(
      'after',
      '\nExamples:\n  baton faults inject payments --delay 2s --delay-percent 20 --for 15m\n  baton faults inject orders --abort 503 --abort-percent 5',
    )
    .action(
      async (
        service: string,
        options: {
          path?: string;
          delay?: number;
          delayPercent: number;
          abort?: number;
          abortPercent: number;
          for: string;
        },
        command: Command,
      ) => {
        const { out, client } = contextOf(command);
        if (options.delay === undefined && options.abort === undefined) {
          out.error('baton: give --delay, --abort or both');
          throw new CliExit(EXIT.usage);
        }
        const fault = await client.post<FaultInjection>('/v1/faults', {
          service,
          ...(options.path ? { path: options.path } : {}),
          ...(options.delay !== undefined
            ? { delay: { ms: options.delay, percent: options.delayPercent } }
            : {}),
          ...(options.abort !== undefined
            ? { abort: { status: options.abort, percent: options.abortPercent } }
            : {}),
          duration: options.for,
        });
        if (out.json) return out.printJson(fault);
        out.line(
          `injected ${fault.id}; it expires at ${fault.expiresAt} (end it sooner: baton faults clear ${fault.id})`,
        );
      },
    );

  faults
    .command('clear')
    .description('End fault injections before they expire')
    .argument('[ids...]')
    .option('--all', 'every active injection')
    .action(async (ids: string[], options: { all?: boolean }, command: Command) => {
      const { out, client } = contextOf(command);
      const targets = options.all
        ? (await client.get<{ faults: FaultInjection[] }>('/v1/faults')).faults.map((f) => f.id)
        : ids;
      if (targets.length === 0) {
        out.error('baton: name the injections to clear, or --all');
        throw new CliExit(EXIT.usage);
      }
      for (const id of targets) await client.request('DELETE', `/v1/faults/${encodeURIComponent(id)}`);
      out.line(`cleared ${targets.length} fault injection${targets.length === 1 ? '' : 's'}`);
    });
}

export function printFaults(out: Parameters<typeof table>[0], faults: readonly FaultInjection[]): void {
  table(
    out,
    ['ID', 'SERVICE', 'PATH', 'DELAY', 'ABORT', 'EXPIRES'],
    faults.map((f) => [
      f.id,
      f.service,
      f.path ?? '*',
      f.delay ? `${f.delay.ms} ms × ${f.delay.percent}%` : '-',
      f.abort ? `${f.abort.status} × ${f.abort.percent}%` : '-',
      f.expiresAt,
    ]),
  );
}
