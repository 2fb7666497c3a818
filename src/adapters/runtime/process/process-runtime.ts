// The default runtime: each instance is a local child process.
//
// Instances must outlive the control plane (`baton server` crash semantics: they keep
// serving, and the next control plane adopts them). So each child leads its own process
// group, writes its output straight into files (never a pipe to us, which would break or
// block when we die), and is unref'd. What ties a process to us across a restart is on
// disk: an instance record with the pid *and its start time* (pids get reused), and, for
// a process spawned just before a crash that left no record, the `BATON_OWNER` mark in its
// environment (a digest of the state folder: an instance is never told where that is).
//
// Exits: our own children report through the `exit` event, at once; adopted processes are
// not our children, so they are polled.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isAbsolute } from 'node:path';
import { BatonError } from '../../../domain/errors.ts';
import { systemClock } from '../../../ports/clock.ts';
import type { Clock, Timer } from '../../../ports/clock.ts';
import type {
  AdmissionRequest,
  InstanceSpec,
  LogLine,
  LogQuery,
  RunningInstance,
  Runtime,
  RuntimeEvent,
  Refusal,
  StopOptions,
} from '../../../ports/runtime.ts';
import { childEnvironment } from './child-environment.ts';
import { settlesWithin, sleep } from './clock-waits.ts';
import type { InstanceMeta, InstanceRecord, LogStream } from './instance-files.ts';
import {
  deleteRecord,
  instanceDir,
  instanceIds,
  instancesDir,
  logPath,
  readMeta,
  readRecord,
  writeMeta,
  writeRecord,
} from './instance-files.ts';
import { fileSize, lastLines, linesSince, rotatedPath, rotateIfLarger, wholeLinesEnd } from './log-files.ts';
import { scanOwnedProcesses, signal } from './owned-processes.ts';
import type { OwnedProcessDetail } from './owned-processes.ts';
import { operatorPath } from './operator-path.ts';
import { PortAllocator } from './port-allocator.ts';
import {
  groupMembers,
  isGone,
  procAvailable,
  readProcStat,
  readProcStatSync,
  startedAtFromTicks,
} from './proc-fs.ts';
import { isDirectory, lookupCommand, runCommand, runCwd } from './run-paths.ts';
import { listeningPorts } from './listening-ports.ts';
import { missingScript } from './script-argument.ts';
import { instanceIdentity } from './run-as.ts';

export { findOwnedProcesses } from './owned-processes.ts';
export type { OwnedProcess } from './owned-processes.ts';

export interface ProcessRuntimeOptions {
  /** Absolute: Baton's state folder. Instances live under `<stateDir>/instances/<id>/`. */
  readonly stateDir: string;
  /** Given to instances as BATON_SERVER: one URL, or asked at each start (several replicas, comma-separated). */
  readonly serverUrl?: string | (() => Promise<string>) | undefined;
  /** Each instance's BATON_TOKEN: its service's own token (discovery and its spans), never the admin token. */
  readonly tokenFor?: ((service: string) => string) | undefined;
  /** Where instances are reached; ports are allocated on it. Default 127.0.0.1. */
  readonly host?: string | undefined;
  /** Where instances reach the node's data plane (their dependencies' addresses). Default 127.0.0.1. */
  readonly dataPlaneHost?: string | undefined;
  /** What `telemetry: auto` adds to an instance's environment. */
  readonly autoTelemetry?: ((env: Readonly<Record<string, string>>) => Record<string, string>) | undefined;
  /** Default: this machine's hostname. */
  readonly node?: string | undefined;
  /** Size past which a log file is rotated. Default 10 MiB. */
  readonly logMaxBytes?: number | undefined;
  /** Rotated files kept per log. Default 3. */
  readonly logFiles?: number | undefined;
  /** How often log sizes are checked. Default 5 s. */
  readonly logCheckMs?: number | undefined;
  readonly clock?: Clock | undefined;
  /**
   * The control plane's environment, of which instances get a few variables (PATH without
   * what npm put in front of it). Default: this process's.
   */
  readonly environment?: Readonly<Record<string, string | undefined>> | undefined;
  /** Whether this process is root: then instances run as their `user`, `nobody` by default. Default: getuid() === 0. */
  readonly asRoot?: boolean | undefined;
}

const ADOPTED_POLL_MS = 250;
const FOLLOW_POLL_MS = 200;
const LEFTOVER_POLL_MS = 25;
/** How long SIGKILLed leftovers may take to die before stop gives up waiting on them. */
const LEFTOVER_KILL_WAIT_MS = 2_000;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

