// The Runtime port: where instances of services actually run. `process` (local child
// processes) is the default; `simulated` exists for tests and benchmarks; container and
// cluster runtimes plug in behind the same shape.
//
// The spec says *what* to run as the manifest wrote it (the workload); each runtime works
// out *how* itself: the process runtime resolves `run.cwd` against `baseDir` and a command
// on the operator's PATH, a container runtime reads `image`, `resources`, `volumes`. What a
// runtime cannot run it says at plan time (`admit`), so `baton apply` refuses it with a
// located problem instead of a failure at start.
//
// A runtime reports facts (started, exited); deciding what to do about them is the
// controller's job. It throws BatonErrors whose code says whether trying again may help
// (`runtime-refused` never will; see docs/errors.md).
import type { ServiceSpec } from '../domain/manifest/model.ts';
import type { FieldPath, Severity } from '../domain/problems.ts';

/**
 * What a service runs, exactly as its manifest says (relative paths unresolved): each
 * runtime reads the parts it understands. Fields the manifest gains for runtimes (a
 * container `build`, the `user` to run as) are added here, so that they reach every runtime.
 */
export type Workload = Pick<
  ServiceSpec,
  'run' | 'image' | 'build' | 'entrypoint' | 'cmd' | 'user' | 'resources' | 'placement' | 'volumes'
>;

export interface InstanceSpec {
  /** Unique for the life of the architecture, e.g. `orders-k3x9f2`. Never reused. */
  readonly id: string;
  readonly service: string;
  readonly version: string;
  /** The revision whose spec this instance runs. */
  readonly revision: number;
  readonly workload: Workload;
  /** Absolute folder the workload's relative paths (`run.cwd`, a relative command) resolve against: the manifest's. */
  readonly baseDir: string;
  /** Pets keep their identity and data across restarts; cattle are replaced. */
  readonly mode: ServiceSpec['mode'];
  /** From the manifest; the runtime adds PORT and BATON_* variables. */
  readonly env: Readonly<Record<string, string>>;
  /** Named ports; those without a number are allocated. The first is also `PORT`. */
  readonly ports: readonly { readonly name: string; readonly port?: number | undefined }[];
  /**
   * The services it declares in dependsOn. With a `port` (the edge's listener on the node's
   * data plane, filled in before the runtime is asked), each becomes a variable holding a
   * base URL, and `${services.NAME.url}` in `env` resolves to it; the runtime says at which
   * host its instances reach the data plane.
   */
  readonly dependencies?: readonly DependencyAddress[] | undefined;
  /** The service's egress listener on the data plane (BATON_EGRESS_URL), where requests name their callee. */
  readonly egressPort?: number | undefined;
  /** `auto`: a Node service is traced from inside (OpenTelemetry's auto-instrumentation). */
  readonly telemetry?: 'auto' | 'off' | undefined;
  /** A host folder holding its config file, for a container runtime to bind read-only (BATON_CONFIG_FILE is inside). */
  readonly configMount?: { readonly source: string; readonly target: string } | undefined;
}

export interface DependencyAddress {
  readonly service: string;
  /** e.g. HOTEL_URL. */
  readonly variable: string;
  /** The consumer's dependsOn range: the edge's listener only reaches provider instances within it. */
  readonly range: string;
  readonly port?: number | undefined;
}

/** What `admit` looks at: a service of a manifest about to be applied. */
export interface AdmissionRequest {
  readonly service: string;
  readonly workload: Workload;
  readonly mode: ServiceSpec['mode'];
  /** As in InstanceSpec. */
  readonly baseDir: string;
  /** The manifest's env (it may set PATH). */
  readonly env: Readonly<Record<string, string>>;
}

/** Why a runtime cannot run a workload (`error`), or will not honour part of it (`warning`). */
export interface Refusal {
  readonly severity: Severity;
  readonly code: RefusalCode;
  /** The field of the service it is about, e.g. ['image'], ['run', 'cwd']. */
  readonly field: FieldPath;
  readonly message: string;
  readonly hint?: string | undefined;
}

/** Codes of refusals; stable, like the manifest's problem codes. */
export const REFUSAL_CODES = {
  'runtime-unsupported':
    'The workload needs what this runtime does not have (an `image` on the process runtime).',
  'run-cwd-missing': "`run.cwd` names a folder that does not exist on the runtime's machine.",
  'command-not-found': '`run.command` is not on the PATH instances get, nor a file.',
  'script-not-found': 'The script an interpreter is given (`node services/orders.ts`) does not exist.',
  'not-honoured': 'A field this runtime accepts but does not act on (severity warning).',
  'image-missing':
    'The container engine does not have `image`, and Baton never pulls: load it or declare `build`.',
  'build-context-missing': "`build.context` (or its Dockerfile) does not exist on the runtime's machine.",
} as const;

export type RefusalCode = keyof typeof REFUSAL_CODES;

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
  /** The machine or cluster node it runs on. */
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
      /** The kernel killed it for going over its memory limit (runtimes that set one). */
      readonly outOfMemory?: boolean | undefined;
      /** ISO 8601. */
      readonly at: string;
    };

export interface StopOptions {
  /** Time between SIGTERM (or its equivalent) and the forced kill. */
  readonly graceMs: number;
}

export interface LogQuery {
  readonly service: string;
  /** One instance, live or gone. Without it: the service's live instances. */
  readonly instance?: string | undefined;
  /** With no `instance`: every instance that left logs, gone ones included. */
  readonly all?: boolean | undefined;
  /** How many of the most recent lines to return first, across the instances, oldest first. */
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
  /** `process`, `simulated`, `docker`… */
  readonly name: string;
  /**
   * `shared`: every instance listens on the one address of this machine (local processes), so
   * a fixed port can be held by one instance at a time and two services cannot share one.
   * `per-instance`: each instance has an address of its own (containers), so a fixed port is
   * only the port it listens on inside, free to every instance.
   */
  readonly addressing: 'shared' | 'per-instance';
  /**
   * Plan time: what this runtime cannot run in a service's workload, or will not honour.
   * Nothing (or only warnings) means it can run it. Never throws for a bad workload.
   */
  admit(request: AdmissionRequest): Promise<readonly Refusal[]>;
  /**
   * Starts an instance; resolves once the runtime has started it (not once it is healthy).
   * Rejects with a BatonError: `runtime-refused` (a workload it cannot run) and
   * `instance-unstartable` (a command or folder missing, not executable: a hint names it)
   * are terminal; `instance-start-failed` (anything else) may succeed when tried again.
   */
  start(spec: InstanceSpec): Promise<RunningInstance>;
  /** Stops gracefully, then forcibly after `graceMs`; resolves once it is gone. Unknown ids resolve at once. */
  stop(id: string, options: StopOptions): Promise<void>;
  /** Every instance this runtime's owner started that is still alive — including ones started before a control-plane restart. */
  list(): Promise<RunningInstance[]>;
  /**
   * The TCP ports the instance's own processes listen on, when the runtime can tell (the
   * process runtime reads Linux /proc); undefined when it cannot. Health uses it so that a
   * probe answered by another process — an old instance still holding a fixed port — never
   * makes this one ready. Required, so that a runtime wrapping another cannot drop it.
   */
  listening(id: string): Promise<readonly number[] | undefined>;
  /** Facts as they happen. An exit is reported at once, never at the next poll of a health check. */
  subscribe(listener: (event: RuntimeEvent) => void): () => void;
  logs(query: LogQuery): AsyncIterable<LogLine>;
  /** Stops watching and releases resources. Leaves instances running (see `stop`). */
  close(): Promise<void>;
}
