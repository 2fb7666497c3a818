// Manifests for the revision tests: only what a test cares about, the rest filled in.
import semver from 'semver';
import type { Manifest, ServiceSpec } from '../manifest/model.ts';
import { normalizeManifest } from '../manifest/model.ts';
import { ManifestSchema } from '../manifest/schema.ts';

export type ServiceInput = { readonly version: string } & Readonly<Record<string, unknown>>;

export function manifest(
  services: Readonly<Record<string, ServiceInput>>,
  top: { readonly name?: string; readonly description?: string } = {},
): Manifest {
  const filled = Object.fromEntries(
    Object.entries(services).map(([name, s]) => [name, { tier: 'medium', run: { command: 'node' }, ...s }]),
  );
  return normalizeManifest(ManifestSchema.parse({ name: top.name ?? 'shop', ...top, services: filled }));
}

/** Every broken range, as `consumer→provider`, checked straight with semver (an oracle for the planners). */
export function brokenRanges(services: ReadonlyMap<string, ServiceSpec>): Set<string> {
  const out = new Set<string>();
  for (const [consumer, spec] of services) {
    for (const [provider, dep] of Object.entries(spec.dependsOn)) {
      const target = services.get(provider);
      const holds = target ? semver.satisfies(target.version, dep.range) : dep.optional;
      if (!holds) out.add(`${consumer}→${provider}`);
    }
  }
  return out;
}
