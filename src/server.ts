// The composition root: the one place that chooses adapters and wires engines to them.
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { pino, type Logger } from 'pino';
import { Registry as MetricsRegistry } from 'prom-client';
import { soleLeadership } from './adapters/leadership/sole-leadership.ts';
import { openPostgresLeadership } from './adapters/leadership/postgres-leadership.ts';
import { openSqliteLeadership } from './adapters/leadership/sqlite-leadership.ts';
import { NetworkProber } from './adapters/prober/network-prober.ts';
import { autoTelemetryEnvironment } from './adapters/runtime/auto-telemetry.ts';
import { ContainerProber } from './adapters/runtime/docker/container-prober.ts';
import { checkEngine, connectEngine } from './adapters/runtime/docker/docker-engine.ts';
import { createDockerRuntime } from './adapters/runtime/docker/docker-runtime.ts';
import { ImageBuilder } from './adapters/runtime/docker/image-builder.ts';
import { ensureOwnerNetwork } from './adapters/runtime/docker/owner-network.ts';
import { runtimeOwnerId } from './adapters/runtime/owner-id.ts';
import { createProcessRuntime } from './adapters/runtime/process/process-runtime.ts';
import { SimulatedProber } from './adapters/runtime/simulated/simulated-prober.ts';
import { createSimulatedRuntime } from './adapters/runtime/simulated/simulated-runtime.ts';
import { SwarmProber } from './adapters/runtime/swarm/swarm-prober.ts';
import { createSwarmRuntime } from './adapters/runtime/swarm/swarm-runtime.ts';
import { CONTAINER_CONFIG_DIR, jsonConfigFiles } from './adapters/config/json-config-files.ts';
import { aesGcmSealer } from './adapters/secrets/aes-gcm-sealer.ts';
import { loadSecretKey } from './adapters/secrets/secret-key.ts';
import { openPostgresSpanStore } from './adapters/span-store/postgres-span-store.ts';
import { openSqliteSpanStore } from './adapters/span-store/sqlite-span-store.ts';
import { InstrumentedStore } from './adapters/store/instrumented-store.ts';
import { openPostgresSharedState } from './adapters/store/postgres/postgres-shared-state.ts';
import { openPostgresStore } from './adapters/store/postgres/postgres-store.ts';
import { openSqliteStore } from './adapters/store/sqlite/sqlite-store.ts';
import { workerPrecheck } from './adapters/validation/worker-precheck.ts';
import { AlertEngine } from './engines/alerts/alert-engine.ts';
import { ConfigCenter, type ConfigInstance } from './engines/config/config-center.ts';
import { ConfigFileKeeper, withConfig } from './engines/config/config-delivery.ts';
import { GrayWatch } from './engines/config/gray-watch.ts';
import { Controller } from './engines/controller/controller.ts';
import { fencedRuntime, fencedStore } from './engines/leadership/fenced.ts';
import { LeaderRunner } from './engines/leadership/leader-runner.ts';
import { leadershipMetrics } from './engines/leadership/leadership-metrics.ts';
import { EventWriter, transitionEvent } from './engines/registry/event-writer.ts';
import { Registry } from './engines/registry/registry.ts';
import { RegistryMirror, RegistryPublisher } from './engines/registry/registry-replication.ts';
import { runtimeAdmission } from './engines/revisions/admission.ts';
import { RevisionEngine } from './engines/revisions/revision-engine.ts';
import { withSecretCheck, withSecrets } from './engines/secrets/secret-delivery.ts';
import { SecretVault } from './engines/secrets/secret-vault.ts';
import { createTelemetry, type Telemetry } from './engines/telemetry/index.ts';
import { withDataPlaneAddresses } from './engines/traffic/data-plane-addresses.ts';
import type { PortRange } from './engines/traffic/listener-ports.ts';
import { TrafficControl } from './engines/traffic/traffic-control.ts';
import { portIsFree } from './adapters/net/port-probe.ts';
import { createHttpApp } from './interfaces/http/app.ts';
import { Identities } from './engines/identity/identities.ts';
import { establishServerKeys } from './engines/identity/server-keys.ts';
import { instanceFacing } from './interfaces/http/instance-facing.ts';
import { limitServer } from './interfaces/http/server-limits.ts';
import { systemClock, type Clock } from './ports/clock.ts';
import type { Leadership, Term } from './ports/leadership.ts';
import type { Prober } from './ports/prober.ts';
import type { Runtime } from './ports/runtime.ts';
import type { SharedState } from './ports/shared-state.ts';
import type { SpanStore } from './ports/span-store.ts';
import type { ServiceState } from './engines/controller/revision-progress.ts';
import type { Store } from './ports/store.ts';
import { BatonError } from './domain/errors.ts';

export const BATON_VERSION = '0.1.0';

