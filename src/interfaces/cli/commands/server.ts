// server and up: run the control plane in the foreground.
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { pino } from 'pino';
import { BatonError } from '../../../domain/errors.ts';
import { validateArchitecture } from '../../../domain/validate.ts';
import {
  DEFAULT_PORT,
  RUNTIME_KINDS,
  startControlPlane,
  type ControlPlane,
  type RuntimeKind,
} from '../../../server.ts';
import { BOOTSTRAP_ADMIN } from '../../../engines/identity/identities.ts';
import { AUDIT_KIND } from '../../http/audit.ts';
import { CliExit, EXIT } from '../exit-codes.ts';
import { readManifestFile } from '../manifest-file.ts';
import { parseListen } from '../listen-address.ts';
import { createOutput, printProblems, type Output } from '../output.ts';
import { ApiClient } from '../client.ts';
import { followRollout } from '../follow-rollout.ts';
import { printPlan } from '../plan-view.ts';
import { DEFAULT_GATEWAY_PORT, spawnGateway, type GatewayChild } from './gateway.ts';
import { buildImages, engineBuilder } from './build.ts';
import { fetchStatus, printStatus } from './status.ts';

interface ServeOptions {
  listen: { host: string; port: number };
  store?: string;
  traceStore?: string;
  stateDir: string;
  insecureNoAuth?: boolean;
  allowedHost: string[];
  logLevel: string;
  runtime: RuntimeKind;
  forwardTraces?: string;
  eastWestPorts?: { from: number; to: number };
  secretsKeyCommand?: string;
}

function parsePortRange(value: string): { from: number; to: number } {
  const match = /^(\d+)-(\d+)$/.exec(value);
  const from = Number(match?.[1]);
  const to = Number(match?.[2]);
  if (!match || from < 1024 || to > 65535 || from > to) {
    throw new InvalidArgumentError('expected FROM-TO, two ports from 1024 to 65535, e.g. 20000-23999');
  }
  return { from, to };
}

function serveOptions(command: Command): Command {
  return command
    .option('--listen <host:port>', 'address of the API', parseListen, {
      host: '127.0.0.1',
      port: DEFAULT_PORT,
    })
    .option('--store <path|url>', 'SQLite file or postgres:// URL (default: <state-dir>/state.db)')
    .option(
      '--trace-store <path|url>',
      "where spans go instead: a postgres:// URL (a database of their own, so that a flood of spans never slows the store and the leader's lease) or a SQLite file (default: the --store database, else <state-dir>/traces.db)",
    )
    .option(
      '--state-dir <dir>',
      'local state: database, API token',
      process.env['BATON_STATE_DIR'] ?? '.baton',
    )
    .option(
      '--allowed-host <name>',
      'a host name the API answers for, besides IP addresses and localhost (repeatable; guards against DNS rebinding)',
      (name: string, names: string[]) => [...names, name.toLowerCase()],
      [] as string[],
    )
    .option(
      '--insecure-no-auth',
      'serve without tokens: every caller is an anonymous admin. Loopback only; for a throwaway machine, never a shared one',
    )
    .option('--log-level <level>', 'trace, debug, info, warn, error', 'info')
    .option(
      '--forward-traces <url>',
      'also send every OTLP trace request to this OTLP/HTTP endpoint (Jaeger, Tempo, a collector)',
    )
    .option(
      '--east-west-ports <from-to>',
      "ports the data plane's east-west listeners get, one per declared dependency, kept for good (default 20000-23999, or BATON_EAST_WEST_PORTS)",
      parsePortRange,
      process.env['BATON_EAST_WEST_PORTS'] ? parsePortRange(process.env['BATON_EAST_WEST_PORTS']) : undefined,
    )
    .option(
      '--secrets-key-command <command>',
      'a command printing the key that seals secrets (a KMS, a vault); default BATON_SECRETS_KEY, else <state-dir>/secrets.key (created 0600)',
      process.env['BATON_SECRETS_KEY_COMMAND'],
    )
    .addOption(
      new Option(
        '--runtime <kind>',
        'where instances run: local processes, containers of the Docker Engine (DOCKER_HOST), or the nodes of a Docker Swarm (DOCKER_HOST: a manager; scripts/local-swarm.sh makes one); `simulated` is for tests and benchmarks only',
      )
        .choices(RUNTIME_KINDS)
        .default('process'),
    );
}

