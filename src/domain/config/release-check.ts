// A release is refused when it breaks the schema of a service that consumes it: checked for
// every version scope and group of the service, and for the version the manifest runs.
import type { Manifest } from '../manifest/model.ts';
import { effectiveConfig, type ConfigSet, type ConfigTarget } from './config-set.ts';
import { schemaViolations } from './config-schema.ts';

export interface ReleaseViolation {
  readonly service: string;
  /** Which scope combination was checked: `orders@2.1.0`, `orders/debug`. */
  readonly target: string;
  readonly key: string;
  readonly message: string;
}

export function checkRelease(set: ConfigSet, manifest: Manifest): ReleaseViolation[] {
  const violations: ReleaseViolation[] = [];
  for (const [service, spec] of Object.entries(manifest.services)) {
    const schema = spec.config?.schema;
    if (schema === undefined) continue;
    const versions = new Set([spec.version]);
    for (const scope of Object.keys(set.versions))
      if (scope.startsWith(`${service}@`)) versions.add(scope.slice(service.length + 1));
    const targets: { label: string; target: ConfigTarget }[] = [...versions].map((version) => ({
      label: `${service}@${version}`,
      target: { service, version },
    }));
    for (const [name, group] of Object.entries(set.groups)) {
      if (!name.startsWith(`${service}/`)) continue;
      for (const instance of group.instances)
        targets.push({ label: name, target: { service, version: spec.version, instance } });
    }
    const seen = new Set<string>();
    for (const { label, target } of targets) {
      for (const [key, message] of schemaViolations(effectiveConfig(set, target), schema)) {
        const id = `${key} ${message}`;
        if (seen.has(id)) continue;
        seen.add(id);
        violations.push({ service, target: label, key, message });
      }
    }
  }
  return violations;
}

/** Keys the manifest marks `restart: true` for a service. */
export function restartKeys(manifest: Manifest, service: string): Set<string> {
  const properties = manifest.services[service]?.config?.schema?.properties ?? {};
  return new Set(Object.keys(properties).filter((key) => properties[key]!.restart));
}