interface Tracked {
  readonly instance: RunningInstance & { readonly pid: number };
  readonly pgid: number;
  readonly startTicks: string | null;
  /** Our child (its `exit` event tells) or adopted after a restart (polled). */
  readonly own: boolean;
  /** Resolves once the process is gone. */
  readonly gone: Promise<void>;
  readonly markGone: () => void;
  /** False while `start` has not reported it yet: `list()` leaves it out until then. */
  announced: boolean;
  ended: boolean;
  stopping?: Promise<void>;
  recordRemoved?: Promise<void>;
}

interface LogSource {
  readonly instance: string;
  readonly stream: LogStream;
  readonly path: string;
  offset: number;
}

export async function createProcessRuntime(options: ProcessRuntimeOptions): Promise<ProcessRuntime> {
  if (!isAbsolute(options.stateDir)) throw new Error(`stateDir must be absolute, got ${options.stateDir}`);
  await mkdir(instancesDir(options.stateDir), { recursive: true });
  return new ProcessRuntime(options, await procAvailable());
}

export class ProcessRuntime implements Runtime {
  readonly name = 'process';
  readonly addressing = 'shared';
  readonly #stateDir: string;
  readonly #options: ProcessRuntimeOptions;
  readonly #clock: Clock;
  readonly #host: string;
  readonly #node: string;
  readonly #logMaxBytes: number;
  readonly #logFiles: number;
  readonly #logCheckMs: number;
  /** What instances inherit: the operator's environment, PATH without npm's folders. */
  readonly #inherited: Readonly<Record<string, string | undefined>>;
  readonly #ports: PortAllocator;
  /** Linux /proc is there: start times, zombies and environment marks can be read. */
  readonly #proc: boolean;
  readonly #instances = new Map<string, Tracked>();
  /** Ids between `start` and their spawn, so that a second start of one id fails at once. */
  readonly #starting = new Set<string>();
  readonly #listeners = new Set<(event: RuntimeEvent) => void>();
  #adoption: Promise<void> | undefined;
  #pollTimer: Timer | undefined;
  #rotationTimer: Timer | undefined;
  #closed = false;

  /** Use `createProcessRuntime`, which prepares the state folder. */
  constructor(options: ProcessRuntimeOptions, proc: boolean) {
    this.#options = options;
    this.#stateDir = options.stateDir;
    this.#clock = options.clock ?? systemClock;
    this.#host = options.host ?? '127.0.0.1';
    this.#node = options.node ?? hostname();
    this.#logMaxBytes = options.logMaxBytes ?? 10 * 1024 * 1024;
    this.#logFiles = options.logFiles ?? 3;
    this.#logCheckMs = options.logCheckMs ?? 5_000;
    const environment = options.environment ?? process.env;
    this.#inherited = { ...environment, PATH: operatorPath(environment) };
    this.#ports = new PortAllocator(this.#host, this.#clock);
    this.#proc = proc;
    this.#scheduleRotation();
  }

