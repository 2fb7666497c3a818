// The `docker` runtime: each instance a container of the service's image, on the owner's
// bridge network, driven through the Docker Engine API. How it thinks: ARCHITECTURE.md.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
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
import {
  containerConfig,
  exitOf,
  exposedPorts,
  instanceOfLabels,
  LABEL,
  volumeName,
} from './container-config.ts';
import type { ContainerContext } from './container-config.ts';
import { engineUnreachable } from './docker-engine.ts';
import { engineCall } from './engine-call.ts';
import { EngineEvents, type ContainerEvent } from './engine-events.ts';
import type { BuildProgress, ImageBuilder } from './image-builder.ts';
import { LineChannel } from './line-channel.ts';
import { followInto, mergedHistory, type LogSource } from './engine-logs.ts';
import { hasImage } from './node-base-image.ts';
import type { OwnerNetwork } from './owner-network.ts';

export interface DockerRuntimeOptions {
  readonly docker: Docker;
  /** Opaque id of this control plane's state: every container, volume and network it makes carries it. */
  readonly owner: string;
  readonly network: OwnerNetwork;
  /** The control plane as instances reach it: its instance-facing listener on the network's gateway. */
  readonly serverUrl?: string | undefined;
  /** Each instance's BATON_TOKEN: its service's own token, never the admin token. */
  readonly tokenFor?: ((service: string) => string) | undefined;
  /** Where instances reach the node's east-west data plane. Default: the network's gateway address. */
  readonly dataPlaneHost?: string | undefined;
  /** Builds the images of services that declare `build` when the engine lacks them. */
  readonly builder?: ImageBuilder | undefined;
  /** Progress of those builds (the server logs it). */
  readonly onBuild?: ((image: string, progress: BuildProgress) => void) | undefined;
  /** Extra labels on the images it builds (tests mark theirs). */
  readonly imageLabels?: Readonly<Record<string, string>> | undefined;
  /** Default: the engine's host name. */
  readonly node?: string | undefined;
  readonly clock?: Clock | undefined;
  /** Per instance: size past which the engine rotates its log (default 10 MiB), and files kept (3). */
  readonly logMaxBytes?: number | undefined;
  readonly logFiles?: number | undefined;
  /** Exited containers kept per service, for `baton logs` of what died and pets restarted in place. Default 3. */
  readonly keepExited?: number | undefined;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SIGKILL_EXIT = 137;
/** How long a SIGKILL waits for the engine's OOM report: 10 × 100 ms. */
const OOM_REPORT_CHECKS = 10;
const OOM_REPORT_WAIT_MS = 100;

interface ExitFacts {
  readonly exitCode: number | null;
  readonly outOfMemory: boolean;
}

interface Tracked {
  instance: RunningInstance;
  readonly containerId: string;
  readonly service: string;
  /** False while `start` has not reported it: `list()` leaves it out, and an exit waits. */
  announced: boolean;
  ended: boolean;
  /** An exit seen before `start` reported the instance. */
  pendingExit?: ExitFacts;
  readonly gone: Promise<void>;
  readonly markGone: () => void;
  stopping?: Promise<void>;
  /** The engine reported an OOM kill in its cgroup. */
  oom?: boolean;
}

type ContainerSummary = Awaited<ReturnType<Docker['listContainers']>>[number];

export async function createDockerRuntime(options: DockerRuntimeOptions): Promise<DockerRuntime> {
  let node = options.node;
  try {
    node ??= ((await options.docker.info()) as { Name: string }).Name;
  } catch (error) {
    throw engineUnreachable('its socket', error);
  }
  const runtime = new DockerRuntime(options, node);
  await runtime.watch();
  return runtime;
}

export class DockerRuntime implements Runtime {
  readonly name = 'docker';
  readonly addressing = 'per-instance';
  readonly #o: DockerRuntimeOptions;
  readonly #docker: Docker;
  readonly #clock: Clock;
  readonly #node: string;
  readonly #context: ContainerContext;
  readonly #events: EngineEvents;
  /** By instance id. */
  readonly #instances = new Map<string, Tracked>();
  readonly #byContainer = new Map<string, Tracked>();
  readonly #starting = new Set<string>();
  readonly #listeners = new Set<(event: RuntimeEvent) => void>();
  /** Containers seen dying before anything tracked them (adoption in progress). */
  readonly #untrackedDeaths = new Map<string, ExitFacts>();
  /** One build per image at a time; concurrent starts of a service share it. */
  readonly #builds = new Map<string, Promise<void>>();
  #buildQueue: Promise<unknown> = Promise.resolve();
  #adoption: Promise<void> | undefined;
  #closed = false;

