// The control plane's side of the gateway: it composes what every gateway needs (the current
// revision's routes and policies, the registry's healthy endpoints, traffic splits, fault
// injections) into one GatewaySnapshot, and announces each change. Splits and faults are
// events in the log, not rows of their own: the audit trail is the state, replayed on start,
// and a second control plane on the same store sees the same.
import { hasService, serviceOf } from '../../domain/manifest/service-lookup.ts';
import { BatonError } from '../../domain/errors.ts';
import { describeFault } from '../../domain/gateway/describe-fault.ts';
import { eastWestMode, listenersOf, wantedListeners } from '../../domain/gateway/east-west.ts';
import type { EastWestListener } from '../../domain/gateway/east-west.ts';
import { DEFAULT_GATEWAY_SETTINGS, resolveGateway } from '../../domain/gateway/resolve.ts';
import type {
  EastWestSnapshot,
  FaultInjection,
  GatewaySnapshot,
  TrafficSplit,
} from '../../domain/gateway/snapshot.ts';
import type { Manifest } from '../../domain/manifest/model.ts';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../ports/clock.ts';
import type { StoredEvent, Store } from '../../ports/store.ts';
import type { Registry } from '../registry/registry.ts';
import type { RevisionEngine } from '../revisions/revision-engine.ts';
import { ListenerPorts, type PortRange } from './listener-ports.ts';

export const TRAFFIC_EVENT_KINDS = [
  'traffic.split-set',
  'traffic.split-cleared',
  'fault.injected',
  'fault.cleared',
];

/** Bursts of instance changes (a rollout) become one snapshot per this many ms. */
const COALESCE_MS = 50;
/** How soon a read that failed because the store is down is tried again. */
const STORE_RETRY_MS = 1_000;
/** The longest a fault injection may live: game days end. */
export const MAX_FAULT_MS = 24 * 3_600_000;

export interface FaultRequest {
  readonly service: string;
  readonly path?: string | undefined;
  readonly delay?: { readonly ms: number; readonly percent: number } | undefined;
  readonly abort?: { readonly status: number; readonly percent: number } | undefined;
  readonly durationMs: number;
}

export interface TrafficControlOptions {
  readonly store: Store;
  readonly engine: RevisionEngine;
  readonly registry: Registry;
  readonly clock: Clock;
  readonly newId: () => string;
  /** Names this process's `sequence` counter, which starts again when the control plane does. */
  readonly epoch: string;
  /** Where a store that is down is reported (and retried). */
  readonly logger?: Logger | undefined;
  /**
   * The data plane's east-west listeners: where they listen, from which ports, how to try
   * one. Without it ports are recorded untried (tests on the simulated runtime).
   */
  readonly listeners?:
    | {
        readonly host: string;
        readonly range?: PortRange | undefined;
        readonly isFree: (host: string, port: number) => Promise<boolean>;
      }
    | false
    | undefined;
}

export class TrafficControl {
  readonly #o: TrafficControlOptions;
  readonly #splits = new Map<string, TrafficSplit>();
  readonly #faults = new Map<string, FaultInjection>();
  readonly #listeners = new Set<() => void>();
  #resolved: { readonly revision: number; readonly value: ReturnType<typeof resolveGateway> } | undefined;
  #sequence = 0;
  #revision = 0;
  #replayedTo = 0;
  #looking = false;
  #lookAgain = false;
  #pending: Timer | undefined;
  #expiry: Timer | undefined;
  #retry: Timer | undefined;
  #unsubscribe: (() => void)[] = [];
  readonly #ports: ListenerPorts;
  /** False when this control plane runs no data plane between services (`baton up --no-gateway`). */
  readonly #eastWestOn: boolean;
  /** Resolves once the instances adopted at start have their first health verdict. */
  #warm: Promise<void> = Promise.resolve();
  /** Manifests of earlier revisions, whose instances may still run (revisions never change). */
  readonly #manifests = new Map<number, Manifest>();

