// The `baton` command line. Exit codes: 0 ok, 1 invalid input or refused plan, 2 usage,
// 3 server unreachable or internal error.
import { Command, CommanderError } from 'commander';
import { BATON_VERSION } from '../../server.ts';
import { registerBuildCommand } from './commands/build.ts';
import { registerConfigCommands } from './commands/config.ts';
import { registerGatewayCommand } from './commands/gateway.ts';
import { registerGraphCommand } from './commands/graph.ts';
import { registerIdentityCommands } from './commands/identity.ts';
import { registerImportCommand } from './commands/import.ts';
import { registerManifestCommands } from './commands/manifest.ts';
import { registerOperateCommands } from './commands/operate.ts';
import { registerRevisionCommands } from './commands/revisions.ts';
import { registerSecretsCommands } from './commands/secrets.ts';
import { registerServerCommands } from './commands/server.ts';
import { registerStatusCommand } from './commands/status.ts';
import { registerTracesCommands } from './commands/traces.ts';
import { registerTrafficCommands } from './commands/traffic.ts';
import { DEFAULT_SERVER } from './context.ts';
import { CliExit, EXIT } from './exit-codes.ts';

const program = new Command('baton')
  .description(
    'Baton: one manifest for the whole microservice architecture, revisions you can diff and roll back.',
  )
  .version(BATON_VERSION)
  .option(
    '--server <url>',
    `control plane URL, or several replicas' URLs comma-separated (env BATON_SERVER, default ${DEFAULT_SERVER})`,
  )
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) })
  .addHelpText(
    'after',
    `
Getting started:
  baton up -f examples/shop/baton.yaml      run the control plane and apply the example
  baton validate -f baton.yaml              check a manifest offline
  baton apply -f baton.yaml -m "why"        record a new revision
  baton history | baton diff 1 2            what changed
  baton rollback payments --dry-run         roll one service back, and who must follow

Environment: BATON_SERVER, BATON_TOKEN, BATON_STATE_DIR, NO_COLOR.`,
  );

// `baton history | head` closes the pipe early; that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

registerManifestCommands(program);
registerRevisionCommands(program);
registerGraphCommand(program);
registerStatusCommand(program);
registerOperateCommands(program);
registerTrafficCommands(program);
registerGatewayCommand(program);
registerTracesCommands(program);
registerServerCommands(program);
registerBuildCommand(program);
registerImportCommand(program);
registerIdentityCommands(program);
registerSecretsCommands(program);
registerConfigCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitCodeOf(error);
}

function exitCodeOf(error: unknown): number {
  if (error instanceof CliExit) return error.code;
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ||
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version'
      ? EXIT.ok
      : EXIT.usage;
  }
  console.error(`baton: internal error: ${(error as Error).message ?? String(error)}`);
  console.error('  hint: this is a bug in Baton; please report it with the command you ran');
  return EXIT.unavailable;
}
