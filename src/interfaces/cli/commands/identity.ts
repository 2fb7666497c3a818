// tokens, whoami, audit: who may act, who is acting, and who did what.
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { ROLES } from '../../../domain/identity/roles.ts';
import { contextOf } from '../context.ts';
import { relativeTime, table } from '../output.ts';

interface TokenJson {
  name: string;
  role: string;
  createdAt: string;
  createdBy: string;
  revokedAt?: string;
}

interface AuditEvent {
  seq: number;
  time: string;
  actor: string;
  message: string;
  data?: { action?: string; method?: string; path?: string; status?: number; source?: string };
}

function since(value: string): string {
  const relative = /^(\d+)(m|h|d)$/.exec(value);
  if (relative) {
    const ms =
      Number(relative[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 'm' | 'h' | 'd'];
    return new Date(Date.now() - ms).toISOString();
  }
  if (!Number.isNaN(Date.parse(value)) && /^\d{4}-\d{2}-\d{2}/.test(value))
    return new Date(value).toISOString();
  throw new InvalidArgumentError('expected a time (2026-12-01T10:00:00Z) or an age (30m, 6h, 7d)');
}

export function registerIdentityCommands(program: Command): void {
  const tokens = program
    .command('tokens')
    .description('Named API tokens with a role (viewer, operator, admin): create, list, revoke (admin only)')
    .addHelpText(
      'after',
      [
        '',
        'Roles: viewer reads everything and changes nothing; operator also scales, restarts, splits traffic',
        'and injects faults; admin also applies, rolls back and manages tokens.',
        '',
        'Examples:',
        '  baton tokens create ci-deploy --role admin     # prints the token once',
        '  baton tokens create ana --role operator',
        '  baton tokens list',
        '  baton tokens revoke ana',
      ].join('\n'),
    );

  tokens
    .command('create')
    .description('Create a token; it is printed once and Baton keeps only its digest')
    .argument('<name>', 'who or what will use it: shown in the audit trail')
    .addOption(new Option('--role <role>', 'what it may do').choices(ROLES).default('viewer'))
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (name: string, options: { role: string }, command: Command) => {
      const { out, client } = contextOf(command);
      const created = await client.post<TokenJson & { token: string }>('/v1/tokens', {
        name,
        role: options.role,
      });
      if (out.json) return out.printJson(created);
      out.line(created.token);
      out.error(
        out.style(
          'gray',
          `token ${created.name} (${created.role}) created: keep it now, it is not shown again`,
        ),
      );
    });

  tokens
    .command('list')
    .description('Every named token, revoked ones included')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (_options: unknown, command: Command) => {
      const { out, client } = contextOf(command);
      const { tokens: list } = await client.get<{ tokens: TokenJson[] }>('/v1/tokens');
      if (out.json) return out.printJson(list);
      table(
        out,
        ['NAME', 'ROLE', 'CREATED', 'BY', 'STATE'],
        list.map((t) => [
          t.name,
          t.role,
          relativeTime(t.createdAt),
          t.createdBy,
          t.revokedAt ? out.style('red', `revoked ${relativeTime(t.revokedAt)}`) : 'active',
        ]),
      );
    });

  tokens
    .command('revoke')
    .description('Revoke a token: it authenticates no one from now on')
    .argument('<name>')
    .action(async (name: string, _options: unknown, command: Command) => {
      const { out, client } = contextOf(command);
      await client.request('DELETE', `/v1/tokens/${encodeURIComponent(name)}`);
      out.line(`token ${name} revoked`);
    });

  program
    .command('whoami')
    .description('The identity and role the token this CLI sends stands for')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (_options: unknown, command: Command) => {
      const { out, client } = contextOf(command);
      const me = await client.get<{ name: string; kind: string; role: string | null }>('/v1/whoami');
      if (out.json) return out.printJson(me);
      out.line(me.role ? `${me.name} (${me.role})` : `${me.name} (${me.kind})`);
    });

  program
    .command('audit')
    .description('The audit trail, newest first: who changed what, from where, and how it ended')
    .option('--actor <name>', 'only this identity (a token name, service:NAME, gateway)')
    .option(
      '--action <operation>',
      'only this operation: apply, rollback, scale, restart, setTraffic, injectFault, createToken…',
    )
    .option('--since <time>', 'only since then: an ISO time, or an age such as 30m, 6h, 7d', since)
    .option('-n, --limit <count>', 'at most this many (1–1000)', (v) => Number(v), 50)
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      '\nExamples:\n  baton audit --since 1d\n  baton audit --actor ci-deploy --action apply -o json',
    )
    .action(
      async (
        options: { actor?: string; action?: string; since?: string; limit: number },
        command: Command,
      ) => {
        const { out, client } = contextOf(command);
        const query = new URLSearchParams({ limit: String(options.limit) });
        if (options.actor) query.set('actor', options.actor);
        if (options.action) query.set('action', options.action);
        if (options.since) query.set('since', options.since);
        const { events } = await client.get<{ events: AuditEvent[] }>(`/v1/audit?${query}`);
        if (out.json) return out.printJson(events);
        table(
          out,
          ['WHEN', 'WHO', 'FROM', 'ACTION', 'STATUS', 'REQUEST'],
          events.map((e) => [
            relativeTime(e.time),
            e.actor,
            e.data?.source ?? '',
            e.data?.action ?? '',
            (e.data?.status ?? 0) >= 400
              ? out.style('red', String(e.data?.status))
              : String(e.data?.status ?? ''),
            `${e.data?.method ?? ''} ${e.data?.path ?? ''}`,
          ]),
        );
      },
    );
}
