// The Runtime port: where instances of services actually run. `process` (local child
// processes) is the default; `kubernetes` and `simulated` plug in behind the same shape.
// A runtime reports facts (started, exited); deciding what to do about them is the
// controller's job.

export interface InstanceSpec {
  /** Unique for the life of the architecture, e.g. `orders-k3x9f2`. Never reused. */
  readonly id: string;
  readonly service: string;
  readonly version: string;
  /** The revision whose spec this instance runs. */
  readonly revision: number;
  readonly command: string;
  readonly args: readonly string[];
  /** Absolute working directory. */
  readonly cwd: string;
  /** From the manifest; the runtime adds PORT and BATON_* variables. */
  readonly env: Readonly<Record<string, string>>;
  /** Named ports; those without a number are allocated. The first is also `PORT`. */
  readonly ports: readonly { readonly name: string; readonly port?: number | undefined }[];
}

export interface RunningInstance {
  readonly id: string;
  readonly service: string;
  readonly version: string;
  readonly revision: number;
  /** Where it can be reached, e.g. 127.0.0.1. */
  readonly address: string;
  /** The primary port (`PORT`). */
  readonly port: number;
  readonly ports: Readonly<Record<string, number>>;
  /** The machine or Kubernetes node it runs on. */
  readonly node: string;
  /** Process id (process runtime) — informative only: identity is id + startedAt. */
  readonly pid?: number | undefined;
  /** ISO 8601; with `id`, what tells this process from a later one reusing its pid. */
  readonly startedAt: string;
}

export type RuntimeEvent =
  | { readonly type: 'started'; readonly instance: RunningInstance }
  | {
      readonly type: 'exited';
      readonly id: string;
      readonly service: string;
      readonly code: number | null;
      readonly signal: string | null;
      /** ISO 8601. */
      readonly at: string;
    };

export interface StopOptions {
  /** Time between SIGTERM (or its equivalent) and the forced kill. */
  readonly graceMs: number;
}

export interface LogQuery {
  readonly service: string;
  readonly instance?: string | undefined;
  /** How many of the most recent lines to return first. */
  readonly tail?: number | undefined;
  /** Keep streaming new lines until the signal aborts. */
  readonly follow?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface LogLine {
  readonly instance: string;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

export interface Runtime {
  /** `process`, `simulated`, `kubernetes`. */
  readonly name: string;
  /** Starts an instance; resolves once the runtime has started it (not once it is healthy). */
  start(spec: InstanceSpec): Promise<RunningInstance>;
  /** Stops gracefully, then forcibly after `graceMs`; resolves once it is gone. Unknown ids resolve at once. */
  stop(id: string, options: StopOptions): Promise<void>;
  /** Every instance this runtime's owner started that is still alive — including ones started before a control-plane restart. */
  list(): Promise<RunningInstance[]>;
  /** Facts as they happen. An exit is reported at once, never at the next poll of a health check. */
  subscribe(listener: (event: RuntimeEvent) => void): () => void;
  logs(query: LogQuery): AsyncIterable<LogLine>;
  /** Stops watching and releases resources. Leaves instances running (see `stop`). */
  close(): Promise<void>;
}
