// A deterministic random architecture for scale benchmarks: a DAG of N services with about
// five dependencies each, valid, with tiers that never invert.
import { stringify } from 'yaml';

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

export interface GenerateOptions {
  /** Instances of every service; by default 1–3, varying with the service's number. */
  readonly instances?: number | undefined;
  /** Health probe interval of every service; by default the schema's (5s). */
  readonly probeInterval?: string | undefined;
}

/** The manifest as YAML text, as `baton apply` receives it. */
export function generateManifest(
  count: number,
  seed = 42,
  minorBump = 0,
  options: GenerateOptions = {},
): string {
  return stringify(generateArchitecture(count, seed, minorBump, options), { lineWidth: 0 });
}

/** Services are numbered; each depends only on lower numbers, so the graph is a DAG. */
export function generateArchitecture(
  count: number,
  seed = 42,
  minorBump = 0,
  options: GenerateOptions = {},
): { name: string; services: Record<string, Record<string, unknown>> } {
  const rnd = random(seed);
  const name = (i: number) => `svc-${i}`;
  const versions = Array.from({ length: count }, () => ({
    major: 1 + Math.floor(rnd() * 3),
    minor: Math.floor(rnd() * 10),
  }));
  const services: Record<string, Record<string, unknown>> = {};
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
      instances: options.instances ?? 1 + (i % 3),
      health: {
        http: { path: '/healthz' },
        ...(options.probeInterval === undefined ? {} : { interval: options.probeInterval }),
      },
      dependsOn,
    };
  }
  return { name: 'generated', services };
}
