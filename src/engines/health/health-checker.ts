// Runs each watched instance's probe on a schedule and folds the results into its health
// (domain/health/health-tracker.ts), reporting transitions. Time comes from the Clock port
// so that tests drive it with a fake clock.
//
// Scheduling: the first probe runs at once; until the instance is first ready the next
// follows within STARTUP_PROBE_MS, afterwards `intervalMs` after the previous one started,
// or as soon as it finishes if it took longer — never two at once for one
// instance, so a slow instance is not buried under its own probes.
import {
  HEALTH_STATUSES,
  initialHealth,
  recordProbe,
  type HealthChange,
  type HealthPolicy,
  type HealthState,
} from '../../domain/health/health-tracker.ts';
import type { Clock, Timer } from '../../ports/clock.ts';
import type { Prober, ProbeResult, ProbeTarget } from '../../ports/prober.ts';
import type { RunningInstance } from '../../ports/runtime.ts';

/**
 * Until an instance is first ready it is probed this often (or at its interval, if shorter):
 * the first probe usually comes before the process listens, and waiting a whole interval
 * (5 s by default) after it would make every start, scale-out and rollout step that slow.
 */
export const STARTUP_PROBE_MS = 100;

export interface HealthCheckerOptions {
  readonly clock: Clock;
  readonly prober: Prober;
  /**
   * Called on every transition, with the detail of the probe that caused it. It must not
   * throw: there is no caller to hand the error to, so it surfaces as an unhandled rejection.
   */
  readonly onChange: (instanceId: string, change: HealthChange, detail: string, probe: ProbeKind) => void;
  /** Every probe's result, changing anything or not (what status shows while an instance waits). Must not throw. */
  readonly onProbe?: ((instanceId: string, result: ProbeResult, probe: ProbeKind) => void) | undefined;
  /**
   * Whether the instance's own processes listen on a port (undefined: cannot tell). Before an
   * instance is first ready, a passing probe of a port it does not hold is another process
   * answering — an old instance still on a fixed port — and counts as a failure.
   */
  readonly owns?: ((instanceId: string, port: number) => Promise<boolean | undefined>) | undefined;
}

/**
 * Readiness gates traffic; liveness says whether to restart (Kubernetes' meaning). An
 * instance has a readiness watch, and a liveness watch when its service declares one.
 */
export type ProbeKind = 'readiness' | 'liveness';

interface Watch {
  readonly id: string;
  readonly probe: ProbeKind;
  policy: HealthPolicy;
  target: ProbeTarget;
  state: HealthState;
  timer: Timer | undefined;
  inFlight: AbortController | undefined;
}

export class HealthChecker {
  readonly #clock: Clock;
  readonly #prober: Prober;
  readonly #onChange: HealthCheckerOptions['onChange'];
  readonly #onProbe: HealthCheckerOptions['onProbe'];
  readonly #owns: HealthCheckerOptions['owns'];
  readonly #watches = new Map<string, Watch>();

  constructor(options: HealthCheckerOptions) {
    this.#clock = options.clock;
    this.#prober = options.prober;
    this.#onChange = options.onChange;
    this.#onProbe = options.onProbe;
    this.#owns = options.owns;
  }

  /**
   * Starts probing an instance. Watching one already watched only updates its policy and
   * target (from the next probe on) and keeps its health, so a level-triggered caller may
   * call this on every pass.
   */
  watch(
    instance: RunningInstance,
    policy: HealthPolicy,
    target: ProbeTarget,
    probe: ProbeKind = 'readiness',
  ): void {
    const key = keyOf(instance.id, probe);
    const existing = this.#watches.get(key);
    if (existing !== undefined) {
      existing.policy = policy;
      existing.target = target;
      return;
    }
    const watch: Watch = {
      id: instance.id,
      probe,
      policy,
      target,
      state: initialHealth(Date.parse(instance.startedAt)),
      timer: undefined,
      inFlight: undefined,
    };
    this.#watches.set(key, watch);
    this.#probe(watch);
  }

  /** Stops probing an instance (both probes): cancels the next and aborts the one in flight. Unknown ids are ignored. */
  unwatch(id: string): void {
    for (const probe of ['readiness', 'liveness'] as const) {
      const key = keyOf(id, probe);
      const watch = this.#watches.get(key);
      if (watch === undefined) continue;
      this.#watches.delete(key);
      watch.timer?.cancel();
      watch.inFlight?.abort();
    }
  }

  unwatchAll(): void {
    for (const watch of [...this.#watches.values()]) this.unwatch(watch.id);
  }

  /** The current readiness of a watched instance (or its liveness). */
  health(id: string, probe: ProbeKind = 'readiness'): HealthState | undefined {
    return this.#watches.get(keyOf(id, probe))?.state;
  }

  #probe(watch: Watch): void {
    watch.timer = undefined;
    const controller = new AbortController();
    watch.inFlight = controller;
    const startedAt = this.#clock.now().getTime();
    this.#prober.probe(watch.target, watch.policy.timeoutMs, controller.signal).then(
      async (result) =>
        this.#record(watch, controller, startedAt, await this.#answeredByItself(watch, result)),
      // The port promises never to reject; should a prober break that promise, the instance
      // fails its probe rather than silently dropping out of health checks.
      (error: unknown) =>
        this.#record(watch, controller, startedAt, { ok: false, detail: String(error), durationMs: 0 }),
    );
  }

  /** A passing probe before the first ready, of a port another process holds, is no pass. */
  async #answeredByItself(watch: Watch, result: ProbeResult): Promise<ProbeResult> {
    const target = watch.target;
    if (!result.ok || this.#owns === undefined || target.kind === 'command') return result;
    if (watch.probe !== 'readiness') return result;
    if (watch.state.status !== HEALTH_STATUSES.starting) return result;
    const owned = await this.#owns(watch.id, target.port).catch(() => undefined);
    if (owned !== false) return result;
    return {
      ...result,
      ok: false,
      detail: `port ${target.port} answers, but not from this instance: another process holds it`,
    };
  }

  #record(watch: Watch, controller: AbortController, at: number, result: ProbeResult): void {
    if (controller.signal.aborted || this.#watches.get(keyOf(watch.id, watch.probe)) !== watch) return;
    watch.inFlight = undefined;
    const step = recordProbe(watch.state, { ok: result.ok, at, detail: result.detail }, watch.policy);
    watch.state = step.state;
    // A failed startup is final for this process; the controller replaces or restarts it.
    if (step.state.status !== HEALTH_STATUSES.failed) {
      const interval =
        step.state.status === HEALTH_STATUSES.starting
          ? Math.min(watch.policy.intervalMs, STARTUP_PROBE_MS)
          : watch.policy.intervalMs;
      const wait = Math.max(0, at + interval - this.#clock.now().getTime());
      watch.timer = this.#clock.setTimeout(() => this.#probe(watch), wait);
    }
    this.#onProbe?.(watch.id, result, watch.probe);
    if (step.change !== undefined) this.#onChange(watch.id, step.change, result.detail, watch.probe);
  }
}

function keyOf(id: string, probe: ProbeKind): string {
  return probe === 'readiness' ? id : `${id}\u0000liveness`;
}
