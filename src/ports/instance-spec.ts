// From a service of a revision to what a runtime is asked to start, and to what `admit`
// looks at: the two always carry the same workload, so a service admitted at plan time is
// the one started.
import { dependencyVariable, EGRESS_VARIABLE } from '../domain/gateway/east-west.ts';
import type { ServiceSpec } from '../domain/manifest/model.ts';
import { resolveServiceReferences, serviceUrl } from '../domain/manifest/service-references.ts';
import type { ServiceAddress } from '../domain/manifest/service-references.ts';
import type { AdmissionRequest, DependencyAddress, InstanceSpec, Workload } from './runtime.ts';

/** A service without ports gets one, named `http`. */
const DEFAULT_PORTS: InstanceSpec['ports'] = [{ name: 'http' }];

export function workloadOf(spec: ServiceSpec): Workload {
  const { run, image, build, entrypoint, cmd, user, resources, placement, volumes } = spec;
  return { run, image, build, entrypoint, cmd, user, resources, placement, volumes };
}

export interface InstanceOf {
  readonly id: string;
  readonly service: string;
  readonly spec: ServiceSpec;
  readonly revision: number;
  /** Absolute: the manifest's folder. */
  readonly baseDir: string;
}

export function instanceSpecOf({ id, service, spec, revision, baseDir }: InstanceOf): InstanceSpec {
  return {
    id,
    service,
    version: spec.version,
    revision,
    workload: workloadOf(spec),
    baseDir,
    mode: spec.mode,
    env: spec.env,
    ports: spec.ports.length > 0 ? spec.ports : DEFAULT_PORTS,
    dependencies: dependenciesOf(spec),
    ...(spec.telemetry !== undefined ? { telemetry: spec.telemetry } : {}),
  };
}

/** The declared dependencies, without ports yet (the data plane assigns them). */
export function dependenciesOf(spec: Pick<ServiceSpec, 'dependsOn'>): DependencyAddress[] {
  return Object.keys(spec.dependsOn)
    .sort()
    .map((service) => {
      const dependency = spec.dependsOn[service]!;
      return { service, variable: dependencyVariable(service, dependency), range: dependency.range };
    });
}

/**
 * What an instance is told about the services it may call, and its env with references to
 * them resolved: every runtime's environment starts here. `dataPlaneHost` is where the
 * runtime's instances reach the node's data plane (127.0.0.1 for local processes; for
 * containers, the host's address on their network). Dependency variables come before the
 * manifest's env, so a manifest that sets one itself wins (validation warns).
 */
export function serviceEnvironment(spec: InstanceSpec, dataPlaneHost: string): Record<string, string> {
  const env: Record<string, string> = {};
  const addresses = new Map<string, ServiceAddress>();
  for (const dependency of spec.dependencies ?? []) {
    if (dependency.port === undefined) continue;
    const address = { host: dataPlaneHost, port: dependency.port };
    addresses.set(dependency.service, address);
    env[dependency.variable] = serviceUrl(address);
  }
  for (const [name, value] of Object.entries(spec.env))
    env[name] = resolveServiceReferences(value, addresses);
  if (spec.egressPort !== undefined)
    env[EGRESS_VARIABLE] = serviceUrl({ host: dataPlaneHost, port: spec.egressPort });
  return env;
}

export function admissionOf(service: string, spec: ServiceSpec, baseDir: string): AdmissionRequest {
  return { service, workload: workloadOf(spec), mode: spec.mode, baseDir, env: spec.env };
}
