// From an instance spec to the engine's container configuration, and back from a
// container's labels to the instance it runs. Pure: the runtime does the talking.
//
// Labels are what ties a container to its owner and instance across control-plane restarts
// (never its name alone, which anyone may take); the owner id is opaque, never a path.
import { createHash } from 'node:crypto';
import { constants } from 'node:os';
import type { ContainerCreateOptions } from 'dockerode';
import { canonicalJson } from '../../../domain/manifest/canonical.ts';
import { serviceEnvironment } from '../../../ports/instance-spec.ts';
import type { InstanceSpec } from '../../../ports/runtime.ts';
import { portVariable } from '../process/child-environment.ts';

export const LABEL = {
  owner: 'dev.baton.owner',
  instance: 'dev.baton.instance',
  service: 'dev.baton.service',
  version: 'dev.baton.version',
  revision: 'dev.baton.revision',
  mode: 'dev.baton.mode',
  /** JSON: port name → container port. */
  ports: 'dev.baton.ports',
  /** Hash of the configuration: a pet is restarted in place only into the same one. */
  config: 'dev.baton.config',
  volume: 'dev.baton.volume',
} as const;

/** Where unnumbered ports start inside a container (after the image's own): each container has its own address, so every instance may use the same. */
export const FIRST_CONTAINER_PORT = 8080;

/** What the runtime adds to every container, beyond the spec. */
export interface ContainerContext {
  readonly owner: string;
  /** The owner's bridge network. */
  readonly network: string;
  /** The control plane as instances reach it (the instance-facing listener). */
  readonly serverUrl?: string | undefined;
  /** The service's own token; never the admin's. */
  readonly tokenFor?: ((service: string) => string) | undefined;
  /**
   * Where containers reach the node's east-west data plane (the network's gateway address,
   * where its listeners must then listen): their dependencies' addresses point there.
   */
  readonly dataPlaneHost: string;
  /** Size past which the engine rotates an instance's log, and files kept. */
  readonly logMaxBytes: number;
  readonly logFiles: number;
}

/**
 * Unnumbered ports get the ports the image EXPOSEs, in order (an image of Redis or PostgreSQL
 * listens where it says, whatever PORT is), then 8080, 8081…; never a port fixed by another.
 */
export function containerPorts(
  spec: Pick<InstanceSpec, 'ports'>,
  exposed: readonly number[] = [],
): Record<string, number> {
  const fixed = new Set(spec.ports.flatMap((p) => (p.port === undefined ? [] : [p.port])));
  const free = exposed.filter((port) => !fixed.has(port));
  const ports: Record<string, number> = {};
  let next = FIRST_CONTAINER_PORT;
  for (const port of spec.ports) {
    if (port.port !== undefined) {
      ports[port.name] = port.port;
      continue;
    }
    const offered = free.shift();
    if (offered !== undefined) {
      ports[port.name] = offered;
      fixed.add(offered);
      continue;
    }
    while (fixed.has(next)) next++;
    ports[port.name] = next++;
  }
  return ports;
}

/** `{"6379/tcp": {}}` → [6379]: TCP ports only, lowest first. */
export function exposedPorts(exposed: Readonly<Record<string, unknown>> | null | undefined): number[] {
  return Object.keys(exposed ?? {})
    .flatMap((key) => {
      const match = /^(\d+)\/tcp$/.exec(key);
      return match ? [Number(match[1])] : [];
    })
    .sort((a, b) => a - b);
}

/** `baton-3f9a1c2e-orders-k3x9f2`: readable in `docker ps`, unique per owner. */
export function containerName(owner: string, id: string): string {
  return `baton-${owner.slice(0, 8)}-${id}`;
}

/** `baton-<owner>-<service>-<volume>`: one per service, shared by its instances and kept across versions. */
export function volumeName(owner: string, service: string, volume: string): string {
  return `baton-${owner.slice(0, 8)}-${service}-${volume}`;
}

export function containerEnvironment(
  spec: InstanceSpec,
  ports: Record<string, number>,
  context: ContainerContext,
) {
  const env = serviceEnvironment(spec, context.dataPlaneHost);
  // Baton's variables come last: a manifest cannot fake another instance's identity.
  for (const [name, port] of Object.entries(ports)) env[portVariable(name)] = String(port);
  env.PORT = String(Object.values(ports)[0]);
  env.BATON_SERVICE = spec.service;
  env.BATON_INSTANCE = spec.id;
  env.BATON_VERSION = spec.version;
  env.BATON_REVISION = String(spec.revision);
  if (context.serverUrl !== undefined) env.BATON_SERVER = context.serverUrl;
  if (context.tokenFor !== undefined) env.BATON_TOKEN = context.tokenFor(spec.service);
  return env;
}

/** `500m` → 0.5; `2` → 2. */
export function cpuCores(cpu: number | string): number {
  return typeof cpu === 'number' ? cpu : Number(cpu.slice(0, -1)) / 1000;
}