  /** Use `createDockerRuntime`, which also opens the engine's event stream. */
  constructor(options: DockerRuntimeOptions, node: string) {
    this.#o = options;
    this.#docker = options.docker;
    this.#clock = options.clock ?? systemClock;
    this.#node = node;
    this.#context = {
      owner: options.owner,
      network: options.network.name,
      serverUrl: options.serverUrl,
      tokenFor: options.tokenFor,
      dataPlaneHost: options.dataPlaneHost ?? options.network.gateway,
      logMaxBytes: options.logMaxBytes ?? 10 * 1024 * 1024,
      logFiles: options.logFiles ?? 3,
    };
    this.#events = new EngineEvents({
      docker: options.docker,
      label: `${LABEL.owner}=${options.owner}`,
      clock: this.#clock,
      onEvent: (event) => this.#onEngineEvent(event),
      onResync: () => void this.#resync(),
    });
  }

  /** The container an instance runs in, while this runtime tracks it (for probes run inside). */
  containerOf(id: string): string | undefined {
    return this.#instances.get(id)?.containerId;
  }

  /** Opens the event stream: from here on, no exit of ours is missed. */
  watch(): Promise<void> {
    return this.#events.open();
  }

  async admit(request: AdmissionRequest): Promise<readonly Refusal[]> {
    const { image, build, volumes, placement } = request.workload;
    const refusals: Refusal[] = [];
    if (image === undefined) {
      return [
        {
          severity: 'error',
          code: 'runtime-unsupported',
          field: [],
          message: 'the docker runtime runs container images: the service has neither `image` nor `build`',
          hint: 'add `build: { context: . }` with a Dockerfile (FROM baton/node:24 runs a Node service), or run it with --runtime process',
        },
      ];
    }
    if (build !== undefined) {
      const context = resolve(request.baseDir, build.context);
      if (!(await isDirectory(context))) {
        refusals.push({
          severity: 'error',
          code: 'build-context-missing',
          field: ['build', 'context'],
          message: `build context ${context} does not exist`,
          hint: '`build.context` is relative to the manifest file',
        });
      } else if (!(await isFile(resolve(context, build.dockerfile)))) {
        refusals.push({
          severity: 'error',
          code: 'build-context-missing',
          field: ['build', 'dockerfile'],
          message: `Dockerfile ${resolve(context, build.dockerfile)} does not exist`,
          hint: '`build.dockerfile` is relative to the build context',
        });
      }
    } else if (!(await this.#hasImage(image))) {
      refusals.push({
        severity: 'error',
        code: 'image-missing',
        field: ['image'],
        message: `image ${image} is not on the engine, and Baton never pulls`,
        hint: 'load it (docker load, docker import), build it with docker build, or declare `build` so Baton builds it',
      });
    }
    volumes.forEach((volume, index) => {
      if (volume.size === undefined) return;
      refusals.push({
        severity: 'warning',
        code: 'not-honoured',
        field: ['volumes', index, 'size'],
        message: `the docker runtime's local volumes cannot be capped: ${volume.name} may grow past ${volume.size}`,
      });
    });
    if (placement !== undefined && Object.keys(placement.labels).length > 0) {
      refusals.push({
        severity: 'warning',
        code: 'not-honoured',
        field: ['placement', 'labels'],
        message: 'the docker runtime has one machine: placement labels apply on a cluster runtime',
      });
    }
    return refusals;
  }

  async start(spec: InstanceSpec): Promise<RunningInstance> {
    if (this.#closed) throw new BatonError('instance-start-failed', 'the docker runtime is closed');
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
      throw new BatonError(
        'runtime-refused',
        `${spec.service}: the docker runtime needs \`image\` or \`build\``,
      );
    let exposed: number[];
    try {
      exposed = await this.#ensureImage(spec, image);
    } catch (error) {
      if (error instanceof BatonError && error.code !== 'image-build-failed') throw error;
      throw new BatonError('instance-unstartable', (error as Error).message, {
        hint: (error as BatonError).hint,
        cause: error,
      });
    }
    const config = containerConfig(spec, this.#context, exposed);
    const wantedConfig = config.Labels?.[LABEL.config];
    const containerId = await this.#engine(`starting ${spec.id}`, async () => {
      for (const volume of spec.workload.volumes) {
        await this.#docker.createVolume({
          Name: volumeName(this.#o.owner, spec.service, volume.name),
          Labels: {
            [LABEL.owner]: this.#o.owner,
            [LABEL.service]: spec.service,
            [LABEL.volume]: volume.name,
          },
        });
      }
      // A pet comes back in its own container when it can: same writable layer, same volumes.
      const previous = await this.#containersOf({ instance: spec.id });
      for (const old of previous) {
        if (old.State === 'running' || old.State === 'paused' || old.State === 'restarting')
          throw new BatonError(
            'instance-start-failed',
            `instance ${spec.id} already runs in container ${old.Id.slice(0, 12)}`,
          );
        if (spec.mode === 'pet' && old.Labels[LABEL.config] === wantedConfig && previous.length === 1)
          return old.Id;
        await this.#remove(old.Id);
      }
      return (await this.#docker.createContainer(config)).id;
    });

    const { promise: gone, resolve: markGone } = Promise.withResolvers<void>();
    const tracked: Tracked = {
      instance: placeholder(spec, this.#node),
      containerId,
      service: spec.service,
      announced: false,
      ended: false,
      gone,
      markGone,
    };
    this.#track(tracked);
    const container = this.#docker.getContainer(containerId);
    let info: Docker.ContainerInspectInfo;
    try {
      await container.start();
      info = await container.inspect();
    } catch (error) {
      this.#untrack(tracked);
      await this.#remove(containerId).catch(() => {});
      throw startFailure(spec, image, error);
    }
    const labelled = instanceOfLabels(info.Config.Labels ?? {});
    const ports = labelled?.ports ?? {};
    const primary = Object.values(ports)[0] ?? 0;
    tracked.instance = {
      id: spec.id,
      service: spec.service,
      version: spec.version,
      revision: spec.revision,
      address: info.NetworkSettings.Networks[this.#o.network.name]?.IPAddress ?? '',
      port: primary,
      ports,
      node: this.#node,
      ...(info.State.Pid > 0 ? { pid: info.State.Pid } : {}),
      startedAt: new Date(info.State.StartedAt).toISOString(),
    };
    tracked.announced = true;
    this.#emit({ type: 'started', instance: tracked.instance });
    // Dead already (a crash at once): its exit may have come before, or never will on the stream.
    if (tracked.pendingExit) this.#ended(tracked, tracked.pendingExit);
    else if (!info.State.Running) this.#ended(tracked, factsOf(info));
    return tracked.instance;
  }

  async stop(id: string, options: StopOptions): Promise<void> {
    let tracked = this.#instances.get(id);
    if (tracked === undefined) {
      await this.#adopt();
      tracked = this.#instances.get(id);
    }
    if (tracked === undefined) {
      // What a dead instance left (kept for its logs, or a pet's restart) goes with the stop.
      if (!this.#starting.has(id))
        for (const old of await this.#containersOf({ instance: id })) await this.#remove(old.Id);
      return;
    }
    tracked.stopping ??= this.#terminate(tracked, options.graceMs);
    return tracked.stopping;
  }

  async list(): Promise<RunningInstance[]> {
    await this.#adopt();
    return [...this.#instances.values()].filter((t) => t.announced).map((t) => t.instance);
  }

  /** Every container has its own address: a probe of it cannot reach another instance's socket. */
  listening(): Promise<readonly number[] | undefined> {
    return Promise.resolve(undefined);
  }

  subscribe(listener: (event: RuntimeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /**
   * The engine's logs: of the named instance (living or dead), else of the service's running
   * instances (`all`: the dead ones kept too). The engine stamps every line, so `tail` counts
   * across instances and lines come in the order they were written, the most recent last.
   * With `follow`, then streams new lines, those of instances started meanwhile included.
   */
  async *logs(query: LogQuery): AsyncIterable<LogLine> {
    const filter = query.instance === undefined ? { service: query.service } : { instance: query.instance };
    const containers = (await this.#containersOf(filter))
      .filter((c) => c.Labels[LABEL.service] === query.service)
      .filter((c) => query.instance !== undefined || query.all === true || c.State === 'running');
    // History up to now, then (following) everything since: no line twice, none lost between.
    const now = Date.now() / 1000;
    const follow = query.follow === true;
    const source = (containerId: string, instance: string): LogSource => ({
      instance,
      history: async ({ tail, until }) =>
        (await this.#docker.getContainer(containerId).logs({
          stdout: true,
          stderr: true,
          timestamps: true,
          // The engine takes a count, or every line (`all`, typed here as a count it is not).
          tail: tail as number,
          ...(until === undefined ? {} : { until }),
          follow: false,
        })) as unknown as Buffer,
      follow: (since) =>
        this.#docker
          .getContainer(containerId)
          .logs({ stdout: true, stderr: true, timestamps: true, since, follow: true }),
    });
    const sources = containers.map((c) => source(c.Id, c.Labels[LABEL.instance] ?? ''));
    yield* await mergedHistory(sources, query.tail, follow ? now : undefined);
    if (!follow) return;

    const channel = new LineChannel<LogLine>(query.signal);
    const following = new Set<string>();
    const followOne = (containerId: string, instance: string, since: number) => {
      if (following.has(containerId)) return;
      following.add(containerId);
      void followInto(source(containerId, instance), since, channel);
    };
    const unsubscribe = this.subscribe((event) => {
      if (event.type !== 'started' || event.instance.service !== query.service) return;
      if (query.instance !== undefined && event.instance.id !== query.instance) return;
      const tracked = this.#instances.get(event.instance.id);
      if (tracked) followOne(tracked.containerId, event.instance.id, 0);
    });
    try {
      for (const summary of containers) followOne(summary.Id, summary.Labels[LABEL.instance] ?? '', now);
      yield* channel;
    } finally {
      unsubscribe();
      channel.close();
    }
  }

  /** Stops watching; instances keep running, for the next control plane to adopt. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#events.close();
    this.#listeners.clear();
  }

  // ---- images

  /** Builds the image when the service declares `build` and the engine lacks it; gives its EXPOSEd ports. */
  async #ensureImage(spec: InstanceSpec, image: string): Promise<number[]> {
    const build = spec.workload.build;
    if (build !== undefined) {
      let building = this.#builds.get(image);
      if (building === undefined) {
        // Builds take the machine's CPUs: one at a time.
        building = this.#buildQueue.then(async () => {
          if (await this.#hasImage(image)) return;
          if (this.#o.builder === undefined)
            throw new BatonError(
              'instance-unstartable',
              `image ${image} is not built, and this runtime has no builder`,
            );
          await this.#o.builder.build(
            {
              tag: image,
              contextDir: resolve(spec.baseDir, build.context),
              dockerfile: build.dockerfile,
              args: build.args,
              target: build.target,
              labels: {
                ...this.#o.imageLabels,
                [LABEL.service]: spec.service,
                [LABEL.version]: spec.version,
              },
            },
            (progress) => this.#o.onBuild?.(image, progress),
          );
        });
        this.#buildQueue = building.catch(() => {});
        this.#builds.set(image, building);
        void building.finally(() => this.#builds.delete(image)).catch(() => {});
      }
      await building;
    }
    const inspected = await this.#engine(`looking for image ${image}`, () =>
      this.#docker
        .getImage(image)
        .inspect()
        .catch((error: unknown) => {
          if ((error as { statusCode?: number }).statusCode === 404) return undefined;
          throw error;
        }),
    );
    if (inspected === undefined) {
      throw new BatonError(
        'instance-unstartable',
        `image ${image} is not on the engine, and Baton never pulls`,
        {
          hint: 'load it (docker load, docker import) or declare `build` so Baton builds it',
        },
      );
    }
    return exposedPorts(inspected.Config.ExposedPorts);
  }

  #hasImage(image: string): Promise<boolean> {
    return this.#engine(`looking for image ${image}`, () => hasImage(this.#docker, image));
  }

  // ---- instances

  #track(tracked: Tracked): void {
    this.#instances.set(tracked.instance.id, tracked);
    this.#byContainer.set(tracked.containerId, tracked);
  }

  #untrack(tracked: Tracked): void {
    if (this.#instances.get(tracked.instance.id) === tracked) this.#instances.delete(tracked.instance.id);
    this.#byContainer.delete(tracked.containerId);
  }

  #ended(tracked: Tracked, facts: ExitFacts): void {
    if (tracked.ended) return;
    if (!tracked.announced) {
      tracked.pendingExit ??= facts;
      return;
    }
    tracked.ended = true;
    this.#untrack(tracked);
    if (!this.#closed) {
      const { code, signal } =
        facts.exitCode === null ? { code: null, signal: 'SIGKILL' } : exitOf(facts.exitCode);
      this.#emit({
        type: 'exited',
        id: tracked.instance.id,
        service: tracked.service,
        code,
        signal,
        ...(facts.outOfMemory ? { outOfMemory: true } : {}),
        at: this.#clock.now().toISOString(),
      });
      if (tracked.stopping === undefined) void this.#pruneExited(tracked.service).catch(() => {});
    }
    tracked.markGone();
  }

  async #terminate(tracked: Tracked, graceMs: number): Promise<void> {
    const container = this.#docker.getContainer(tracked.containerId);
    // The engine sends the image's stop signal, then SIGKILL after t seconds.
    await container.stop({ t: Math.max(0, Math.ceil(graceMs / 1000)) }).catch(ignoreGone);
    const info = await container.inspect().catch(() => undefined);
    this.#ended(tracked, info ? factsOf(info) : { exitCode: null, outOfMemory: false });
    await tracked.gone;
    await this.#remove(tracked.containerId);
  }

  #onEngineEvent(event: ContainerEvent): void {
    const tracked = this.#byContainer.get(event.containerId);
    if (event.action === 'oom') {
      if (tracked) tracked.oom = true;
      return;
    }
    if (event.action !== 'die' && event.action !== 'destroy') return;
    const exitCode = event.attributes.exitCode === undefined ? null : Number(event.attributes.exitCode);
    if (tracked === undefined) {
      if (this.#adoption !== undefined && event.action === 'die')
        this.#untrackedDeaths.set(event.containerId, { exitCode, outOfMemory: false });
      return;
    }
    if (event.action === 'destroy') {
      this.#ended(tracked, { exitCode: null, outOfMemory: false });
      return;
    }
    void this.#deathFacts(tracked, exitCode).then((facts) => this.#ended(tracked, facts));
  }

  /**
   * The engine knows whether the kernel's OOM killer did it, but the OOM report reaches it
   * apart from the exit and, on a loaded cgroup v1 host, after it: a SIGKILL (137) asks again
   * for a moment before it is reported as a plain kill.
   */
  async #deathFacts(tracked: Tracked, exitCode: number | null): Promise<ExitFacts> {
    const container = this.#docker.getContainer(tracked.containerId);
    for (let attempt = 0; ; attempt++) {
      const info = await container.inspect().catch(() => undefined);
      const facts = info ? factsOf(info) : { exitCode, outOfMemory: false };
      if (facts.outOfMemory || tracked.oom === true) return { ...facts, outOfMemory: true };
      if (facts.exitCode !== SIGKILL_EXIT || attempt >= OOM_REPORT_CHECKS) return facts;
      await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, OOM_REPORT_WAIT_MS));
    }
  }

  /** After the event stream came back: whatever stopped meanwhile is reported now. */
  async #resync(): Promise<void> {
    for (const tracked of [...this.#instances.values()]) {
      if (!tracked.announced) continue;
      const info = await this.#docker
        .getContainer(tracked.containerId)
        .inspect()
        .catch(() => undefined);
      if (info === undefined) this.#ended(tracked, { exitCode: null, outOfMemory: false });
      else if (!info.State.Running) this.#ended(tracked, factsOf(info));
    }
  }

  /** Once per runtime: takes in the owner's running containers; removes ones never started. */
  #adopt(): Promise<void> {
    this.#adoption ??= (async () => {
      const containers = await this.#containersOf({});
      for (const summary of containers) {
        const labelled = instanceOfLabels(summary.Labels);
        if (this.#byContainer.has(summary.Id)) continue;
        if (summary.State === 'created') {
          // Made but never started: a control plane died between the two. Nothing to keep.
          if (labelled === undefined || !this.#starting.has(labelled.id)) await this.#remove(summary.Id);
          continue;
        }
        if (summary.State !== 'running' && summary.State !== 'paused') continue;
        if (labelled === undefined || this.#instances.has(labelled.id) || this.#starting.has(labelled.id))
          continue;
        const info = await this.#docker
          .getContainer(summary.Id)
          .inspect()
          .catch(() => undefined);
        if (info === undefined || !info.State.Running) continue;
        const { promise: gone, resolve: markGone } = Promise.withResolvers<void>();
        const tracked: Tracked = {
          instance: {
            id: labelled.id,
            service: labelled.service,
            version: labelled.version,
            revision: labelled.revision,
            address: info.NetworkSettings.Networks[this.#o.network.name]?.IPAddress ?? '',
            port: Object.values(labelled.ports)[0] ?? 0,
            ports: labelled.ports,
            node: this.#node,
            ...(info.State.Pid > 0 ? { pid: info.State.Pid } : {}),
            startedAt: new Date(info.State.StartedAt).toISOString(),
          },
          containerId: summary.Id,
          service: labelled.service,
          announced: true,
          ended: false,
          gone,
          markGone,
        };
        this.#track(tracked);
        const died = this.#untrackedDeaths.get(summary.Id);
        if (died) this.#ended(tracked, died);
      }
      this.#untrackedDeaths.clear();
      for (const service of new Set(containers.map((c) => c.Labels[LABEL.service] ?? '')))
        if (service !== '') await this.#pruneExited(service);
    })();
    // A failed adoption (the engine away) is tried again by the next caller.
    this.#adoption.catch(() => (this.#adoption = undefined));
    return this.#adoption;
  }

  /** Keeps the newest `keepExited` dead containers of a service; the older go. */
  async #pruneExited(service: string): Promise<void> {
    const keep = this.#o.keepExited ?? 3;
    const dead = (await this.#containersOf({ service }))
      .filter((c) => c.State === 'exited' || c.State === 'dead')
      .sort((a, b) => b.Created - a.Created);
    for (const old of dead.slice(keep)) await this.#remove(old.Id);
  }

  async #containersOf(filter: { service?: string; instance?: string }): Promise<ContainerSummary[]> {
    const label = [`${LABEL.owner}=${this.#o.owner}`];
    if (filter.service !== undefined) label.push(`${LABEL.service}=${filter.service}`);
    if (filter.instance !== undefined) label.push(`${LABEL.instance}=${filter.instance}`);
    return this.#engine('listing containers', () =>
      this.#docker.listContainers({ all: true, filters: JSON.stringify({ label }) }),
    );
  }

  async #remove(containerId: string): Promise<void> {
    // `v` removes anonymous volumes (an image's VOLUME); named ones — pet data — stay.
    await this.#docker
      .getContainer(containerId)
      .remove({ force: true, v: true })
      .catch((error: unknown) => {
        const status = (error as { statusCode?: number }).statusCode;
        // 404: gone already; 409: its removal is under way.
        if (status !== 404 && status !== 409) throw error;
      });
  }

  #emit(event: RuntimeEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
  #engine<T>(what: string, call: () => Promise<T>): Promise<T> {
    return engineCall(what, call);
  }
}

