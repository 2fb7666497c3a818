// Manifests for the graph tests, built the way Baton builds them (schema, then
// normalisation), so the tests exercise real shapes; only what the graph reads is varied.
import { normalizeManifest } from '../manifest/model.ts';
import type { Manifest } from '../manifest/model.ts';
import { ManifestSchema } from '../manifest/schema.ts';
import type { Tier } from '../manifest/schema.ts';

export interface ServiceSketch {
  readonly version?: string;
  readonly tier?: Tier;
  readonly dependsOn?: Readonly<Record<string, string | { range: string; optional?: boolean; env?: string }>>;
  readonly env?: Readonly<Record<string, string>>;
}

export function manifestOf(services: Readonly<Record<string, ServiceSketch>>, name = 'shop'): Manifest {
  const raw: Record<string, unknown> = {};
  for (const [service, sketch] of Object.entries(services)) {
    raw[service] = {
      version: sketch.version ?? '1.0.0',
      tier: sketch.tier ?? 'medium',
      run: { command: 'node', args: [`${service}.js`] },
      dependsOn: sketch.dependsOn ?? {},
      ...(sketch.env !== undefined ? { env: sketch.env } : {}),
    };
  }
  return normalizeManifest(ManifestSchema.parse({ name, services: raw }));
}

/** `count` services named `s0`, `s1`, … where `s<i>` depends on `s<i-1>`. */
export function chainOf(count: number): Manifest {
  const services: Record<string, ServiceSketch> = {};
  for (let i = 0; i < count; i++)
    services[`s${i}`] = i === 0 ? {} : { dependsOn: { [`s${i - 1}`]: '^1.0.0' } };
  return manifestOf(services);
}
