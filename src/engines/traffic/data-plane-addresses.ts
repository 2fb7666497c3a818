// Every runtime's instances get their dependencies' addresses the same way: before a runtime
// is asked to start an instance, the data plane's ports for its edges (and its egress) are
// looked up, assigned on first need, and written into its spec; the runtime renders them as
// variables with the host its instances reach the data plane at. The controller knows
// nothing of it: this wraps the runtime it is given.
import { BatonError } from '../../domain/errors.ts';
import { edgeKey, egressKey, listenersOf } from '../../domain/gateway/east-west.ts';
import type { Dependency } from '../../domain/manifest/model.ts';
import type {
  AdmissionRequest,
  InstanceSpec,
  LogLine,
  LogQuery,
  Refusal,
  RunningInstance,
  Runtime,
  RuntimeEvent,
  StopOptions,
} from '../../ports/runtime.ts';
import type { ListenerPorts } from './listener-ports.ts';

export function withDataPlaneAddresses(runtime: Runtime, ports: ListenerPorts): Runtime {
  return new AddressedRuntime(runtime, ports);
}

class AddressedRuntime implements Runtime {
  readonly #runtime: Runtime;
  readonly #ports: ListenerPorts;
  /** Passed through when the runtime has it: health tells an instance from a stranger on its port by it. */
  readonly listening?: (id: string) => Promise<readonly number[] | undefined>;

  constructor(runtime: Runtime, ports: ListenerPorts) {
    this.#runtime = runtime;
    this.#ports = ports;
    if (runtime.listening) this.listening = (id) => runtime.listening!(id);
  }

  get name(): string {
    return this.#runtime.name;
  }

  get addressing(): Runtime['addressing'] {
    return this.#runtime.addressing;
  }

  admit(request: AdmissionRequest): Promise<readonly Refusal[]> {
    return this.#runtime.admit(request);
  }

  async start(spec: InstanceSpec): Promise<RunningInstance> {
    return this.#runtime.start(await this.#addressed(spec));
  }

  stop(id: string, options: StopOptions): Promise<void> {
    return this.#runtime.stop(id, options);
  }

  list(): Promise<RunningInstance[]> {
    return this.#runtime.list();
  }

  subscribe(listener: (event: RuntimeEvent) => void): () => void {
    return this.#runtime.subscribe(listener);
  }

  logs(query: LogQuery): AsyncIterable<LogLine> {
    return this.#runtime.logs(query);
  }

  close(): Promise<void> {
    return this.#runtime.close();
  }

  async #addressed(spec: InstanceSpec): Promise<InstanceSpec> {
    const dependencies = spec.dependencies ?? [];
    const dependsOn: Record<string, Dependency> = {};
    for (const d of dependencies) dependsOn[d.service] = { range: d.range, optional: false };
    let ports: ReadonlyMap<string, number>;
    try {
      ports = await this.#ports.ensure(listenersOf(spec.service, dependsOn));
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
}
