// From a service of a revision to what a runtime is asked to start, and to what `admit`
// looks at: the two always carry the same workload, so a service admitted at plan time is
// the one started.
import type { ServiceSpec } from '../domain/manifest/model.ts';
import type { AdmissionRequest, InstanceSpec, Workload } from './runtime.ts';

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
  };
}

export function admissionOf(service: string, spec: ServiceSpec, baseDir: string): AdmissionRequest {
  return { service, workload: workloadOf(spec), mode: spec.mode, baseDir, env: spec.env };
}
