// gateway: the data plane, in the foreground. It follows the control plane's snapshot stream
// and holds nothing of its own, so any number can run side by side.
import { spawn, type ChildProcess } from 'node:child_process';
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { adminBindProblem, isLoopbackHost } from '../../../engines/gateway/admin-server.ts';
import { startGatewayCluster } from '../../../engines/gateway/cluster.ts';
import { controlPlaneSource } from '../../../engines/gateway/control-plane-source.ts';
import { startGateway } from '../../../engines/gateway/gateway.ts';
import { otlpSpanExport } from '../../../engines/gateway/span-export.ts';
import { DEFAULT_SERVER, resolveToken } from '../context.ts';
import { controlPlaneUrls } from '../client.ts';
import { CliExit, EXIT } from '../exit-codes.ts';
import { createOutput } from '../output.ts';
import { parseListen } from '../listen-address.ts';

export const DEFAULT_GATEWAY_PORT = 7080;
export const DEFAULT_GATEWAY_ADMIN_PORT = 7081;

interface GatewayCommandOptions {
  listen: { host: string; port: number };
  admin: { host: string; port: number } | false;
  workers: number;
  logLevel: string;
  accessLog: boolean;
  traces: boolean;
  metricsTokenFile?: string;
  eastWest: string | false;
}

function workers(value: string): number {
  if (value === 'auto') return availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('expected 1–64 or `auto`');
  return n;
}

export function registerGatewayCommand(program: Command): void {
  program
    .command('gateway')
    .description(
      'Run a gateway in the foreground: the door through which outside traffic reaches the services',
    )
    .option('--listen <host:port>', 'traffic address', parseListen, {
      host: '127.0.0.1',
      port: DEFAULT_GATEWAY_PORT,
    })
    .option('--admin <host:port>', 'metrics and health address (never the traffic port)', parseListen, {
      host: '127.0.0.1',
      port: DEFAULT_GATEWAY_ADMIN_PORT,
    })
    .option('--no-admin', 'no admin listener')
    .option(
      '--metrics-token-file <path>',
      'bearer token /metrics requires (also BATON_METRICS_TOKEN); required when --admin is beyond loopback',
    )
    .option('--workers <n>', 'gateway processes sharing the port (`auto`: one per core)', workers, 1)
    .option(
      '--east-west <host>',
      "where the data plane's east-west listeners (one port per declared dependency) listen: the address instances reach this node at",
      '127.0.0.1',
    )
    .option('--no-east-west', 'no east-west listeners (another gateway on this node has them)')
    .option('--no-access-log', 'no line per request')
    .option('--no-traces', "do not export the gateway's own spans to the control plane")
    .option('--log-level <level>', 'trace, debug, info, warn, error', 'info')
    .addHelpText(
      'after',
      `
It follows the control plane at --server (or BATON_SERVER, default ${DEFAULT_SERVER}): routes,
traffic policies, healthy endpoints, splits and faults all arrive from there, live.

Examples:
  baton gateway                                   # http://127.0.0.1:${DEFAULT_GATEWAY_PORT}, metrics on :${DEFAULT_GATEWAY_ADMIN_PORT}/metrics
  baton gateway --listen 0.0.0.0:8080 --workers auto
  baton gateway --admin 0.0.0.0:7081 --metrics-token-file /etc/baton/metrics-token   # scrape with that bearer token
  BATON_SERVER=http://cp.internal:7070 BATON_TOKEN=… baton gateway`,
    )
    .action(async (options: GatewayCommandOptions, command: Command) => {
      const out = createOutput({ json: false });
      const globals = command.optsWithGlobals<{ server?: string }>();
      const server = globals.server ?? process.env['BATON_SERVER'] ?? DEFAULT_SERVER;
      const replicas = controlPlaneUrls(server);
      if (replicas.length === 0 || !replicas.every((url) => URL.canParse(url))) {
        out.error(
          `baton: --server / BATON_SERVER must be http(s) URLs (several replicas: comma-separated), got \`${server}\``,
        );
        throw new CliExit(EXIT.usage);
      }
      const metricsToken = readMetricsToken(options.metricsTokenFile);
      if (metricsToken === null) {
        out.error(
          `baton: the metrics token file ${options.metricsTokenFile} cannot be read or is empty\n  hint: put the token on one line in a file only this user can read`,
        );
        throw new CliExit(EXIT.usage);
      }
      const exposed = options.admin ? adminBindProblem(options.admin.host, metricsToken) : undefined;
      if (exposed !== undefined) {
        out.error(`baton: ${exposed}`);
        throw new CliExit(EXIT.usage);
      }
      const logger = pino({ level: options.logLevel }, pino.destination(2));
      const token = resolveToken(replicas[0]!);
      // The gateway's span of each request roots the traces that enter through it.
      const spans = options.traces
        ? otlpSpanExport({ urls: replicas, token, logger, instanceId: `gateway-${process.pid}` })
        : undefined;
      const common = {
        spans,
        host: options.listen.host,
        port: options.listen.port,
        source: controlPlaneSource({ url: server, token, logger }),
        logger,
        accessLog: options.accessLog ? undefined : (false as const),
        eastWestHost: options.eastWest,
        ...(options.admin ? { adminHost: options.admin.host, adminPort: options.admin.port } : {}),
        metricsToken,
      };
      let handle: { url: string; adminUrl?: string | undefined; close(): Promise<void> };
      try {
        handle =
          options.workers > 1
            ? await startGatewayCluster({ ...common, workers: options.workers })
            : await startGateway(common);
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        out.error(
          e.code === 'EADDRINUSE'
            ? `baton: ${options.listen.host}:${options.listen.port} (or the admin port) is already in use\n  hint: choose others with --listen / --admin`
            : `baton: cannot start the gateway: ${e.message}`,
        );
        throw new CliExit(EXIT.unavailable);
      }
      // In a cluster, the primary speaks for every worker.
      if (cluster.isPrimary) {
        const admin = handle.adminUrl ? ` (metrics: ${handle.adminUrl}/metrics)` : '';
        out.line(`Baton gateway listening on ${handle.url}${admin}, following ${server}`);
      }
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await handle.close();
      await spans?.close();
    });
}

