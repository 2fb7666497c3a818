// The command line every Node peer shares: where to listen, where the upstream is, and how
// many processes to run (node:cluster) for the multi-core variants.
import { parseArgs } from 'node:util';

export interface PeerArgs {
  readonly port: number;
  readonly upstreamPort: number;
  readonly workers: number;
}

function positiveInteger(name: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return value;
}

/** `--port 18001 --upstream-port 18000 [--workers 2]`. */
export function peerArgs(argv: readonly string[] = process.argv.slice(2)): PeerArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      'upstream-port': { type: 'string' },
      workers: { type: 'string', default: '1' },
    },
  });
  return {
    port: positiveInteger('port', values.port),
    upstreamPort: positiveInteger('upstream-port', values['upstream-port']),
    workers: positiveInteger('workers', values.workers),
  };
}
