// What every command needs: where the server is, how to authenticate, how to print.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_PORT, isLoopback } from '../../server.ts';
import { ApiClient, controlPlaneUrls } from './client.ts';
import { CliExit, EXIT } from './exit-codes.ts';
import { createOutput, type Output } from './output.ts';

export interface GlobalOptions {
  server?: string;
  output?: string;
}

export interface CommandContext {
  readonly out: Output;
  readonly client: ApiClient;
}

export const DEFAULT_SERVER = `http://127.0.0.1:${DEFAULT_PORT}`;

export function contextOf(command: Command): CommandContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  const out = createOutput({ json: options.output === 'json' });
  const server = options.server ?? process.env['BATON_SERVER'] ?? DEFAULT_SERVER;
  const urls = controlPlaneUrls(server);
  const bad = urls.find((url) => !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol));
  if (bad !== undefined || urls.length === 0) {
    out.error(
      `baton: --server / BATON_SERVER must be http(s) URLs (several replicas: comma-separated), got \`${bad ?? server}\``,
    );
    throw new CliExit(EXIT.usage);
  }
  // A local token goes to loopback servers only: every one of them must be.
  const token = urls.map(resolveToken).reduce((a, b) => (a === b ? a : undefined));
  return { out, client: new ApiClient({ server, token, out }) };
}

/**
 * BATON_TOKEN wins; otherwise the token a local server wrote to .baton/token — sent only to
 * a server on this machine, so a local token never travels to a remote host.
 */
export function resolveToken(server: string): string | undefined {
  const fromEnv = process.env['BATON_TOKEN'];
  if (fromEnv) return fromEnv;
  if (!isLoopback(new URL(server).hostname.replace(/^\[|\]$/g, ''))) return undefined;
  try {
    return (
      readFileSync(join(process.env['BATON_STATE_DIR'] ?? '.baton', 'token'), 'utf8').trim() || undefined
    );
  } catch {
    return undefined;
  }
}
