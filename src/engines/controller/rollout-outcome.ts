// How passes and rollouts end, recorded: each service's state and phase changes (events),
// the revision's convergence, and a rollout's failure — with the automatic rollback to the
// last converged revision that `autoRollback` asks for, authored by `controller`. A rollback
// revision never triggers another automatic rollback.
import { serviceOf } from '../../domain/manifest/service-lookup.ts';
import type { Logger } from 'pino';
import { parseDuration } from '../../domain/health/duration.ts';
import type { ExitFact } from '../../domain/lifecycle/instance-exit.ts';
import { serviceStatus, type ServiceOperation } from '../../domain/lifecycle/index.ts';
import type { ServiceSpec } from '../../domain/manifest/model.ts';
import type { StepOutput } from '../../domain/reconcile/next-step.ts';
import type { RestartPolicy } from '../../domain/reconcile/restart-backoff.ts';
import type { FailureCause } from '../../domain/reconcile/rollout-verdict.ts';
import type { Revision } from '../../domain/revisions/revision.ts';
import type { Clock } from '../../ports/clock.ts';
import type { NewEvent, Store } from '../../ports/store.ts';
import type { InstanceRecord } from '../registry/registry.ts';
import type { RevisionEngine } from '../revisions/revision-engine.ts';
import type { ControllerMetrics } from './controller-metrics.ts';
import type { CrashFacts } from './observed-facts.ts';
import type { RevisionProgress, ServiceState } from './revision-progress.ts';

export interface RolloutOutcomeOptions {
  readonly store: Store;
  readonly revisions: RevisionEngine;
  readonly progress: RevisionProgress;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: ControllerMetrics;
  readonly restart: RestartPolicy;
}

/** What one pass found out about a service, to record. */
export interface PassRecord {
  readonly service: string;
  readonly revision: Revision | undefined;
  readonly spec: ServiceSpec | undefined;
  readonly step: StepOutput;
  readonly instances: readonly InstanceRecord[];
  readonly waitingFor: readonly string[];
  readonly crashes: CrashFacts | undefined;
  readonly reason: string | undefined;
  /** Epoch ms, while its rollout is under way. */
  readonly deadlineAtMs: number | undefined;
}

export class RolloutOutcome {
  readonly #o: RolloutOutcomeOptions;
  #lastConverged = 0;
  readonly #failed = new Set<number>();

  constructor(options: RolloutOutcomeOptions) {
    this.#o = options;
  }

