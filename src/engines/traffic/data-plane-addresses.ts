// Every runtime's instances get their dependencies' addresses the same way: before a runtime
// is asked to start an instance, the data plane's ports for its edges (and its egress) are
// looked up, assigned on first need, and written into its spec; the runtime renders them as
// variables with the host its instances reach the data plane at. The controller knows
// nothing of it: this wraps the runtime it is given.
import { BatonError } from '../../domain/errors.ts';
import { edgeKey, egressKey, listenersOf } from '../../domain/gateway/east-west.ts';
import type { Dependency } from '../../domain/manifest/model.ts';
import type { InstanceSpec, Runtime } from '../../ports/runtime.ts';
import { preparingStarts } from '../runtime/prepared-starts.ts';
import type { ListenerPorts } from './listener-ports.ts';

export function withDataPlaneAddresses(runtime: Runtime, ports: ListenerPorts): Runtime {
  return preparingStarts(runtime, (spec) => addressed(spec, ports));
}

async function addressed(spec: InstanceSpec, listenerPorts: ListenerPorts): Promise<InstanceSpec> {
  const dependencies = spec.dependencies ?? [];
  const dependsOn: Record<string, Dependency> = {};
  for (const d of dependencies) dependsOn[d.service] = { range: d.range, optional: false };
  let ports: ReadonlyMap<string, number>;
  try {
    ports = await listenerPorts.ensure(listenersOf(spec.service, dependsOn));
  } catch (error) {
    throw new BatonError(
      'instance-start-failed',
      `cannot give ${spec.id} its dependencies' addresses: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return {
    ...spec,
    dependencies: dependencies.map((d) => ({
      ...d,
      port: ports.get(edgeKey(spec.service, d.service, d.range)),
    })),
    egressPort: ports.get(egressKey(spec.service)),
  };
}
