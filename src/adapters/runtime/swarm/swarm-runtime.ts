// The `swarm` runtime: each instance a Swarm service of one task, placed by the cluster's
// scheduler (placement labels, reservations), reached at its node's address on a host-mode
// published port. Baton stays the controller; how it thinks: ARCHITECTURE.md.
import type Docker from 'dockerode';
import { BatonError } from '../../../domain/errors.ts';
import { systemClock } from '../../../ports/clock.ts';
import type { Clock } from '../../../ports/clock.ts';
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
} from '../../../ports/runtime.ts';
import { exitOf } from '../docker/container-config.ts';
import { engineUnreachable } from '../docker/docker-engine.ts';
import { engineCall } from '../docker/engine-call.ts';
import { LineChannel } from '../docker/line-channel.ts';
import { followInto, mergedHistory, type LogSource } from '../docker/engine-logs.ts';
import { hasImage } from '../docker/node-base-image.ts';
import { NodeWatch, type WatchedNode } from './node-watch.ts';
import { instanceOfService, serviceSpec, SWARM_LABEL, swarmPorts } from './service-spec.ts';

export interface SwarmRuntimeOptions {
  /** A manager of the cluster. */
  readonly docker: Docker;
  /** Opaque id of this control plane's state: every service it makes carries it. */
  readonly owner: string;
  /** Where instances reach the data plane: this machine's address as the nodes see it. */
  readonly dataPlaneHost: string;
  /** The control plane as instances reach it: its instance-facing listener. */
  readonly serverUrl?: string | undefined;
  /** Each instance's BATON_TOKEN: its service's own token, never the admin token. */
  readonly tokenFor?: ((service: string) => string) | undefined;
  /** Published ports instances get, one each, cluster-wide. Default 30000–32767. */
  readonly ports?: { readonly from: number; readonly to: number } | undefined;
  /** How often the manager's task list is read for exits. Default 250 ms. */
  readonly pollMs?: number | undefined;
  /** Node probes: interval and misses in a row before a node is lost. Default 500 ms, 2. */
  readonly nodeProbeMs?: number | undefined;
  readonly nodeProbeFailures?: number | undefined;
  /** Until a task runs, at most (no suitable node, a slow start). Default 60 s. */
  readonly startTimeoutMs?: number | undefined;
  /** The stop signal's grace, fixed in each task's spec (Swarm reads it from there). Default 10 s. */
  readonly stopGraceMs?: number | undefined;
  /** Exited instances' services kept per service, for `baton logs` of what died. Default 3. */
  readonly keepExited?: number | undefined;
  readonly clock?: Clock | undefined;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const TERMINAL = new Set(['complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned']);

interface Task {
  readonly ID: string;
  readonly ServiceID: string;
  readonly NodeID?: string;
  readonly CreatedAt: string;
  readonly DesiredState: string;
  readonly Status: {
    readonly State: string;
    readonly Timestamp: string;
    readonly Err?: string;
    readonly Message?: string;
    readonly ContainerStatus?: {
      readonly ContainerID?: string;
      readonly PID?: number;
      readonly ExitCode?: number;
    };
  };
}

interface SwarmNode {
  readonly id: string;
  readonly hostname: string;
  readonly address: string;
}

interface Tracked {
  instance: RunningInstance;
  readonly serviceId: string;
  readonly service: string;
  nodeId: string;
  announced: boolean;
  ended: boolean;
  lastExitCode?: number | undefined;
  readonly gone: Promise<void>;
  readonly markGone: () => void;
  stopping?: Promise<void>;
}

type ServiceInfo = Awaited<ReturnType<Docker['listServices']>>[number];

export async function createSwarmRuntime(options: SwarmRuntimeOptions): Promise<SwarmRuntime> {
  let info: { Swarm?: { ControlAvailable?: boolean; LocalNodeState?: string } };
  try {
    info = (await options.docker.info()) as typeof info;
  } catch (error) {
    throw engineUnreachable('its socket', error);
  }
  if (info.Swarm?.ControlAvailable !== true)
    throw new BatonError(
      'engine-unreachable',
      `the swarm runtime needs a Swarm manager; this engine's swarm state is ${info.Swarm?.LocalNodeState ?? 'unknown'}${info.Swarm?.LocalNodeState === 'active' ? ' (a worker)' : ''}`,
      {
        hint: 'point DOCKER_HOST at a manager (scripts/local-swarm.sh up makes a three-node cluster on this machine; `eval "$(scripts/local-swarm.sh env)"`)',
      },
    );
  const runtime = new SwarmRuntime(options);
  await runtime.refreshNodes();
  runtime.watch();
  return runtime;
}

export class SwarmRuntime implements Runtime {
  readonly name = 'swarm';
  readonly addressing = 'per-instance';
  readonly #o: SwarmRuntimeOptions;
  readonly #docker: Docker;
  readonly #clock: Clock;
  readonly #instances = new Map<string, Tracked>();
  readonly #starting = new Set<string>();
  readonly #listeners = new Set<(event: RuntimeEvent) => void>();
  readonly #nodes = new Map<string, SwarmNode>();
  readonly #portsInUse = new Set<number>();
  readonly #nodeWatch: NodeWatch;
  #nextPort: number;
  #poll: NodeJS.Timeout | undefined;
  #polling = false;
  #nodesReadAt = 0;
  #adoption: Promise<void> | undefined;
  #closed = false;

