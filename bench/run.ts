// `npm run bench`: every benchmark, one after another. Each prints its own table.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const benches = [['manifest-scale.ts', '2000', '5']];
for (const [file, ...args] of benches) {
  console.log(`\n== ${file} ${args.join(' ')}`);
  execFileSync(process.execPath, [join(import.meta.dirname, file!), ...args], { stdio: 'inherit' });
}
