// `npm run bench`: every benchmark, one after another. Each prints its own table.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const benches = [
  ['manifest-scale.ts', '2000', '5'],
  // Real processes (installs PM2 into bench/.peers on first run): ≈ 2 min and ≈ 20 s.
  ['apply-50.ts', '50', '5'],
  ['failover.ts', '10'],
  // Simulated runtime and fake clock, 100 and 10,000 services × 10 instances: ≈ 4 min.
  ['controller-scale.ts', '100,10000', '10', '5'],
  // nginx, HAProxy and wrk from Debian; Node peers installed into bench/.peers: ≈ 4 min.
  ['gateway/run.ts', '--duration', '10', '--repeat', '2'],
  // OTLP/protobuf batches of 512 spans against `baton server`: ≈ 1 min.
  ['otlp-ingest.ts', '15', '4'],
  // A running dockerd and Debian's docker-compose: ≈ 3 min.
  ['docker-20.ts', '20', '5'],
  // 200 SDK subscribers on `baton server`, 20 config releases: ≈ 20 s.
  ['config-push.ts', '200', '20'],
];
for (const [file, ...args] of benches) {
  console.log(`\n== ${file} ${args.join(' ')}`);
  execFileSync(process.execPath, [join(import.meta.dirname, file!), ...args], { stdio: 'inherit' });
}