function placeholder(spec: InstanceSpec, node: string): RunningInstance {
  return {
    id: spec.id,
    service: spec.service,
    version: spec.version,
    revision: spec.revision,
    address: '',
    port: 0,
    ports: {},
    node,
    startedAt: new Date(0).toISOString(),
  };
}

function factsOf(info: Docker.ContainerInspectInfo): ExitFacts {
  return { exitCode: info.State.ExitCode, outOfMemory: info.State.OOMKilled };
}

/** The engine's reason, classified: a program the image does not have will not appear by retrying. */
function startFailure(spec: InstanceSpec, image: string, error: unknown): BatonError {
  const reason = (
    (error as { json?: { message?: string } }).json?.message ?? (error as Error).message
  ).trim();
  const unstartable =
    /executable file not found|no such file or directory|permission denied|not a directory/i.test(reason);
  return new BatonError(
    unstartable ? 'instance-unstartable' : 'instance-start-failed',
    `${spec.id}: the engine could not start a container of ${image}: ${reason}`,
    {
      hint: unstartable
        ? "check the image's ENTRYPOINT/CMD, or the manifest's `entrypoint`/`cmd`: the program must exist in the image"
        : undefined,
      cause: error,
    },
  );
}

function ignoreGone(error: unknown): void {
  const status = (error as { statusCode?: number }).statusCode;
  // 304: stopped already; 404: gone.
  if (status !== 304 && status !== 404) throw error;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}
