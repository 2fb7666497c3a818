// Baton's gateway, one process, routing by a static snapshot (no control plane: the bench
// measures the data path only).
//
//   node bench/gateway/peers/baton.ts --port P --upstream-port U
import { pino } from 'pino';
import { startGateway, staticSource } from '../../../src/engines/gateway/gateway.ts';
import { benchSnapshot } from './baton-snapshot.ts';
import { peerArgs } from './peer-args.ts';

const args = peerArgs();
await startGateway({
  host: '127.0.0.1',
  port: args.port,
  source: staticSource(benchSnapshot(args.upstreamPort)),
  logger: pino({ level: 'warn' }, pino.destination(2)),
  // No peer here logs requests (nginx: access_log off); nor does Baton in this benchmark.
  accessLog: false,
});