  /** Use `createSwarmRuntime`, which checks the engine is a manager and starts watching. */
  constructor(options: SwarmRuntimeOptions) {
    this.#o = options;
    this.#docker = options.docker;
    this.#clock = options.clock ?? systemClock;
    this.#nextPort = this.#range.from;
    this.#nodeWatch = new NodeWatch({
      nodes: () => [...this.#nodes.values()].map((n) => ({ id: n.id, address: n.address })),
      onLost: (node) => this.#nodeLost(node),
      onBack: () => {},
      intervalMs: options.nodeProbeMs,
      failures: options.nodeProbeFailures,
    });
  }

  get #range() {
    return this.#o.ports ?? { from: 30000, to: 32767 };
  }

  /** Starts reading tasks for exits and probing nodes. */
  watch(): void {
    this.#poll = setInterval(() => void this.#pollTasks(), this.#o.pollMs ?? 250);
    this.#poll.unref();
    this.#nodeWatch.start();
  }

  async admit(request: AdmissionRequest): Promise<readonly Refusal[]> {
    const { image, build, volumes } = request.workload;
    if (image === undefined)
      return [
        {
          severity: 'error',
          code: 'runtime-unsupported',
          field: [],
          message: 'the swarm runtime runs container images: the service has no `image`',
          hint: 'build it (`baton build`), copy it into every node (scripts/local-swarm.sh load IMAGE), and name it in `image`',
        },
      ];
    const refusals: Refusal[] = [];
    if (!(await this.#engine(`looking for image ${image}`, () => hasImage(this.#docker, image))))
      refusals.push({
        severity: 'error',
        code: 'image-missing',
        field: ['image'],
        message: `image ${image} is not on the Swarm manager, and Baton never pulls`,
        hint: build
          ? 'build it with `baton build`, then copy it into every node (docker save | docker load; scripts/local-swarm.sh load IMAGE)'
          : 'copy it into every node (docker save | docker load; scripts/local-swarm.sh load IMAGE)',
      });
    volumes.forEach((volume, index) => {
      refusals.push({
        severity: 'warning',
        code: 'not-honoured',
        field: ['volumes', index],
        message: `volume ${volume.name} is local to the node an instance runs on: a pet keeps to that node, and stays failed if the node is lost`,
      });
    });
    return refusals;
  }

  async start(spec: InstanceSpec): Promise<RunningInstance> {
    if (this.#closed) throw new BatonError('instance-start-failed', 'the swarm runtime is closed');
    if (!ID_PATTERN.test(spec.id))
      throw new BatonError(
        'instance-unstartable',
        `instance id ${JSON.stringify(spec.id)} is not a safe name`,
      );
    if (this.#instances.has(spec.id) || this.#starting.has(spec.id))
      throw new BatonError('instance-start-failed', `instance ${spec.id} is already running`);
    this.#starting.add(spec.id);
    try {
      return await this.#start(spec);
    } finally {
      this.#starting.delete(spec.id);
    }
  }

  async #start(spec: InstanceSpec): Promise<RunningInstance> {
    const image = spec.workload.image;
    if (image === undefined)
      throw new BatonError('runtime-refused', `${spec.service}: the swarm runtime needs \`image\``);
    if (!(await this.#engine(`looking for image ${image}`, () => hasImage(this.#docker, image))))
      throw new BatonError(
        'instance-unstartable',
        `image ${image} is not on the Swarm manager, and Baton never pulls`,
        {
          hint: 'copy it into every node (docker save | docker load; scripts/local-swarm.sh load IMAGE)',
        },
      );
    // The published ports the owner's services already hold, and the nodes' addresses.
    await this.#adopt();
    await this.refreshNodes(true);
    const pinnedNode = await this.#previousLife(spec);
    const ports = swarmPorts(spec, () => this.#allocatePort());
    const created = await this.#engine(`starting ${spec.id}`, () =>
      this.#docker.createService(serviceSpec(spec, this.#context(pinnedNode), ports)),
    ).catch((error: unknown) => {
      this.#releasePorts(ports.published);
      throw error;
    });
    const serviceId = created.id as string;
    const { promise: gone, resolve: markGone } = Promise.withResolvers<void>();
    const tracked: Tracked = {
      instance: placeholder(spec, ports.published),
      serviceId,
      service: spec.service,
      nodeId: '',
      announced: false,
      ended: false,
      gone,
      markGone,
    };
    this.#instances.set(spec.id, tracked);
    let task: Task;
    try {
      task = await this.#firstRun(spec, serviceId);
    } catch (error) {
      this.#instances.delete(spec.id);
      await this.#removeService(serviceId);
      this.#releasePorts(ports.published);
      throw error;
    }
    await this.refreshNodes(!this.#nodes.has(task.NodeID ?? ''));
    const node = this.#nodes.get(task.NodeID ?? '');
    tracked.nodeId = task.NodeID ?? '';
    tracked.instance = {
      ...tracked.instance,
      address: node?.address ?? '',
      node: node?.hostname ?? tracked.nodeId,
      ...(task.Status.ContainerStatus?.PID ? { pid: task.Status.ContainerStatus.PID } : {}),
      startedAt: new Date(task.Status.Timestamp).toISOString(),
    };
    tracked.announced = true;
    this.#emit({ type: 'started', instance: tracked.instance });
    // Dead already (a crash at once): reported right after its start.
    if (task.Status.State !== 'running') this.#ended(tracked, task.Status.ContainerStatus?.ExitCode ?? null);
    return tracked.instance;
  }

  /**
   * What an earlier life of this instance left: a pet restarted in place keeps to the node its
   * volumes are on — or cannot start, when Baton's probes found that node lost. Left services go.
   */
  async #previousLife(spec: InstanceSpec): Promise<string | undefined> {
    const previous = await this.#servicesOf({ instance: spec.id });
    if (previous.length === 0) return undefined;
    const tasks = await this.#tasks();
    const lost = this.#nodeWatch.lost();
    let pinned: string | undefined;
    for (const old of previous) {
      const latest = latestTask(tasks.filter((t) => t.ServiceID === old.ID));
      // On a lost node the manager still says `running` (until it marks the node Down, and
      // with no restart policy, after): that task is gone.
      if (latest?.Status.State === 'running' && !lost.includes(latest.NodeID ?? ''))
        throw new BatonError(
          'instance-start-failed',
          `instance ${spec.id} already runs in service ${old.ID.slice(0, 12)}`,
        );
      if (spec.mode === 'pet' && spec.workload.volumes.length > 0 && latest?.NodeID) pinned = latest.NodeID;
    }
    if (pinned !== undefined && lost.includes(pinned)) {
      const node = this.#nodes.get(pinned)?.hostname ?? pinned;
      throw new BatonError(
        'instance-unstartable',
        `${spec.id} is a pet whose volumes are on node ${node}, which is lost: its data cannot follow it to another node`,
        {
          hint: `bring ${node} back (its instance restarts there with its data), or replace the pet's data and stop it`,
        },
      );
    }
    for (const old of previous) await this.#removeService(old.ID);
    return pinned;
  }

  /** Polls the new service's task until it runs or ends; a task that never ran is a failed start. */
  async #firstRun(spec: InstanceSpec, serviceId: string): Promise<Task> {
    const deadline = this.#clock.now().getTime() + (this.#o.startTimeoutMs ?? 60_000);
    let last: Task | undefined;
    for (;;) {
      const tasks = (await this.#engine(`starting ${spec.id}`, () =>
        this.#docker.listTasks({ filters: JSON.stringify({ service: [serviceId] }) }),
      )) as Task[];
      last = latestTask(tasks) ?? last;
      const state = last?.Status.State;
      if (last && state === 'running') return last;
      if (last && state !== undefined && TERMINAL.has(state)) {
        // It ran and died at once: a start, then an exit. It never ran: the start failed.
        if (last.Status.ContainerStatus?.ContainerID && last.Status.ContainerStatus.ExitCode !== undefined)
          return last;
        throw startFailure(spec, last);
      }
      if (this.#clock.now().getTime() > deadline)
        throw new BatonError(
          'instance-start-failed',
          `${spec.id}: no task of it ran within ${(this.#o.startTimeoutMs ?? 60_000) / 1000} s (${state ?? 'no task'}${last?.Status.Err ? `: ${last.Status.Err}` : ''})`,
          {
            hint: 'a placement no node matches, or reservations no node can hold, keeps a task pending: `docker service ps` says which',
          },
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(id: string, options: StopOptions): Promise<void> {
    let tracked = this.#instances.get(id);
    if (tracked === undefined) {
      await this.#adopt();
      tracked = this.#instances.get(id);
    }
    if (tracked === undefined || !tracked.announced) {
      // What a dead instance left (kept for its logs, or a pet's restart) goes with the stop.
      if (!this.#starting.has(id))
        for (const old of await this.#servicesOf({ instance: id })) await this.#removeService(old.ID);
      return;
    }
    tracked.stopping ??= this.#terminate(tracked, options.graceMs);
    return tracked.stopping;
  }

  async list(): Promise<RunningInstance[]> {
    await this.#adopt();
    return [...this.#instances.values()].filter((t) => t.announced && !t.ended).map((t) => t.instance);
  }

  /** Every task has its own address: a probe of it cannot reach another instance's socket. */
  listening(): Promise<readonly number[] | undefined> {
    return Promise.resolve(undefined);
  }

  subscribe(listener: (event: RuntimeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** The engine's logs, through the manager (`docker service logs`): as the docker runtime's. */
  async *logs(query: LogQuery): AsyncIterable<LogLine> {
    const filter = query.instance === undefined ? { service: query.service } : { instance: query.instance };
    const live = new Set([...this.#instances.values()].filter((t) => !t.ended).map((t) => t.serviceId));
    const services = (await this.#servicesOf(filter)).filter(
      (s) => query.instance !== undefined || query.all === true || live.has(s.ID),
    );
    const follow = query.follow === true;
    const since = Math.floor(this.#clock.now().getTime() / 1000);
    const sources = services.map((service): LogSource => ({
      instance: service.Spec?.Labels?.[SWARM_LABEL.instance] ?? '',
      history: async ({ tail }) =>
        (await this.#docker.getService(service.ID).logs({
          stdout: true,
          stderr: true,
          timestamps: true,
          tail: tail as number,
          follow: false,
        })) as unknown as Buffer,
      follow: async (from) =>
        (await this.#docker.getService(service.ID).logs({
          stdout: true,
          stderr: true,
          timestamps: true,
          since: from,
          follow: true,
        })) as unknown as NodeJS.ReadableStream,
    }));
    yield* await mergedHistory(sources, query.tail);
    if (!follow) return;
    const channel = new LineChannel<LogLine>(query.signal);
    for (const source of sources) void followInto(source, since, channel);
    try {
      yield* channel;
    } finally {
      channel.close();
    }
  }

  /** Stops watching; instances keep running, for the next control plane to adopt. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#poll);
    this.#nodeWatch.stop();
    this.#listeners.clear();
  }

  /** Reads the cluster's nodes (addresses, host names); at most every 5 s unless `now`. */
  async refreshNodes(now = false): Promise<void> {
    if (!now && this.#clock.now().getTime() - this.#nodesReadAt < 5_000) return;
    const nodes = (await this.#engine('listing nodes', () => this.#docker.listNodes())) as {
      ID: string;
      Description?: { Hostname?: string };
      Status?: { Addr?: string };
    }[];
    for (const node of nodes)
      this.#nodes.set(node.ID, {
        id: node.ID,
        hostname: node.Description?.Hostname ?? node.ID,
        address: node.Status?.Addr ?? '',
      });
    this.#nodesReadAt = this.#clock.now().getTime();
  }

  // ---- instances

  #context(pinnedNode: string | undefined) {
    return {
      owner: this.#o.owner,
      serverUrl: this.#o.serverUrl,
      tokenFor: this.#o.tokenFor,
      dataPlaneHost: this.#o.dataPlaneHost,
      logMaxBytes: 10 * 1024 * 1024,
      logFiles: 3,
      avoidNodes: this.#nodeWatch.lost(),
      pinnedNode,
      stopGraceMs: this.#o.stopGraceMs ?? 10_000,
    };
  }

  #ended(tracked: Tracked, exitCode: number | null, cause?: { signal: string | null }): void {
    if (tracked.ended) return;
    tracked.ended = true;
    if (this.#instances.get(tracked.instance.id) === tracked) this.#instances.delete(tracked.instance.id);
    if (!this.#closed) {
      const { code, signal } =
        cause !== undefined
          ? { code: null, ...cause }
          : exitCode === null
            ? { code: null, signal: 'SIGKILL' }
            : exitOf(exitCode);
      this.#emit({
        type: 'exited',
        id: tracked.instance.id,
        service: tracked.service,
        code,
        signal,
        at: this.#clock.now().toISOString(),
      });
      if (tracked.stopping === undefined) void this.#pruneExited(tracked.service).catch(() => {});
    }
    tracked.markGone();
  }

  /** Removes the service (Swarm stops its task: the stop signal, SIGKILL after the grace), waits for the task to end. */
  async #terminate(tracked: Tracked, graceMs: number): Promise<void> {
    await this.#removeService(tracked.serviceId);
    const deadline = this.#clock.now().getTime() + Math.max(graceMs, this.#o.stopGraceMs ?? 10_000) + 15_000;
    let exitCode: number | null = null;
    while (!this.#nodeWatch.lost().includes(tracked.nodeId) && this.#clock.now().getTime() < deadline) {
      const tasks = (await this.#docker
        .listTasks({ filters: JSON.stringify({ service: [tracked.serviceId] }) })
        .catch(() => [])) as Task[];
      const running = tasks.filter((t) => t.Status.State === 'running' || t.Status.State === 'starting');
      exitCode = latestTask(tasks)?.Status.ContainerStatus?.ExitCode ?? exitCode;
      if (running.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    this.#releasePorts(tracked.instance.ports);
    this.#ended(tracked, exitCode);
    await tracked.gone;
  }

  /** Every tick: a task of ours that is no longer running is an exit. */
  async #pollTasks(): Promise<void> {
    if (this.#polling || this.#closed) return;
    this.#polling = true;
    try {
      const watched = [...this.#instances.values()].filter(
        (t) => t.announced && !t.ended && t.stopping === undefined,
      );
      if (watched.length === 0) return;
      const tasks = await this.#tasks();
      const byService = new Map<string, Task[]>();
      for (const task of tasks)
        byService.set(task.ServiceID, [...(byService.get(task.ServiceID) ?? []), task]);
      for (const tracked of watched) {
        const latest = latestTask(byService.get(tracked.serviceId) ?? []);
        if (latest === undefined) this.#ended(tracked, null);
        else if (TERMINAL.has(latest.Status.State))
          this.#ended(tracked, latest.Status.ContainerStatus?.ExitCode ?? null);
      }
    } catch {
      // The manager away for a tick: the next one reads again.
    } finally {
      this.#polling = false;
    }
  }

  /** Baton's probes found a node dead: its instances are gone now, not when Swarm notices. */
  #nodeLost(node: WatchedNode): void {
    for (const tracked of [...this.#instances.values()])
      if (tracked.announced && !tracked.ended && tracked.nodeId === node.id)
        this.#ended(tracked, null, { signal: null });
  }

  /** Once per runtime: takes in the owner's services whose task runs. */
  #adopt(): Promise<void> {
    this.#adoption ??= (async () => {
      await this.refreshNodes(true);
      const services = await this.#servicesOf({});
      const tasks = await this.#tasks();
      for (const service of services) {
        const labelled = instanceOfService(service.Spec?.Labels);
        if (labelled === undefined) continue;
        for (const port of Object.values(labelled.published)) this.#portsInUse.add(port);
        if (this.#instances.has(labelled.id) || this.#starting.has(labelled.id)) continue;
        const latest = latestTask(tasks.filter((t) => t.ServiceID === service.ID));
        if (latest?.Status.State !== 'running') continue;
        const node = this.#nodes.get(latest.NodeID ?? '');
        const { promise: gone, resolve: markGone } = Promise.withResolvers<void>();
        this.#instances.set(labelled.id, {
          instance: {
            id: labelled.id,
            service: labelled.service,
            version: labelled.version,
            revision: labelled.revision,
            address: node?.address ?? '',
            port: Object.values(labelled.published)[0] ?? 0,
            ports: labelled.published,
            node: node?.hostname ?? latest.NodeID ?? '',
            ...(latest.Status.ContainerStatus?.PID ? { pid: latest.Status.ContainerStatus.PID } : {}),
            startedAt: new Date(latest.Status.Timestamp).toISOString(),
          },
          serviceId: service.ID,
          service: labelled.service,
          nodeId: latest.NodeID ?? '',
          announced: true,
          ended: false,
          gone,
          markGone,
        });
      }
    })();
    this.#adoption.catch(() => (this.#adoption = undefined));
    return this.#adoption;
  }

  /** Keeps the services of the newest `keepExited` dead instances of a service; the older go. */
  async #pruneExited(service: string): Promise<void> {
    const keep = this.#o.keepExited ?? 3;
    const live = new Set([...this.#instances.values()].map((t) => t.serviceId));
    const dead = (await this.#servicesOf({ service }))
      .filter((s) => !live.has(s.ID))
      .sort((a, b) => (b.CreatedAt ?? '').localeCompare(a.CreatedAt ?? ''));
    for (const old of dead.slice(keep)) await this.#removeService(old.ID);
  }

  #allocatePort(): number {
    const { from, to } = this.#range;
    for (let tries = 0; tries <= to - from; tries++) {
      const port = this.#nextPort;
      this.#nextPort = port >= to ? from : port + 1;
      if (!this.#portsInUse.has(port)) {
        this.#portsInUse.add(port);
        return port;
      }
    }
    throw new BatonError('instance-start-failed', `every published port of ${from}–${to} is taken`, {
      hint: 'stop instances, or give the swarm runtime a wider port range',
    });
  }

  #releasePorts(ports: Readonly<Record<string, number>>): void {
    for (const port of Object.values(ports)) this.#portsInUse.delete(port);
  }

  async #tasks(): Promise<Task[]> {
    return (await this.#engine('listing tasks', () => this.#docker.listTasks())) as Task[];
  }

  async #servicesOf(filter: { service?: string; instance?: string }): Promise<ServiceInfo[]> {
    const label = [`${SWARM_LABEL.owner}=${this.#o.owner}`];
    if (filter.service !== undefined) label.push(`${SWARM_LABEL.service}=${filter.service}`);
    if (filter.instance !== undefined) label.push(`${SWARM_LABEL.instance}=${filter.instance}`);
    return this.#engine('listing services', () =>
      this.#docker.listServices({ filters: JSON.stringify({ label }) }),
    );
  }

  async #removeService(id: string): Promise<void> {
    await this.#docker
      .getService(id)
      .remove()
      .catch((error: unknown) => {
        if ((error as { statusCode?: number }).statusCode !== 404) throw error;
      });
  }

  #emit(event: RuntimeEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
  #engine<T>(what: string, call: () => Promise<T>): Promise<T> {
    return engineCall(what, call);
  }
}