export function registerServerCommands(program: Command): void {
  serveOptions(
    program
      .command('server')
      .description('Run the control plane API in the foreground')
      .addHelpText(
        'after',
        '\nExamples:\n  baton server\n  baton server --listen 0.0.0.0:7070 --allowed-host cp.internal   # remote access: clients need a token (.baton/token, or baton tokens create)\n  baton server --store postgres://baton@db/baton',
      ),
  ).action(async (options: ServeOptions) => {
    const out = createOutput({ json: false });
    const plane = await start(options, out);
    out.line(`Baton control plane listening on ${plane.url} (Ctrl-C to stop)`);
    // Instances of a container runtime reach the data plane on their network's gateway, not loopback.
    if (plane.dataPlaneHost !== undefined && plane.dataPlaneHost !== '127.0.0.1')
      out.line(`Data plane: run \`baton gateway --east-west ${plane.dataPlaneHost}\` beside it`);
    announceToken(out, options, plane.token !== undefined);
    const lost = await Promise.race([untilSignal().then(() => undefined), plane.leadershipLost]);
    await plane.close();
    if (lost !== undefined) exitLost(out, lost);
  });

  serveOptions(
    program
      .command('up')
      .description('Run the control plane and apply a manifest, in the foreground; Ctrl-C stops everything')
      .requiredOption('-f, --file <path>', 'manifest file')
      .option('-m, --message <text>', 'message for the revision', 'baton up')
      .option(
        '--gateway <host:port>',
        'where the gateway listens (its metrics: the next port)',
        parseListen,
        {
          host: '127.0.0.1',
          port: DEFAULT_GATEWAY_PORT,
        },
      )
      .option('--no-gateway', 'run no gateway')
      .addHelpText(
        'after',
        '\nExamples:\n  baton up -f examples/shop/baton.yaml\n  npm start   # the same, on the example shop\n  baton up -f examples/shop/baton.yaml --runtime docker   # in containers: builds the images first',
      ),
  ).action(
    async (
      options: ServeOptions & {
        file: string;
        message: string;
        logLevel: string;
        gateway: { host: string; port: number } | false;
      },
    ) => {
      const out = createOutput({ json: false });
      const text = await readManifestFile(options.file, out);
      // A manifest that cannot be applied is reported before anything starts.
      const validation = validateArchitecture(text, { file: options.file });
      if (!validation.ok) {
        printProblems(out, validation.problems);
        const errors = validation.problems.filter((p) => p.severity === 'error').length;
        out.error(
          `baton up: ${errors} problem${errors === 1 ? '' : 's'} in ${options.file}; nothing was started`,
        );
        throw new CliExit(EXIT.invalid);
      }
      const baseDir = dirname(resolve(options.file));
      // Built here, on the terminal, rather than by the runtime at the first start (which it
      // also does, but only into the server's log).
      if (options.runtime === 'docker' && validation.ok)
        await buildImages(out, await engineBuilder(out), validation.value.manifest, baseDir);
      const plane = await start(
        { ...options, logLevel: options.logLevel === 'info' ? 'warn' : options.logLevel },
        out,
        // Without a gateway there is no data plane: instances get no addresses to call through it.
        { stopInstancesOnClose: true, baseDir, ...(options.gateway ? {} : { eastWest: false as const }) },
      );
      const signalled = untilSignal();
      const stopped = Promise.race([signalled, plane.leadershipLost.then((lost) => exitLost(out, lost))]);
      // Awaited below; marked handled now, since a loss may come before the first await reaches it.
      stopped.catch(() => {});
      let gateway: GatewayChild | undefined;
      const stopAll = async () => {
        await gateway?.stop();
        await plane.close();
      };
      try {
        if (options.gateway) {
          gateway = await spawnGateway({
            server: plane.url,
            // The gateway faces the world: it holds a gateway token (snapshots, spans), never the admin's.
            token: plane.gatewayToken,
            listen: options.gateway,
            eastWest: plane.dataPlaneHost,
          }).catch((error: Error) => {
            throw new BatonError('bad-request', error.message, {
              hint: `is ${options.gateway && `${options.gateway.host}:${options.gateway.port}`} in use? Choose another with --gateway HOST:PORT, or --no-gateway`,
            });
          });
        }
        const afterSeq = await plane.store.lastEventSeq();
        // In process, not through the API: the audit trail hears of it as of an API call.
        const audited = (status: number) =>
          plane.store.appendEvents([
            {
              kind: AUDIT_KIND,
              actor: BOOTSTRAP_ADMIN,
              message: `apply: baton up -f ${options.file} → ${status}`,
              data: { action: 'apply', method: 'CLI', path: 'baton up', status, source: 'local' },
              time: new Date().toISOString(),
            },
          ]);
        const outcome = await plane.engine
          .apply({ text, file: options.file, baseDir }, { author: BOOTSTRAP_ADMIN, message: options.message })
          .catch(async (error: unknown) => {
            await audited(error instanceof BatonError ? 422 : 500);
            throw error;
          });
        await audited(201);
        printPlan(out, outcome.plan);
        out.line(`API: ${plane.url}`);
        if (gateway) out.line(`Gateway: ${gateway.url}`);
        announceToken(out, options, plane.token !== undefined);
        const client = new ApiClient({ server: plane.url, token: plane.token, out });
        // Ctrl-C while following stops the following first, then everything, quietly.
        const interrupted = new AbortController();
        void stopped.then(() => interrupted.abort());
        await followRollout(client, out, outcome.revision.number, {
          afterSeq,
          timeoutMs: 15 * 60_000,
          signal: interrupted.signal,
        });
        if (interrupted.signal.aborted) {
          out.line('stopping every instance…');
          await stopAll();
          return;
        }
        out.line();
        printStatus(out, await fetchStatus(client));
        // The token rides in the fragment, which the browser never sends: the console takes it
        // from there and wipes it from the address bar (see web/src/main.tsx).
        out.line(
          `\nDashboard: ${plane.url}/${options.insecureNoAuth || plane.token === undefined ? '' : `#token=${encodeURIComponent(plane.token)}`}`,
        );
        out.line(`API: ${plane.url}   (try: npx baton status -w, npx baton logs web -f, npx baton graph)`);
        if (gateway) out.line(`Gateway: ${gateway.url}   (try: curl ${gateway.url}/)`);
        out.line(out.style('gray', 'Ctrl-C stops Baton and every instance it started.'));
        await stopped;
      } catch (error) {
        out.line('stopping…');
        await stopAll();
        if (!(error instanceof BatonError)) throw error;
        printProblems(out, error.problems);
        out.error(`baton up: ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ''}`);
        throw new CliExit(EXIT.invalid);
      }
      out.line('stopping every instance…');
      await stopAll();
    },
  );
}

