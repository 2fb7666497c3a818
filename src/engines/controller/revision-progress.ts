// Which revision the controller converges on, the order its steps go in, and which services
// have settled at it. A new revision comes with its plan's steps from the revision engine
// (or, when another process wrote it, is read once and compared service by service with the
// one before); only the services it moves are looked at. The others keep their settled state
// untouched: a state settled at or after the revision that last changed its service counts
// as settled at the current one. Convergence is a count of unsettled services, not a scan.
import { hasService, serviceOf } from '../../domain/manifest/service-lookup.ts';
import type { ServicePhase } from '../../domain/lifecycle/index.ts';
import {
  dependencyOrder,
  hardProviders,
  planSteps,
  waitingFor,
  type DependencyOrder,
} from '../../domain/reconcile/dependency-order.ts';
import type { Manifest } from '../../domain/manifest/model.ts';
import type { Revision } from '../../domain/revisions/revision.ts';
import type { Store } from '../../ports/store.ts';
import type { Registry } from '../registry/registry.ts';
import type { RevisionEngine } from '../revisions/revision-engine.ts';

export interface ServiceState {
  readonly service: string;
  /** The revision this state was computed against. */
  readonly revision: number | null;
  readonly phase: ServicePhase;
  readonly desired: number;
  readonly ready: number;
  readonly version: string | undefined;
  readonly settled: boolean;
  readonly waitingFor: readonly string[];
  /** Why it has not settled, in one line (see domain/reconcile/wait-reason.ts). */
  readonly reason?: string | undefined;
  /** ISO 8601: while its rollout is under way, when it fails unless settled. */
  readonly deadline?: string | undefined;
}

export interface RefreshOutcome {
  /** The manifest the new revision was planned against. */
  readonly parent: Manifest | undefined;
  /** The revision is new: its moved services, in step order. */
  readonly moved: readonly string[];
  /** Services to look at now. */
  readonly queue: readonly string[];
  /** Nothing moved is left unsettled: the new revision has converged already. */
  readonly convergedAtOnce: boolean;
}

export class RevisionProgress {
  readonly #store: Store;
  readonly #engine: RevisionEngine;
  readonly #registry: Registry;
  #revision: Revision | undefined;
  #order: DependencyOrder = { predecessors: new Map(), successors: new Map() };
  /** The services the current revision moved: those whose rollout may fail or be stopped by a gate. */
  #moved = new Set<string>();
  /** The revision that last changed each service's spec, since the last full refresh. */
  readonly #changedAt = new Map<string, number>();
  /** The revision every service was last reconciled for at once (startup, skipped revisions). */
  #fullFrom = 0;
  readonly #states = new Map<string, ServiceState>();
  /** Services of the current revision not settled at it: converged when empty. */
  readonly #unsettled = new Set<string>();
  /** Services that have settled at least once: before that, not settling is a deploy. */
  readonly #everSettled = new Set<string>();
  /** Who waits for whom, from the last recorded states: a provider that serves wakes its waiters. */
  readonly #waiters = new Map<string, Set<string>>();

  constructor(options: { store: Store; engine: RevisionEngine; registry: Registry }) {
    this.#store = options.store;
    this.#engine = options.engine;
    this.#registry = options.registry;
  }

  get current(): Revision | undefined {
    return this.#revision;
  }

  get unsettledCount(): number {
    return this.#unsettled.size;
  }