/** The token /metrics requires: from the file, else BATON_METRICS_TOKEN; null when the file is unusable. */
function readMetricsToken(file: string | undefined): string | undefined | null {
  if (file === undefined) return process.env['BATON_METRICS_TOKEN'] || undefined;
  try {
    return readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

export interface GatewayChild {
  readonly url: string;
  readonly adminUrl: string | undefined;
  stop(): Promise<void>;
}

/** `baton up`'s gateway: the same command, as a child process, so traffic never shares the API's process. */
export async function spawnGateway(options: {
  readonly server: string;
  readonly token: string | undefined;
  readonly listen: { host: string; port: number };
  /** Where the runtime's instances reach the data plane: its east-west listeners listen there. */
  readonly eastWest?: string | undefined;
}): Promise<GatewayChild> {
  const bracket = (h: string) => (h.includes(':') ? `[${h}]` : h);
  const host = bracket(options.listen.host);
  // Metrics stay on this machine (no token to hand out): a gateway serving beyond loopback
  // keeps its admin port on 127.0.0.1. `baton gateway --admin … --metrics-token-file …`
  // exposes them further.
  const adminHost = isLoopbackHost(options.listen.host) ? host : '127.0.0.1';
  const child: ChildProcess = spawn(
    process.execPath,
    [
      process.argv[1]!,
      '--server',
      options.server,
      'gateway',
      '--listen',
      `${host}:${options.listen.port}`,
      '--admin',
      `${adminHost}:${options.listen.port === 0 ? 0 : options.listen.port + 1}`,
      '--log-level',
      'warn',
      ...(options.eastWest === undefined ? [] : ['--east-west', options.eastWest]),
    ],
    {
      // Its own token and no way to the state folder (where the admin token is).
      env: {
        ...withoutStateDir(process.env),
        ...(options.token ? { BATON_TOKEN: options.token } : {}),
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (\S+)(?: \(metrics: (\S+)\/metrics\))?/.exec(stdout);
      if (match) resolve(match[0]);
    });
    void exited.then(() =>
      reject(new Error(`the gateway exited before listening${stdout ? `: ${stdout}` : ''}`)),
    );
  });
  const [, url, adminUrl] = /listening on (\S+)(?: \(metrics: (\S+)\/metrics\))?/.exec(line)!;
  return {
    url: url!.replace(/,$/, ''),
    adminUrl,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function withoutStateDir(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { BATON_STATE_DIR: _stateDir, ...rest } = env;
  return rest;
}