  constructor(options: TrafficControlOptions) {
    this.#o = options;
    const listeners = options.listeners === false ? undefined : options.listeners;
    this.#eastWestOn = options.listeners !== false;
    this.#ports = new ListenerPorts({
      store: options.store,
      clock: options.clock,
      host: listeners?.host ?? '127.0.0.1',
      range: listeners?.range,
      isFree: listeners?.isFree ?? (async () => true),
      onAssigned: () => this.#changed(),
    });
  }

  /** The data plane's ports: the runtime asks for an instance's before starting it. */
  get listenerPorts(): ListenerPorts {
    return this.#ports;
  }

  async start(): Promise<void> {
    const { store, registry } = this.#o;
    await this.#catchUp();
    this.#revision = (await store.listRevisions({ limit: 1 }))[0]?.number ?? 0;
    await this.#assignListeners();
    this.#unsubscribe = [
      registry.subscribe(() => this.#changed()),
      store.onEvents(() => void this.#onStoreEvents()),
    ];
    this.#scheduleExpiry();
  }

  stop(): void {
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    this.#retry?.cancel();
    this.#pending?.cancel();
    this.#expiry?.cancel();
  }

  /** Called (coalesced) after every change that may alter the snapshot. */
  watch(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get sequence(): number {
    return this.#sequence;
  }

  /**
   * A restarted control plane adopts the instances that kept serving, but routes to them
   * only once their health is checked again: until then, a snapshot would tell every
   * gateway that no instance is healthy, and gateways routing well by their last snapshot
   * would start refusing calls. So snapshots wait until the adopted instances (`ids`) have
   * each had a verdict, or `maxMs` passed.
   */
  holdUntilChecked(ids: readonly string[], maxMs: number): Promise<void> {
    const waiting = new Set(ids);
    if (waiting.size === 0) return Promise.resolve();
    const { registry, clock } = this.#o;
    this.#warm = new Promise<void>((resolve) => {
      const timer = clock.setTimeout(done, maxMs);
      const unsubscribe = registry.subscribe(check);
      function check(): void {
        for (const id of waiting) if (registry.get(id)?.phase !== 'starting') waiting.delete(id);
        if (waiting.size === 0) done();
      }
      function done(): void {
        timer.cancel();
        unsubscribe();
        resolve();
      }
      check();
    });
    return this.#warm;
  }

  /**
   * Holds snapshots from now until the returned function is called, or `maxMs` passed. A
   * replica taking the lead empties the registry it mirrored before it has adopted what runs:
   * a snapshot meanwhile would tell its gateways that nothing is healthy.
   */
  hold(maxMs: number): () => void {
    const { promise, resolve } = Promise.withResolvers<void>();
    const timer = this.#o.clock.setTimeout(release, maxMs);
    function release(): void {
      timer.cancel();
      resolve();
    }
    this.#warm = promise;
    return release;
  }

  async snapshot(): Promise<GatewaySnapshot> {
    // A hold may be replaced by a longer one while this waits (adopted instances to check).
    for (let warm = this.#warm; ; warm = this.#warm) {
      await warm;
      if (warm === this.#warm) break;
    }
    const latest = await this.#resolvedLatest();
    const services: Record<string, GatewaySnapshot['services'][string]> = {};
    if (latest) {
      for (const [name, service] of Object.entries(latest.services)) {
        const split = this.#splits.get(name);
        services[name] = {
          ...service,
          endpoints: this.#o.registry
            .endpoints(name)
            .map((e) => ({ instanceId: e.instance, address: e.address, port: e.port, version: e.version })),
          ...(split ? { split } : {}),
        };
      }
    }
    return {
      revision: this.#resolved?.revision ?? 0,
      sequence: this.#sequence,
      epoch: this.#o.epoch,
      settings: latest?.settings ?? DEFAULT_GATEWAY_SETTINGS,
      routes: latest?.routes ?? [],
      services,
      faults: this.faults(),
      ...(this.#eastWestOn ? { eastWest: await this.#eastWest() } : {}),
    };
  }

  /**
   * The listeners of the current revision's edges, and those of earlier revisions whose
   * consumers still run: an instance keeps the address (and the range) it was started with
   * until it is replaced.
   */
  async #eastWest(): Promise<EastWestSnapshot> {
    const newest = await this.#o.engine.newest();
    const wanted = newest === undefined ? [] : wantedListeners(newest.manifest);
    const byRevision = new Map<number, Set<string>>();
    for (const instance of this.#o.registry.instances()) {
      if (instance.revision === newest?.number) continue;
      const services = byRevision.get(instance.revision) ?? new Set<string>();
      services.add(instance.service);
      byRevision.set(instance.revision, services);
    }
    for (const [revision, services] of byRevision) {
      const manifest = await this.#manifestOf(revision);
      if (manifest === undefined) continue;
      for (const service of services) {
        const spec = serviceOf(manifest, service);
        if (spec !== undefined) wanted.push(...listenersOf(service, spec.dependsOn));
      }
    }
    const listeners = new Map<number, EastWestListener>();
    for (const listener of wanted) {
      const port = this.#ports.port(listener.key);
      if (port === undefined || listeners.has(port)) continue;
      listeners.set(port, {
        port,
        caller: listener.caller,
        ...(listener.callee !== undefined ? { callee: listener.callee, range: listener.range } : {}),
      });
    }
    return {
      mode: eastWestMode(newest?.manifest),
      listeners: [...listeners.values()].sort((a, b) => a.port - b.port),
    };
  }

  async #manifestOf(revision: number): Promise<Manifest | undefined> {
    let manifest = this.#manifests.get(revision);
    if (manifest === undefined) {
      try {
        manifest = (await this.#o.engine.getRevision(revision)).manifest;
      } catch {
        return undefined;
      }
      this.#manifests.set(revision, manifest);
    }
    return manifest;
  }

  /** Ports for the newest revision's listeners, ahead of its instances (which ask again). */
  async #assignListeners(): Promise<void> {
    if (!this.#eastWestOn) return;
    const newest = await this.#o.engine.newest();
    if (newest === undefined) return;
    await this.#ports.ensure(wantedListeners(newest.manifest));
  }

  split(service: string): TrafficSplit | undefined {
    return this.#splits.get(service);
  }

  splits(): Record<string, TrafficSplit> {
    return Object.fromEntries(this.#splits);
  }

  /** The active ones: an expired injection is gone even before its timer fires. */
  faults(): FaultInjection[] {
    const now = this.#o.clock.now().getTime();
    return [...this.#faults.values()].filter((f) => Date.parse(f.expiresAt) > now);
  }

  /**
   * Splits as the leader's rollouts set them: recorded through `store`, the leader's fenced
   * one, so a leader paused past its lease moves no traffic when it wakes. An operator's split
   * is accepted by any replica and goes through the plain store.
   */
  recordingThrough(store: Store): {
    split: (service: string) => TrafficSplit | undefined;
    setSplit: (service: string, weights: Record<string, number>, actor: string) => Promise<TrafficSplit>;
    clearSplit: (service: string, actor: string) => Promise<void>;
  } {
    return {
      split: (service) => this.split(service),
      setSplit: (service, weights, actor) => this.setSplit(service, weights, actor, store),
      clearSplit: (service, actor) => this.clearSplit(service, actor, store),
    };
  }

  async setSplit(
    service: string,
    weights: Record<string, number>,
    actor: string,
    store = this.#o.store,
  ): Promise<TrafficSplit> {
    await this.#requireService(service);
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    if (Object.keys(weights).length === 0 || Math.abs(total - 100) > 1e-9) {
      throw new BatonError('bad-request', `the weights of ${service} add up to ${total}, not 100`, {
        hint: 'give every version its percentage, e.g. `baton traffic orders 2.1.0=90 2.2.0=10`',
      });
    }
    const split: TrafficSplit = { weights, setBy: actor, since: this.#o.clock.now().toISOString() };
    const described = Object.entries(weights)
      .map(([version, percent]) => `${version} ${percent}%`)
      .join(', ');
    await this.#record(store, 'traffic.split-set', service, actor, `traffic of ${service}: ${described}`, {
      split,
    });
    return split;
  }

  async clearSplit(service: string, actor: string, store = this.#o.store): Promise<void> {
    // A service that is not there is a 404, not a quiet success: the name was probably mistyped.
    if (!this.#splits.has(service)) return this.#requireService(service);
    await this.#record(
      store,
      'traffic.split-cleared',
      service,
      actor,
      `traffic of ${service}: every version alike`,
    );
  }

  async injectFault(request: FaultRequest, actor: string): Promise<FaultInjection> {
    await this.#requireService(request.service);
    if (!request.delay && !request.abort) {
      throw new BatonError('bad-request', 'a fault injection needs a delay, an abort, or both', {
        hint: 'e.g. `baton faults inject orders --abort 503 --percent 10 --for 10m`',
      });
    }
    const now = this.#o.clock.now();
    const fault: FaultInjection = {
      id: this.#o.newId(),
      service: request.service,
      ...(request.path ? { path: request.path } : {}),
      ...(request.delay ? { delay: request.delay } : {}),
      ...(request.abort ? { abort: request.abort } : {}),
      expiresAt: new Date(now.getTime() + Math.min(request.durationMs, MAX_FAULT_MS)).toISOString(),
      createdBy: actor,
    };
    await this.#record(
      this.#o.store,
      'fault.injected',
      fault.service,
      actor,
      `fault injected: ${describeFault(fault)}`,
      {
        fault,
      },
    );
    return fault;
  }

  async clearFault(id: string, actor: string): Promise<void> {
    const fault = this.#faults.get(id);
    if (!fault) {
      throw new BatonError('not-found', `no active fault injection ${id}`, {
        hint: 'list them with `baton faults`',
      });
    }
    await this.#record(
      this.#o.store,
      'fault.cleared',
      fault.service,
      actor,
      `fault cleared: ${describeFault(fault)}`,
      {
        id,
      },
    );
  }

  async #record(
    store: Store,
    kind: string,
    service: string,
    actor: string,
    message: string,
    data: Record<string, unknown> = {},
  ): Promise<void> {
    const time = this.#o.clock.now().toISOString();
    await store.appendEvents([{ kind, service, actor, message, data, time }]);
    // Apply at once rather than on the store's notification, so the caller's next read sees it.
    await this.#catchUp();
  }

  async #requireService(service: string): Promise<void> {
    const latest = await this.#o.engine.latest();
    if (!hasService(latest?.manifest, service)) {
      throw new BatonError('service-not-found', `service \`${service}\` is not in the current revision`, {
        hint: 'list services with `baton status`',
      });
    }
  }

  /**
   * A split or a fault acts on the data plane's traffic to the service: one an operator sets
   * on a service that no route and no consumer reaches would do nothing, silently, on a game
   * day. (A canary rollout sets its own splits; it is not asked.)
   */
  async requireReachable(service: string, what: string): Promise<void> {
    await this.#requireService(service);
    const manifest = (await this.#o.engine.latest())!.manifest;
    if (this.#eastWestOn && eastWestMode(manifest) === 'observe') return;
    if (manifest.services[service]!.routes.length > 0) return;
    const consumers = Object.keys(manifest.services).filter((name) =>
      Object.hasOwn(manifest.services[name]!.dependsOn, service),
    );
    if (this.#eastWestOn && consumers.length > 0) return;
    throw new BatonError(
      'service-unreachable',
      this.#eastWestOn
        ? `${what} on ${service} would never act: no gateway route leads to it and no service declares it in dependsOn`
        : `${what} on ${service} would never act: no gateway route leads to it, and this control plane runs no data plane between services`,
      {
        hint: `give ${service} a route (\`routes: [{ path: /… }]\`) or declare it in its consumers' dependsOn; traffic reaches a service only through the data plane`,
      },
    );
  }

  /** Every commit announces itself; a burst (a rollout's events) costs one look, plus one after it. */
  async #onStoreEvents(): Promise<void> {
    if (this.#looking) {
      this.#lookAgain = true;
      return;
    }
    this.#looking = true;
    try {
      do {
        this.#lookAgain = false;
        await this.#catchUp();
        const newest = (await this.#o.store.listRevisions({ limit: 1 }))[0]?.number ?? 0;
        if (newest !== this.#revision) {
          this.#revision = newest;
          await this.#assignListeners();
          this.#changed();
        }
      } while (this.#lookAgain);
    } catch (error) {
      // The store is down (PostgreSQL restarting): look again later, while still running.
      this.#o.logger?.warn({ err: error }, 'could not read traffic events; retrying');
      if (this.#unsubscribe.length > 0)
        this.#retry = this.#o.clock.setTimeout(() => void this.#onStoreEvents(), STORE_RETRY_MS);
    } finally {
      this.#looking = false;
    }
  }

  /** Replays traffic events past the last one seen; several callers may overlap harmlessly. */
  async #catchUp(): Promise<void> {
    await this.#ports.catchUp();
    const events = await this.#o.store.readEvents({ after: this.#replayedTo, kinds: TRAFFIC_EVENT_KINDS });
    let changed = false;
    for (const event of events) {
      if (event.seq <= this.#replayedTo) continue;
      this.#replayedTo = event.seq;
      this.#apply(event);
      changed = true;
    }
    if (changed) {
      this.#scheduleExpiry();
      this.#changed();
    }
  }

  #apply(event: StoredEvent): void {
    const data = event.data ?? {};
    switch (event.kind) {
      case 'traffic.split-set':
        if (event.service) this.#splits.set(event.service, data['split'] as TrafficSplit);
        break;
      case 'traffic.split-cleared':
        if (event.service) this.#splits.delete(event.service);
        break;
      case 'fault.injected': {
        const fault = data['fault'] as FaultInjection;
        this.#faults.set(fault.id, fault);
        break;
      }
      case 'fault.cleared':
        this.#faults.delete(String(data['id']));
        break;
    }
  }

  /** A new snapshot when the next injection expires, so gateways drop it without asking. */
  #scheduleExpiry(): void {
    this.#expiry?.cancel();
    const now = this.#o.clock.now().getTime();
    for (const [id, fault] of this.#faults) if (Date.parse(fault.expiresAt) <= now) this.#faults.delete(id);
    const next = Math.min(...[...this.#faults.values()].map((f) => Date.parse(f.expiresAt)));
    if (!Number.isFinite(next)) return;
    this.#expiry = this.#o.clock.setTimeout(
      () => {
        this.#scheduleExpiry();
        this.#changed();
      },
      next - now + 1,
    );
  }

  #changed(): void {
    if (this.#pending) return;
    this.#pending = this.#o.clock.setTimeout(() => {
      this.#pending = undefined;
      this.#sequence++;
      for (const listener of this.#listeners) listener();
    }, COALESCE_MS);
  }

  async #resolvedLatest(): Promise<ReturnType<typeof resolveGateway> | undefined> {
    const newest = await this.#o.engine.newest();
    if (newest === undefined) return undefined;
    if (this.#resolved?.revision !== newest.number) {
      this.#resolved = { revision: newest.number, value: resolveGateway(newest.manifest) };
    }
    return this.#resolved.value;
  }
}