type ApiFetch = (request: Request, env?: unknown) => Response | Promise<Response>;
export const RUNTIME_KINDS = ['process', 'docker', 'swarm', 'simulated'] as const;
export type RuntimeKind = (typeof RUNTIME_KINDS)[number];
export const DEFAULT_PORT = 7070;
/** The longest a replica taking the lead keeps its gateways on the last leader's picture. */
const HANDOVER_HOLD_MS = 30_000;

export interface ControlPlaneConfig {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Folder for local state: the SQLite database and the API token. */
  readonly stateDir: string;
  /** A SQLite file path, or a postgres:// URL. Defaults to `<stateDir>/state.db`. */
  readonly store?: string | undefined;
  /**
   * Where spans go, when not beside the state (a postgres:// URL, or a SQLite file): a
   * database of their own keeps a flood of spans away from the store and the leader's lease.
   * Replicas share traces when they name the same PostgreSQL here.
   */
  readonly traceStore?: string | undefined;
  /**
   * Serve every caller as an anonymous admin, without a token: for a throwaway machine only.
   * Refused beyond loopback. The Host and Origin checks stay on.
   */
  readonly insecureNoAuth?: boolean | undefined;
  /** Host names the API answers for besides IP addresses and localhost (DNS-rebinding guard). */
  readonly allowedHosts?: readonly string[] | undefined;
  readonly logger?: Logger | undefined;
  /**
   * What closing does to the instances: `baton up` stops them (Ctrl-C leaves nothing
   * behind); `baton server` leaves them serving, to be adopted when it starts again.
   */
  readonly stopInstancesOnClose?: boolean | undefined;
  /** Folder relative `run.cwd` paths resolve against when a revision does not say. */
  readonly baseDir?: string | undefined;
  /**
   * `process` (the default) runs instances as local processes; `docker` as containers of the
   * Docker Engine on this machine; `swarm` on the nodes of a Docker Swarm (DOCKER_HOST: a
   * manager). `simulated` runs nothing: it exists for scale benchmarks
   * and deterministic fault tests, never for real work.
   */
  readonly runtime?: RuntimeKind | undefined;
  /** The engine for `docker` (a manager for `swarm`), as DOCKER_HOST spells it; the default socket when absent. */
  readonly dockerHost?: string | undefined;
  /** Also forward every OTLP trace request to this OTLP/HTTP URL (Jaeger, Tempo, a collector). */
  readonly forwardTracesTo?: string | undefined;
  /**
   * The data plane's east-west listeners: the address instances reach this node's data plane
   * at (the gateway's `--east-west`, 127.0.0.1 by default) and the ports edges get (by
   * default 20000–23999, below the kernel's ephemeral ports).
   */
  readonly eastWest?:
    { readonly host?: string | undefined; readonly ports?: PortRange | undefined } | false | undefined;
  /**
   * The key that seals secrets: BATON_SECRETS_KEY's value, or a command printing it (a KMS);
   * else `<stateDir>/secrets.key`, created 0600 on first start.
   */
  readonly secretsKey?:
    { readonly value?: string | undefined; readonly command?: string | undefined } | undefined;
}

export interface ControlPlane {
  readonly url: string;
  /**
   * The bootstrap admin token (also in `<stateDir>/token`); undefined on a replica whose state
   * folder holds no copy (another replica made it).
   */
  readonly token: string | undefined;
  /** What a gateway of this control plane presents: snapshots, their watch and spans. */
  readonly gatewayToken: string;
  readonly identities: Identities;
  readonly store: Store;
  readonly engine: RevisionEngine;
  readonly registry: Registry;
  /** The controller of the current (or last) term: a new one runs in every term this replica leads. */
  readonly controller: Controller;
  readonly runtime: Runtime;
  readonly traffic: TrafficControl;
  /**
   * Where the runtime's instances reach this node's data plane, so where a gateway's east-west
   * listeners must listen (`baton gateway --east-west`); undefined when there is no data plane.
   */
  readonly dataPlaneHost: string | undefined;
  readonly telemetry: Telemetry;
  readonly configCenter: ConfigCenter;
  readonly grayWatch: GrayWatch;
  /** Runs the controller and alerts while this control plane leads; its `term` has the epoch. */
  readonly leader: LeaderRunner;
  readonly leadership: Leadership;
  /** Settles, with the reason, if this control plane stops leading other than by `close`: its owner should exit. */
  readonly leadershipLost: Promise<unknown>;
  close(): Promise<void>;
}

export async function startControlPlane(config: ControlPlaneConfig): Promise<ControlPlane> {
  const logger = config.logger ?? pino({ level: 'info' }, pino.destination(2));
  const clock = systemClock;
  const stateDir = resolve(config.stateDir);
  // The admin token lives here: the folder is this user's alone, even if it existed before.
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await chmod(stateDir, 0o700);
  const location = storeLocation(config.store, stateDir);
  // First of all: a second control plane on this state is refused before it touches anything.
  const leadership = await openLeadership(location, clock);
  // What a start that fails half-way must close again, newest first: the lock last.
  const opened: (() => Promise<unknown> | void)[] = [() => leadership.close()];
  try {
    return await wire(config, { logger, clock, stateDir, location, leadership, opened });
  } catch (error) {
    for (const close of opened.reverse()) await Promise.resolve(close()).catch(() => {});
    throw error;
  }
}

