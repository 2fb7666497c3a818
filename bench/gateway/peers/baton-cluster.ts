// Baton's gateway on every core: `startGatewayCluster` runs `workers` gateway processes on one
// port, each routing by the same static snapshot.
//
//   node bench/gateway/peers/baton-cluster.ts --port P --upstream-port U [--workers 2]
import { pino } from 'pino';
import { startGatewayCluster } from '../../../src/engines/gateway/cluster.ts';
import { staticSource } from '../../../src/engines/gateway/gateway.ts';
import { benchSnapshot } from './baton-snapshot.ts';
import { peerArgs } from './peer-args.ts';

const args = peerArgs(process.argv.slice(2));
await startGatewayCluster({
  workers: args.workers,
  host: '127.0.0.1',
  port: args.port,
  source: staticSource(benchSnapshot(args.upstreamPort)),
  logger: pino({ level: 'warn' }, pino.destination(2)),
  // No peer here logs requests (nginx: access_log off); nor does Baton in this benchmark.
  accessLog: false,
});
