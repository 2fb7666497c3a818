// The registry: every instance of every service, its phase and address, and the feed of
// changes that discovery watchers (gateway, SDK, dashboard) follow.
//
// It lives in memory: after a control-plane restart it is rebuilt from the runtime (which
// knows what runs) and health checks (which know what serves), so it cannot disagree with
// the world for longer than a probe. Every transition is checked against the lifecycle
// table and reported to `onTransition`, which the controller records in the event log.
import semver from 'semver';
import {
  INITIAL_INSTANCE_PHASE,
  transitionInstance,
  type InstanceCause,
  type InstancePhase,
} from '../../domain/lifecycle/index.ts';
import type { ExitFact } from '../../domain/lifecycle/instance-exit.ts';
import type { Clock } from '../../ports/clock.ts';
import type { RunningInstance } from '../../ports/runtime.ts';

export interface InstanceRecord {
  readonly id: string;
  readonly service: string;
  readonly version: string;
  readonly revision: number;
  /** Identity of the spec it runs (see the controller): a change means it is outdated. */
  readonly specHash: string;
  readonly phase: InstancePhase;
  readonly address: string | undefined;
  readonly port: number | undefined;
  readonly node: string | undefined;
  readonly pid: number | undefined;
  readonly startedAt: string | undefined;
  /** ISO 8601: when it entered its current phase. */
  readonly since: string;
  /**
   * Restarts in a row: of this instance in place (pets), or of the instances it replaced
   * (cattle); reset once it has served for a stable period.
   */
  readonly restarts: number;
  /** Last health detail, e.g. `HTTP 503` or `ok`. */
  readonly health: string;
  /** How it (or, for cattle, the instance it replaced) last ended: CrashLoopBackOff's story. */
  readonly lastExit?: ExitFact | undefined;
}

export interface Endpoint {
  readonly instance: string;
  readonly address: string;
  readonly port: number;
  readonly version: string;
}

export interface RegistryChange {
  /** Strictly increasing; the resume point of discovery watches. */
  readonly version: number;
  readonly service: string;
  /** Empty when the service's answers changed as a whole (held endpoints released). */
  readonly instance: string;
}

export interface TransitionReport {
  readonly record: InstanceRecord;
  readonly from: InstancePhase;
  readonly cause: InstanceCause;
  readonly detail?: string | undefined;
}

export interface RegistryOptions {
  readonly clock: Clock;
  /** Every accepted transition (to record as an event) and every refused one (a bug to log). */
  readonly onTransition?: (report: TransitionReport) => void;
  readonly onIllegal?: (
    record: InstanceRecord,
    to: InstancePhase,
    cause: InstanceCause,
    reason: string,
  ) => void;
}

export class Registry {
  readonly #records = new Map<string, InstanceRecord>();
  /** The same records by service, so that a service's instances are read without a lookup each. */
  readonly #byService = new Map<string, Map<string, InstanceRecord>>();
  readonly #listeners = new Set<(change: RegistryChange) => void>();
  /**
   * Fixed addresses in a hand-over, by service: the instance that held one is on its way
   * out, and its successor will answer on the same address once it holds the port. The
   * address stays in discovery meanwhile, so that clients retrying it (the gateway retries
   * a refused connection) are carried across instead of turned away.
   */
  readonly #handOvers = new Map<string, Endpoint>();
  readonly #options: RegistryOptions;
  #version = 0;
  /** Discovery's records while its answers are held (`holdEndpoints`), by service. */
  #held: ReadonlyMap<string, readonly InstanceRecord[]> | undefined;

  constructor(options: RegistryOptions) {
    this.#options = options;
  }

  get version(): number {
    return this.#version;
  }

  /** A new instance record, in the initial phase. */
  add(init: {
    id: string;
    service: string;
    version: string;
    revision: number;
    specHash: string;
    restarts?: number;
    lastExit?: ExitFact | undefined;
  }): InstanceRecord {
    const record: InstanceRecord = {
      ...init,
      phase: INITIAL_INSTANCE_PHASE,
      address: undefined,
      port: undefined,
      node: undefined,
      pid: undefined,
      startedAt: undefined,
      since: this.#options.clock.now().toISOString(),
      restarts: init.restarts ?? 0,
      health: 'unknown',
    };
    this.#records.set(record.id, record);
    let ofService = this.#byService.get(record.service);
    if (!ofService) this.#byService.set(record.service, (ofService = new Map()));
    ofService.set(record.id, record);
    this.#changed(record.service, record.id);
    return record;
  }