function placeholder(spec: InstanceSpec, ports: Record<string, number>): RunningInstance {
  return {
    id: spec.id,
    service: spec.service,
    version: spec.version,
    revision: spec.revision,
    address: '',
    port: Object.values(ports)[0] ?? 0,
    ports,
    node: '',
    startedAt: new Date(0).toISOString(),
  };
}

function latestTask(tasks: readonly Task[]): Task | undefined {
  return [...tasks].sort((a, b) => a.CreatedAt.localeCompare(b.CreatedAt)).at(-1);
}

/** A task that never ran: an image a node lacks or a program the image lacks will not appear by retrying. */
function startFailure(spec: InstanceSpec, task: Task): BatonError {
  const reason = (task.Status.Err ?? task.Status.Message ?? task.Status.State).trim();
  const unstartable =
    /No such image|executable file not found|no such file or directory|permission denied/i.test(reason);
  return new BatonError(
    unstartable ? 'instance-unstartable' : 'instance-start-failed',
    `${spec.id}: its Swarm task ${task.Status.State}: ${reason}`,
    {
      hint: /No such image/i.test(reason)
        ? 'copy the image into every node (docker save | docker load; scripts/local-swarm.sh load IMAGE): Swarm here never pulls'
        : unstartable
          ? "check the image's ENTRYPOINT/CMD, or the manifest's `entrypoint`/`cmd`"
          : undefined,
    },
  );
}