  /** Reads the newest revision; when it is new, works out its steps and what to look at. */
  async refresh(): Promise<RefreshOutcome | undefined> {
    // The summary is a row without the manifest: cheap to ask on every event.
    const [newest] = await this.#store.listRevisions({ limit: 1 });
    if (!newest || newest.number === this.#revision?.number) return undefined;
    const recorded = this.#engine.lastRecorded();
    const handed = recorded?.revision.number === newest.number ? recorded : undefined;
    const latest = handed?.revision ?? (await this.#store.latestRevision());
    if (!latest || latest.number === this.#revision?.number) return undefined;
    const previous = this.#revision;
    const parent =
      latest.parent === null
        ? undefined
        : latest.parent === previous?.number
          ? previous
          : await this.#store.getRevision(latest.parent);
    if (latest.number <= (this.#revision?.number ?? 0)) return undefined; // a newer one won meanwhile
    // The engine planned this revision against its parent already: its steps are the services that move.
    const steps = handed ? [...handed.steps] : planSteps(parent?.manifest, latest.manifest);
    this.#revision = latest;
    this.#order = dependencyOrder(steps, parent?.manifest, latest.manifest);
    this.#moved = new Set(steps);
    // A service the plan leaves alone, settled at the revision before, would be reconciled
    // to exactly the same state: its state carries over (#carried) instead of a pass running
    // for it, so that a one-service change costs one service's passes however big the
    // architecture. Only the moved services are looked at.
    if (previous === undefined || parent !== previous) {
      this.#fullFrom = latest.number;
      this.#changedAt.clear();
      this.#unsettled.clear();
      for (const service in latest.manifest.services)
        if (!this.settledHere(service)) this.#unsettled.add(service);
      return { parent: parent?.manifest, moved: steps, queue: this.knownServices(), convergedAtOnce: false };
    }
    for (const service of steps) {
      this.#changedAt.set(service, latest.number);
      if (hasService(latest.manifest, service) && !this.settledHere(service)) this.#unsettled.add(service);
      else this.#unsettled.delete(service);
    }
    // The moved services, and those left unsettled at the revision before.
    return {
      parent: parent?.manifest,
      moved: steps,
      queue: [...new Set([...steps, ...this.#unsettled])],
      convergedAtOnce: this.#unsettled.size === 0,
    };
  }

  /** Whether the current revision moved the service (its rollout may fail, a gate may stop it). */
  moved(service: string): boolean {
    return this.#moved.has(service);
  }

  /**
   * Settled, and at the current revision; or removed from it and gone (nothing of it is
   * left to wait for).
   */
  settledHere(service: string): boolean {
    const state = this.#states.get(service);
    if (state === undefined) return !hasService(this.#revision?.manifest, service);
    return state.revision === this.#revision?.number ? state.settled : this.#carried(state);
  }

  /** Whether the service has settled at least once (since this control plane started). */
  everSettled(service: string): boolean {
    return this.#everSettled.has(service);
  }

  /** What the service waits for before anything of it may start (domain/reconcile/dependency-order.ts). */
  waitingFor(service: string, serving: number): string[] {
    const spec = serviceOf(this.#revision?.manifest, service);
    return waitingFor({
      predecessors: this.#order.predecessors.get(service) ?? [],
      isSettled: (other) => this.settledHere(other),
      serving,
      hardProviders: hardProviders(spec),
      providerReady: (provider) => this.#providerReady(provider),
    });
  }

  /** Services that wait for this one to serve or settle: to look at again when it does. */
  waitersOf(service: string): string[] {
    return [...(this.#waiters.get(service) ?? [])];
  }

  state(service: string): ServiceState | undefined {
    const state = this.#states.get(service);
    return state === undefined ? undefined : this.#view(state);
  }

  states(): ServiceState[] {
    return [...this.#states.values()]
      .map((state) => this.#view(state))
      .sort((a, b) => a.service.localeCompare(b.service));
  }

  /** The state a pass recorded before this one (not viewed at the current revision). */
  recorded(service: string): ServiceState | undefined {
    return this.#states.get(service);
  }

  /**
   * Every write of a service's state goes here, to keep the indexes over it right. Returns
   * the services that waited for this one and may go on now.
   */
  setState(service: string, state: ServiceState | undefined): string[] {
    const was = this.settledHere(service);
    const before = this.#states.get(service);
    for (const provider of before?.waitingFor ?? []) this.#waiters.get(provider)?.delete(service);
    if (state === undefined) this.#states.delete(service);
    else {
      this.#states.set(service, state);
      if (state.settled) this.#everSettled.add(service);
      for (const provider of state.waitingFor) {
        let waiters = this.#waiters.get(provider);
        if (waiters === undefined) this.#waiters.set(provider, (waiters = new Set()));
        waiters.add(service);
      }
    }
    const settled = this.settledHere(service);
    if (hasService(this.#revision?.manifest, service)) {
      if (settled) this.#unsettled.delete(service);
      else this.#unsettled.add(service);
    }
    if (!settled || was) return [];
    return [...new Set([...(this.#order.successors.get(service) ?? []), ...this.waitersOf(service)])];
  }

  /** Whether the current revision converges once `service` (about to be recorded settled) is. */
  convergesWith(revision: Revision, service: string): boolean {
    if (revision !== this.#revision) return false;
    return this.#unsettled.size === 0 || (this.#unsettled.size === 1 && this.#unsettled.has(service));
  }

  /** Every service of a revision has settled at it (`revision` may be older than the current one). */
  convergedAt(revision: Revision): boolean {
    if (revision === this.#revision) return this.#unsettled.size === 0;
    // A pass that reconciled an older revision than the current one: rare, so just look.
    return Object.keys(revision.manifest.services).every((service) => {
      const state = this.#states.get(service);
      return state?.settled === true && state.revision === revision.number;
    });
  }

  knownServices(): string[] {
    return [
      ...new Set([...Object.keys(this.#revision?.manifest.services ?? {}), ...this.#registry.services()]),
    ];
  }

  /** A provider serves, or wants no instance at all (nothing to wait for), or is not in the architecture. */
  #providerReady(provider: string): boolean {
    if (!hasService(this.#revision?.manifest, provider)) return true;
    if (this.#states.get(provider)?.desired === 0) return true;
    return this.#registry.instances(provider).some((i) => i.phase === 'running');
  }

  /** A state carried over from an earlier revision, as of the current one. */
  #view(state: ServiceState): ServiceState {
    const current = this.#revision?.number;
    if (current === undefined || state.revision === current || !this.#carried(state)) return state;
    return { ...state, revision: current };
  }

  /**
   * Settled at a revision no later than the current one, and not changed since: the same spec,
   * so settled at the current one too. Kept this way rather than rewritten per revision, so that
   * a one-service change touches one service's state however big the architecture.
   */
  #carried(state: ServiceState): boolean {
    if (!state.settled || state.revision === null) return false;
    return state.revision >= Math.max(this.#changedAt.get(state.service) ?? 0, this.#fullFrom);
  }
}
