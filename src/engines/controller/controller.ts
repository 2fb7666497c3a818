// The controller: keeps the running architecture converged on the current revision,
// forever. This file wires its parts and is its face to the rest of Baton; how it thinks is
// in ARCHITECTURE.md beside it:
//   revision-progress.ts  which revision, the order of its steps, who has settled
//   reconcile-pass.ts     one pass for one service: read, decide (src/domain), act, record
//   actuator.ts           launching, restarting, replacing, taking down
//   observed-facts.ts     exits, health changes, adoption, crash loops
//   canary-steps.ts       traffic steps of canary rollouts
//   rollout-outcome.ts    states and phase events, convergence, failure, automatic rollback
//   operator-intents.ts   scale and restart, durable as events
//   work-queue.ts         keys, de-duplication, exclusivity, backoff, resync
import { serviceOf } from '../../domain/manifest/service-lookup.ts';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry as MetricsRegistry } from 'prom-client';
import { BatonError } from '../../domain/errors.ts';
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from '../../domain/reconcile/restart-backoff.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Prober } from '../../ports/prober.ts';
import type { Runtime } from '../../ports/runtime.ts';
import type { Store } from '../../ports/store.ts';
import { HealthChecker } from '../health/health-checker.ts';
import type { Registry } from '../registry/registry.ts';
import type { RevisionEngine } from '../revisions/revision-engine.ts';
import { Actuator } from './actuator.ts';
import { CanarySteps, type RolloutTraffic } from './canary-steps.ts';
import { ControllerMetrics, type PassResult } from './controller-metrics.ts';
import { ObservedFacts } from './observed-facts.ts';
import { OperatorIntents } from './operator-intents.ts';
import { ReconcilePass } from './reconcile-pass.ts';
import { RevisionProgress, type ServiceState } from './revision-progress.ts';
import { RolloutOutcome } from './rollout-outcome.ts';
import { WorkQueue, type WorkQueueStats } from './work-queue.ts';

export type { RolloutTraffic } from './canary-steps.ts';
export type { ServiceState } from './revision-progress.ts';

export interface ControllerOptions {
  /** Where the controller records what it did (the leader's writes, fenced by its epoch). */
  readonly store: Store;
  /**
   * Where operators' scales and restarts are recorded and read: any replica's API accepts
   * them, leading or not. The controller's own store when absent.
   */
  readonly intentStore?: Store | undefined;
  readonly runtime: Runtime;
  readonly registry: Registry;
  readonly prober: Prober;
  readonly revisions: RevisionEngine;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Where relative `run.cwd` paths resolve when a revision does not say. */
  readonly defaultBaseDir: string;
  readonly newId?: (service: string) => string;
  /** Backoff between restarts and replacements, the pets' restart budget and when it resets. */
  readonly restart?: Partial<RestartPolicy> | undefined;
  /** Time a deregistered instance keeps serving in-flight requests before SIGTERM. */
  readonly drainMs?: number;
  /** SIGTERM → SIGKILL. */
  readonly stopGraceMs?: number;
  readonly resyncMs?: number;
  readonly concurrency?: number;
  /** The gateway's traffic splits, which canary rollouts set; without it a canary rolls as `rolling`. */
  readonly traffic?: RolloutTraffic | undefined;
  /** After a store error while reading a new revision, try again after this long. */
  readonly refreshRetryMs?: number;
  /** Whether this control plane leads (for /metrics); the controller runs only while it does. */
  readonly leading?: () => boolean;
}

export class Controller {
  readonly #o: ControllerOptions;
  readonly #queue: WorkQueue;
  readonly #health: HealthChecker;
  readonly #progress: RevisionProgress;
  readonly #intents: OperatorIntents;
  readonly #facts: ObservedFacts;
  readonly #actuator: Actuator;
  readonly #outcome: RolloutOutcome;
  readonly #metrics: ControllerMetrics;
  readonly #reconcile: ReconcilePass;
  readonly #unsubscribe: (() => void)[] = [];
  /** One revision check at a time; an event that arrives meanwhile asks for one more. */
  #refreshing: Promise<void> | undefined;
  #refreshAgain = false;
  /** The last revision check failed: the store is down (or was). */
  #storeDown = false;
  #stopped = false;

