// From an instance spec to the Swarm service that runs it (one service, one task, per
// instance), and back from a service's labels to the instance. Pure: the runtime does the
// talking. Why a service per instance: ARCHITECTURE.md.
import { createHash } from 'node:crypto';
import type { CreateServiceOptions } from 'dockerode';
import { canonicalJson } from '../../../domain/manifest/canonical.ts';
import type { InstanceSpec } from '../../../ports/runtime.ts';
import {
  containerEnvironment,
  cpuCores,
  LABEL,
  memoryBytes,
  volumeName,
  type ContainerContext,
} from '../docker/container-config.ts';

/** Beyond the docker runtime's labels: the ports each instance listens on inside its container. */
export const SWARM_LABEL = {
  ...LABEL,
  /** JSON: port name → the port inside (PORT_<NAME>); `dev.baton.ports` holds the published ones. */
  targets: 'dev.baton.targets',
} as const;

/** What the runtime adds to every service, beyond the spec. */
export interface SwarmContext extends Omit<ContainerContext, 'network'> {
  /** Node ids new instances must avoid: nodes Baton's own probes found dead. */
  readonly avoidNodes: readonly string[];
  /** A pet whose volume lives on one node must come back there. */
  readonly pinnedNode?: string | undefined;
  /** Time between the stop signal and SIGKILL, fixed when the task is made (Swarm reads it from the spec). */
  readonly stopGraceMs: number;
}

/** `baton-3f9a1c2e-orders-k3x9f2`: readable in `docker service ls`, unique per owner. */
export function serviceName(owner: string, id: string): string {
  return `baton-${owner.slice(0, 8)}-${id}`;
}

/**
 * Each port gets a number of its own in the cluster (`published`): with host-mode publishing
 * (no routing mesh here) the instance is reached at `<node address>:<published>`. An
 * unnumbered port listens inside on that same number, so PORT is where the instance is
 * reached; a fixed one (an image's 5432) keeps its number inside and is published apart.
 */
export function swarmPorts(
  spec: Pick<InstanceSpec, 'ports'>,
  allocate: () => number,
): { targets: Record<string, number>; published: Record<string, number> } {
  const targets: Record<string, number> = {};
  const published: Record<string, number> = {};
  for (const port of spec.ports) {
    const number = allocate();
    published[port.name] = number;
    targets[port.name] = port.port ?? number;
  }
  return { targets, published };
}

/** `{ zone: a }` → `node.labels.zone==a`, plus the nodes to avoid or the one to keep to. */
export function placementConstraints(spec: InstanceSpec, context: SwarmContext): string[] {
  const labels = spec.workload.placement?.labels ?? {};
  const constraints = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `node.labels.${key}==${value}`);
  if (context.pinnedNode !== undefined) constraints.push(`node.id==${context.pinnedNode}`);
  for (const node of [...context.avoidNodes].sort()) constraints.push(`node.id!=${node}`);
  return constraints;
}

