// The controller: keeps the running architecture converged on the current revision,
// forever. Level-triggered — every pass for a service re-reads desired state (the current
// revision, overrides) and observed state (the registry) and acts on `nextStep`'s decision.
// Events (exits, health changes, new revisions) only say *which* service to look at.
// See ARCHITECTURE.md beside this file.
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { healthPolicy, type HealthPolicy } from '../../domain/health/health-tracker.ts';
import { serviceStatus, type ServiceOperation, type ServicePhase } from '../../domain/lifecycle/index.ts';
import type { TrafficSplit } from '../../domain/gateway/snapshot.ts';
import type { Manifest, ServiceSpec } from '../../domain/manifest/model.ts';
import { DEFAULT_CANARY_PAUSE, DEFAULT_CANARY_STEPS } from '../../domain/manifest/schema.ts';
import { CANARY_ACTOR, canaryStep, type CanaryDecision } from '../../domain/reconcile/canary.ts';
import {
  nextStep,
  type Action,
  type DesiredService,
  type StepOutput,
} from '../../domain/reconcile/next-step.ts';
import type { Revision } from '../../domain/revisions/revision.ts';
import { planRollout } from '../../domain/revisions/rollout-plan.ts';
import { parseDuration } from '../../domain/health/duration.ts';
import type { Clock } from '../../ports/clock.ts';
import { probeTarget, type Prober } from '../../ports/prober.ts';
import { instanceSpecOf } from '../../ports/instance-spec.ts';
import type { Runtime, RuntimeEvent } from '../../ports/runtime.ts';
import type { NewEvent, Store } from '../../ports/store.ts';
import { HealthChecker } from '../health/health-checker.ts';
import type { Registry, InstanceRecord } from '../registry/registry.ts';
import type { RevisionEngine } from '../revisions/revision-engine.ts';
import { WorkQueue, type ReconcileResult, type WorkQueueStats } from './work-queue.ts';
import { desiredService, specHash, type Overrides } from './desired-state.ts';

export interface ControllerOptions {
  readonly store: Store;
  readonly runtime: Runtime;
  readonly registry: Registry;
  readonly prober: Prober;
  readonly revisions: RevisionEngine;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Where relative `run.cwd` paths resolve when a revision does not say. */
  readonly defaultBaseDir: string;
  readonly newId?: (service: string) => string;
  /**
   * Restarts after which a pet is left failed and alerted on. The count resets once the pet
   * has stayed up for STABLE_AFTER_MS, so it counts a crash loop, not a lifetime.
   */
  readonly maxRestarts?: number;
  /** Time a deregistered instance keeps serving in-flight requests before SIGTERM. */
  readonly drainMs?: number;
  /** SIGTERM → SIGKILL. */
  readonly stopGraceMs?: number;
  readonly resyncMs?: number;
  readonly concurrency?: number;
  /** The gateway's traffic splits, which canary rollouts set; without it a canary rolls as `rolling`. */
  readonly traffic?: RolloutTraffic | undefined;
}

/** What a canary rollout needs of traffic control: the split of a service, set and cleared. */
export interface RolloutTraffic {
  split(service: string): TrafficSplit | undefined;
  setSplit(service: string, weights: Record<string, number>, actor: string): Promise<unknown>;
  clearSplit(service: string, actor: string): Promise<void>;
}

interface Derived {
  spec: ServiceSpec;
  overrides: Overrides | undefined;
  desired: DesiredService;
  readonly policy: HealthPolicy;
}

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
}

const RESTART_BACKOFF_BASE_MS = 500;
const RESTART_BACKOFF_MAX_MS = 30_000;
const WAITING_RECHECK_MS = 500;
/** A pet that has served this long gets its restart budget back. */
const STABLE_AFTER_MS = 60_000;
/** Phases of instances on their way out (or gone): not the old version a canary compares with. */
const LEFT: ReadonlySet<InstanceRecord['phase']> = new Set(['draining', 'stopped', 'failed']);

