// The controller's metrics, as Kubernetes controllers expose theirs (controller-runtime's
// workqueue_* and controller_runtime_reconcile_*): how much work waits and how passes end,
// the instances by phase, restarts, and how rollouts go. Gauges that mirror state (queue
// depth, instances, revision) are read at scrape time, so they cannot drift from it.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FailureCause } from '../../domain/reconcile/rollout-verdict.ts';
import type { Registry as InstanceRegistry } from '../registry/registry.ts';
import type { WorkQueueStats } from './work-queue.ts';

export type PassResult = 'done' | 'requeue' | 'terminal' | 'error';

export interface ControllerMetricsSources {
  readonly queue: () => WorkQueueStats;
  readonly instances: InstanceRegistry;
  readonly revision: () => number | undefined;
  /** Whether this control plane leads (acts); 1 until the Leadership port says otherwise. */
  readonly leading: () => boolean;
}

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly #reconcileDuration: Histogram;
  readonly #reconcileTotal: Counter<'result'>;
  readonly #restarts: Counter<'service' | 'mode'>;
  readonly #rolloutsStarted: Counter;
  readonly #rolloutsConverged: Counter;
  readonly #rolloutsFailed: Counter<'cause'>;
  readonly #rolledBack: Counter;

  constructor(sources: ControllerMetricsSources) {
    const registers = [this.registry];
    new Gauge({
      name: 'baton_workqueue_depth',
      help: 'Services waiting for a reconcile pass.',
      registers,
      collect() {
        this.set(sources.queue().queued);
      },
    });
    new Gauge({
      name: 'baton_workqueue_running',
      help: 'Services being reconciled now.',
      registers,
      collect() {
        this.set(sources.queue().running);
      },
    });
    new Counter({
      name: 'baton_workqueue_adds_total',
      help: 'Services queued for a pass (repeated adds of a queued service count once).',
      registers,
      collect() {
        setCounter(this, sources.queue().adds);
      },
    });
    new Counter({
      name: 'baton_workqueue_retries_total',
      help: 'Passes scheduled again, with backoff, after a pass failed.',
      registers,
      collect() {
        setCounter(this, sources.queue().retries);
      },
    });
    this.#reconcileDuration = new Histogram({
      name: 'baton_reconcile_duration_seconds',
      help: 'How long a reconcile pass of one service took.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#reconcileTotal = new Counter({
      name: 'baton_reconcile_total',
      help: 'Reconcile passes by result: done, requeue (after a delay), terminal (retrying cannot help), error (retried with backoff).',
      labelNames: ['result'] as const,
      registers,
    });
    new Gauge({
      name: 'baton_instances',
      help: 'Instances the registry tracks, by service and phase.',
      labelNames: ['service', 'phase'] as const,
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const record of sources.instances.instances()) {
          const key = `${record.service}\u0000${record.phase}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        for (const [key, count] of counts) {
          const [service, phase] = key.split('\u0000') as [string, string];
          this.set({ service, phase }, count);
        }
      },
    });
    this.#restarts = new Counter({
      name: 'baton_instance_restarts_total',
      help: 'Dead instances brought back: pets restarted in place, cattle replaced.',
      labelNames: ['service', 'mode'] as const,
      registers,
    });
    this.#rolloutsStarted = new Counter({
      name: 'baton_rollouts_started_total',
      help: 'Revisions the controller began to roll out.',
      registers,
    });
    this.#rolloutsConverged = new Counter({
      name: 'baton_rollouts_converged_total',
      help: 'Revisions whose every service settled.',
      registers,
    });
    this.#rolloutsFailed = new Counter({
      name: 'baton_rollouts_failed_total',
      help: 'Rollouts failed, by cause: cannot-start, crash-loop, deadline, gate (an alert).',
      labelNames: ['cause'] as const,
      registers,
    });
    this.#rolledBack = new Counter({
      name: 'baton_rollouts_rolled_back_total',
      help: 'Automatic rollbacks recorded after a failed rollout.',
      registers,
    });
    new Gauge({
      name: 'baton_current_revision',
      help: 'The number of the revision the controller converges on (0: none yet).',
      registers,
      collect() {
        this.set(sources.revision() ?? 0);
      },
    });
    new Gauge({
      name: 'baton_leader',
      help: 'Whether this control plane is the leader, the one that acts (1) or not (0).',
      registers,
      collect() {
        this.set(sources.leading() ? 1 : 0);
      },
    });
  }

  observePass(seconds: number, result: PassResult): void {
    this.#reconcileDuration.observe(seconds);
    this.#reconcileTotal.inc({ result });
  }

  restarted(service: string, mode: 'pet' | 'cattle'): void {
    this.#restarts.inc({ service, mode });
  }

  rolloutStarted(): void {
    this.#rolloutsStarted.inc();
  }

  rolloutConverged(): void {
    this.#rolloutsConverged.inc();
  }

  rolloutFailed(cause: FailureCause | 'gate'): void {
    this.#rolloutsFailed.inc({ cause });
  }

  rolledBack(): void {
    this.#rolledBack.inc();
  }
}

/** A counter mirrored from a running total kept elsewhere (the work queue's). */
function setCounter(counter: Counter, total: number): void {
  counter.reset();
  counter.inc(total);
}
