// Validate + plan a generated manifest of N services (random DAG, ~5 dependencies each).
// Each measurement runs in a fresh child process so that peak memory is its own.
//
//   node bench/manifest-scale.ts [services=2000] [runs=5]
import { execFileSync } from 'node:child_process';
import { stringify } from 'yaml';
import { validateArchitecture } from '../src/domain/validate.ts';
import { planRollout } from '../src/domain/revisions/rollout-plan.ts';

const TIERS = ['critical', 'high', 'medium', 'low'] as const;

/** Deterministic PRNG (mulberry32): the same manifest on every run and machine. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Services are numbered; each depends only on lower numbers, so the graph is a DAG. */
export function generateManifest(count: number, seed = 42, minorBump = 0): string {
  const rnd = random(seed);
  const name = (i: number) => `svc-${i}`;
  const versions = Array.from({ length: count }, () => ({
    major: 1 + Math.floor(rnd() * 3),
    minor: Math.floor(rnd() * 10),
  }));
  const services: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const dependsOn: Record<string, string> = {};
    const deps = i === 0 ? 0 : Math.min(i, 3 + Math.floor(rnd() * 5));
    for (let d = 0; d < deps; d++) {
      const target = Math.floor(rnd() * i);
      dependsOn[name(target)] = `^${versions[target]!.major}.0.0`;
    }
    const v = versions[i]!;
    services[name(i)] = {
      version: `${v.major}.${v.minor + minorBump}.0`,
      // Providers (low numbers) are the most critical, so tiers never invert.
      tier: TIERS[Math.min(3, Math.floor((i / count) * 4))],
      owner: `team-${i % 40}`,
      run: { command: 'node', args: [`services/${name(i)}.js`] },
      instances: 1 + (i % 3),
      health: { http: { path: '/healthz' } },
      dependsOn,
    };
  }
  return stringify({ name: 'generated', services }, { lineWidth: 0 });
}

function measureOnce(count: number): {
  parseValidateMs: number;
  planMs: number;
  totalMs: number;
  peakRssMb: number;
  bytes: number;
  edges: number;
} {
  const current = generateManifest(count, 42, 0);
  const next = generateManifest(count, 42, 1);
  const baseline = process.memoryUsage().rss;
  const started = performance.now();
  const a = validateArchitecture(current, { file: 'current.yaml' });
  const b = validateArchitecture(next, { file: 'next.yaml' });
  const validated = performance.now();
  if (!a.ok || !b.ok)
    throw new Error(
      `generated manifest invalid: ${JSON.stringify((a.ok ? b : a).ok ? [] : a.ok ? (b as { problems: unknown }).problems : a.problems).slice(0, 500)}`,
    );
  const plan = planRollout(a.value.manifest, b.value.manifest);
  const planned = performance.now();
  if (plan.steps.length !== count) throw new Error(`expected ${count} steps, got ${plan.steps.length}`);
  return {
    // Two validations (current and next); report one.
    parseValidateMs: (validated - started) / 2,
    planMs: planned - validated,
    totalMs: (validated - started) / 2 + (planned - validated),
    peakRssMb: Math.max(process.memoryUsage().rss, baseline) / 2 ** 20,
    bytes: Buffer.byteLength(next),
    edges: b.value.graph.edges.length,
  };
}

if (process.argv[2] === '--child') {
  process.stdout.write(JSON.stringify(measureOnce(Number(process.argv[3]))));
} else {
  const count = Number(process.argv[2] ?? 2000);
  const runs = Number(process.argv[3] ?? 5);
  const results = [];
  for (let r = 0; r < runs; r++) {
    const out = execFileSync(process.execPath, [import.meta.filename, '--child', String(count)], {
      encoding: 'utf8',
    });
    results.push(JSON.parse(out) as ReturnType<typeof measureOnce>);
  }
  const first = results[0]!;
  console.log(
    `manifest: ${count} services, ${first.edges} dependencies, ${(first.bytes / 1024).toFixed(0)} KiB of YAML`,
  );
  console.log('run  parse+validate  plan(all changed)  total   peak RSS');
  results.forEach((m, i) =>
    console.log(
      `${String(i + 1).padEnd(4)} ${m.parseValidateMs.toFixed(0).padStart(9)} ms ${m.planMs.toFixed(0).padStart(14)} ms ${m.totalMs.toFixed(0).padStart(6)} ms ${m.peakRssMb.toFixed(0).padStart(6)} MB`,
    ),
  );
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  console.log(
    `median: validate+plan ${median(results.map((m) => m.totalMs)).toFixed(0)} ms, peak RSS ${median(results.map((m) => m.peakRssMb)).toFixed(0)} MB (goal: < 1000 ms, < 200 MB)`,
  );
}