export class Controller {
  readonly #o: Required<Omit<ControllerOptions, 'newId' | 'traffic'>> & {
    newId: (service: string) => string;
    traffic: RolloutTraffic | undefined;
  };
  readonly #queue: WorkQueue;
  readonly #health: HealthChecker;
  readonly #overrides = new Map<string, { replicas?: number; restartGeneration?: number }>();
  readonly #states = new Map<string, ServiceState>();
  readonly #stopping = new Set<string>();
  readonly #unsubscribe: (() => void)[] = [];
  #revision: Revision | undefined;
  /**
   * Dependency order, per step of the current plan: the services it shares a range with
   * (providers and consumers, before or after the change) whose steps come earlier, which it
   * waits for; and those whose steps come later, which wait for it.
   */
  #predecessors = new Map<string, readonly string[]>();
  /** The services the current revision moved: the ones whose rollout an alert may stop. */
  #moved = new Set<string>();
  #successors = new Map<string, readonly string[]>();
  /** The revision that last changed each service's spec, since the last full refresh. */
  readonly #changedAt = new Map<string, number>();
  /** The revision every service was last reconciled for at once (startup, skipped revisions). */
  #fullFrom = 0;
  /** Services of the current revision not settled at it: converged when empty. */
  readonly #unsettled = new Set<string>();
  /** One revision check at a time; an event that arrives meanwhile asks for one more. */
  #refreshing: Promise<void> | undefined;
  #refreshAgain = false;
  #lastConverged = 0;
  #rollbackRequested = new Set<number>();
  /** Services that have settled at least once: before that, not settling is a deploy. */
  readonly #everSettled = new Set<string>();
  /**
   * What each service's spec gives, worked out once per spec rather than once per pass:
   * desiredService hashes the spec, and one health policy serves all of a service's watches.
   */
  readonly #derived = new Map<string, Derived>();

  constructor(options: ControllerOptions) {
    this.#o = {
      maxRestarts: 5,
      drainMs: 500,
      stopGraceMs: 10_000,
      resyncMs: 30_000,
      concurrency: 8,
      newId: (service) => `${service}-${randomBytes(4).toString('hex')}`,
      traffic: undefined,
      ...options,
    };
    this.#queue = new WorkQueue({
      clock: options.clock,
      concurrency: this.#o.concurrency,
      resyncMs: this.#o.resyncMs,
      reconcile: (key) => this.#reconcile(key),
      onError: (key, error, attempt, retryInMs) =>
        this.#o.logger.warn({ service: key, err: error, attempt, retryInMs }, 'reconcile failed; retrying'),
      onTerminal: (key, error) => this.#o.logger.error({ service: key, error }, 'reconcile gave up'),
    });
    this.#health = new HealthChecker({
      clock: options.clock,
      prober: options.prober,
      onChange: (id, change, detail) => this.#onHealth(id, change, detail),
    });
  }

  /** Adopts what the runtime already runs, then reconciles every service. */
  async start(): Promise<void> {
    const { store, runtime } = this.#o;
    this.#unsubscribe.push(runtime.subscribe((event) => this.#onRuntime(event)));
    this.#unsubscribe.push(store.onEvents(() => this.#onStoreEvents()));
    const converged = await store.readEvents({ kinds: ['revision.converged'] });
    this.#lastConverged = converged.at(-1)?.revision ?? 0;
    await this.#refreshRevision();
    for (const instance of await runtime.list()) await this.#adopt(instance);
    this.#queue.start();
    for (const service of this.#knownServices()) this.#queue.add(service);
  }

  /**
   * Stops reconciling. With `stopInstances` (`baton up` on Ctrl-C) every instance is stopped
   * too; without (`baton server` exiting) they keep serving and are adopted on restart.
   */
  async stop(options: { stopInstances: boolean }): Promise<void> {
    for (const u of this.#unsubscribe.splice(0)) u();
    await this.#queue.stop();
    this.#health.unwatchAll();
    if (options.stopInstances) {
      await Promise.all(
        this.#o.registry.instances().map((r) => this.#o.runtime.stop(r.id, { graceMs: this.#o.stopGraceMs })),
      );
    }
  }

  /** Resolves once every service of the current revision has settled (for tests and `baton up`). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  /** The work queue's counters (passes run, keys queued): for metrics and benchmarks. */
  get queueStats(): WorkQueueStats {
    return this.#queue.stats;
  }

  states(): ServiceState[] {
    return [...this.#states.values()]
      .map((state) => this.#view(state))
      .sort((a, b) => a.service.localeCompare(b.service));
  }

  state(service: string): ServiceState | undefined {
    const state = this.#states.get(service);
    return state === undefined ? undefined : this.#view(state);
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

  scale(service: string, replicas: number): void {
    this.#overrides.set(service, { ...this.#overrides.get(service), replicas });
    this.#queue.add(service);
  }

  restart(service: string): void {
    const current = this.#overrides.get(service) ?? {};
    this.#overrides.set(service, { ...current, restartGeneration: (current.restartGeneration ?? 0) + 1 });
    this.#queue.add(service);
  }

  /**
   * A gate (a firing alert) says the service's new version is bad. While the revision that
   * moved it is within the service's rollout deadline — its watch window — the rollout
   * fails like one whose instances never turned healthy: recorded, and rolled back to the
   * last converged revision when `autoRollback` allows. Returns whether it did.
   */
  async abortRollout(service: string, reason: string): Promise<boolean> {
    const revision = this.#revision;
    const spec = revision?.manifest.services[service];
    if (!revision || !spec || !this.#moved.has(service)) return false;
    // Only an applied change with a converged revision before it has somewhere to go back to.
    const target = this.#lastConverged;
    if (revision.source.kind !== 'apply' || target <= 0 || target >= revision.number) return false;
    const deadline = Date.parse(revision.createdAt) + parseDuration(spec.rollout.deadline);
    if (this.#o.clock.now().getTime() >= deadline) return false;
    await this.#rolloutFailed(service, revision, reason);
    return true;
  }

  // ── reconcile ────────────────────────────────────────────────────────────────────────

  async #reconcile(service: string): Promise<ReconcileResult> {
    const revision = this.#revision;
    const spec = revision?.manifest.services[service];
    const desired = spec ? this.#derivedOf(service, spec).desired : undefined;
    const instances = this.#o.registry.instances(service);
    const now = this.#o.clock.now().getTime();
    const waitingFor = this.#waitingFor(service);
    const canary =
      spec && desired && revision
        ? await this.#canary(service, spec, desired, revision, instances, now)
        : undefined;
    const step = nextStep({
      desired,
      instances,
      maxRestarts: this.#o.maxRestarts,
      waitingFor,
      maxUpdated: canary?.maxUpdated,
    });

    let requeueMs = canary?.recheckInMs;
    const starts: Promise<void>[] = [];
    for (const action of step.actions) {
      const delay = this.#execute(action, service, spec, desired?.specHash, revision, now, starts);
      if (delay !== undefined) requeueMs = Math.min(requeueMs ?? delay, delay);
    }
    await Promise.all(starts);
    const unhealthyLimit = spec ? unhealthyGraceMs(this.#derivedOf(service, spec).policy) : 0;
    for (const record of instances) {
      // Only these two look at how long it has been in its phase (a parse per instance per pass adds up).
      if (!(record.phase === 'running' && record.restarts > 0) && record.phase !== 'unhealthy') continue;
      const inPhaseFor = now - Date.parse(record.since);
      if (record.phase === 'running' && record.restarts > 0 && inPhaseFor > STABLE_AFTER_MS) {
        this.#o.registry.resetRestarts(record.id);
      }
      if (record.phase !== 'unhealthy' || !spec) continue;
      // Out of discovery already; if it does not recover, replace it (cattle) or restart it
      // in place (pets), as the seed asks: remove the unhealthy, start healthy ones.
      if (inPhaseFor < unhealthyLimit) {
        requeueMs = Math.min(requeueMs ?? Infinity, unhealthyLimit - inPhaseFor);
      } else if (spec.mode === 'pet') {
        this.#health.unwatch(record.id);
        this.#o.registry.transition(
          record.id,
          'failed',
          'probe-failed',
          `unhealthy for ${Math.round(inPhaseFor / 1000)} s`,
        );
        void this.#o.runtime.stop(record.id, { graceMs: this.#o.stopGraceMs });
        this.#queue.add(service);
      } else {
        void this.#takeDown(record.id, 'replaced');
      }
    }
    await this.#record(service, revision, spec, step, waitingFor, instances);
    if (spec && revision && !step.settled) {
      const deadline = Date.parse(revision.createdAt) + parseDuration(spec.rollout.deadline);
      if (now >= deadline) await this.#rolloutFailed(service, revision);
      else requeueMs = Math.min(requeueMs ?? deadline - now, deadline - now);
    }
    if (step.settled && revision) await this.#maybeConverged(revision);
    // Waiting is woken when a provider settles; the timer covers a provider that settled
    // while this pass was deciding to wait (passes of different services run in parallel).
    if (!step.settled && waitingFor.length > 0)
      requeueMs = Math.min(requeueMs ?? WAITING_RECHECK_MS, WAITING_RECHECK_MS);
    return requeueMs === undefined
      ? { kind: 'done' }
      : { kind: 'requeue-after', ms: Math.max(10, requeueMs) };
  }

  /** Returns a delay after which the service should be looked at again, if the action must wait. */
  #execute(
    action: Action,
    service: string,
    spec: ServiceSpec | undefined,
    hash: string | undefined,
    revision: Revision | undefined,
    now: number,
    starts: Promise<void>[],
  ): number | undefined {
    const { registry } = this.#o;
    switch (action.kind) {
      case 'start': {
        if (!spec || !hash || !revision) return undefined;
        const record = registry.add({
          id: this.#o.newId(service),
          service,
          version: spec.version,
          revision: revision.number,
          specHash: hash,
        });
        starts.push(this.#launch(record, spec, revision, 'spawned'));
        return undefined;
      }
      case 'restart': {
        const record = registry.get(action.id);
        if (!record || !spec || !revision) return undefined;
        const wait = Math.min(RESTART_BACKOFF_MAX_MS, RESTART_BACKOFF_BASE_MS * 2 ** record.restarts);
        const failedFor = now - Date.parse(record.since);
        if (failedFor < wait) return wait - failedFor;
        starts.push(this.#launch(record, spec, revision, 'restart'));
        return undefined;
      }
      case 'forget':
        this.#health.unwatch(action.id);
        registry.remove(action.id);
        return undefined;
      case 'stop':
        void this.#takeDown(action.id, action.reason.startsWith('scale') ? 'scale-in' : desiredCause(spec));
        return undefined;
    }
  }

  async #launch(
    record: InstanceRecord,
    spec: ServiceSpec,
    revision: Revision,
    cause: 'spawned' | 'restart',
  ): Promise<void> {
    const { registry, runtime } = this.#o;
    const baseDir = revisionBaseDir(revision) ?? this.#o.defaultBaseDir;
    const instanceSpec = instanceSpecOf({
      id: record.id,
      service: record.service,
      spec,
      revision: revision.number,
      baseDir,
    });
    // Command probes run in the service's folder.
    const cwd = resolve(baseDir, spec.run?.cwd ?? '.');
    if (cause === 'spawned') registry.transition(record.id, 'starting', 'spawned');
    else registry.transition(record.id, 'starting', 'restart');
    try {
      const running = await runtime.start(instanceSpec);
      registry.located(record.id, running);
      const target = probeTarget(spec.health, running, cwd, spec.env);
      if (!target.ok) {
        registry.transition(record.id, 'failed', 'start-failed', target.detail);
        return;
      }
      this.#health.watch(running, this.#derivedOf(record.service, spec).policy, target.target);
    } catch (error) {
      registry.transition(record.id, 'failed', 'start-failed', (error as Error).message);
      this.#queue.addAfter(record.service, RESTART_BACKOFF_BASE_MS);
    }
  }

  async #takeDown(id: string, cause: 'scale-in' | 'rollout' | 'destroy' | 'replaced'): Promise<void> {
    const { registry, runtime, clock } = this.#o;
    const record = registry.get(id);
    if (!record || this.#stopping.has(id)) return;
    this.#stopping.add(id);
    this.#health.unwatch(id);
    const wasServing = record.phase === 'running' || record.phase === 'unhealthy';
    const drained = registry.transition(id, wasServing ? 'draining' : 'stopped', cause);
    if (!drained) this.#stopping.delete(id);
    // Out of discovery first; the process keeps answering in-flight requests while
    // gateways and clients catch up with the change.
    if (wasServing && this.#o.drainMs > 0)
      await new Promise<void>((r) => clock.setTimeout(r, this.#o.drainMs));
    await runtime.stop(id, { graceMs: this.#o.stopGraceMs });
    if (registry.get(id)?.phase === 'draining') registry.transition(id, 'stopped', 'drained');
    registry.remove(id);
    this.#stopping.delete(id);
    this.#queue.add(record.service);
  }

  // ── facts from the world ────────────────────────────────────────────────────────────

  #onRuntime(event: RuntimeEvent): void {
    if (event.type !== 'exited') return;
    const record = this.#o.registry.get(event.id);
    if (!record || this.#stopping.has(event.id)) return;
    this.#health.unwatch(event.id);
    const ended = event.signal ? `killed by ${event.signal}` : `exit code ${event.code}`;
    const how = event.outOfMemory ? `out of memory (over its memory limit): ${ended}` : ended;
    this.#o.registry.transition(event.id, 'failed', 'exited', how);
    this.#queue.add(record.service);
  }

  #onHealth(
    id: string,
    change: 'ready' | 'unhealthy' | 'recovered' | 'startup-failed',
    detail: string,
  ): void {
    const { registry } = this.#o;
    const record = registry.get(id);
    if (!record) return;
    switch (change) {
      case 'ready':
        registry.transition(id, 'ready', 'readiness-passed', detail);
        registry.transition(id, 'running', 'registered', detail);
        break;
      case 'unhealthy':
        registry.transition(id, 'unhealthy', 'probe-failed', detail);
        break;
      case 'recovered':
        registry.transition(id, 'running', 'probe-recovered', detail);
        break;
      case 'startup-failed':
        this.#health.unwatch(id);
        registry.transition(id, 'failed', 'start-failed', `never became ready: ${detail}`);
        void this.#o.runtime.stop(id, { graceMs: this.#o.stopGraceMs });
        break;
    }
    this.#queue.add(record.service);
  }

  async #adopt(instance: Awaited<ReturnType<Runtime['list']>>[number]): Promise<void> {
    const { registry, store } = this.#o;
    const revision =
      instance.revision === this.#revision?.number
        ? this.#revision
        : await store.getRevision(instance.revision);
    const spec = revision?.manifest.services[instance.service];
    const hash = spec ? specHash(spec) : 'unknown';
    registry.add({
      id: instance.id,
      service: instance.service,
      version: instance.version,
      revision: instance.revision,
      specHash: hash,
    });
    registry.transition(instance.id, 'starting', 'adopted');
    registry.located(instance.id, instance);
    if (!spec || !revision) return;
    const baseDir = revisionBaseDir(revision) ?? this.#o.defaultBaseDir;
    const target = probeTarget(
      spec.health,
      instance,
      spec.run?.cwd ? resolve(baseDir, spec.run.cwd) : baseDir,
      spec.env,
    );
    if (target.ok) this.#health.watch(instance, healthPolicy(spec.health), target.target);
  }

  /** Every commit announces itself here; only a new revision matters, and most are instance events. */
  #onStoreEvents(): void {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return;
    }
    this.#refreshing = (async () => {
      try {
        do {
          this.#refreshAgain = false;
          await this.#refreshRevision();
        } while (this.#refreshAgain);
      } catch (error) {
        // The store is down (PostgreSQL restarting): look again later, while still running.
        this.#o.logger.warn({ err: error }, 'could not read the current revision; retrying');
        if (this.#unsubscribe.length > 0) this.#o.clock.setTimeout(() => this.#onStoreEvents(), 1_000);
      } finally {
        this.#refreshing = undefined;
      }
    })();
  }

  async #refreshRevision(): Promise<void> {
    const { store } = this.#o;
    // The summary is a row without the manifest: cheap to ask on every event.
    const [newest] = await store.listRevisions({ limit: 1 });
    if (!newest || newest.number === this.#revision?.number) return;
    const recorded = this.#o.revisions.lastRecorded();
    const handed = recorded?.revision.number === newest.number ? recorded : undefined;
    const latest = handed?.revision ?? (await store.latestRevision());
    if (!latest || latest.number === this.#revision?.number) return;
    const previous = this.#revision;
    const parent =
      latest.parent === null
        ? undefined
        : latest.parent === previous?.number
          ? previous
          : await store.getRevision(latest.parent);
    if (latest.number <= (this.#revision?.number ?? 0)) return; // a newer one won meanwhile
    // The engine planned this revision against its parent already: its steps are the services that move.
    const steps = handed ? [...handed.steps] : planSteps(parent?.manifest, latest.manifest);
    const order = new Map(steps.map((service, i) => [service, i]));
    const predecessors = new Map<string, string[]>();
    const successors = new Map<string, string[]>();
    for (const later of steps) {
      const neighbours = new Set([
        ...Object.keys(latest.manifest.services[later]?.dependsOn ?? {}),
        ...Object.keys(parent?.manifest.services[later]?.dependsOn ?? {}),
      ]);
      for (const neighbour of neighbours) {
        const at = order.get(neighbour);
        if (at === undefined || neighbour === later) continue;
        const [first, second] = at < order.get(later)! ? [neighbour, later] : [later, neighbour];
        append(predecessors, second, first);
        append(successors, first, second);
      }
    }
    this.#revision = latest;
    this.#predecessors = predecessors;
    this.#moved = new Set(steps);
    this.#successors = successors;
    for (const service of steps)
      if (latest.manifest.services[service] === undefined) this.#derived.delete(service);
    // A service the plan leaves alone, settled at the revision before, would be reconciled
    // to exactly the same state: its state carries over (#carried) instead of a pass running
    // for it, so that a one-service change costs one service's passes however big the
    // architecture. Only the moved services are looked at.
    const incremental = previous !== undefined && parent === previous;
    if (!incremental) {
      this.#fullFrom = latest.number;
      this.#changedAt.clear();
      this.#unsettled.clear();
      for (const service in latest.manifest.services)
        if (!this.#settledHere(service)) this.#unsettled.add(service);
      for (const service of this.#knownServices()) this.#queue.add(service);
      return;
    }
    for (const service of steps) {
      this.#changedAt.set(service, latest.number);
      if (latest.manifest.services[service] !== undefined && !this.#settledHere(service))
        this.#unsettled.add(service);
      else this.#unsettled.delete(service);
    }
    // The moved services, and those left unsettled at the revision before.
    for (const service of steps) this.#queue.add(service);
    for (const service of this.#unsettled) this.#queue.add(service);
    if (this.#unsettled.size === 0) await this.#maybeConverged(latest);
  }

  /**
   * Settled, and at the current revision; or removed from it and gone (nothing of it is
   * left to wait for).
   */
  #settledHere(service: string): boolean {
    const state = this.#states.get(service);
    if (state === undefined) return this.#revision?.manifest.services[service] === undefined;
    return state.revision === this.#revision?.number ? state.settled : this.#carried(state);
  }

  /**
   * Dependency order: a step waits for the earlier steps of the services it shares a range
   * with. The plan keeps every range satisfied after each step; only a step's own ranges
   * can change with it, so waiting for those neighbours keeps every range exactly as the
   * plan run one step at a time would, while steps that share no range go side by side.
   */
  #waitingFor(service: string): string[] {
    return (this.#predecessors.get(service) ?? []).filter((other) => !this.#settledHere(other));
  }

  /**
   * The canary step of a service whose revision rolls it out with `strategy: canary`: sets the
   * rollout's traffic split when a step begins, clears it when done (or when a revision that is
   * no canary, such as a rollback, takes over), and caps the updated instances meanwhile.
   */
  async #canary(
    service: string,
    spec: ServiceSpec,
    desired: DesiredService,
    revision: Revision,
    instances: readonly InstanceRecord[],
    now: number,
  ): Promise<CanaryDecision | undefined> {
    const traffic = this.#o.traffic;
    if (traffic === undefined) return undefined;
    const split = traffic.split(service);
    if (spec.rollout.strategy !== 'canary' || revision.source.kind !== 'apply') {
      if (split?.setBy === CANARY_ACTOR) await traffic.clearSplit(service, CANARY_ACTOR);
      return undefined;
    }
    const alive = instances.filter((i) => !LEFT.has(i.phase));
    const serving = alive.filter((i) => i.specHash === desired.specHash && i.phase === 'running');
    const decision = canaryStep({
      steps: spec.rollout.canarySteps ?? DEFAULT_CANARY_STEPS,
      pauseMs: parseDuration(spec.rollout.canaryPause ?? DEFAULT_CANARY_PAUSE),
      replicas: desired.replicas,
      newVersion: spec.version,
      oldVersions: alive.filter((i) => i.specHash !== desired.specHash).map((i) => i.version),
      split: split && { weights: split.weights, setBy: split.setBy, sinceMs: Date.parse(split.since) },
      updatedServing: serving.length,
      lastServingSinceMs:
        serving.length > 0 ? Math.max(...serving.map((i) => Date.parse(i.since))) : undefined,
      nowMs: now,
    });
    if (decision.setWeights) await traffic.setSplit(service, { ...decision.setWeights }, CANARY_ACTOR);
    else if (decision.clear) await traffic.clearSplit(service, CANARY_ACTOR);
    return decision;
  }

  /** Every write of a service's state goes here, to keep the indexes over it right. */
  #setState(service: string, state: ServiceState | undefined): void {
    const was = this.#settledHere(service);
    if (state === undefined) this.#states.delete(service);
    else this.#states.set(service, state);
    const settled = this.#settledHere(service);
    if (this.#revision?.manifest.services[service] !== undefined) {
      if (settled) this.#unsettled.delete(service);
      else this.#unsettled.add(service);
    }
    // Whoever waited for this service may go on now.
    if (settled && !was) for (const other of this.#successors.get(service) ?? []) this.#queue.add(other);
  }

  #derivedOf(service: string, spec: ServiceSpec): Derived {
    const overrides = this.#overrides.get(service);
    let derived = this.#derived.get(service);
    // Each revision parses its specs anew: an equal one gives the same, and comparing is far cheaper than hashing.
    if (derived !== undefined && derived.spec !== spec && sameJson(derived.spec, spec)) derived.spec = spec;
    if (derived === undefined || derived.spec !== spec) {
      derived = {
        spec,
        overrides,
        desired: desiredService(service, spec, overrides),
        policy: healthPolicy(spec.health),
      };
      this.#derived.set(service, derived);
    } else if (derived.overrides !== overrides) {
      derived.overrides = overrides;
      derived.desired = desiredService(service, spec, overrides);
    }
    return derived;
  }

  #knownServices(): string[] {
    return [
      ...new Set([...Object.keys(this.#revision?.manifest.services ?? {}), ...this.#o.registry.services()]),
    ];
  }

  // ── status, events, convergence, auto-rollback ──────────────────────────────────────

  async #record(
    service: string,
    revision: Revision | undefined,
    spec: ServiceSpec | undefined,
    step: StepOutput,
    waitingFor: string[],
    instances: readonly InstanceRecord[],
  ): Promise<void> {
    const operation: ServiceOperation | undefined = step.settled
      ? undefined
      : !spec
        ? 'destroy'
        : step.progress.outdated > 0
          ? revision?.source.kind === 'apply'
            ? 'rollout'
            : 'rollback'
          : !this.#everSettled.has(service)
            ? 'deploy'
            : step.progress.updated !== step.progress.desired
              ? 'scale'
              : undefined;
    const status = serviceStatus({
      desired: step.progress.desired,
      targetVersion: spec?.version ?? '',
      instances: this.#o.registry.instances(service).map((r) => ({ phase: r.phase, version: r.version })),
      operation,
      restartsExhausted: step.exhausted.length > 0,
    });
    const previous = this.#states.get(service);
    const state: ServiceState = {
      service,
      revision: revision?.number ?? null,
      phase: status.phase,
      desired: step.progress.desired,
      ready: step.progress.serving,
      version: spec?.version,
      settled: step.settled,
      waitingFor: step.settled ? [] : waitingFor,
    };
    if (step.settled) this.#everSettled.add(service);
    this.#setState(service, !spec && instances.length === 0 ? undefined : state);
    const events: NewEvent[] = [];
    const time = this.#o.clock.now().toISOString();
    if (previous?.phase !== state.phase) {
      events.push({
        kind: `service.${state.phase}`,
        service,
        revision: revision?.number,
        actor: 'controller',
        message: `${service} is ${state.phase} (${status.cause})`,
        data: {
          from: previous?.phase ?? null,
          cause: status.cause,
          desired: state.desired,
          ready: state.ready,
        },
        time,
      });
    }
    if (step.exhausted.length > 0 && previous?.phase !== 'failed') {
      events.push({
        kind: 'alert.restarts-exhausted',
        service,
        revision: revision?.number,
        actor: 'controller',
        message: `${service}: instance ${step.exhausted.join(', ')} died ${this.#o.maxRestarts} times without staying up for ${STABLE_AFTER_MS / 1000} s; left failed, a person must look`,
        data: { instances: step.exhausted },
        time,
      });
    }
    if (events.length > 0) await this.#o.store.appendEvents(events);
  }

  /** `revision` is the one the settling pass reconciled, even if a newer one arrived since. */
  async #maybeConverged(revision: Revision): Promise<void> {
    if (revision.number <= this.#lastConverged) return;
    if (revision === this.#revision) {
      if (this.#unsettled.size > 0) return;
    } else {
      // A pass that reconciled an older revision than the current one: rare, so just look.
      const settledHere = (s: string) => {
        const state = this.#states.get(s);
        return state?.settled === true && state.revision === revision.number;
      };
      if (!Object.keys(revision.manifest.services).every(settledHere)) return;
    }
    this.#lastConverged = revision.number;
    await this.#o.store.appendEvents([
      {
        kind: 'revision.converged',
        revision: revision.number,
        actor: 'controller',
        message: `revision ${revision.number}: every service runs its desired version, healthy`,
        time: this.#o.clock.now().toISOString(),
      },
    ]);
  }

  async #rolloutFailed(service: string, revision: Revision, reason?: string): Promise<void> {
    if (this.#rollbackRequested.has(revision.number)) return;
    this.#rollbackRequested.add(revision.number);
    const spec = revision.manifest.services[service];
    const why = reason ?? `${service} did not become healthy within ${spec?.rollout.deadline}`;
    const target = this.#lastConverged;
    const rollback =
      spec?.rollout.autoRollback &&
      revision.source.kind === 'apply' &&
      target > 0 &&
      target < revision.number;
    await this.#o.store.appendEvents([
      {
        kind: 'rollout.failed',
        service,
        revision: revision.number,
        actor: 'controller',
        message: `${why}${rollback ? `; rolling back to revision ${target}` : ''}`,
        data: { deadline: spec?.rollout.deadline, rollbackTo: rollback ? target : null, reason: why },
        time: this.#o.clock.now().toISOString(),
      },
    ]);
    if (!rollback) return;
    try {
      await this.#o.revisions.rollback(
        { to: target },
        {
          author: 'controller',
          message: `automatic rollback: ${service} ${spec?.version}${reason ? `: ${reason}` : ` never became healthy within ${spec?.rollout.deadline}`}`,
          force: true,
        },
      );
    } catch (error) {
      this.#o.logger.error({ err: error, service, revision: revision.number }, 'automatic rollback failed');
    }
  }
}

/** How long an instance may stay unhealthy (out of discovery) before it is replaced or restarted. */
function unhealthyGraceMs(policy: HealthPolicy): number {
  return Math.max(5_000, 2 * policy.failureThreshold * policy.intervalMs);
}

function desiredCause(spec: ServiceSpec | undefined): 'rollout' | 'destroy' {
  return spec ? 'rollout' : 'destroy';
}

function revisionBaseDir(revision: Revision): string | undefined {
  return revision.source.baseDir;
}

/**
 * The services of the rollout plan from `from` to `to`, in step order. Planning orders the
 * changed services over the whole graph; a change of one service — the usual apply — has
 * only one order, and finding which one changed is a comparison, not a plan.
 */
function planSteps(from: Manifest | undefined, to: Manifest): string[] {
  const changed: string[] = [];
  for (const [service, spec] of Object.entries(to.services))
    if (!sameJson(spec, from?.services[service])) changed.push(service);
  for (const service of Object.keys(from?.services ?? {}))
    if (to.services[service] === undefined) changed.push(service);
  if (changed.length <= 1) return changed;
  return planRollout(from, to).steps.map((step) => step.service);
}

/** Deep equality of JSON values, as the manifest diff sees it: key order and absent-vs-undefined ignored. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const isArray = Array.isArray(a);
  if (isArray !== Array.isArray(b)) return false;
  if (isArray) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameJson(x[i], y[i])) return false;
    return true;
  }
  // Plain objects (parsed JSON): the same defined keys, with equal values.
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let keys = 0;
  for (const key in x) {
    if (x[key] === undefined) continue;
    keys++;
    if (!sameJson(x[key], y[key])) return false;
  }
  for (const key in y) if (y[key] !== undefined) keys--;
  return keys === 0;
}

function append(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