  /** Picks up where the log left off: the last revision that converged. */
  async load(): Promise<void> {
    const converged = await this.#o.store.readEvents({
      kinds: ['revision.converged'],
      newest: true,
      limit: 1,
    });
    this.#lastConverged = converged.at(-1)?.revision ?? 0;
  }

  get lastConverged(): number {
    return this.#lastConverged;
  }

  /**
   * Whether the service's rollout in `revision` is under way: the revision moved it, has
   * not converged and has not failed. Only then can it fail (deadline, crash loop) — a
   * service that crashes long after its rollout converged backs off, it does not roll back.
   */
  rolloutOpen(service: string, revision: Revision): boolean {
    return (
      revision === this.#o.progress.current &&
      this.#o.progress.moved(service) &&
      revision.number > this.#lastConverged &&
      !this.#failed.has(revision.number)
    );
  }

  deadlineAtMs(revision: Revision, spec: ServiceSpec): number {
    return Date.parse(revision.createdAt) + parseDuration(spec.rollout.deadline);
  }

  /**
   * Records the service's state and, when its phase changed, an event. Returns the services
   * that may go on now that this one settled, and whether the service is gone for good.
   */
  async record(pass: PassRecord): Promise<{ wake: string[]; gone: boolean }> {
    const { service, revision, spec, step, crashes } = pass;
    const { progress } = this.#o;
    const operation: ServiceOperation | undefined = step.settled
      ? undefined
      : !spec
        ? 'destroy'
        : step.progress.outdated > 0
          ? revision?.source.kind === 'apply'
            ? 'rollout'
            : 'rollback'
          : !progress.everSettled(service)
            ? 'deploy'
            : step.progress.updated !== step.progress.desired
              ? 'scale'
              : undefined;
    const failure =
      crashes?.cannotStart !== undefined
        ? 'cannot-start'
        : spec && crashes && crashes.earlyDeaths >= spec.rollout.crashLoopLimit
          ? 'crash-loop'
          : undefined;
    const status = serviceStatus({
      desired: step.progress.desired,
      targetVersion: spec?.version ?? '',
      instances: pass.instances.map((r) => ({ phase: r.phase, version: r.version })),
      operation,
      restartsExhausted: step.exhausted.length > 0,
      failure,
    });
    const previous = progress.recorded(service);
    const gone = !spec && pass.instances.length === 0;
    const state: ServiceState = {
      service,
      revision: revision?.number ?? null,
      phase: status.phase,
      desired: step.progress.desired,
      ready: step.progress.serving,
      version: spec?.version,
      settled: step.settled,
      waitingFor: step.settled ? [] : pass.waitingFor,
      reason: step.settled ? undefined : pass.reason,
      deadline:
        step.settled || pass.deadlineAtMs === undefined
          ? undefined
          : new Date(pass.deadlineAtMs).toISOString(),
    };
    const events: NewEvent[] = [];
    const time = this.#o.clock.now().toISOString();
    // A service removed and gone says so once, not at every resync.
    if (previous?.phase !== state.phase && !(gone && previous === undefined)) {
      events.push({
        kind: `service.${state.phase}`,
        service,
        revision: revision?.number,
        actor: 'controller',
        message: `${service} is ${state.phase} (${status.cause}${state.reason ? `: ${state.reason}` : ''})`,
        data: {
          from: previous?.phase ?? null,
          cause: status.cause,
          desired: state.desired,
          ready: state.ready,
          ...(state.reason ? { reason: state.reason } : {}),
          ...(status.phase === 'failed' && crashes?.lastDeath ? { exit: crashes.lastDeath } : {}),
        },
        time,
      });
    }
    if (step.exhausted.length > 0 && previous?.phase !== 'failed') {
      const { maxRestarts, stableAfterMs } = this.#o.restart;
      events.push({
        kind: 'alert.restarts-exhausted',
        service,
        revision: revision?.number,
        actor: 'controller',
        message: `${service}: instance ${step.exhausted.join(', ')} died ${maxRestarts} times without staying up for ${stableAfterMs / 1000} s; left failed, a person must look`,
        data: { instances: step.exhausted },
        time,
      });
    }
    // A start refused for good (a pet whose data is on a lost node, a command that is not
    // there): retrying cannot help, so a person is told, once.
    if (failure === 'cannot-start' && status.phase === 'failed' && previous?.phase !== 'failed') {
      events.push({
        kind: 'alert.cannot-start',
        service,
        revision: revision?.number,
        actor: 'controller',
        message: `${service} cannot start: ${crashes?.cannotStart ?? 'refused'}; left failed, a person must look`,
        data: { reason: crashes?.cannotStart ?? null },
        time,
      });
    }
    // The revision converges with this service: said in the same write, so that no one sees
    // every service settled before the convergence is in the log.
    const converges =
      revision !== undefined &&
      state.settled &&
      revision.number > this.#lastConverged &&
      progress.convergesWith(revision, service);
    if (converges) events.push(this.#convergedEvent(revision));
    // Recorded first, then shown: a write that fails (the database restarting) leaves the
    // state as it was, and the retried pass records it again.
    if (events.length > 0) await this.#o.store.appendEvents(events);
    if (converges) {
      this.#lastConverged = Math.max(this.#lastConverged, revision.number);
      this.#o.metrics.rolloutConverged();
    }
    const wake = progress.setState(service, gone ? undefined : state);
    return { wake, gone };
  }

  #convergedEvent(revision: Revision): NewEvent {
    return {
      kind: 'revision.converged',
      revision: revision.number,
      actor: 'controller',
      message: `revision ${revision.number}: every service runs its desired version, healthy`,
      time: this.#o.clock.now().toISOString(),
    };
  }

  /** `revision` is the one the settling pass reconciled, even if a newer one arrived since. */
  async maybeConverged(revision: Revision): Promise<void> {
    if (revision.number <= this.#lastConverged || !this.#o.progress.convergedAt(revision)) return;
    const before = this.#lastConverged;
    this.#lastConverged = revision.number;
    await this.#record(() => (this.#lastConverged = before), [this.#convergedEvent(revision)]);
    this.#o.metrics.rolloutConverged();
  }

  /**
   * Appends events whose decision was marked taken beforehand (so that two passes do not
   * take it twice); a failed write takes the mark back, so that the next pass — the queue
   * retries it — takes the decision again rather than losing it.
   */
  async #record(undo: () => void, events: NewEvent[]): Promise<void> {
    try {
      await this.#o.store.appendEvents(events);
    } catch (error) {
      undo();
      throw error;
    }
  }

  /**
   * Records the rollout failed and, when `autoRollback` allows and a converged revision
   * comes before it, rolls back to that one. Once per revision.
   */
  async failed(
    service: string,
    revision: Revision,
    cause: FailureCause | 'gate',
    reason: string,
    lastDeath?: ExitFact,
  ): Promise<void> {
    if (this.#failed.has(revision.number)) return;
    this.#failed.add(revision.number);
    const spec = serviceOf(revision.manifest, service);
    const target = this.#lastConverged;
    const rollback =
      spec?.rollout.autoRollback === true &&
      revision.source.kind === 'apply' &&
      target > 0 &&
      target < revision.number;
    await this.#record(
      () => this.#failed.delete(revision.number),
      [
        {
          kind: 'rollout.failed',
          service,
          revision: revision.number,
          actor: 'controller',
          message: `${service} ${spec?.version ?? ''}: ${reason}${rollback ? `; rolling back to revision ${target}` : ''}`,
          data: {
            cause,
            reason,
            deadline: spec?.rollout.deadline,
            rollbackTo: rollback ? target : null,
            ...(lastDeath ? { exit: lastDeath } : {}),
          },
          time: this.#o.clock.now().toISOString(),
        },
      ],
    );
    this.#o.metrics.rolloutFailed(cause);
    if (!rollback) return;
    try {
      await this.#o.revisions.rollback(
        { to: target },
        {
          author: 'controller',
          message: `automatic rollback: ${service} ${spec.version}: ${reason}`,
          force: true,
        },
      );
      this.#o.metrics.rolledBack();
    } catch (error) {
      this.#o.logger.error({ err: error, service, revision: revision.number }, 'automatic rollback failed');
    }
  }
}
