// The control plane's side of the gateway: it composes what every gateway needs (the current
// revision's routes and policies, the registry's healthy endpoints, traffic splits, fault
// injections) into one GatewaySnapshot, and announces each change. Splits and faults are
// events in the log, not rows of their own: the audit trail is the state, replayed on start,
// and a second control plane on the same store sees the same.
import { BatonError } from '../../domain/errors.ts';
import { describeFault } from '../../domain/gateway/describe-fault.ts';
import { DEFAULT_GATEWAY_SETTINGS, resolveGateway } from '../../domain/gateway/resolve.ts';
import type { FaultInjection, GatewaySnapshot, TrafficSplit } from '../../domain/gateway/snapshot.ts';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../ports/clock.ts';
import type { StoredEvent, Store } from '../../ports/store.ts';
import type { Registry } from '../registry/registry.ts';
import type { RevisionEngine } from '../revisions/revision-engine.ts';

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

  constructor(options: TrafficControlOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    const { store, registry } = this.#o;
    await this.#catchUp();
    this.#revision = (await store.listRevisions({ limit: 1 }))[0]?.number ?? 0;
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

  async snapshot(): Promise<GatewaySnapshot> {
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
    };
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

  async setSplit(service: string, weights: Record<string, number>, actor: string): Promise<TrafficSplit> {
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
    await this.#record('traffic.split-set', service, actor, `traffic of ${service}: ${described}`, {
      split,
    });
    return split;
  }

  async clearSplit(service: string, actor: string): Promise<void> {
    if (!this.#splits.has(service)) return;
    await this.#record('traffic.split-cleared', service, actor, `traffic of ${service}: every version alike`);
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
    await this.#record('fault.injected', fault.service, actor, `fault injected: ${describeFault(fault)}`, {
      fault,
    });
    return fault;
  }

  async clearFault(id: string, actor: string): Promise<void> {
    const fault = this.#faults.get(id);
    if (!fault) {
      throw new BatonError('not-found', `no active fault injection ${id}`, {
        hint: 'list them with `baton faults`',
      });
    }
    await this.#record('fault.cleared', fault.service, actor, `fault cleared: ${describeFault(fault)}`, {
      id,
    });
  }

  async #record(
    kind: string,
    service: string,
    actor: string,
    message: string,
    data: Record<string, unknown> = {},
  ): Promise<void> {
    const time = this.#o.clock.now().toISOString();
    await this.#o.store.appendEvents([{ kind, service, actor, message, data, time }]);
    // Apply at once rather than on the store's notification, so the caller's next read sees it.
    await this.#catchUp();
  }

  async #requireService(service: string): Promise<void> {
    const latest = await this.#o.engine.latest();
    if (latest?.manifest.services[service] === undefined) {
      throw new BatonError('service-not-found', `service \`${service}\` is not in the current revision`, {
        hint: 'list services with `baton status`',
      });
    }
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