interface Wiring {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly stateDir: string;
  readonly location: StoreLocation;
  readonly leadership: Leadership;
  readonly opened: (() => Promise<unknown> | void)[];
}

async function wire(config: ControlPlaneConfig, wiring: Wiring): Promise<ControlPlane> {
  const { logger, clock, stateDir, location, leadership, opened } = wiring;
  // Every store call timed for /metrics, whichever database it is.
  const storeMetrics = new MetricsRegistry();
  const store = new InstrumentedStore(await openStoreAt(location), storeMetrics);
  opened.push(() => store.close());
  // This API starts processes: no one reaches it without a token, loopback included (a page in
  // the operator's browser is on loopback too), unless the operator opted out on loopback.
  if (config.insecureNoAuth && !isLoopback(config.host))
    throw new BatonError(
      'bad-request',
      `--insecure-no-auth is refused on ${config.host}: anyone could run commands here`,
      {
        hint: 'listen on 127.0.0.1 for a throwaway setup, or drop --insecure-no-auth and use the token',
      },
    );
  // Sealed secrets and the service-token key in the store open with this key: replicas share it.
  const secretsKey = await loadSecretKey({ stateDir, ...config.secretsKey });
  logger.info({ key: secretsKey.source }, 'secrets key');
  const sealer = aesGcmSealer(secretsKey.key);
  const newSecret = () => randomBytes(32).toString('base64url');
  // The keys every replica agrees on come from the store; the admin token stays in the folder.
  const keys = await establishServerKeys({
    store,
    sealer,
    localToken: await readToken(stateDir),
    single: location.kind === 'sqlite',
    newSecret,
  });
  const token =
    keys.minted === undefined ? await readToken(stateDir) : await writeToken(stateDir, keys.minted);
  if (keys.rotated) logger.warn('new service and gateway tokens: instances get theirs when they next start');
  if (!keys.holdsAdminToken)
    logger.info(
      'this state folder holds no copy of the bootstrap admin token (another replica made it): use a named token, or copy its `token` file here',
    );
  const identities = new Identities({
    store,
    clock,
    adminDigest: keys.adminDigest,
    serviceKey: keys.serviceKey,
    newSecret,
  });
  // The leader's own writes carry its epoch and are refused once it is stale (fencing);
  // operators' writes (apply, scale, traffic) are accepted by any replica.
  const term = (): Term | undefined => leader.term;
  const leaderStore = fencedStore(store, term, { stamp: location.kind === 'postgres' });
  const events = new EventWriter(leaderStore, logger);
  const registry = new Registry({
    clock,
    onTransition: (report) => events.push(transitionEvent(report, clock.now().toISOString())),
    onIllegal: (record, to, cause, reason) =>
      logger.error(
        { instance: record.id, from: record.phase, to, cause, reason },
        'illegal instance transition refused (a bug)',
      ),
  });
  // Listen first: instances are told the API's URL, which a `:0` port only reveals now.
  // Until everything is wired, requests get 503 (and retry) rather than a half-built API.
  // The node server's bindings (`incoming`: the socket, for the audit trail's address) go along.
  let fetch: ApiFetch = () =>
    Response.json({ status: 'starting' }, { status: 503, headers: { 'retry-after': '1' } });
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve(
      { fetch: (request, env) => fetch(request, env), hostname: config.host, port: config.port },
      () => resolve(s),
    );
    s.once('error', reject);
  });
  opened.push(() => new Promise((done) => server.close(done)));
  limitServer(server as Server);
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  logger.info(
    { url, store: describeStore(location), auth: config.insecureNoAuth ? 'none' : 'bearer' },
    'listening',
  );

  const eastWest = config.eastWest === false ? undefined : (config.eastWest ?? {});
  const {
    runtime: local,
    prober,
    closeDoor,
    dataPlaneHost: eastWestHost,
  } = await openRuntime(config.runtime ?? 'process', {
    stateDir,
    serverUrl: url,
    serverUrls: () => replicaUrls(leadership, url),
    identities,
    fetch: (request, env) => fetch(request, env),
    dockerHost: config.dockerHost,
    mainPort: port,
    logger,
    dataPlaneHost: eastWest?.host,
    owner: () => runtimeOwnerId({ stateDir, store, shared: location.kind === 'postgres' }),
  });
  opened.push(() => local.close(), closeDoor);
  const baseDir = config.baseDir ?? process.cwd();
  // Large manifests are validated on a worker thread first: junk never stalls the API.
  const validation = workerPrecheck();
  opened.push(() => validation.close());
  const secrets: SecretVault = new SecretVault({
    store,
    sealer,
    clock,
    current: async () => (await engine.newest())?.manifest,
    restart: (service, actor) => controller.restart(service, actor),
    // `config.secrets: push` reaches instances through their config file, where they have one.
    canPush: local.name === 'process',
    // Declared below; asked only once requests come.
    config: {
      servicesGivenSecret: (secret, services) => configCenter.servicesGivenSecret(secret, services),
      secretsGivenTo: (service) => configCenter.secretsGivenTo(service),
    },
  });
  const engine = new RevisionEngine({
    store,
    clock,
    admit: withSecretCheck(runtimeAdmission(local, baseDir), secrets),
  });
  const configCenter: ConfigCenter = new ConfigCenter({
    store,
    clock,
    current: async () => (await engine.newest())?.manifest,
    restart: (service, actor) => controller.restart(service, actor),
  });
  await configCenter.start();
  opened.push(() => configCenter.stop());
  // A file instances can read (BATON_CONFIG_FILE) where they share this machine's disk:
  // beside the state folder, never in it (instances get no path into it).
  // Containers on this machine's engine get its folder bound read-only instead (swarm's run
  // on other nodes: none).
  const configFiles =
    local.name === 'process'
      ? jsonConfigFiles(`${resolve(stateDir)}.config`)
      : local.name === 'docker'
        ? jsonConfigFiles(`${resolve(stateDir)}.config`, { containerDir: CONTAINER_CONFIG_DIR })
        : undefined;
  const spanStore =
    config.traceStore === undefined
      ? await openSpanStoreAt(location, stateDir)
      : await openSpanStoreAt(traceStoreLocation(config.traceStore, location, stateDir), stateDir, true);
  opened.push(() => spanStore.close());
  const telemetry = await createTelemetry({
    spanStore,
    logger,
    clock,
    engine,
    forwardTo: config.forwardTracesTo,
  });
  opened.push(() => telemetry.close());
  const traffic = new TrafficControl({
    store,
    engine,
    registry,
    clock,
    newId: () => `fault-${randomBytes(4).toString('hex')}`,
    epoch: randomBytes(8).toString('hex'),
    logger,
    listeners: eastWest && { host: eastWestHost, range: eastWest.ports, isFree: portIsFree },
  });
  await traffic.start();
  opened.push(() => traffic.stop());
  // Instances start with their dependencies' addresses on the data plane (when there is one).
  // Every start and stop asks the term first: a leader paused past its lease acts no more.
  // …and the secrets their env refers to, opened only as each one starts; their config
  // first, so that a config value may refer to a secret too.
  const runtime = fencedRuntime(
    withConfig(
      withSecrets(eastWest ? withDataPlaneAddresses(local, traffic.listenerPorts) : local, secrets),
      configCenter,
      configFiles,
      secrets,
    ),
    term,
  );
  // A controller cannot start twice: each term this replica leads gets a new one.
  const newController = () =>
    new Controller({
      store: leaderStore,
      intentStore: store,
      runtime,
      registry,
      prober,
      revisions: engine,
      clock,
      logger,
      defaultBaseDir: baseDir,
      traffic: traffic.recordingThrough(leaderStore),
      leading: () => leader.leading,
    });
  let controller = newController();
  let controllerStarted = false;
  const fileKeeper =
    configFiles &&
    new ConfigFileKeeper({
      center: configCenter,
      files: configFiles,
      secrets,
      instances: () => registry.instances(),
    });
  fileKeeper?.start();
  opened.push(() => fileKeeper?.stop());
  const red = telemetry.red();
  const alerts = new AlertEngine({
    store: leaderStore,
    engine,
    clock,
    logger,
    slots: (service) => telemetry.red(service).services[0]?.series ?? [],
    slotMs: red.slotSeconds * 1000,
    abortRollout: (service, reason) => controller.abortRollout(service, reason),
  });
  // A gray config release is held to the same gates as a version's canary, on its own instances.
  const grayWatch = new GrayWatch({
    center: configCenter,
    clock,
    logger,
    current: async () => (await engine.newest())?.manifest,
    instances: () => registry.instances().filter((i) => i.phase !== 'stopped' && i.phase !== 'failed'),
    series: (ids) => telemetry.instanceSeries(ids),
    slotMs: red.slotSeconds * 1000,
  });
  // Replicas over a shared store: the leader publishes its registry, the others mirror it.
  const replication = await openReplication(location, {
    registry,
    logger,
    states: () => controller.states(),
  });
  if (replication) opened.push(() => replication.shared.close());
  const { promise: leadershipLost, resolve: loseLeadership } = Promise.withResolvers<unknown>();
  const leases = leadership.name === 'postgres-lease';
  const leadershipEvent = (kind: string, held: Term, message: string): Promise<unknown> =>
    (kind === 'leadership.elected' ? leaderStore : store)
      .appendEvents([
        {
          kind,
          actor: 'leadership',
          message,
          data: { epoch: held.epoch, pid: process.pid, host: hostname(), address: url },
          time: clock.now().toISOString(),
        },
      ])
      .catch((error: unknown) => logger.warn({ err: error, kind }, 'could not record a leadership change'));
  let releaseHandover = (): void => {};
  const leader: LeaderRunner = new LeaderRunner({
    leadership,
    logger,
    campaignAgain: leases,
    // A lease is lost in the ordinary course (the database away, this process paused): it
    // campaigns again. A lock taken over means another control plane owns the state.
    onLost: (reason) => {
      if (!leases) loseLeadership(reason);
    },
    runnables: [
      ...(leases
        ? [
            {
              // First in, last out: the term's first and last word in the log.
              name: 'leadership events',
              start: (held: Term) =>
                leadershipEvent(
                  'leadership.elected',
                  held,
                  `pid ${process.pid} on ${hostname()} leads, epoch ${held.epoch}`,
                ).then(() => {}),
              stop: async (reason: 'shutdown' | 'lost') => {
                const held = leader.term;
                if (reason === 'shutdown' && held)
                  await leadershipEvent(
                    'leadership.released',
                    held,
                    `pid ${process.pid} on ${hostname()} stepped down (shutdown), epoch ${held.epoch}`,
                  );
              },
            },
          ]
        : []),
      ...(replication
        ? [
            {
              name: 'registry replication',
              start: async (held: Term) => {
                // Until the controller has adopted and checked what runs (below), discovery and
                // gateways keep the mirrored picture rather than the empty registry in between.
                const releaseSnapshots = traffic.hold(HANDOVER_HOLD_MS);
                const releaseEndpoints = registry.holdEndpoints(HANDOVER_HOLD_MS);
                releaseHandover = () => {
                  releaseEndpoints();
                  releaseSnapshots();
                };
                await replication.mirror.stop();
                replication.epoch = held.epoch;
              },
              stop: async () => {
                releaseHandover();
                await replication.publisher.stop(replication.epoch);
                await replication.mirror.start();
              },
            },
          ]
        : []),
      {
        name: 'controller',
        start: async () => {
          if (controllerStarted) {
            controller = newController();
            serveApi(); // its metrics
          }
          controllerStarted = true;
          await controller.start();
          // Gateways keep routing by their last snapshot until the adopted instances are checked.
          const checked = traffic.holdUntilChecked(
            registry
              .instances()
              .filter((i) => i.phase === 'starting')
              .map((i) => i.id),
            15_000,
          );
          void checked.finally(() => releaseHandover());
          // The other replicas keep serving the last leader's picture (its instances still
          // serve) until this one's is as good: adopted instances checked, not all `starting`.
          const epoch = replication?.epoch;
          if (replication && epoch !== undefined)
            void checked
              .then(() => (leader.term?.epoch === epoch ? replication.publisher.start(epoch) : undefined))
              .catch((error: unknown) => logger.warn({ err: error }, 'could not publish the registry'));
        },
        // Instances outlive a lost term: whoever leads next adopts them.
        stop: (reason) =>
          controller.stop({ stopInstances: reason === 'shutdown' && (config.stopInstancesOnClose ?? false) }),
      },
      { name: 'alerts', start: () => alerts.start(), stop: () => alerts.stop() },
      { name: 'gray-watch', start: async () => grayWatch.start(), stop: () => grayWatch.stop() },
    ],
  });
  // The API's view of the controller: on a replica that does not lead, the leader's published states.
  const controlling = {
    states: () => (leader.leading || !replication ? controller.states() : [...replication.mirror.states()]),
    scale: (service: string, replicas: number, actor: string) => controller.scale(service, replicas, actor),
    restart: (service: string, actor: string) => controller.restart(service, actor),
  };
  const cluster = async () => ({
    ...(await leadership.observe()),
    self: { address: url, leading: leader.leading, epoch: leader.term?.epoch ?? null },
  });
  // Discovery's position: what this replica's registry shows, by the shared state's sequence.
  const position = () =>
    !replication ? registry.version : leader.leading ? replication.heard : replication.mirror.seq;
  const positionScope = replication ? 'cluster' : `registry-${randomBytes(6).toString('hex')}`;
  const running = {
    registry,
    controller: controlling,
    runtime,
    cluster,
    position,
    positionScope,
    configOf: (instance: ConfigInstance) => configCenter.releaseOf(instance),
  };
  const serveApi = () => {
    fetch = createHttpApp({
      engine,
      store,
      running,
      gateway: { traffic },
      logger,
      version: BATON_VERSION,
      auth: config.insecureNoAuth ? 'none' : identities,
      identities,
      allowedHosts: config.allowedHosts,
      telemetry,
      secrets,
      config: { config: configCenter, instances: () => registry.instances(), secrets },
      metrics: [telemetry.metrics, controller.metrics, storeMetrics, leadershipMetrics(leadership)],
    }).fetch;
  };
  if (leases) {
    // A replica serves from the start, leading or not; it campaigns behind.
    await replication?.mirror.start();
    serveApi();
    await leadership.advertise(url);
    await leader.start({ inBackground: true });
  } else {
    await leader.start();
    await leader.term?.announce(url);
    serveApi();
  }

  return {
    url,
    token,
    gatewayToken: identities.gatewayToken(),
    identities,
    store,
    engine,
    registry,
    get controller() {
      return controller;
    },
    runtime,
    traffic,
    dataPlaneHost: eastWest && eastWestHost,
    telemetry,
    configCenter,
    grayWatch,
    leader,
    leadership,
    leadershipLost,
    async close() {
      await leader.stop();
      traffic.stop();
      await runtime.close();
      await closeDoor();
      await new Promise<void>((done) => {
        server.close(() => done());
        // Open SSE streams would hold close() forever; they resume with Last-Event-ID.
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await fileKeeper?.stop();
      configCenter.stop();
      await events.drain();
      await validation.close();
      await replication?.mirror.stop();
      await replication?.shared.close();
      await telemetry.close();
      await store.close();
      await leadership.close();
    },
  };
}

interface RuntimeWiring {
  readonly stateDir: string;
  /** The API's URL on this machine. */
  readonly serverUrl: string;
  /** Every replica's URL, this one first, comma-separated: what instances on this machine get. */
  readonly serverUrls: () => Promise<string>;
  /** Instances get their service's own token from it, never the admin's. */
  readonly identities: Identities;
  /** The API itself, for the instance-facing listener to pass allowed requests to. */
  readonly fetch: ApiFetch;
  readonly dockerHost: string | undefined;
  readonly mainPort: number;
  readonly logger: Logger;
  /** Where instances reach the east-west data plane on this machine, when the operator says; else the runtime's choice. */
  readonly dataPlaneHost: string | undefined;
  /** What marks the control plane's containers, volumes and network as its own (container runtimes). */
  readonly owner: () => Promise<string>;
}

interface OpenedRuntime {
  readonly runtime: Runtime;
  readonly prober: Prober;
  readonly closeDoor: () => Promise<void>;
  /** Where its instances reach this node's data plane: 127.0.0.1 for processes, the network's gateway for containers. */
  readonly dataPlaneHost: string;
}

async function openRuntime(kind: RuntimeKind, options: RuntimeWiring): Promise<OpenedRuntime> {
  const none = async () => {};
  const dataPlaneHost = options.dataPlaneHost ?? '127.0.0.1';
  if (kind === 'simulated') {
    const runtime = createSimulatedRuntime({ clock: systemClock });
    return { runtime, prober: new SimulatedProber(runtime), closeDoor: none, dataPlaneHost };
  }
  if (kind === 'docker') return openDockerRuntime(options);
  if (kind === 'swarm') return openSwarmRuntime(options);
  return {
    dataPlaneHost,
    runtime: await createProcessRuntime({
      stateDir: options.stateDir,
      // Instances share this machine with the replicas: each gets them all, to move to another
      // when this one dies (the SDK's discovery watch, config stream and span export do).
      serverUrl: options.serverUrls,
      // Each instance gets its own service's token: discovery and its own spans, nothing more.
      tokenFor: (service) => options.identities.serviceToken(service),
      dataPlaneHost,
      clock: systemClock,
      autoTelemetry: autoTelemetryEnvironment,
    }),
    prober: new NetworkProber(),
    closeDoor: none,
  };
}

/**
 * This replica's URL, then the other live replicas' (as they advertise themselves), comma-separated
 * as BATON_SERVER takes them. Only this one when the leadership knows no others, or cannot say.
 */
async function replicaUrls(leadership: Leadership, self: string): Promise<string> {
  if (leadership.name !== 'postgres-lease') return self;
  const view = await leadership.observe().catch(() => undefined);
  const others = (view?.replicas ?? []).flatMap((r) => (r.address && r.address !== self ? [r.address] : []));
  return [self, ...new Set(others)].join(',');
}

/** Where the state lives: `--store` as given (a path, `sqlite:PATH`, `postgres://…`), or the default file. */
export type StoreLocation =
  { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string };

export function storeLocation(spec: string | undefined, stateDir: string, flag = '--store'): StoreLocation {
  if (spec === undefined || spec === '') return { kind: 'sqlite', path: join(stateDir, 'state.db') };
  if (/^postgres(ql)?:\/\//.test(spec)) return { kind: 'postgres', url: spec };
  // `sqlite:relative/path`, `sqlite:/absolute/path` and `sqlite:///absolute/path` all name a file.
  const sqlite = /^sqlite:(?:\/\/(?=\/))?(.+)$/.exec(spec);
  if (sqlite) return { kind: 'sqlite', path: sqlite[1] === ':memory:' ? ':memory:' : resolve(sqlite[1]!) };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(spec);
  if (scheme)
    throw new BatonError('bad-request', `${flag} ${scheme[1]}:// is not a store Baton knows`, {
      hint: 'give a SQLite file (a path or sqlite:PATH) or a postgres:// URL',
    });
  return { kind: 'sqlite', path: spec === ':memory:' ? spec : resolve(spec) };
}

/**
 * Containers on the owner's bridge network; the host probes and routes to their addresses
 * directly. They reach the control plane through its instance-facing door on the network's
 * gateway, which serves only discovery and span export, and only to a service's own token.
 */
async function openDockerRuntime(options: RuntimeWiring): Promise<OpenedRuntime> {
  const { stateDir, logger } = options;
  const docker = connectEngine(options.dockerHost);
  const engine = await checkEngine(docker);
  const owner = await options.owner();
  const network = await ensureOwnerNetwork(docker, owner);
  const door = await listenDoor(instanceFacing(options.fetch, options.identities), network.gateway, {
    stateDir,
    preferred: options.mainPort,
  });
  const doorUrl = `http://${network.gateway}:${door.port}`;
  // Containers reach the host at their network's gateway: the data plane listens there too.
  const dataPlaneHost = options.dataPlaneHost ?? network.gateway;
  logger.info(
    { engine: engine.version, network: network.name, door: doorUrl, dataPlane: dataPlaneHost },
    'docker runtime',
  );
  let runtime: Awaited<ReturnType<typeof createDockerRuntime>>;
  try {
    runtime = await createDockerRuntime({
      docker,
      owner,
      network,
      serverUrl: doorUrl,
      tokenFor: (service) => options.identities.serviceToken(service),
      dataPlaneHost,
      builder: new ImageBuilder({
        docker,
        node: { nodePath: process.execPath, nodeVersion: process.version },
      }),
      onBuild: (image, progress) => {
        if (progress.kind === 'step')
          logger.info({ image, step: `${progress.index}/${progress.total}` }, progress.instruction);
        else if (progress.kind === 'built') logger.info({ image, id: progress.imageId }, 'image built');
      },
    });
  } catch (error) {
    await door.close();
    throw error;
  }
  const prober = new ContainerProber({
    docker,
    network: new NetworkProber(),
    containerOf: (id) => runtime.containerOf(id),
  });
  return { runtime, prober, closeDoor: door.close, dataPlaneHost };
}

/**
 * Instances on the nodes of a Swarm, reached at their node's address and published port. They
 * reach this machine — the data plane and the control plane's door — at the address the nodes
 * route to it by (found from the manager's node address), unless the operator names one.
 */
async function openSwarmRuntime(options: RuntimeWiring): Promise<OpenedRuntime> {
  const { stateDir, logger } = options;
  const docker = connectEngine(options.dockerHost);
  const engine = await checkEngine(docker);
  const owner = await options.owner();
  const managerAddress = ((await docker.info()) as { Swarm?: { NodeAddr?: string } }).Swarm?.NodeAddr;
  const dataPlaneHost =
    options.dataPlaneHost ?? (managerAddress ? await localAddressToward(managerAddress) : '127.0.0.1');
  const door = await listenDoor(instanceFacing(options.fetch, options.identities), dataPlaneHost, {
    stateDir,
    preferred: options.mainPort,
  });
  const doorUrl = `http://${dataPlaneHost}:${door.port}`;
  logger.info({ engine: engine.version, door: doorUrl, dataPlane: dataPlaneHost }, 'swarm runtime');
  try {
    const runtime = await createSwarmRuntime({
      docker,
      owner,
      dataPlaneHost,
      serverUrl: doorUrl,
      tokenFor: (service) => options.identities.serviceToken(service),
    });
    return { runtime, prober: new SwarmProber(new NetworkProber()), closeDoor: door.close, dataPlaneHost };
  } catch (error) {
    await door.close();
    throw error;
  }
}

/** The address this machine's routes use toward `remote`: where the nodes reach it. */
async function localAddressToward(remote: string): Promise<string> {
  const socket = createSocket(remote.includes(':') ? 'udp6' : 'udp4');
  try {
    // A UDP connect sends nothing: it only asks the kernel which route, and source, it would take.
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(9, remote, resolve);
    });
    return socket.address().address;
  } finally {
    socket.close();
  }
}