  constructor(options: ControllerOptions) {
    this.#o = options;
    const { store, runtime, registry, clock, logger } = options;
    const restart: RestartPolicy = { ...DEFAULT_RESTART_POLICY, ...options.restart };
    const queue = (service: string) => this.#queue.add(service);
    this.#queue = new WorkQueue({
      clock,
      concurrency: options.concurrency ?? 8,
      resyncMs: options.resyncMs ?? 30_000,
      reconcile: (key) => this.#pass(key),
      onError: (key, error, attempt, retryInMs) => {
        logger.warn({ service: key, err: error, attempt, retryInMs }, 'reconcile failed; retrying');
        // The database is down: watch for its return (a revision check a second), so that the
        // passes waiting in their backoff are not left there once it is back.
        if (error instanceof BatonError && error.code === 'store-unavailable' && !this.#storeDown) {
          this.#storeDown = true;
          this.#o.clock.setTimeout(() => this.#onStoreEvents(), options.refreshRetryMs ?? 1_000);
        }
      },
      onTerminal: (key, error) =>
        logger.warn({ service: key, error }, 'reconcile stopped: retrying cannot help'),
    });
    this.#progress = new RevisionProgress({ store, engine: options.revisions, registry });
    this.#metrics = new ControllerMetrics({
      queue: () => this.#queue.stats,
      instances: registry,
      revision: () => this.#progress.current?.number,
      leading: () => options.leading?.() ?? true,
    });
    this.#intents = new OperatorIntents({ store: options.intentStore ?? store, clock });
    this.#health = new HealthChecker({
      clock,
      prober: options.prober,
      onChange: (id, change, detail, probe) => this.#facts.onHealth(id, change, detail, probe),
      onProbe: (id, result, probe) => probe === 'readiness' && this.#facts.onProbe(id, result.detail),
      owns: async (id, port) => (await runtime.listening(id))?.includes(port),
    });
    this.#actuator = new Actuator({
      runtime,
      registry,
      health: this.#health,
      clock,
      logger,
      metrics: this.#metrics,
      newId: options.newId ?? ((service) => `${service}-${randomBytes(4).toString('hex')}`),
      defaultBaseDir: options.defaultBaseDir,
      drainMs: options.drainMs ?? 500,
      stopGraceMs: options.stopGraceMs ?? 10_000,
      queue,
    });
    this.#facts = new ObservedFacts({
      registry,
      runtime,
      health: this.#health,
      clock,
      logger,
      queue,
      serving: (service) => this.#wake(this.#progress.waitersOf(service)),
      stopping: (id) => this.#actuator.isStopping(id),
      stopProcess: (id) => this.#actuator.stopProcess(id),
      generationAt: (service, atMs) => this.#intents.generationAt(service, atMs),
      watch: (instance, spec, revision) => void this.#actuator.watch(instance, spec, revision),
    });
    this.#actuator.facts = this.#facts;
    this.#outcome = new RolloutOutcome({
      store,
      revisions: options.revisions,
      progress: this.#progress,
      clock,
      logger,
      metrics: this.#metrics,
      restart,
    });
    this.#reconcile = new ReconcilePass({
      clock,
      registry,
      progress: this.#progress,
      intents: this.#intents,
      facts: this.#facts,
      actuator: this.#actuator,
      canary: new CanarySteps(options.traffic),
      outcome: this.#outcome,
      restart,
      forget: (service) => this.#queue.forget(service),
      wake: (services) => this.#wake(services),
      addressing: runtime.addressing,
    });
  }

  /** Picks up the log (revision, intents), adopts what the runtime already runs, then reconciles every service. */
  async start(): Promise<void> {
    const { store, runtime } = this.#o;
    this.#unsubscribe.push(runtime.subscribe((event) => this.#facts.onRuntime(event)));
    this.#unsubscribe.push(store.onEvents(() => this.#onStoreEvents()));
    await this.#outcome.load();
    await this.#progress.refresh();
    await this.#intents.load(this.#progress.current);
    const current = this.#progress.current;
    for (const instance of await runtime.list()) {
      const revision =
        instance.revision === current?.number ? current : await store.getRevision(instance.revision);
      this.#facts.adopt(instance, revision);
    }
    this.#queue.start();
    for (const service of this.#progress.knownServices()) this.#queue.add(service);
  }

  /**
   * Stops reconciling. With `stopInstances` (`baton up` on Ctrl-C) every instance is stopped
   * too; without (`baton server` exiting) they keep serving and are adopted on restart.
   */
  async stop(options: { stopInstances: boolean }): Promise<void> {
    this.#stopped = true;
    for (const u of this.#unsubscribe.splice(0)) u();
    await this.#queue.stop();
    this.#health.unwatchAll();
    await this.#refreshing;
    if (options.stopInstances) await this.#actuator.stopAll();
  }

  /** Resolves once nothing is queued or running (for tests and benchmarks). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  /** The work queue's counters (passes run, keys queued): for metrics and benchmarks. */
  get queueStats(): WorkQueueStats {
    return this.#queue.stats;
  }

  /** The controller's Prometheus metrics (served at /metrics). */
  get metrics(): MetricsRegistry {
    return this.#metrics.registry;
  }

  states(): ServiceState[] {
    return this.#progress.states();
  }

  state(service: string): ServiceState | undefined {
    return this.#progress.state(service);
  }

  /** `baton scale`: recorded (with who asked) before it takes effect, so that it survives a restart. */
  async scale(service: string, replicas: number, actor: string): Promise<void> {
    await this.#intents.scale(service, replicas, actor, this.#progress.current?.number);
    this.#queue.add(service);
  }

  /** `baton restart`: a rolling restart, recorded like a scale. */
  async restart(service: string, actor: string): Promise<void> {
    await this.#intents.restart(service, actor, this.#progress.current?.number);
    this.#queue.add(service);
  }

  /**
   * A gate (a firing alert) says the service's new version is bad. While the revision that
   * moved it is within the service's rollout deadline — its watch window — the rollout
   * fails like one whose instances never turned healthy: recorded, and rolled back to the
   * last converged revision when `autoRollback` allows. Returns whether it did.
   */
  async abortRollout(service: string, reason: string): Promise<boolean> {
    const revision = this.#progress.current;
    const spec = serviceOf(revision?.manifest, service);
    if (!revision || !spec || !this.#progress.moved(service)) return false;
    // Only an applied change with a converged revision before it has somewhere to go back to.
    const target = this.#outcome.lastConverged;
    if (revision.source.kind !== 'apply' || target <= 0 || target >= revision.number) return false;
    if (this.#o.clock.now().getTime() >= this.#outcome.deadlineAtMs(revision, spec)) return false;
    await this.#outcome.failed(service, revision, 'gate', reason);
    return true;
  }

  async #pass(service: string): ReturnType<ReconcilePass['run']> {
    const started = performance.now();
    let result: PassResult = 'error';
    try {
      const outcome = await this.#reconcile.run(service);
      result = outcome.kind === 'requeue-after' ? 'requeue' : outcome.kind;
      return outcome;
    } finally {
      this.#metrics.observePass((performance.now() - started) / 1000, result);
    }
  }

  #wake(services: readonly string[]): void {
    for (const service of services) this.#queue.add(service);
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
          await this.#refresh();
        } while (this.#refreshAgain && !this.#stopped);
        if (this.#storeDown) {
          // The database is back: passes that failed meanwhile sit in their backoff (up to a
          // minute); look at every service now instead.
          this.#storeDown = false;
          this.#wake(this.#progress.knownServices());
        }
      } catch (error) {
        // The database may be restarting: never an unhandled rejection; look again shortly.
        this.#storeDown = true;
        this.#o.logger.warn({ err: error }, 'could not read the newest revision; retrying');
        if (!this.#stopped)
          this.#o.clock.setTimeout(() => this.#onStoreEvents(), this.#o.refreshRetryMs ?? 1_000);
      } finally {
        this.#refreshing = undefined;
      }
    })();
  }

  async #refresh(): Promise<void> {
    this.#wake(await this.#intents.catchUp());
    const refreshed = await this.#progress.refresh();
    const latest = this.#progress.current;
    if (refreshed === undefined || latest === undefined) return;
    if (refreshed.moved.length > 0) this.#metrics.rolloutStarted();
    this.#intents.revisionApplied(refreshed.parent, latest.manifest, refreshed.moved);
    this.#wake(refreshed.queue);
    if (refreshed.convergedAtOnce) await this.#outcome.maybeConverged(latest);
  }
}
