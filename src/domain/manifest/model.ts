// The normalised manifest: what a revision stores and what every engine reads.
// Shorthands are expanded (a bare range becomes `{ range, optional: false }`, a bare
// instance count becomes `{ min, max }`) so that consumers never branch on spelling.
import type { ParsedManifest, ParsedService, Tier } from './schema.ts';

export type GatewaySettings = NonNullable<ParsedManifest['gateway']>;
export type AlertSettings = NonNullable<ParsedManifest['alerts']>;

export interface Dependency {
  readonly range: string;
  readonly optional: boolean;
  /** The variable holding its address, when the manifest names one (default: `<NAME>_URL`). */
  readonly env?: string | undefined;
}

export interface InstanceBounds {
  readonly min: number;
  readonly max: number;
}

export type ServiceSpec = Omit<ParsedService, 'dependsOn' | 'instances'> & {
  readonly tier: Tier;
  readonly dependsOn: Readonly<Record<string, Dependency>>;
  readonly instances: InstanceBounds;
};

export interface Manifest {
  readonly name: string;
  readonly description?: string | undefined;
  readonly gateway?: GatewaySettings | undefined;
  readonly alerts?: AlertSettings | undefined;
  readonly services: Readonly<Record<string, ServiceSpec>>;
}

export function normalizeManifest(parsed: ParsedManifest): Manifest {
  const services: Record<string, ServiceSpec> = {};
  for (const serviceName of Object.keys(parsed.services).sort()) {
    services[serviceName] = normalizeService(parsed.name, serviceName, parsed.services[serviceName]!);
  }
  return {
    name: parsed.name,
    ...(parsed.description ? { description: parsed.description } : {}),
    ...(parsed.gateway ? { gateway: parsed.gateway } : {}),
    ...(parsed.alerts ? { alerts: parsed.alerts } : {}),
    services,
  };
}

/**
 * The tag a service's `build` produces when it names no `image`: `<architecture>/<service>:<version>`
 * (a `+build` suffix becomes `_build`, since tags allow no `+`).
 */
export function builtImageTag(architecture: string, service: string, version: string): string {
  return `${architecture}/${service}:${version.replaceAll('+', '_')}`;
}

function normalizeService(architecture: string, name: string, service: ParsedService): ServiceSpec {
  const dependsOn: Record<string, Dependency> = {};
  for (const target of Object.keys(service.dependsOn).sort()) {
    const dep = service.dependsOn[target]!;
    dependsOn[target] = typeof dep === 'string' ? { range: dep, optional: false } : dep;
  }
  const instances =
    typeof service.instances === 'number'
      ? { min: service.instances, max: service.instances }
      : { min: service.instances.min, max: service.instances.max };
  // Every container runtime then reads one field for what to run, built or not.
  const image =
    service.image ?? (service.build ? builtImageTag(architecture, name, service.version) : undefined);
  return { ...service, ...(image === undefined ? {} : { image }), dependsOn, instances };
}
