// Facts from the world, into the registry: exits (the runtime), health changes (the health
// checker), the processes found running after a restart (adoption), and what a crash loop
// needs remembered — how many new instances died before becoming ready in a row, how the
// last one ended, and whether the new spec can start at all. Deciding what to do about any
// of it is the reconcile pass's job; this module only records and says which service to
// look at.
import { serviceOf } from '../../domain/manifest/service-lookup.ts';
import type { Logger } from 'pino';
import type { HealthChange } from '../../domain/health/health-tracker.ts';
import { describeExit, lastOutputLines, type ExitFact } from '../../domain/lifecycle/instance-exit.ts';
import { specHash } from '../../domain/reconcile/desired-service.ts';
import type { Revision } from '../../domain/revisions/revision.ts';
import type { ServiceSpec } from '../../domain/manifest/model.ts';
import type { Clock } from '../../ports/clock.ts';
import type { LogLine, RunningInstance, Runtime, RuntimeEvent } from '../../ports/runtime.ts';
import type { HealthChecker, ProbeKind } from '../health/health-checker.ts';
import type { InstanceRecord, Registry } from '../registry/registry.ts';

/** What the rollout verdict needs of a service's recent failures, for one spec. */
export interface CrashFacts {
  readonly specHash: string;
  /** Instances of this spec that died (or never became ready) before serving, in a row. */
  readonly earlyDeaths: number;
  readonly lastDeath?: ExitFact | undefined;
  /** This spec cannot start at all: why. Terminal until the spec changes. */
  readonly cannotStart?: string | undefined;
}

export interface ObservedFactsOptions {
  readonly registry: Registry;
  readonly runtime: Runtime;
  readonly health: HealthChecker;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Look at this service again. */
  readonly queue: (service: string) => void;
  /** The service began to serve: whoever waits for it may go on. */
  readonly serving: (service: string) => void;
  /** Instances being taken down on purpose: their exit is expected, not a fact to act on. */
  readonly stopping: (id: string) => boolean;
  /** Stops a process that is failed but may still run (it never became ready). */
  readonly stopProcess: (id: string) => void;
  /** The restart generation a service had when an instance started (operator intents). */
  readonly generationAt: (service: string, startedAtMs: number) => number;
  /** Health-checks an adopted instance like a launched one. */
  readonly watch: (instance: RunningInstance, spec: ServiceSpec, revision: Revision) => void;
}

export class ObservedFacts {
  readonly #o: ObservedFactsOptions;
  readonly #crashes = new Map<string, CrashFacts>();

  constructor(options: ObservedFactsOptions) {
    this.#o = options;
  }

  /** The crash facts of a service's spec; none when they are about another spec. */
  crashes(service: string, hash: string): CrashFacts | undefined {
    const facts = this.#crashes.get(service);
    return facts?.specHash === hash ? facts : undefined;
  }

  onRuntime(event: RuntimeEvent): void {
    if (event.type !== 'exited') return;
    const { registry } = this.#o;
    const record = registry.get(event.id);
    if (!record || this.#o.stopping(event.id)) return;
    this.#o.health.unwatch(event.id);
    const early = record.phase === 'starting' || record.phase === 'provisioning';
    const ended = describeExit(event.code, event.signal);
    const reason = event.outOfMemory ? `out of memory (over its memory limit): ${ended}` : ended;
    // Out of discovery at once; the output is read after, and the pass that decides on the
    // death looks again once it is there.
    registry.transition(event.id, 'failed', 'exited', reason);
    this.#o.queue(record.service);
    void this.#recordExit(record, { code: event.code, signal: event.signal, at: event.at, reason }, early);
  }

  onHealth(id: string, change: HealthChange, detail: string, probe: ProbeKind = 'readiness'): void {
    const { registry } = this.#o;
    const record = registry.get(id);
    if (!record) return;
    if (probe === 'liveness') return this.#liveness(record, change, detail);
    switch (change) {
      case 'ready':
        registry.transition(id, 'ready', 'readiness-passed', detail);
        registry.transition(id, 'running', 'registered', detail);
        this.#servedOnce(record);
        break;
      case 'unhealthy':
        registry.transition(id, 'unhealthy', 'probe-failed', detail);
        break;
      case 'recovered':
        registry.transition(id, 'running', 'probe-recovered', detail);
        break;
      case 'startup-failed': {
        this.#o.health.unwatch(id);
        const reason = `never became ready: ${detail}`;
        registry.transition(id, 'failed', 'start-failed', reason);
        this.#o.stopProcess(id);
        void this.#recordExit(record, { code: null, signal: null, at: this.#now(), reason }, true);
        break;
      }
    }
    this.#o.queue(record.service);
  }

  /**
   * Liveness failing (past its startup grace and threshold) means the process is stuck:
   * it is failed and stopped, then restarted in place (pets) or replaced (cattle), after the
   * same backoff as a death. Passing changes nothing: readiness decides about traffic.
   */
  #liveness(record: InstanceRecord, change: HealthChange, detail: string): void {
    if (change !== 'unhealthy' && change !== 'startup-failed') return;
    const { registry } = this.#o;
    const early = record.phase === 'starting' || record.phase === 'provisioning';
    this.#o.health.unwatch(record.id);
    const reason = `liveness failed: ${detail}`;
    if (!registry.transition(record.id, 'failed', early ? 'start-failed' : 'probe-failed', reason)) return;
    this.#o.stopProcess(record.id);
    void this.#recordExit(record, { code: null, signal: null, at: this.#now(), reason }, early);
    this.#o.queue(record.service);
  }

