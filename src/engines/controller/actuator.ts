// Actuation: carrying out the reconcile pass's actions on the runtime — launching instances
// (and health-checking them), restarting pets in place, replacing dead cattle, taking
// instances down through draining. The only part of the controller that starts or stops
// anything; it decides nothing.
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { isTerminalError } from '../../domain/errors.ts';
import { healthPolicy } from '../../domain/health/health-tracker.ts';
import type { ServiceSpec } from '../../domain/manifest/model.ts';
import type { Action, DesiredService, StopCause } from '../../domain/reconcile/next-step.ts';
import type { Revision } from '../../domain/revisions/revision.ts';
import type { Clock } from '../../ports/clock.ts';
import { instanceSpecOf } from '../../ports/instance-spec.ts';
import { probeTarget } from '../../ports/prober.ts';
import type { RunningInstance, Runtime } from '../../ports/runtime.ts';
import type { HealthChecker } from '../health/health-checker.ts';
import type { InstanceRecord, Registry } from '../registry/registry.ts';
import type { ControllerMetrics } from './controller-metrics.ts';
import type { ObservedFacts } from './observed-facts.ts';

/** The longest a fixed address waits in discovery for its successor (one that never comes). */
const HAND_OVER_MS = 30_000;

export interface ActuatorOptions {
  readonly runtime: Runtime;
  readonly registry: Registry;
  readonly health: HealthChecker;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: ControllerMetrics;
  readonly newId: (service: string) => string;
  /** Where relative `run.cwd` paths resolve when a revision does not say. */
  readonly defaultBaseDir: string;
  /** Time a deregistered instance keeps serving in-flight requests before SIGTERM. */
  readonly drainMs: number;
  /** SIGTERM → SIGKILL. */
  readonly stopGraceMs: number;
  /** Look at this service again. */
  readonly queue: (service: string) => void;
}

/** What the actions of one pass are about. */
export interface PassTarget {
  readonly service: string;
  readonly spec: ServiceSpec | undefined;
  readonly desired: DesiredService | undefined;
  readonly revision: Revision | undefined;
}

export class Actuator {
  readonly #o: ActuatorOptions;
  /** Set after construction: facts and actuation refer to each other. */
  facts: ObservedFacts | undefined;
  /** Instances being taken down, and when their process is gone. */
  readonly #stopping = new Map<string, Promise<void>>();

  constructor(options: ActuatorOptions) {
    this.#o = options;
  }