async function start(
  options: ServeOptions,
  out: Output,
  extra: { stopInstancesOnClose: boolean; baseDir?: string; eastWest?: false } = {
    stopInstancesOnClose: false,
  },
): Promise<ControlPlane> {
  try {
    return await startControlPlane({
      ...extra,
      host: options.listen.host,
      port: options.listen.port,
      stateDir: options.stateDir,
      store: options.store,
      traceStore: options.traceStore,
      insecureNoAuth: options.insecureNoAuth,
      allowedHosts: options.allowedHost,
      runtime: options.runtime,
      dockerHost: process.env['DOCKER_HOST'],
      forwardTracesTo: options.forwardTraces,
      eastWest: extra.eastWest === false ? false : { ports: options.eastWestPorts },
      secretsKey: { value: process.env['BATON_SECRETS_KEY'], command: options.secretsKeyCommand },
      logger: pino({ level: options.logLevel }, pino.destination(2)),
    });
  } catch (error) {
    if (error instanceof BatonError) {
      out.error(`baton: ${error.message}`);
      if (error.hint) out.error(`  hint: ${error.hint}`);
      throw new CliExit(error.code === 'state-locked' ? EXIT.unavailable : EXIT.invalid);
    }
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      out.error(`baton: ${options.listen.host}:${options.listen.port} is already in use`);
      out.error('  hint: is another Baton running? Stop it, or choose another address with --listen');
      throw new CliExit(EXIT.unavailable);
    }
    out.error(`baton: cannot start the control plane: ${e.message}`);
    throw new CliExit(EXIT.unavailable);
  }
}

function announceToken(out: Output, options: ServeOptions, held: boolean): void {
  if (options.insecureNoAuth) {
    out.error(
      out.style(
        'red',
        'WARNING: --insecure-no-auth: no token is asked; any program on this machine acts as admin here (pages of other sites are still refused).',
      ),
    );
    return;
  }
  if (!held)
    return out.line(
      out.style(
        'gray',
        `Admin token: held by the replica that made it (not in ${options.stateDir}); use a named token (baton tokens create), or copy its token file here.`,
      ),
    );
  out.line(
    out.style(
      'gray',
      `Admin token: ${options.stateDir}/token (the CLI reads it there; other clients: Authorization: Bearer $(cat ${options.stateDir}/token)).`,
    ),
  );
}

/** Another control plane took this one's state over: it stopped reconciling and must not go on as if it led. */
function exitLost(out: Output, reason: unknown): never {
  out.error(`baton: leadership lost: ${reason instanceof Error ? reason.message : String(reason)}`);
  if (reason instanceof BatonError && reason.hint) out.error(`  hint: ${reason.hint}`);
  throw new CliExit(EXIT.unavailable);
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