/**
 * Adopted instances keep the door's URL they started with, so the door keeps its port across
 * restarts: the one it had (remembered in the state folder), else the API's own port number.
 */
async function listenDoor(
  fetch: ApiFetch,
  host: string,
  options: { stateDir: string; preferred: number },
): Promise<{ port: number; close: () => Promise<void> }> {
  const file = join(options.stateDir, 'instance-door-port');
  const remembered = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  const candidates = [
    ...new Set([remembered, options.preferred].filter((p) => Number.isInteger(p) && p > 0)),
    0,
  ];
  for (const candidate of candidates) {
    try {
      const server = await new Promise<ServerType>((resolve, reject) => {
        const s = serve({ fetch, hostname: host, port: candidate }, () => resolve(s));
        s.once('error', reject);
      });
      const { port } = server.address() as AddressInfo;
      if (port !== remembered) await writeFile(file, `${port}\n`);
      return {
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            (server as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || candidate === 0) throw error;
    }
  }
  throw new Error('unreachable: port 0 always binds or throws');
}

/** Builds services' images with the engine on this machine (`baton build`, `baton up --runtime docker`). */
export async function openImageBuilder(dockerHost: string | undefined): Promise<ImageBuilder> {
  const docker = connectEngine(dockerHost);
  await checkEngine(docker);
  return new ImageBuilder({ docker, node: { nodePath: process.execPath, nodeVersion: process.version } });
}

export async function openStore(spec: string): Promise<Store> {
  return openStoreAt(storeLocation(spec, process.cwd()));
}

function openStoreAt(location: StoreLocation): Promise<Store> {
  return location.kind === 'postgres'
    ? openPostgresStore({ connectionString: location.url })
    : openSqliteStore({ path: location.path });
}

/** `--trace-store` as given; never the SQLite state database itself (both keep their schema version there). */
function traceStoreLocation(spec: string, state: StoreLocation, stateDir: string): StoreLocation {
  const traces = storeLocation(spec, stateDir, '--trace-store');
  if (
    traces.kind === 'sqlite' &&
    state.kind === 'sqlite' &&
    traces.path === state.path &&
    traces.path !== ':memory:'
  )
    throw new BatonError('bad-request', `--trace-store ${spec} is the state database`, {
      hint: 'give spans a file of their own (or leave --trace-store out: they get traces.db beside the state)',
    });
  return traces;
}

/**
 * Spans live beside the state unless `--trace-store` says otherwise: in the state folder's
 * own SQLite file, or, with PostgreSQL, in its `baton_traces` schema, so that a trace sent to
 * one replica is found from every other. A SQLite state store's file is never theirs: spans
 * get `traces.db` beside it (a `--trace-store` SQLite file is taken as given).
 */
function openSpanStoreAt(location: StoreLocation, stateDir: string, given = false): Promise<SpanStore> {
  if (location.kind === 'postgres') return openPostgresSpanStore({ connectionString: location.url });
  return openSqliteSpanStore({ path: given ? location.path : join(stateDir, 'traces.db') });
}

/**
 * SQLite allows one control plane per database: its lock refuses a second at once. On
 * PostgreSQL replicas campaign for a lease; one leads, the others serve and wait.
 */
function openLeadership(location: StoreLocation, clock: Clock): Promise<Leadership> {
  const candidate = { pid: process.pid, host: hostname() };
  if (location.kind === 'postgres')
    return openPostgresLeadership({ connectionString: location.url, candidate, clock });
  if (location.path === ':memory:') return Promise.resolve(soleLeadership());
  return openSqliteLeadership({
    path: location.path,
    candidate: { pid: process.pid, host: hostname() },
    clock,
  });
}

interface Replication {
  readonly shared: SharedState;
  readonly publisher: RegistryPublisher;
  readonly mirror: RegistryMirror;
  /** The newest sequence any publish announced: where a leader's registry is at least. */
  heard: number;
  /** The term the publisher publishes for, once the controller has rebuilt the registry. */
  epoch: number | undefined;
}

/** Several replicas share their registry through PostgreSQL; a SQLite store has one control plane. */
async function openReplication(
  location: StoreLocation,
  options: { registry: Registry; logger: Logger; states: () => readonly ServiceState[] },
): Promise<Replication | undefined> {
  if (location.kind !== 'postgres') return undefined;
  const shared = await openPostgresSharedState({ connectionString: location.url });
  const replication: Replication = {
    shared,
    publisher: new RegistryPublisher({ ...options, shared }),
    mirror: new RegistryMirror({ ...options, shared }),
    heard: 0,
    epoch: undefined,
  };
  shared.onPublish((seq) => (replication.heard = Math.max(replication.heard, seq)));
  return replication;
}

function describeStore(location: StoreLocation): string {
  return location.kind === 'postgres' ? location.url.replace(/\/\/[^@/]*@/, '//***@') : location.path;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The bootstrap admin token in `<stateDir>/token`, if there is one. */
async function readToken(stateDir: string): Promise<string | undefined> {
  try {
    return (await readFile(join(stateDir, 'token'), 'utf8')).trim() || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return undefined;
  }
}

async function writeToken(stateDir: string, token: string): Promise<string> {
  const path = join(stateDir, 'token');
  // `wx` fails if another process created it first; then theirs is the token.
  try {
    await writeFile(path, token + '\n', { mode: 0o600, flag: 'wx' });
    return token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(path, 'utf8')).trim();
    throw error;
  }
}