  /** Where a started process can be reached. */
  located(id: string, instance: RunningInstance): void {
    const record = this.#records.get(id);
    if (!record) return;
    this.#replace({
      ...record,
      address: instance.address,
      port: instance.port,
      node: instance.node,
      pid: instance.pid,
      startedAt: instance.startedAt,
    });
  }

  /**
   * Moves an instance to `to` if the lifecycle table allows it for `cause`. Returns false
   * (and reports the refusal) otherwise: an illegal transition is a bug, never a crash.
   */
  transition(id: string, to: InstancePhase, cause: InstanceCause, detail?: string): boolean {
    const record = this.#records.get(id);
    if (!record) return false;
    if (record.phase === to) return true;
    const verdict = transitionInstance(record.phase, to, cause);
    if (!verdict.ok) {
      this.#options.onIllegal?.(record, to, cause, verdict.reason);
      return false;
    }
    const next: InstanceRecord = {
      ...record,
      phase: to,
      since: this.#options.clock.now().toISOString(),
      restarts: cause === 'restart' ? record.restarts + 1 : record.restarts,
      health: detail ?? record.health,
    };
    this.#replace(next);
    // The successor serves on the handed-over address: the hand-over is done.
    const held = this.#handOvers.get(next.service);
    if (to === 'running' && held !== undefined && held.address === next.address && held.port === next.port)
      this.#handOvers.delete(next.service);
    this.#options.onTransition?.({ record: next, from: record.phase, cause, detail });
    return true;
  }

  /** Keeps an instance's fixed address in discovery while its successor takes the port over. */
  holdAddress(id: string): void {
    const record = this.#records.get(id);
    if (record?.address === undefined || record.port === undefined) return;
    const { address, port, version } = record;
    this.#handOvers.set(record.service, { instance: record.id, address, port, version });
    this.#changed(record.service, record.id);
  }

  /** Gives up a hand-over (its successor never came). */
  releaseAddress(service: string, instance: string): void {
    const held = this.#handOvers.get(service);
    if (held?.instance !== instance) return;
    this.#handOvers.delete(service);
    this.#changed(service, instance);
  }

  /** A pet that has served long enough gets its restart budget back. */
  resetRestarts(id: string): void {
    const record = this.#records.get(id);
    if (record && record.restarts > 0) this.#replace({ ...record, restarts: 0 });
  }

  /** How the instance ended: its exit reason and last output (read after the exit itself). */
  setLastExit(id: string, exit: ExitFact): void {
    const record = this.#records.get(id);
    if (record) this.#replace({ ...record, lastExit: exit });
  }

  /** Records a probe's answer; returns whether it differs from the last one. */
  setHealth(id: string, detail: string): boolean {
    const record = this.#records.get(id);
    if (!record || record.health === detail) return false;
    this.#replace({ ...record, health: detail });
    return true;
  }

  /**
   * Takes a record as another replica's leader published it: no lifecycle check and no
   * transition event (the leader recorded those), only the change for watchers.
   */
  mirror(record: InstanceRecord): void {
    const known = this.#records.get(record.id);
    if (known !== undefined && known.service !== record.service) this.remove(record.id);
    if (!this.#byService.has(record.service)) this.#byService.set(record.service, new Map());
    this.#replace(record);
  }

  remove(id: string): void {
    const record = this.#records.get(id);
    if (!record) return;
    this.#records.delete(id);
    this.#byService.get(record.service)?.delete(id);
    this.#changed(record.service, record.id);
  }

  get(id: string): InstanceRecord | undefined {
    return this.#records.get(id);
  }

  instances(service?: string): InstanceRecord[] {
    if (service === undefined) return [...this.#records.values()];
    const ofService = this.#byService.get(service);
    return ofService === undefined ? [] : [...ofService.values()];
  }

  services(): string[] {
    return [...this.#byService].filter(([, ids]) => ids.size > 0).map(([name]) => name);
  }

  /**
   * Discovery answers as they are now, until the returned function is called or `maxMs`
   * passed. A replica taking the lead empties the registry it mirrored and rebuilds it from
   * what runs, checking each adopted instance again; meanwhile its clients (SDK watches, the
   * gateway) must keep the last leader's endpoints, whose instances still serve, rather than
   * an empty list. Changes are still announced; endpoints read the held records.
   */
  holdEndpoints(maxMs: number): () => void {
    const held = new Map<string, readonly InstanceRecord[]>();
    for (const [service, records] of this.#byService) held.set(service, [...records.values()]);
    this.#held = held;
    const release = (): void => {
      timer.cancel();
      if (this.#held !== held) return;
      this.#held = undefined;
      // Every watcher reads again: the live answers may differ from the held ones.
      for (const service of new Set([...held.keys(), ...this.#byService.keys()])) this.#changed(service, '');
    };
    const timer = this.#options.clock.setTimeout(release, maxMs);
    return release;
  }

  /** What discovery returns: only instances that are registered and healthy (and a fixed address in a hand-over). */
  endpoints(service: string, range?: string): Endpoint[] {
    const records = this.#held === undefined ? this.instances(service) : (this.#held.get(service) ?? []);
    const endpoints = records
      .filter((r) => r.phase === 'running' && r.address !== undefined && r.port !== undefined)
      .filter((r) => range === undefined || semver.satisfies(r.version, range))
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((r) => ({ instance: r.id, address: r.address!, port: r.port!, version: r.version }));
    const held = this.#handOvers.get(service);
    if (
      held !== undefined &&
      endpoints.length === 0 &&
      (range === undefined || semver.satisfies(held.version, range))
    )
      endpoints.push(held);
    return endpoints;
  }

  subscribe(listener: (change: RegistryChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #replace(record: InstanceRecord): void {
    this.#records.set(record.id, record);
    this.#byService.get(record.service)?.set(record.id, record);
    this.#changed(record.service, record.id);
  }

  #changed(service: string, instance: string): void {
    ++this.#version;
    if (this.#listeners.size === 0) return;
    const change = { version: this.#version, service, instance };
    for (const listener of this.#listeners) listener(change);
  }
}