  /**
   * A probe's answer, whether or not it changed the instance's health: what `status` shows.
   * A new answer is a new reason to give for waiting, so the service is looked at again.
   */
  onProbe(id: string, detail: string): void {
    const { registry } = this.#o;
    if (!registry.setHealth(id, detail)) return;
    const record = registry.get(id);
    if (record !== undefined && record.phase !== 'running') this.#o.queue(record.service);
  }

  /** The runtime refused to start an instance. `terminal`: retrying the same spec cannot help. */
  startFailed(record: InstanceRecord, message: string, terminal: boolean): void {
    const { registry } = this.#o;
    registry.transition(record.id, 'failed', 'start-failed', message);
    const exit: ExitFact = { code: null, signal: null, at: this.#now(), reason: message, output: [] };
    registry.setLastExit(record.id, exit);
    const facts = this.#factsFor(record);
    this.#crashes.set(record.service, {
      ...facts,
      earlyDeaths: facts.earlyDeaths + 1,
      lastDeath: exit,
      ...(terminal ? { cannotStart: message } : {}),
    });
    this.#o.queue(record.service);
  }

  /**
   * Takes over a process found running after a control-plane restart: it goes through
   * readiness again rather than being trusted blindly.
   */
  adopt(instance: RunningInstance, revision: Revision | undefined): void {
    const { registry } = this.#o;
    const spec = serviceOf(revision?.manifest, instance.service);
    const generation = this.#o.generationAt(instance.service, Date.parse(instance.startedAt));
    registry.add({
      id: instance.id,
      service: instance.service,
      version: instance.version,
      revision: instance.revision,
      specHash: spec ? specHash(spec, generation) : 'unknown',
    });
    registry.transition(instance.id, 'starting', 'adopted');
    registry.located(instance.id, instance);
    if (spec && revision) this.#o.watch(instance, spec, revision);
  }

  async #recordExit(record: InstanceRecord, exit: Omit<ExitFact, 'output'>, early: boolean): Promise<void> {
    const fact: ExitFact = { ...exit, output: await this.#lastOutput(record) };
    this.#o.registry.setLastExit(record.id, fact);
    if (early) {
      const facts = this.#factsFor(record);
      this.#crashes.set(record.service, { ...facts, earlyDeaths: facts.earlyDeaths + 1, lastDeath: fact });
    }
    this.#o.queue(record.service);
  }

  /** The first instance of a spec to serve ends its run of early deaths. */
  #servedOnce(record: InstanceRecord): void {
    const facts = this.#crashes.get(record.service);
    if (facts?.specHash === record.specHash && facts.earlyDeaths > 0)
      this.#crashes.set(record.service, { ...facts, earlyDeaths: 0 });
    this.#o.serving(record.service);
  }

  #factsFor(record: InstanceRecord): CrashFacts {
    const facts = this.#crashes.get(record.service);
    return facts?.specHash === record.specHash ? facts : { specHash: record.specHash, earlyDeaths: 0 };
  }

  /** Its last stderr lines (its stdout's when stderr is empty): what it said before dying. */
  async #lastOutput(record: InstanceRecord): Promise<string[]> {
    const lines: LogLine[] = [];
    try {
      const tail = 20;
      for await (const line of this.#o.runtime.logs({ service: record.service, instance: record.id, tail }))
        lines.push(line);
    } catch (error) {
      this.#o.logger.debug(
        { err: error, instance: record.id },
        'could not read the output of a dead instance',
      );
    }
    const stderr = lines.filter((l) => l.stream === 'stderr').map((l) => l.line);
    return lastOutputLines(stderr.length > 0 ? stderr : lines.map((l) => l.line));
  }

  #now(): string {
    return this.#o.clock.now().toISOString();
  }
}
