// baton secrets set|list|delete. A value is read from stdin or a file, never from the
// command line, where it would stay in the shell's history and in `ps` for everyone.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { contextOf } from '../context.ts';
import { CliExit, EXIT } from '../exit-codes.ts';
import { relativeTime, table } from '../output.ts';

interface SecretSummary {
  name: string;
  fingerprint: string;
  updatedAt: string;
  updatedBy: string;
  usedBy: string[];
}

interface SecretChange {
  secret: SecretSummary;
  changed: boolean;
  created: boolean;
  restarted: string[];
  pushed?: string[];
}

export function registerSecretsCommands(program: Command): void {
  const secrets = program
    .command('secrets')
    .description('Secrets: encrypted at rest, write-only, given to instances as `${secret:NAME}` in env');

  secrets
    .command('set')
    .description('Create or rotate a secret, the value from stdin or a file; services using it restart')
    .argument('<name>')
    .option('--from-file <path>', 'read the value from this file (kept byte for byte)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  baton secrets set DB_PASSWORD < password.txt',
        '  printf %s "$TOKEN" | baton secrets set GITHUB_TOKEN',
        '  baton secrets set TLS_KEY --from-file key.pem',
        '',
        'From stdin, one trailing newline is dropped (`echo` adds it). Reference it in baton.yaml:',
        '  env: { DB_PASSWORD: "${secret:DB_PASSWORD}" }',
      ].join('\n'),
    )
    .action(async (name: string, options: { fromFile?: string }, command: Command) => {
      const { out, client } = contextOf(command);
      const value =
        options.fromFile !== undefined ? await readFile(options.fromFile, 'utf8') : await readStdin(out);
      const change = await client.request<SecretChange>('PUT', `/v1/secrets/${encodeURIComponent(name)}`, {
        value,
      });
      if (out.json) return out.printJson(change);
      const what = change.created ? 'created' : change.changed ? 'rotated' : 'unchanged (same value)';
      out.line(`${name}: ${what} (${change.secret.fingerprint})`);
      if (change.pushed && change.pushed.length > 0)
        out.line(`  pushed to ${change.pushed.join(', ')} (their config files; no restart)`);
      if (change.restarted.length > 0)
        out.line(`  rolling restart of ${change.restarted.join(', ')} (follow with \`baton status -w\`)`);
      else if (change.secret.usedBy.length === 0)
        out.line(`  no service uses it yet: write \`\${secret:${name}}\` in an env`);
    });

  secrets
    .command('list')
    .description('Secrets with their fingerprint, last change and the services using them (never values)')
    .action(async (_options: unknown, command: Command) => {
      const { out, client } = contextOf(command);
      const { secrets: list } = await client.get<{ secrets: SecretSummary[] }>('/v1/secrets');
      if (out.json) return out.printJson(list);
      if (list.length === 0) return out.line('no secrets (set one with `baton secrets set NAME < file`)');
      table(
        out,
        ['NAME', 'FINGERPRINT', 'CHANGED', 'BY', 'USED BY'],
        list.map((s) => [
          s.name,
          s.fingerprint,
          relativeTime(s.updatedAt),
          s.updatedBy,
          s.usedBy.join(', ') || '-',
        ]),
      );
    });

  secrets
    .command('delete')
    .description('Delete a secret that no service of the current revision uses')
    .argument('<name>')
    .action(async (name: string, _options: unknown, command: Command) => {
      const { out, client } = contextOf(command);
      await client.request('DELETE', `/v1/secrets/${encodeURIComponent(name)}`, undefined);
      out.line(`${name}: deleted`);
    });
}

async function readStdin(out: { error(text: string): void }): Promise<string> {
  if (process.stdin.isTTY) {
    out.error('type the value, then Ctrl-D on a new line (the terminal shows it: prefer `< file`)');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (text === '') {
    out.error('baton: no value on stdin');
    out.error('  hint: `baton secrets set NAME < file`, or --from-file');
    throw new CliExit(EXIT.usage);
  }
  return text;
}
