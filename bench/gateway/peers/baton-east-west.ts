// Baton's data plane between services: one east-west listener (the port a consumer's
// HOTEL_URL names) → service `bench`, with the caller's range filtering its endpoints and the
// same policies as the `baton` target (round-robin, outlier detection, retry budget, breaker
// per caller and path, bulkhead, trace headers). The gateway's own traffic port is unused.
//
//   node bench/gateway/peers/baton-east-west.ts --port P --upstream-port U
import { pino } from 'pino';
import { startGateway, staticSource } from '../../../src/engines/gateway/gateway.ts';
import { benchSnapshot } from './baton-snapshot.ts';
import { peerArgs } from './peer-args.ts';

const args = peerArgs();
const snapshot = benchSnapshot(args.upstreamPort);
await startGateway({
  host: '127.0.0.1',
  port: 0,
  source: staticSource({
    ...snapshot,
    routes: [],
    eastWest: {
      mode: 'enforce',
      listeners: [{ port: args.port, caller: 'web', callee: 'bench', range: '^1.0.0' }],
    },
  }),
  logger: pino({ level: 'warn' }, pino.destination(2)),
  accessLog: false,
});