  /** A local process needs `run`; its folder and command must exist here. Volumes are not mounted. */
  async admit(request: AdmissionRequest): Promise<readonly Refusal[]> {
    const { run, image, volumes } = request.workload;
    if (run === undefined) return [imageOnly(image)];
    const refusals: Refusal[] = [];
    if (volumes.length > 0) {
      refusals.push({
        severity: 'warning',
        code: 'not-honoured',
        field: ['volumes'],
        message: 'the process runtime mounts no volumes: instances write to their working directory',
        hint: 'keep pet data under `run.cwd`, or run the service on a container runtime',
      });
    }
    const cwd = runCwd(run, request.baseDir);
    if (!(await isDirectory(cwd))) {
      refusals.push({
        severity: 'error',
        code: 'run-cwd-missing',
        field: run.cwd === undefined ? ['run'] : ['run', 'cwd'],
        message: `working directory ${cwd} does not exist`,
        hint: '`run.cwd` is relative to the manifest file; create the folder or correct the path',
      });
      return refusals;
    }
    const command = runCommand(run, cwd);
    const found = await lookupCommand(command, request.env['PATH'] ?? this.#inherited['PATH']);
    if (!found.found) refusals.push(commandRefusal(run.command, command, found.path));
    const missing = await missingScript(run.command, run.args, cwd);
    if (missing !== undefined)
      refusals.push({
        severity: 'error',
        code: 'script-not-found',
        field: ['run', 'args', missing.index],
        message: `script \`${missing.script}\` not found: ${missing.path} does not exist`,
        hint: SCRIPT_HINT,
      });
    return refusals;
  }

  async start(spec: InstanceSpec): Promise<RunningInstance> {
    if (this.#closed) throw new Error('the process runtime is closed');
    if (!ID_PATTERN.test(spec.id))
      throw new Error(`instance id ${JSON.stringify(spec.id)} is not a safe name`);
    if (this.#instances.has(spec.id) || this.#starting.has(spec.id))
      throw new Error(`instance ${spec.id} is already running`);
    this.#starting.add(spec.id);
    try {
      return await this.#start(spec);
    } finally {
      this.#starting.delete(spec.id);
    }
  }

  async #start(spec: InstanceSpec): Promise<RunningInstance> {
    const run = spec.workload.run;
    if (run === undefined) {
      const refusal = imageOnly(spec.workload.image);
      throw new BatonError('runtime-refused', `cannot start ${spec.id}: ${refusal.message}`, {
        hint: refusal.hint,
      });
    }
    const cwd = runCwd(run, spec.baseDir);
    await assertDirectory(cwd, spec);
    const identity = await instanceIdentity(spec.workload.user, {
      asRoot: this.#options.asRoot ?? process.getuid?.() === 0,
    });
    // The interpreter would start, print `Cannot find module` and die: say so instead, once.
    const missing = await missingScript(run.command, run.args, cwd);
    if (missing !== undefined)
      throw new BatonError(
        'instance-unstartable',
        `cannot start ${spec.id}: script ${missing.script} not found (${missing.path} does not exist)`,
        { hint: SCRIPT_HINT },
      );
    const { ports, primaryPort } = await this.#assignPorts(spec.ports);
    const startedAt = this.#clock.now().toISOString();
    await writeMeta(this.#stateDir, { id: spec.id, service: spec.service, startedAt });

    const env = childEnvironment({
      spec,
      ports,
      primaryPort,
      stateDir: this.#stateDir,
      serverUrl:
        typeof this.#options.serverUrl === 'function'
          ? await this.#options.serverUrl()
          : this.#options.serverUrl,
      tokenFor: this.#options.tokenFor,
      inherited: this.#inherited,
      dataPlaneHost: this.#options.dataPlaneHost ?? '127.0.0.1',
      autoTelemetry: this.#options.autoTelemetry,
    });
    const command = runCommand(run, cwd);
    const stdout = await open(logPath(this.#stateDir, spec.id, 'stdout'), 'a');
    const stderr = await open(logPath(this.#stateDir, spec.id, 'stderr'), 'a');
    // The child holds its own copies of the descriptors once spawned.
    const closeLogs = () => Promise.all([stdout.close(), stderr.close()]);
    const abandon = async (error: unknown) => {
      await closeLogs();
      await rm(instanceDir(this.#stateDir, spec.id), { recursive: true, force: true });
      return spawnFailure(spec, command, cwd, error);
    };
    let child: ChildProcess;
    try {
      child = spawn(command, [...run.args], {
        cwd,
        env,
        ...identity,
        detached: true,
        stdio: ['ignore', stdout.fd, stderr.fd],
      });
    } catch (error) {
      throw await abandon(error);
    }
    // Everything up to the first await is synchronous on purpose: a failed spawn emits `error`
    // on the next tick, and a child that dies at once may be reaped (its `exit` emitted, its
    // /proc entry gone) as soon as the event loop turns.
    let spawnError: unknown;
    child.on('error', (error) => {
      spawnError ??= error;
    });
    const pid = child.pid;
    if (pid === undefined) {
      if (spawnError === undefined) await once(child, 'error');
      throw await abandon(spawnError);
    }
    const startTicks = this.#proc ? (readProcStatSync(pid)?.startTicks ?? null) : null;
    child.unref();
    const instance = {
      id: spec.id,
      service: spec.service,
      version: spec.version,
      revision: spec.revision,
      address: this.#host,
      port: primaryPort,
      ports,
      node: this.#node,
      pid,
      startedAt,
    };
    const tracked = this.#track({ instance, pgid: pid, startTicks }, true);
    // An exit during the record write is reported after `started`, never before it.
    const { promise: reported, resolve: markReported } = Promise.withResolvers<void>();
    child.once(
      'exit',
      (code, signalName) => void reported.then(() => this.#ended(tracked, code, signalName)),
    );
    await closeLogs();
    try {
      await writeRecord(this.#stateDir, { instance, pgid: pid, startTicks });
    } catch (error) {
      // Without a record a restart could still find it, but this start has failed: leave nothing behind.
      signal(-pid, 'SIGKILL');
      markReported();
      await tracked.gone;
      throw new BatonError('instance-start-failed', `could not record instance ${spec.id}`, { cause: error });
    }
    tracked.announced = true;
    this.#emit({ type: 'started', instance });
    markReported();
    return instance;
  }

  async stop(id: string, options: StopOptions): Promise<void> {
    let tracked = this.#instances.get(id);
    if (tracked === undefined) {
      await this.#adoptSurvivors();
      tracked = this.#instances.get(id);
    }
    if (tracked === undefined) return;
    tracked.stopping ??= this.#terminate(tracked, options.graceMs);
    return tracked.stopping;
  }

  async list(): Promise<RunningInstance[]> {
    await this.#adoptSurvivors();
    return [...this.#instances.values()].filter((t) => t.announced).map((t) => t.instance);
  }

  async listening(id: string): Promise<readonly number[] | undefined> {
    const tracked = this.#instances.get(id);
    if (!this.#proc || tracked === undefined) return undefined;
    return listeningPorts(await groupMembers(tracked.pgid));
  }

  subscribe(listener: (event: RuntimeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /**
   * Lines of the service's live instances (all of them with `all`, or the one named), the last
   * `tail` across them. Lines carry no time here (instances write straight into their files),
   * so files are ordered by when each was last written, each file's lines in their order: the
   * most recent output comes last. With `follow`, then streams new lines, including those of
   * instances started meanwhile.
   */
  async *logs(query: LogQuery): AsyncIterable<LogLine> {
    const follow = query.follow === true;
    const aborted = () => this.#closed || query.signal?.aborted === true;
    const sources: LogSource[] = [];
    const startedMeanwhile: string[] = [];
    // Listening before reading the folders: an instance started in between is not missed.
    const unsubscribe = follow
      ? this.subscribe((event) => {
          if (event.type !== 'started' || event.instance.service !== query.service) return;
          if (query.instance === undefined || query.instance === event.instance.id)
            startedMeanwhile.push(event.instance.id);
        })
      : () => {};
    try {
      const histories: { readonly lines: LogLine[]; readonly writtenAt: number }[] = [];
      for (const id of await this.#logInstances(query)) {
        for (const stream of ['stdout', 'stderr'] as const) {
          const path = logPath(this.#stateDir, id, stream);
          const size = (await fileSize(path)) ?? 0;
          // When following, a partial last line is held back until it is whole.
          const end = follow ? await wholeLinesEnd(path, size) : size;
          const lines = (await this.#history(path, end, query.tail)).map((line) => ({
            instance: id,
            stream,
            line,
          }));
          const writtenAt = (await stat(path).catch(() => undefined))?.mtimeMs ?? 0;
          histories.push({ lines, writtenAt });
          sources.push({ instance: id, stream, path, offset: end });
        }
      }
      const merged = histories.sort((a, b) => a.writtenAt - b.writtenAt).flatMap((h) => h.lines);
      yield* query.tail === undefined ? merged : merged.slice(Math.max(0, merged.length - query.tail));
      while (follow && !aborted()) {
        await sleep(this.#clock, FOLLOW_POLL_MS, query.signal);
        for (const id of startedMeanwhile.splice(0)) {
          if (sources.some((s) => s.instance === id)) continue;
          for (const stream of ['stdout', 'stderr'] as const)
            sources.push({ instance: id, stream, path: logPath(this.#stateDir, id, stream), offset: 0 });
        }
        for (const source of sources) {
          for (const line of await this.#linesSince(source)) {
            if (aborted()) return;
            yield { instance: source.instance, stream: source.stream, line };
          }
        }
      }
    } finally {
      unsubscribe();
    }
  }

  /** Stops polling and watching; instances keep running, for the next control plane to adopt. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#pollTimer?.cancel();
    this.#rotationTimer?.cancel();
    this.#listeners.clear();
  }

  // ---- instances

  #track(record: InstanceRecord, own: boolean): Tracked {
    const { promise: gone, resolve: markGone } = Promise.withResolvers<void>();
    const tracked: Tracked = { ...record, own, gone, markGone, announced: !own, ended: false };
    this.#instances.set(record.instance.id, tracked);
    if (!own) this.#schedulePoll();
    return tracked;
  }

  #ended(tracked: Tracked, code: number | null, signalName: string | null): void {
    if (tracked.ended) return;
    tracked.ended = true;
    if (this.#instances.get(tracked.instance.id) === tracked) this.#instances.delete(tracked.instance.id);
    // Once closed we are as good as dead: the next control plane finds the stale record and
    // cleans up; acting here would hide from the tests what a real crash leaves behind.
    if (!this.#closed) {
      // A record left behind by a failure here is found stale at the next restart and removed.
      tracked.recordRemoved = deleteRecord(this.#stateDir, tracked.instance.id).catch(() => {});
      // An instance that died by itself may leave children: nothing would ever stop them.
      if (tracked.stopping === undefined) void this.#killLeftovers(tracked, this.#clock.now().getTime());
      if (tracked.announced) {
        const { id, service } = tracked.instance;
        this.#emit({
          type: 'exited',
          id,
          service,
          code,
          signal: signalName,
          at: this.#clock.now().toISOString(),
        });
      }
    }
    tracked.markGone();
  }

  async #terminate(tracked: Tracked, graceMs: number): Promise<void> {
    const deadline = this.#clock.now().getTime() + graceMs;
    await this.#signalGroup(tracked, 'SIGTERM');
    if (!(await settlesWithin(this.#clock, tracked.gone, graceMs)))
      await this.#signalGroup(tracked, 'SIGKILL');
    await tracked.gone;
    await this.#killLeftovers(tracked, deadline);
    await tracked.recordRemoved;
  }

  /**
   * Signals the instance's process group, unless it is known to be gone: then its group id may
   * already belong to someone else. An adopted process is only polled, so it is checked first.
   */
  async #signalGroup(tracked: Tracked, name: NodeJS.Signals): Promise<void> {
    if (tracked.ended) return;
    if (!tracked.own && !(await this.#isAlive(tracked.instance.pid, tracked.startTicks))) return;
    signal(-tracked.pgid, name);
  }

  /**
   * What is left of an instance once its main process is gone (it had the same SIGTERM and may
   * use what remains of the grace), SIGKILLed from `killAt` on; resolves once all are gone.
   */
  async #killLeftovers(tracked: Tracked, killAt: number): Promise<void> {
    if (!this.#proc) {
      // Blind, but safe for our own children: their group id cannot have been reused yet.
      if (tracked.own) signal(-tracked.pgid, 'SIGKILL');
      return;
    }
    const giveUpAt = Math.max(killAt, this.#clock.now().getTime()) + LEFTOVER_KILL_WAIT_MS;
    for (;;) {
      const left = await this.#leftovers(tracked);
      const now = this.#clock.now().getTime();
      if (left.length === 0 || now >= giveUpAt) return;
      if (now >= killAt) for (const pid of left) signal(pid, 'SIGKILL');
      await sleep(this.#clock, LEFTOVER_POLL_MS);
    }
  }

  /**
   * Live processes of an instance: those carrying its mark, wherever they are (a child may
   * have left the group), and for our own children the rest of the group too (a child may have
   * cleared its environment). Not for adopted ones: they are found gone up to a poll late, by
   * when an emptied group's id may have been reused.
   */
  async #leftovers(tracked: Tracked): Promise<number[]> {
    const marked = (await scanOwnedProcesses(this.#stateDir))
      .filter((p) => p.instance === tracked.instance.id)
      .map((p) => p.pid);
    const members = tracked.own ? await groupMembers(tracked.pgid) : [];
    return [...new Set([...members, ...marked])];
  }

  async #assignPorts(
    declared: InstanceSpec['ports'],
  ): Promise<{ ports: Record<string, number>; primaryPort: number }> {
    const ports: Record<string, number> = {};
    for (const { name, port } of declared) {
      if (port !== undefined) this.#ports.reserve(port);
      ports[name] = port ?? (await this.#ports.allocate());
    }
    const first = declared[0];
    // A service that declares no port still gets a PORT: most servers read it.
    const primaryPort = first === undefined ? await this.#ports.allocate() : ports[first.name]!;
    return { ports, primaryPort };
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

  // ---- adoption after a restart

  #adoptSurvivors(): Promise<void> {
    this.#adoption ??= this.#readRecords()
      .then(() => this.#adoptUnrecorded())
      .catch((error: unknown) => {
        this.#adoption = undefined;
        throw error;
      });
    return this.#adoption;
  }

  /** Adopts the recorded processes still alive (same pid *and* start time); drops the other records. */
  async #readRecords(): Promise<void> {
    await Promise.all(
      (await instanceIds(this.#stateDir)).map(async (id) => {
        if (this.#instances.has(id)) return;
        const record = await readRecord(this.#stateDir, id);
        if (record === undefined) return;
        const alive = record !== 'corrupt' && (await this.#isAlive(record.instance.pid, record.startTicks));
        if (this.#instances.has(id)) return;
        if (alive) this.#track(record, false);
        else await deleteRecord(this.#stateDir, id);
      }),
    );
  }

  /** Processes with our mark but no record: the control plane died between spawn and record. */
  async #adoptUnrecorded(): Promise<void> {
    if (!this.#proc) return;
    const byInstance = Map.groupBy(
      (await scanOwnedProcesses(this.#stateDir)).filter((p) => p.instance !== ''),
      (p) => p.instance,
    );
    for (const [id, processes] of byInstance) {
      if (this.#instances.has(id)) continue;
      // The instance leads its own group for life; what it spawned shares its mark, not the lead.
      const main = processes.find((p) => p.stat.pgrp === p.pid);
      if (main === undefined) {
        // Its main process died while no control plane watched: these are orphans nothing would stop.
        for (const orphan of processes) signal(orphan.pid, 'SIGKILL');
        continue;
      }
      const record = await this.#recordFromEnvironment(main);
      if (this.#instances.has(id)) continue;
      this.#track(record, false);
      // Written so that the next restart adopts it the ordinary way.
      await writeRecord(this.#stateDir, record).catch(() => {});
    }
  }

  async #recordFromEnvironment(owned: OwnedProcessDetail): Promise<InstanceRecord> {
    const ports: Record<string, number> = {};
    for (const [name, value] of owned.env) {
      if (name.startsWith('PORT_')) ports[name.slice(5).toLowerCase().replaceAll('_', '-')] = Number(value);
    }
    const startedAt = (await startedAtFromTicks(owned.stat.startTicks)) ?? this.#clock.now();
    return {
      instance: {
        id: owned.instance,
        service: owned.service,
        version: owned.env.get('BATON_VERSION') ?? '',
        revision: Number(owned.env.get('BATON_REVISION') ?? 0),
        address: this.#host,
        port: Number(owned.env.get('PORT') ?? 0),
        ports,
        node: this.#node,
        pid: owned.pid,
        startedAt: startedAt.toISOString(),
      },
      pgid: owned.stat.pgrp,
      startTicks: owned.stat.startTicks,
    };
  }

  async #isAlive(pid: number, startTicks: string | null): Promise<boolean> {
    if (!this.#proc) {
      try {
        process.kill(pid, 0);
        return true;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    const stat = await readProcStat(pid);
    // A zombie is gone for us (its parent has not reaped it yet); unknown start time is not proof.
    return stat !== undefined && !isGone(stat) && startTicks !== null && stat.startTicks === startTicks;
  }

  #schedulePoll(): void {
    if (this.#pollTimer !== undefined || this.#closed) return;
    this.#pollTimer = this.#clock.setTimeout(() => {
      this.#pollTimer = undefined;
      void this.#pollAdopted();
    }, ADOPTED_POLL_MS);
  }

  async #pollAdopted(): Promise<void> {
    const adopted = [...this.#instances.values()].filter((t) => !t.own);
    await Promise.all(
      adopted.map(async (t) => {
        // Not our child: its exit code went to its real parent; all we know is that it is gone.
        if (!(await this.#isAlive(t.instance.pid, t.startTicks))) this.#ended(t, null, null);
      }),
    );
    if ([...this.#instances.values()].some((t) => !t.own)) this.#schedulePoll();
  }

  // ---- logs

  #scheduleRotation(): void {
    if (this.#closed) return;
    this.#rotationTimer = this.#clock.setTimeout(() => {
      void this.#rotateLogs().then(() => this.#scheduleRotation());
    }, this.#logCheckMs);
  }

  async #rotateLogs(): Promise<void> {
    for (const id of this.#instances.keys()) {
      for (const stream of ['stdout', 'stderr'] as const) {
        // A failed rotation (file removed, disk full) is retried at the next check.
        await rotateIfLarger(logPath(this.#stateDir, id, stream), this.#logMaxBytes, this.#logFiles).catch(
          () => false,
        );
      }
    }
  }

  /** The named instance, or the service's live ones (every one that left logs, with `all`). */
  async #logInstances(query: LogQuery): Promise<string[]> {
    const ids =
      query.instance !== undefined
        ? [query.instance]
        : query.all === true
          ? await instanceIds(this.#stateDir)
          : (await this.list()).map((i) => i.id);
    const metas = await Promise.all(ids.map((id) => readMeta(this.#stateDir, id)));
    return metas
      .filter((meta): meta is InstanceMeta => meta !== undefined && meta.service === query.service)
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id))
      .map((meta) => meta.id);
  }

  /** The last `tail` lines of bytes [0, end) of a log, reaching into its rotated copies if need be. */
  async #history(path: string, end: number, tail: number | undefined): Promise<string[]> {
    let lines = await lastLines(path, end, tail);
    for (let n = 1; n <= this.#logFiles && (tail === undefined || lines.length < tail); n++) {
      const rotated = rotatedPath(path, n);
      const size = await fileSize(rotated);
      if (size === undefined) break;
      lines = [
        ...(await lastLines(rotated, size, tail === undefined ? undefined : tail - lines.length)),
        ...lines,
      ];
    }
    return lines;
  }

  async #linesSince(source: LogSource): Promise<string[]> {
    const size = await fileSize(source.path);
    if (size === undefined) return [];
    const lines: string[] = [];
    if (size < source.offset) {
      // Rotated (copied to .1, then truncated): first what was written before the copy.
      const rotated = rotatedPath(source.path, 1);
      const rotatedSize = await fileSize(rotated);
      if (rotatedSize !== undefined)
        lines.push(...(await linesSince(rotated, source.offset, rotatedSize)).lines);
      source.offset = 0;
    }
    const fresh = await linesSince(source.path, source.offset, size);
    source.offset = fresh.next;
    lines.push(...fresh.lines);
    return lines;
  }
}

async function assertDirectory(cwd: string, spec: InstanceSpec): Promise<void> {
  if (await isDirectory(cwd)) return;
  throw new BatonError(
    'instance-unstartable',
    `cannot start ${spec.id}: working directory ${cwd} does not exist`,
    {
      hint: '`run.cwd` is relative to the manifest file; create the folder or correct the path',
    },
  );
}

const SCRIPT_HINT =
  '`run.args` paths are relative to `run.cwd` (itself relative to the manifest file): create the file or correct the path';

function spawnFailure(spec: InstanceSpec, command: string, cwd: string, error: unknown): BatonError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const what = `cannot start ${spec.id}: command "${command}"`;
  if (code === 'ENOENT')
    return new BatonError('instance-unstartable', `${what} not found`, {
      hint: `looked on the PATH instances get and in working directory ${cwd}; give an absolute path or install it`,
      cause: error,
    });
  if (code === 'EACCES')
    return new BatonError('instance-unstartable', `${what} is not executable`, {
      hint: `chmod +x it, or run it through its interpreter (working directory ${cwd})`,
      cause: error,
    });
  return new BatonError('instance-start-failed', `${what} failed to spawn in ${cwd}: ${String(error)}`, {
    cause: error,
  });
}

function imageOnly(image: string | undefined): Refusal {
  return {
    severity: 'error',
    code: 'runtime-unsupported',
    field: image === undefined ? [] : ['image'],
    message: `the process runtime runs local processes and cannot run ${image === undefined ? 'a service without `run`' : `image ${image}`}`,
    hint: 'add `run: { command, args }` to start it as a local process, or start the control plane with a container runtime',
  };
}

function commandRefusal(written: string, command: string, notExecutable: string | undefined): Refusal {
  return notExecutable === undefined
    ? {
        severity: 'error',
        code: 'command-not-found',
        field: ['run', 'command'],
        message: `command \`${written}\` not found${command === written ? ' on the PATH instances get' : ` (${command})`}`,
        hint: 'give an absolute path, a path relative to `run.cwd` (./bin/server), or install it on the PATH',
      }
    : {
        severity: 'error',
        code: 'command-not-found',
        field: ['run', 'command'],
        message: `command \`${written}\` (${notExecutable}) is not executable`,
        hint: `chmod +x ${notExecutable}, or run it through its interpreter`,
      };
}