export function serviceSpec(
  spec: InstanceSpec,
  context: SwarmContext,
  ports: { targets: Record<string, number>; published: Record<string, number> },
): CreateServiceOptions {
  const { workload } = spec;
  const env = containerEnvironment(spec, ports.targets, { ...context, network: '' });
  const resources = workload.resources ?? {};
  const memory = resources.memory === undefined ? undefined : memoryBytes(resources.memory);
  const cpus = resources.cpu === undefined ? undefined : Math.round(cpuCores(resources.cpu) * 1e9);
  const labels: Record<string, string> = {
    [SWARM_LABEL.owner]: context.owner,
    [SWARM_LABEL.instance]: spec.id,
    [SWARM_LABEL.service]: spec.service,
    [SWARM_LABEL.version]: spec.version,
    [SWARM_LABEL.revision]: String(spec.revision),
    [SWARM_LABEL.mode]: spec.mode,
    [SWARM_LABEL.ports]: JSON.stringify(ports.published),
    [SWARM_LABEL.targets]: JSON.stringify(ports.targets),
  };
  const service: CreateServiceOptions = {
    Name: serviceName(context.owner, spec.id),
    TaskTemplate: {
      ContainerSpec: {
        Image: workload.image,
        Labels: labels,
        Env: Object.entries(env).map(([name, value]) => `${name}=${value}`),
        ...(workload.entrypoint ? { Command: [...workload.entrypoint] } : {}),
        ...(workload.cmd ? { Args: [...workload.cmd] } : {}),
        ...(workload.user ? { User: workload.user } : {}),
        // Node as PID 1 ignores SIGTERM: a tiny init forwards signals and reaps children.
        Init: true,
        StopGracePeriod: context.stopGraceMs * 1e6,
        Mounts: workload.volumes.map((volume) => ({
          Type: 'volume' as const,
          Source: volumeName(context.owner, spec.service, volume.name),
          Target: volume.path,
          ReadOnly: volume.readOnly,
          VolumeOptions: {
            NoCopy: false,
            Labels: { [LABEL.owner]: context.owner, [LABEL.service]: spec.service },
            DriverConfig: { Name: 'local', Options: {} },
          },
        })),
      },
      // What the manifest asks is both reserved (the scheduler places by it) and the limit.
      Resources: {
        Limits: {
          ...(cpus === undefined ? {} : { NanoCPUs: cpus }),
          ...(memory === undefined ? {} : { MemoryBytes: memory }),
          ...(resources.pids === undefined ? {} : { Pids: resources.pids }),
        },
        Reservations: {
          ...(cpus === undefined ? {} : { NanoCPUs: cpus }),
          ...(memory === undefined ? {} : { MemoryBytes: memory }),
        },
      },
      // Baton is the controller: Swarm restarting a task by itself would be a second one.
      RestartPolicy: { Condition: 'none', MaxAttempts: 0 },
      Placement: { Constraints: placementConstraints(spec, context) },
      LogDriver: {
        Name: 'json-file',
        Options: { 'max-size': String(context.logMaxBytes), 'max-file': String(context.logFiles) },
      },
    },
    Mode: { Replicated: { Replicas: 1 } },
    // No IPVS in every kernel (none here): no VIP, no routing mesh; each instance is reached
    // on its node's address at its own published port.
    EndpointSpec: {
      Mode: 'dnsrr',
      Ports: Object.entries(ports.published).map(([name, published]) => ({
        Protocol: 'tcp' as const,
        TargetPort: ports.targets[name]!,
        PublishedPort: published,
        PublishMode: 'host' as const,
      })),
    },
  };
  labels[SWARM_LABEL.config] = createHash('sha256')
    .update(canonicalJson({ service, labels }))
    .digest('hex')
    .slice(0, 16);
  return { ...service, Labels: labels };
}

export interface LabelledService {
  readonly id: string;
  readonly service: string;
  readonly version: string;
  readonly revision: number;
  readonly mode: string;
  readonly published: Readonly<Record<string, number>>;
}

/** The instance a service's labels describe, or undefined when they are not Baton's whole set. */
export function instanceOfService(
  labels: Readonly<Record<string, string>> | undefined,
): LabelledService | undefined {
  if (labels === undefined) return undefined;
  const id = labels[SWARM_LABEL.instance];
  const service = labels[SWARM_LABEL.service];
  const version = labels[SWARM_LABEL.version];
  const revision = Number(labels[SWARM_LABEL.revision]);
  let published: Record<string, number>;
  try {
    published = JSON.parse(labels[SWARM_LABEL.ports] ?? '') as Record<string, number>;
  } catch {
    return undefined;
  }
  if (!id || !service || !version || !Number.isInteger(revision)) return undefined;
  return { id, service, version, revision, mode: labels[SWARM_LABEL.mode] ?? 'cattle', published };
}
