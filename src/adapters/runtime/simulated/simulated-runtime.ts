// An in-memory runtime for scale benchmarks and deterministic fault tests only: never the
// default, never for running real services (nothing runs; instances are entries in a Map).
//
// Everything happens on the injected clock (usually a FakeClock), in a fixed order, with
// no randomness: the same calls give the same addresses, ports and events. Faults are
// injected through options (`failStart`, `exitAfterMs`) and methods (`kill`, `crash`).
//
// Built for 100,000 instances: one compact entry per instance in plain Maps, and one clock
// timer per distinct due time rather than one per instance (a FakeClock gives the event
// loop a turn after every timer it fires, so 100,000 of them cost 100,000 turns).
import { BatonError } from '../../../domain/errors.ts';
import type { Clock, Timer } from '../../../ports/clock.ts';
import type {
  AdmissionRequest,
  InstanceSpec,
  LogLine,
  LogQuery,
  RunningInstance,
  Runtime,
  Refusal,
  RuntimeEvent,
  StopOptions,
} from '../../../ports/runtime.ts';

export interface SimulatedRuntimeOptions {
  readonly clock: Clock;
  /** Clock time between `start` and `started`. Default 50 ms. */
  readonly startLatencyMs?: number | undefined;
  /** Clock time an instance takes to exit after SIGTERM; at most the stop's `graceMs`. Default 10 ms. */
  readonly stopLatencyMs?: number | undefined;
  /** Default `simulated`. */
  readonly node?: string | undefined;
  /**
   * An error message makes that start reject (after the start latency), as
   * `instance-start-failed`; a BatonError, as itself (e.g. a terminal `instance-unstartable`).
   */
  readonly failStart?: ((spec: InstanceSpec) => string | BatonError | undefined) | undefined;
  /** A number makes that instance crash that long after it started. */
  readonly exitAfterMs?: ((spec: InstanceSpec) => number | undefined) | undefined;
  /** The exit code of those crashes. Default 1. */
  readonly exitCode?: ((spec: InstanceSpec) => number | undefined) | undefined;
  /** Lines kept per instance for `logs()`; the oldest go first. Default 1,000. */
  readonly logLines?: number | undefined;
}