  /** Carries out one pass's actions; resolves once every launch has been handed to the runtime. */
  async apply(actions: readonly Action[], target: PassTarget): Promise<void> {
    const { registry } = this.#o;
    const launches: Promise<void>[] = [];
    for (const action of actions) {
      switch (action.kind) {
        case 'start': {
          const { spec, desired, revision } = target;
          if (!spec || !desired || !revision) break;
          const record = registry.add({
            id: this.#o.newId(target.service),
            service: target.service,
            version: spec.version,
            revision: revision.number,
            specHash: desired.specHash,
          });
          launches.push(this.#launch(record, spec, revision, 'spawned'));
          break;
        }
        case 'replace': {
          const dead = registry.get(action.id);
          const { spec, desired, revision } = target;
          if (!dead || !spec || !desired || !revision) break;
          this.#forget(dead.id);
          // The fresh instance takes over the dead one's count: a crash loop backs off across replacements.
          const record = registry.add({
            id: this.#o.newId(target.service),
            service: target.service,
            version: spec.version,
            revision: revision.number,
            specHash: desired.specHash,
            restarts: dead.restarts + 1,
            lastExit: dead.lastExit,
          });
          this.#o.metrics.restarted(target.service, 'cattle');
          launches.push(this.#launch(record, spec, revision, 'spawned'));
          break;
        }
        case 'restart': {
          const record = registry.get(action.id);
          if (!record || !target.spec || !target.revision) break;
          this.#o.metrics.restarted(target.service, 'pet');
          launches.push(this.#launch(record, target.spec, target.revision, 'restart'));
          break;
        }
        case 'forget':
          this.#forget(action.id);
          break;
        case 'stop':
          // A fixed port is handed over: its address stays in discovery for the successor.
          void this.takeDown(action.id, action.cause, {
            handOver: action.cause === 'rollout' && target.desired?.fixedPort === true,
          });
          break;
        case 'fail':
          this.#o.health.unwatch(action.id);
          registry.transition(action.id, 'failed', 'probe-failed', action.reason);
          this.stopProcess(action.id);
          break;
        case 'reset-restarts':
          registry.resetRestarts(action.id);
          break;
      }
    }
    await Promise.all(launches);
  }

  isStopping(id: string): boolean {
    return this.#stopping.has(id);
  }

  /**
   * Stops the process of an instance that is already out of service (failed), keeping its
   * record: a pet restarted in place waits for this before it starts again.
   */
  stopProcess(id: string): void {
    if (this.#stopping.has(id)) return;
    const stopped = this.#o.runtime
      .stop(id, { graceMs: this.#o.stopGraceMs })
      .catch((error: unknown) =>
        this.#o.logger.warn({ err: error, instance: id }, 'could not stop an instance'),
      )
      .finally(() => this.#stopping.delete(id));
    this.#stopping.set(id, stopped);
  }

  /**
   * Out of discovery first, then (after the drain) SIGTERM, then gone from the registry.
   * A hand-over (a fixed port, replaced in a rollout) keeps the address in discovery instead
   * and stops at once: the successor can only take the port once this one has let it go.
   */
  async takeDown(
    id: string,
    cause: StopCause | 'drain-requested',
    options: { handOver?: boolean } = {},
  ): Promise<void> {
    const { registry, runtime, clock } = this.#o;
    const record = registry.get(id);
    if (!record || this.#stopping.has(id)) return;
    const { promise: gone, resolve: markGone } = Promise.withResolvers<void>();
    this.#stopping.set(id, gone);
    try {
      this.#o.health.unwatch(id);
      const wasServing = record.phase === 'running' || record.phase === 'unhealthy';
      const handOver = options.handOver === true && record.phase === 'running';
      if (handOver) {
        registry.holdAddress(id);
        clock.setTimeout(() => registry.releaseAddress(record.service, id), HAND_OVER_MS);
      }
      if (!registry.transition(id, wasServing ? 'draining' : 'stopped', cause)) return;
      // The process keeps answering in-flight requests while gateways and clients catch up.
      if (wasServing && !handOver && this.#o.drainMs > 0)
        await new Promise<void>((r) => clock.setTimeout(r, this.#o.drainMs));
      await runtime.stop(id, { graceMs: this.#o.stopGraceMs });
      if (registry.get(id)?.phase === 'draining') registry.transition(id, 'stopped', 'drained');
      registry.remove(id);
    } catch (error) {
      this.#o.logger.warn({ err: error, instance: id }, 'could not take an instance down; will look again');
    } finally {
      this.#stopping.delete(id);
      markGone();
      this.#o.queue(record.service);
    }
  }

  /** Every instance, stopped (`baton up` on Ctrl-C). */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.#o.registry
        .instances()
        .map((r) => this.#o.runtime.stop(r.id, { graceMs: this.#o.stopGraceMs }).catch(() => undefined)),
    );
  }

  /**
   * Health-checks an instance: readiness (`readiness`, or `health`, or a TCP connect) and,
   * when declared, liveness. An unusable probe fails the instance.
   */
  watch(instance: RunningInstance, spec: ServiceSpec, revision: Revision): boolean {
    const cwd = this.#cwd(spec, revision);
    const probes = [
      { kind: 'readiness' as const, spec: spec.readiness ?? spec.health },
      ...(spec.liveness ? [{ kind: 'liveness' as const, spec: spec.liveness }] : []),
    ];
    const targets = probes.map((probe) => ({
      ...probe,
      target: probeTarget(probe.spec, instance, cwd, spec.env),
    }));
    for (const { target } of targets) {
      if (target.ok) continue;
      this.#o.registry.transition(instance.id, 'failed', 'start-failed', target.detail);
      return false;
    }
    for (const probe of targets)
      if (probe.target.ok)
        this.#o.health.watch(instance, healthPolicy(probe.spec), probe.target.target, probe.kind);
    return true;
  }

  #forget(id: string): void {
    this.#o.health.unwatch(id);
    this.#o.registry.remove(id);
  }

  async #launch(
    record: InstanceRecord,
    spec: ServiceSpec,
    revision: Revision,
    cause: 'spawned' | 'restart',
  ): Promise<void> {
    const { registry, runtime } = this.#o;
    // A pet's previous process may still be on its way out.
    await this.#stopping.get(record.id);
    if (!registry.transition(record.id, 'starting', cause)) return;
    const baseDir = this.#baseDir(revision);
    try {
      const running = await runtime.start(
        instanceSpecOf({ id: record.id, service: record.service, spec, revision: revision.number, baseDir }),
      );
      registry.located(record.id, running);
      const now = registry.get(record.id);
      if (now?.phase === 'starting') this.watch(running, spec, revision);
      // Taken down while it was being started: nothing else will stop it.
      else if (now === undefined || now.phase === 'stopped') this.stopProcess(record.id);
    } catch (error) {
      this.facts?.startFailed(record, (error as Error).message, isTerminalError(error));
    }
  }

  #baseDir(revision: Revision): string {
    return revision.source.baseDir ?? this.#o.defaultBaseDir;
  }

  /** Where command probes run: the service's folder. */
  #cwd(spec: ServiceSpec, revision: Revision): string {
    return resolve(this.#baseDir(revision), spec.run?.cwd ?? '.');
  }
}
