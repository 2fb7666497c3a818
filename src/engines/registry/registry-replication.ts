// The registry across replicas. The leader's registry is the truth (its controller and health
// checks move it); it publishes every change to the shared state, batched per tick, with its
// epoch. Every other replica mirrors it: it reads the changes after the last sequence it
// applied whenever a publish is announced, and applies them to its own registry, whose
// watchers (discovery, the gateway's snapshots, the dashboard) see them as they would on the
// leader. The services' states (`baton status`) travel the same way.
import type { Logger } from 'pino';
import type { SharedEntry, SharedState } from '../../ports/shared-state.ts';
import type { ServiceState } from '../controller/revision-progress.ts';
import type { InstanceRecord, Registry } from './registry.ts';

const INSTANCE = 'instance:';
const STATES = 'services';
/** How often the leader looks whether the services' states changed without an instance changing. */
const STATES_EVERY_MS = 250;

export interface RegistryReplicationOptions {
  readonly registry: Registry;
  readonly shared: SharedState;
  readonly logger: Logger;
}

/** The leader's side: publishes while its term lasts. */
export class RegistryPublisher {
  readonly #o: RegistryReplicationOptions & { readonly states: () => readonly ServiceState[] };
  readonly #dirty = new Set<string>();
  #epoch: number | undefined;
  #unsubscribe: (() => void) | undefined;
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastStates = '';
  /** The last term stopped: a late start for it or an older one is refused. */
  #stoppedEpoch: number | undefined;

  constructor(options: RegistryReplicationOptions & { readonly states: () => readonly ServiceState[] }) {
    this.#o = options;
  }

  /** Publishes the whole registry (replacing what an earlier leader left), then every change. */
  async start(epoch: number): Promise<void> {
    // A start deferred past the end of its term (the server waits for health checks first).
    if (this.#stoppedEpoch !== undefined && this.#stoppedEpoch >= epoch) return;
    this.#epoch = epoch;
    // One publish at a time, the whole picture first: changes meanwhile wait for the next.
    const { promise: first, resolve: published } = Promise.withResolvers<void>();
    this.#flushing = first.then(() => this.#flush());
    this.#unsubscribe = this.#o.registry.subscribe((change) => {
      // A change of no instance (held endpoints released) has nothing to publish.
      if (change.instance === '') return;
      this.#dirty.add(change.instance);
      this.#flushing ??= this.#flush();
    });
    this.#lastStates = JSON.stringify(this.#o.states());
    const entries: SharedEntry[] = this.#o.registry
      .instances()
      .map((record) => ({ key: INSTANCE + record.id, value: record }));
    entries.push({ key: STATES, value: JSON.parse(this.#lastStates) });
    try {
      await this.#o.shared.publish(entries, { fence: epoch, replaceAll: true });
    } finally {
      published();
    }
    this.#timer = setInterval(() => {
      if (JSON.stringify(this.#o.states()) !== this.#lastStates) this.#flushing ??= this.#flush();
    }, STATES_EVERY_MS).unref();
  }

  /** Ends publishing for the term `epoch` (the current one by default), started or not yet. */
  async stop(epoch = this.#epoch): Promise<void> {
    this.#stoppedEpoch = Math.max(this.#stoppedEpoch ?? 0, epoch ?? 0, this.#epoch ?? 0);
    this.#epoch = undefined;
    this.#unsubscribe?.();
    clearInterval(this.#timer);
    await this.#flushing;
    this.#dirty.clear();
  }

  async #flush(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.#epoch !== undefined) {
      const entries: SharedEntry[] = [...this.#dirty].map((id) => ({
        key: INSTANCE + id,
        value: this.#o.registry.get(id),
      }));
      this.#dirty.clear();
      const states = JSON.stringify(this.#o.states());
      if (states !== this.#lastStates) entries.push({ key: STATES, value: JSON.parse(states) });
      if (entries.length === 0) break;
      try {
        await this.#o.shared.publish(entries, { fence: this.#epoch });
        this.#lastStates = states;
      } catch (error) {
        // Refused (a stale epoch) or the database away: the term's end or its return decides.
        this.#o.logger.warn({ err: error, entries: entries.length }, 'could not publish registry changes');
        for (const entry of entries)
          if (entry.key.startsWith(INSTANCE)) this.#dirty.add(entry.key.slice(INSTANCE.length));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    this.#flushing = undefined;
  }
}

/** A follower's side: applies the leader's changes to this replica's registry. */
export class RegistryMirror {
  readonly #o: RegistryReplicationOptions;
  #seq = 0;
  #states: readonly ServiceState[] = [];
  #unsubscribe: (() => void) | undefined;
  #reading: Promise<void> | undefined;
  #again = false;
  #running = false;

  constructor(options: RegistryReplicationOptions) {
    this.#o = options;
  }

  /** The services' states as the leader last published them. */
  states(): readonly ServiceState[] {
    return this.#states;
  }

  /** The sequence of the last change applied. */
  get seq(): number {
    return this.#seq;
  }

  /** Replaces this registry with the shared picture, then follows it. */
  async start(): Promise<void> {
    this.#running = true;
    this.#seq = 0;
    this.#unsubscribe = this.#o.shared.onPublish(() => this.#catchUp());
    await this.#read().catch((error: unknown) =>
      this.#o.logger.warn({ err: error }, 'could not read the shared registry yet'),
    );
  }

  /** Stops following and empties the registry: a new leader builds its own from what runs. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#unsubscribe?.();
    await this.#reading;
    for (const record of this.#o.registry.instances()) this.#o.registry.remove(record.id);
  }

  #catchUp(): void {
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = (async () => {
      do {
        this.#again = false;
        try {
          await this.#read();
        } catch (error) {
          this.#o.logger.warn(
            { err: error },
            'could not follow the shared registry; the next change retries',
          );
        }
      } while (this.#again && this.#running);
      this.#reading = undefined;
    })();
  }

  async #read(): Promise<void> {
    const changes = await this.#o.shared.read(this.#seq);
    if (!this.#running) return;
    // The whole picture (the first read, or one from behind pruned removals): what this
    // registry holds and the picture does not is gone.
    const gone = new Set(changes.complete ? this.#o.registry.instances().map((r) => r.id) : []);
    for (const { key, value } of changes.entries) {
      if (key === STATES) this.#states = (value as ServiceState[] | undefined) ?? [];
      if (!key.startsWith(INSTANCE)) continue;
      const id = key.slice(INSTANCE.length);
      if (value === undefined) this.#o.registry.remove(id);
      else {
        gone.delete(id);
        this.#o.registry.mirror(value as InstanceRecord);
      }
    }
    for (const id of gone) this.#o.registry.remove(id);
    this.#seq = changes.seq;
  }
}
