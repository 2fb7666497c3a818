// Validate + plan a generated manifest of N services (random DAG, ~5 dependencies each).
// Each measurement runs in a fresh child process so that peak memory is its own.
//
//   node bench/manifest-scale.ts [services=2000] [runs=5]
//   NODE_OPTIONS=--max-semi-space-size=4 node bench/manifest-scale.ts   (smaller young generation)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateManifest } from './generate-manifest.ts';
import type { Manifest } from '../src/domain/manifest/model.ts';
import { validateArchitecture } from '../src/domain/validate.ts';
import { planRollout } from '../src/domain/revisions/rollout-plan.ts';

interface Measurement {
  parseValidateMs: number;
  planMs: number;
  totalMs: number;
  peakRssMb: number;
  baselineRssMb: number;
  bytes: number;
  edges: number;
}

/**
 * What the server does on `apply`: the current revision is already parsed (it comes from the
 * store as JSON); the new manifest arrives as YAML text and is validated and planned.
 */
function measureOnce(currentJsonPath: string, nextYamlPath: string, count: number): Measurement {
  const current = JSON.parse(readFileSync(currentJsonPath, 'utf8')) as Manifest;
  const next = readFileSync(nextYamlPath, 'utf8');
  const baselineRssMb = process.resourceUsage().maxRSS / 1024;
  const started = performance.now();
  const validated = validateArchitecture(next, { file: 'next.yaml' });
  const afterValidate = performance.now();
  if (!validated.ok)
    throw new Error(`generated manifest invalid: ${JSON.stringify(validated.problems.slice(0, 3))}`);
  const plan = planRollout(current, validated.value.manifest);
  const afterPlan = performance.now();
  if (plan.steps.length !== count) throw new Error(`expected ${count} steps, got ${plan.steps.length}`);
  return {
    parseValidateMs: afterValidate - started,
    planMs: afterPlan - afterValidate,
    totalMs: afterPlan - started,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    baselineRssMb,
    bytes: Buffer.byteLength(next),
    edges: validated.value.graph.edges.length,
  };
}

if (process.argv[2] === '--child') {
  process.stdout.write(
    JSON.stringify(measureOnce(process.argv[3]!, process.argv[4]!, Number(process.argv[5]))),
  );
} else {
  const count = Number(process.argv[2] ?? 2000);
  const runs = Number(process.argv[3] ?? 5);
  const dir = mkdtempSync(join(tmpdir(), 'baton-bench-'));
  const currentPath = join(dir, 'current.json');
  const nextPath = join(dir, 'next.yaml');
  const current = validateArchitecture(generateManifest(count, 42, 0));
  if (!current.ok) throw new Error('generated manifest invalid');
  writeFileSync(currentPath, JSON.stringify(current.value.manifest));
  writeFileSync(nextPath, generateManifest(count, 42, 1));
  const results: Measurement[] = [];
  for (let r = 0; r < runs; r++) {
    const args = [import.meta.filename, '--child', currentPath, nextPath, String(count)];
    results.push(JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })) as Measurement);
  }
  rmSync(dir, { recursive: true });
  const first = results[0]!;
  console.log(
    `manifest: ${count} services, ${first.edges} dependencies, ${(first.bytes / 1024).toFixed(0)} KiB of YAML`,
  );
  console.log('run  parse+validate  plan(all changed)   total  peak RSS (node + modules before the run)');
  results.forEach((m, i) =>
    console.log(
      `${String(i + 1).padEnd(4)} ${m.parseValidateMs.toFixed(0).padStart(9)} ms ${m.planMs.toFixed(0).padStart(14)} ms ${m.totalMs.toFixed(0).padStart(6)} ms ${m.peakRssMb.toFixed(0).padStart(6)} MB (${m.baselineRssMb.toFixed(0)} MB)`,
    ),
  );
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  console.log(
    `median: validate+plan ${median(results.map((m) => m.totalMs)).toFixed(0)} ms, peak RSS ${median(results.map((m) => m.peakRssMb)).toFixed(0)} MB (goal: < 1000 ms, < 200 MB)`,
  );
}