/** `256Mi` → bytes. */
export function memoryBytes(memory: string): number {
  const match = /^(\d+)(Ki|Mi|Gi)$/.exec(memory);
  if (!match) throw new Error(`not a memory size: ${memory}`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[match[2] as 'Ki' | 'Mi' | 'Gi'];
  return Number(match[1]) * unit;
}

export function containerConfig(
  spec: InstanceSpec,
  context: ContainerContext,
  imageExposed: readonly number[] = [],
): ContainerCreateOptions {
  const { workload } = spec;
  const ports = containerPorts(spec, imageExposed);
  const env = containerEnvironment(spec, ports, context);
  const resources = workload.resources ?? {};
  const memory = resources.memory === undefined ? undefined : memoryBytes(resources.memory);
  const mounts = workload.volumes.map((volume) => ({
    Type: 'volume' as const,
    Source: volumeName(context.owner, spec.service, volume.name),
    Target: volume.path,
    ReadOnly: volume.readOnly,
  }));
  // Its config file's folder, kept current by the control plane: read-only, the instance
  // reads it and never writes it.
  const configMounts = spec.configMount
    ? [
        {
          Type: 'bind' as const,
          Source: spec.configMount.source,
          Target: spec.configMount.target,
          ReadOnly: true,
        },
      ]
    : [];
  const config: ContainerCreateOptions = {
    name: containerName(context.owner, spec.id),
    Image: workload.image,
    Env: Object.entries(env).map(([name, value]) => `${name}=${value}`),
    ExposedPorts: Object.fromEntries(Object.values(ports).map((port) => [`${port}/tcp`, {}])),
    ...(workload.entrypoint ? { Entrypoint: [...workload.entrypoint] } : {}),
    ...(workload.cmd ? { Cmd: [...workload.cmd] } : {}),
    ...(workload.user ? { User: workload.user } : {}),
    HostConfig: {
      // Node as PID 1 ignores SIGTERM: a tiny init forwards signals and reaps children.
      Init: true,
      NetworkMode: context.network,
      // Baton is the controller: the engine restarting instances by itself would be a second one.
      RestartPolicy: { Name: 'no' },
      SecurityOpt: ['no-new-privileges'],
      Mounts: [...mounts, ...configMounts],
      LogConfig: {
        Type: 'json-file',
        Config: { 'max-size': String(context.logMaxBytes), 'max-file': String(context.logFiles) },
      },
      ...(memory === undefined ? {} : { Memory: memory, MemorySwap: memory }),
      ...(resources.cpu === undefined ? {} : { NanoCpus: Math.round(cpuCores(resources.cpu) * 1e9) }),
      ...(resources.pids === undefined ? {} : { PidsLimit: resources.pids }),
    },
    // The service's name resolves, on the owner's network, to its instances: what compose
    // apps expect (`db:5432`), and the only way for protocols an HTTP data plane cannot carry.
    NetworkingConfig: { EndpointsConfig: { [context.network]: { Aliases: [spec.service] } } },
  };
  const labels: Record<string, string> = {
    [LABEL.owner]: context.owner,
    [LABEL.instance]: spec.id,
    [LABEL.service]: spec.service,
    [LABEL.version]: spec.version,
    [LABEL.revision]: String(spec.revision),
    [LABEL.mode]: spec.mode,
    [LABEL.ports]: JSON.stringify(ports),
  };
  labels[LABEL.config] = createHash('sha256')
    .update(canonicalJson({ config, labels }))
    .digest('hex')
    .slice(0, 16);
  return { ...config, Labels: labels };
}

export interface LabelledInstance {
  readonly id: string;
  readonly service: string;
  readonly version: string;
  readonly revision: number;
  readonly mode: string;
  readonly ports: Readonly<Record<string, number>>;
}

/** The instance a container's labels describe, or undefined when they are not Baton's whole set. */
export function instanceOfLabels(
  labels: Readonly<Record<string, string>> | undefined,
): LabelledInstance | undefined {
  if (labels === undefined) return undefined;
  const id = labels[LABEL.instance];
  const service = labels[LABEL.service];
  const version = labels[LABEL.version];
  const revision = Number(labels[LABEL.revision]);
  let ports: Record<string, number>;
  try {
    ports = JSON.parse(labels[LABEL.ports] ?? '') as Record<string, number>;
  } catch {
    return undefined;
  }
  if (!id || !service || !version || !Number.isInteger(revision)) return undefined;
  return { id, service, version, revision, mode: labels[LABEL.mode] ?? 'cattle', ports };
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name]));

/**
 * The engine reports only an exit code. Its init (docker-init, tini) exits with 128+N when
 * the instance died of signal N, as shells do; that is read back as the signal.
 */
export function exitOf(exitCode: number): { code: number | null; signal: string | null } {
  const signal = exitCode > 128 ? SIGNAL_NAMES.get(exitCode - 128) : undefined;
  return signal === undefined ? { code: exitCode, signal: null } : { code: null, signal };
}
