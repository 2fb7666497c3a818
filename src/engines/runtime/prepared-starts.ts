// A runtime whose starts go through a preparation step first: what every runtime's instances
// get the same way (their dependencies' addresses, their secrets) is filled into the spec
// here, before the runtime is asked, and the controller knows nothing of it.
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

export function preparingStarts(
  runtime: Runtime,
  prepare: (spec: InstanceSpec) => Promise<InstanceSpec>,
): Runtime {
  return new PreparedRuntime(runtime, prepare);
}

class PreparedRuntime implements Runtime {
  readonly #runtime: Runtime;
  readonly #prepare: (spec: InstanceSpec) => Promise<InstanceSpec>;

  constructor(runtime: Runtime, prepare: (spec: InstanceSpec) => Promise<InstanceSpec>) {
    this.#runtime = runtime;
    this.#prepare = prepare;
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
    return this.#runtime.start(await this.#prepare(spec));
  }

  stop(id: string, options: StopOptions): Promise<void> {
    return this.#runtime.stop(id, options);
  }

  list(): Promise<RunningInstance[]> {
    return this.#runtime.list();
  }

  listening(id: string): Promise<readonly number[] | undefined> {
    return this.#runtime.listening(id);
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
}