const Phase = { starting: 0, running: 1, stopping: 2 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

interface Simulated {
  readonly spec: InstanceSpec;
  /** Sequence number: gives the address. */
  readonly seq: number;
  readonly port: number;
  readonly ports: Readonly<Record<string, number>>;
  phase: Phase;
  /** Set once started: what `list()` and the events hand out, built once. */
  view: RunningInstance | undefined;
}

type Task =
  | { readonly kind: 'start'; readonly id: string }
  | {
      readonly kind: 'exit';
      readonly id: string;
      readonly code: number | null;
      readonly signal: string | null;
    };

interface PendingStart {
  readonly resolve: (instance: RunningInstance) => void;
  readonly reject: (error: Error) => void;
}

interface Follower {
  readonly line: (service: string, line: LogLine) => void;
  readonly closed: () => void;
}

interface InstanceLog {
  readonly service: string;
  /** With the order they were written in, across instances. */
  readonly lines: (LogLine & { readonly seq: number })[];
}

const FIRST_PORT = 20_000;
const PORT_RANGE = 40_000;

export function createSimulatedRuntime(options: SimulatedRuntimeOptions): SimulatedRuntime {
  return new SimulatedRuntime(options);
}

export class SimulatedRuntime implements Runtime {
  readonly name = 'simulated';
  // Simulates local processes: one address, fixed ports held by one instance at a time.
  readonly addressing = 'shared';
  readonly #options: SimulatedRuntimeOptions;
  readonly #clock: Clock;
  readonly #startLatencyMs: number;
  readonly #stopLatencyMs: number;
  readonly #node: string;
  readonly #logLines: number;
  readonly #instances = new Map<string, Simulated>();
  readonly #pendingStarts = new Map<string, PendingStart>();
  readonly #stopWaiters = new Map<string, (() => void)[]>();
  /** Due time (ms) → tasks, in the order they were scheduled. */
  readonly #due = new Map<number, Task[]>();
  readonly #timers = new Map<number, Timer>();
  readonly #listeners = new Set<(event: RuntimeEvent) => void>();
  readonly #logs = new Map<string, InstanceLog>();
  readonly #followers = new Set<Follower>();
  /** `address:port` → instance id, for the simulated prober. */
  readonly #endpoints = new Map<string, string>();
  /** Instances whose health probes are made to fail (fault injection). */
  readonly #failingHealth = new Set<string>();
  #seq = 0;
  #logSeq = 0;
  #portSeq = 0;
  #closed = false;

  constructor(options: SimulatedRuntimeOptions) {
    this.#options = options;
    this.#clock = options.clock;
    this.#startLatencyMs = options.startLatencyMs ?? 50;
    this.#stopLatencyMs = options.stopLatencyMs ?? 10;
    this.#node = options.node ?? 'simulated';
    this.#logLines = options.logLines ?? 1_000;
  }

  /** Nothing runs, so everything can: `run`, an image, or both. */
  admit(_request: AdmissionRequest): Promise<readonly Refusal[]> {
    return Promise.resolve([]);
  }

  start(spec: InstanceSpec): Promise<RunningInstance> {
    if (this.#closed) return Promise.reject(new Error('the simulated runtime is closed'));
    if (this.#instances.has(spec.id))
      return Promise.reject(new Error(`instance ${spec.id} is already running`));
    const seq = ++this.#seq;
    const ports: Record<string, number> = {};
    for (const { name, port } of spec.ports) ports[name] = port ?? this.#nextPort();
    const first = spec.ports[0];
    const port = first === undefined ? this.#nextPort() : ports[first.name]!;
    this.#instances.set(spec.id, { spec, seq, port, ports, phase: Phase.starting, view: undefined });
    const { promise, resolve, reject } = Promise.withResolvers<RunningInstance>();
    this.#pendingStarts.set(spec.id, { resolve, reject });
    this.#schedule(this.#startLatencyMs, { kind: 'start', id: spec.id });
    return promise;
  }

  stop(id: string, options: StopOptions): Promise<void> {
    const instance = this.#instances.get(id);
    if (instance === undefined) return Promise.resolve();
    if (instance.phase === Phase.starting) {
      // Never reported as started, so no exit to report either.
      this.#instances.delete(id);
      this.#settleStart(id, new Error(`instance ${id} was stopped before it started`));
      return Promise.resolve();
    }
    let waiters = this.#stopWaiters.get(id);
    if (waiters === undefined) {
      waiters = [];
      this.#stopWaiters.set(id, waiters);
      instance.phase = Phase.stopping;
      const after = Math.min(this.#stopLatencyMs, options.graceMs);
      this.#schedule(after, { kind: 'exit', id, code: null, signal: 'SIGTERM' });
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    waiters.push(resolve);
    return promise;
  }

  async list(): Promise<RunningInstance[]> {
    const running: RunningInstance[] = [];
    for (const instance of this.#instances.values()) {
      if (instance.view !== undefined) running.push(instance.view);
    }
    return running;
  }

  /** Simulated instances have no sockets to check. */
  listening(): Promise<readonly number[] | undefined> {
    return Promise.resolve(undefined);
  }

  subscribe(listener: (event: RuntimeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Lines given to `write` by live instances (or all, or the one named), the last `tail` across them, in order. */
  async *logs(query: LogQuery): AsyncIterable<LogLine> {
    const matches = (service: string, instance: string) =>
      service === query.service && (query.instance === undefined || query.instance === instance);
    const queue: LogLine[] = [];
    let wake: (() => void) | undefined;
    let closed = false;
    const follower: Follower = {
      line: (service, line) => {
        if (!matches(service, line.instance)) return;
        queue.push(line);
        wake?.();
      },
      closed: () => {
        closed = true;
        wake?.();
      },
    };
    const onAbort = () => wake?.();
    if (query.follow === true) {
      this.#followers.add(follower);
      query.signal?.addEventListener('abort', onAbort, { once: true });
    }
    const aborted = () => closed || query.signal?.aborted === true;
    try {
      const live = (id: string) => this.#instances.get(id)?.phase === Phase.running;
      const history = [...this.#logs]
        .filter(([id, log]) => matches(log.service, id))
        .filter(([id]) => query.instance !== undefined || query.all === true || live(id))
        .flatMap(([, log]) => log.lines)
        .sort((a, b) => a.seq - b.seq)
        .map(({ instance, stream, line }): LogLine => ({ instance, stream, line }));
      yield* query.tail === undefined ? history : history.slice(Math.max(0, history.length - query.tail));
      while (query.follow === true && !aborted()) {
        if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        while (queue.length > 0 && !aborted()) yield queue.shift()!;
      }
    } finally {
      this.#followers.delete(follower);
      query.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Pending starts reject and pending stops resolve; instances stay as they are. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers.values()) timer.cancel();
    this.#timers.clear();
    this.#due.clear();
    for (const id of [...this.#pendingStarts.keys()])
      this.#settleStart(id, new Error('the simulated runtime closed'));
    for (const waiters of this.#stopWaiters.values()) for (const resolve of waiters) resolve();
    this.#stopWaiters.clear();
    this.#listeners.clear();
    for (const follower of this.#followers) follower.closed();
    this.#followers.clear();
  }

  // ---- fault injection and test hooks

  /** Kills a started instance from outside (the OOM killer, an operator): it exits at once. */
  kill(id: string, signal: string = 'SIGKILL'): boolean {
    return this.#exit(id, null, signal);
  }

  /** Makes a started instance exit by itself, at once, with `code`. */
  crash(id: string, code = 1): boolean {
    return this.#exit(id, code, null);
  }

  /** Records a line as if the instance had written it. */
  write(id: string, line: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    const instance = this.#instances.get(id);
    let log = this.#logs.get(id);
    if (log === undefined) {
      if (instance === undefined) throw new Error(`unknown instance ${id}`);
      log = { service: instance.spec.service, lines: [] };
      this.#logs.set(id, log);
    }
    const entry: LogLine = { instance: id, stream, line };
    log.lines.push({ ...entry, seq: ++this.#logSeq });
    if (log.lines.length > this.#logLines) log.lines.shift();
    for (const follower of this.#followers) follower.line(log.service, entry);
  }

  /** The environment a real runtime would have given the instance. */
  environment(id: string): Record<string, string> | undefined {
    const instance = this.#instances.get(id);
    if (instance === undefined) return undefined;
    const { spec } = instance;
    const env: Record<string, string> = { ...spec.env };
    for (const [name, port] of Object.entries(instance.ports))
      env[`PORT_${name.toUpperCase().replaceAll('-', '_')}`] = String(port);
    env.PORT = String(instance.port);
    env.BATON_SERVICE = spec.service;
    env.BATON_INSTANCE = spec.id;
    env.BATON_VERSION = spec.version;
    env.BATON_REVISION = String(spec.revision);
    return env;
  }

  // ---- internals

  #nextPort(): number {
    return FIRST_PORT + (this.#portSeq++ % PORT_RANGE);
  }

  #schedule(afterMs: number, task: Task): void {
    const at = this.#clock.now().getTime() + afterMs;
    const tasks = this.#due.get(at);
    if (tasks !== undefined) {
      tasks.push(task);
      return;
    }
    this.#due.set(at, [task]);
    this.#timers.set(
      at,
      this.#clock.setTimeout(() => this.#run(at), afterMs),
    );
  }

  #run(at: number): void {
    const tasks = this.#due.get(at) ?? [];
    this.#due.delete(at);
    this.#timers.delete(at);
    for (const task of tasks) {
      if (task.kind === 'start') this.#started(task.id);
      else this.#exit(task.id, task.code, task.signal);
    }
  }

  /** Whether a live instance answers at this address and port with a passing health check. */
  serving(address: string, port: number): boolean {
    const id = this.#endpoints.get(`${address}:${port}`);
    return id !== undefined && !this.#failingHealth.has(id);
  }

  /** Fault injection: the instance keeps running, but its health checks fail (or pass again). */
  failHealth(id: string, failing = true): void {
    if (failing) this.#failingHealth.add(id);
    else this.#failingHealth.delete(id);
  }

  #started(id: string): void {
    const instance = this.#instances.get(id);
    if (instance === undefined || instance.phase !== Phase.starting) return;
    const failure = this.#options.failStart?.(instance.spec);
    if (failure !== undefined) {
      this.#instances.delete(id);
      this.#settleStart(
        id,
        failure instanceof BatonError ? failure : new BatonError('instance-start-failed', failure),
      );
      return;
    }
    instance.phase = Phase.running;
    const view = this.#view(instance);
    instance.view = view;
    this.#endpoints.set(`${view.address}:${view.port}`, id);
    this.#emit({ type: 'started', instance: view });
    this.#settleStart(id, view);
    const exitAfter = this.#options.exitAfterMs?.(instance.spec);
    if (exitAfter !== undefined) {
      const code = this.#options.exitCode?.(instance.spec) ?? 1;
      this.#schedule(exitAfter, { kind: 'exit', id, code, signal: null });
    }
  }

  #settleStart(id: string, outcome: RunningInstance | Error): void {
    const pending = this.#pendingStarts.get(id);
    this.#pendingStarts.delete(id);
    if (outcome instanceof Error) pending?.reject(outcome);
    else pending?.resolve(outcome);
  }

  #exit(id: string, code: number | null, signal: string | null): boolean {
    const instance = this.#instances.get(id);
    if (instance === undefined || instance.phase === Phase.starting) return false;
    this.#instances.delete(id);
    if (instance.view) this.#endpoints.delete(`${instance.view.address}:${instance.view.port}`);
    this.#failingHealth.delete(id);
    const service = instance.spec.service;
    this.#emit({ type: 'exited', id, service, code, signal, at: this.#clock.now().toISOString() });
    const waiters = this.#stopWaiters.get(id);
    this.#stopWaiters.delete(id);
    for (const resolve of waiters ?? []) resolve();
    return true;
  }

  #view(instance: Simulated): RunningInstance {
    const { spec, seq } = instance;
    return {
      id: spec.id,
      service: spec.service,
      version: spec.version,
      revision: spec.revision,
      address: `10.${(seq >> 16) & 255}.${(seq >> 8) & 255}.${seq & 255}`,
      port: instance.port,
      ports: instance.ports,
      node: this.#node,
      startedAt: this.#clock.now().toISOString(),
    };
  }

  #emit(event: RuntimeEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        // A faulty listener must not break the bookkeeping of the others; its error still surfaces.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
