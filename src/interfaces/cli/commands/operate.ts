// scale, restart, logs: acting on running services.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { LogLine } from '../../../ports/runtime.ts';
import { contextOf } from '../context.ts';

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError('expected a number of instances (0, 1, 2, …)');
  return n;
}

export function registerOperateCommands(program: Command): void {
  program
    .command('scale')
    .description("Set a service's instance count (within the manifest's min..max)")
    .argument('<service>')
    .argument('<instances>', 'how many', count)
    .addHelpText('after', '\nExample:\n  baton scale orders 4')
    .action(async (service: string, instances: number, _options: unknown, command: Command) => {
      const { out, client } = contextOf(command);
      await client.post(`/v1/services/${encodeURIComponent(service)}/scale`, { instances });
      out.line(`${service}: scaling to ${instances} (follow with \`baton status -w\`)`);
    });

  program
    .command('restart')
    .description('Rolling restart of a service, honouring maxSurge and maxUnavailable')
    .argument('<service>')
    .action(async (service: string, _options: unknown, command: Command) => {
      const { out, client } = contextOf(command);
      await client.post(`/v1/services/${encodeURIComponent(service)}/restart`, {});
      out.line(`${service}: rolling restart started (follow with \`baton status -w\`)`);
    });

  program
    .command('logs')
    .description("A service's logs (stdout and stderr) from its live instances, the most recent last")
    .argument('<service>')
    .option('-f, --follow', 'keep streaming new lines')
    .option('--instance <id>', 'one instance only, live or gone')
    .option('--all', 'instances that are gone too (a crash loop leaves many)')
    .option('-n, --tail <lines>', 'how many recent lines first, across the instances', count, 100)
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  baton logs orders -n 20',
        '  baton logs orders -f --instance orders-1a2b3c4d',
        '  baton logs orders --all -n 50       # why did the last instances die?',
        '',
        'Lines of the process runtime carry no time: each instance file comes in the order it was last',
        'written, so the most recent output is last.',
      ].join('\n'),
    )
    .action(
      async (
        service: string,
        options: { follow?: boolean; instance?: string; all?: boolean; tail: number },
        command: Command,
      ) => {
        const { client } = contextOf(command);
        const query = new URLSearchParams({
          tail: String(options.tail),
          follow: String(options.follow ?? false),
        });
        if (options.instance) query.set('instance', options.instance);
        if (options.all) query.set('all', 'true');
        const abort = new AbortController();
        process.once('SIGINT', () => abort.abort());
        const response = await client.stream(
          `/v1/services/${encodeURIComponent(service)}/logs?${query}`,
          { accept: 'application/x-ndjson' },
          abort.signal,
        );
        const multi = !options.instance;
        let buffered = '';
        try {
          for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
            buffered += chunk;
            let newline: number;
            while ((newline = buffered.indexOf('\n')) >= 0) {
              const entry = JSON.parse(buffered.slice(0, newline)) as LogLine;
              buffered = buffered.slice(newline + 1);
              const stream = entry.stream === 'stderr' ? process.stderr : process.stdout;
              stream.write(multi ? `${entry.instance} | ${entry.line}\n` : `${entry.line}\n`);
            }
          }
        } catch (error) {
          if (!abort.signal.aborted) throw error;
        }
      },
    );
}
