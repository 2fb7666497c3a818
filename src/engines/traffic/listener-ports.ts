// The data plane's ports, recorded with the architecture: each listener (an edge
// `caller→callee range`, or a service's egress) gets a port the first time it is needed, and
// keeps it for good. Assignments are events in the log (`data-plane.ports-assigned`), like
// traffic splits: replayed on start, so a restarted control plane gives every consumer the
// address it had, and a second control plane on the same store sees the same.
//
// Ports come from a range below the kernel's ephemeral ports (Linux 32768–60999), so an
// instance's port, picked by the kernel, can never take one; a port is drawn at random within
// the range and tried (bound, then released) before it is recorded, so two Batons on one
// machine rarely meet, and never knowingly.
import type { WantedListener } from '../../domain/gateway/east-west.ts';
import type { Clock } from '../../ports/clock.ts';
import type { StoredEvent, Store } from '../../ports/store.ts';

export const PORTS_ASSIGNED = 'data-plane.ports-assigned';

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export const DEFAULT_EAST_WEST_PORTS: PortRange = { from: 20000, to: 23999 };

export interface ListenerPortsOptions {
  readonly store: Store;
  readonly clock: Clock;
  /** Where the data plane listens for instances: ports are tried there. */
  readonly host: string;
  readonly range?: PortRange | undefined;
  readonly random?: (() => number) | undefined;
  /** Whether a port can be listened on at `host` now (the composition root's adapter). */
  readonly isFree: (host: string, port: number) => Promise<boolean>;
  /** Told after new ports are recorded (by this process or, on catch-up, another). */
  readonly onAssigned?: (() => void) | undefined;
}

const TRIES = 200;

export class ListenerPorts {
  readonly #o: ListenerPortsOptions;
  readonly #range: PortRange;
  readonly #ports = new Map<string, number>();
  readonly #used = new Set<number>();
  #replayedTo = 0;
  /** Assignments one at a time: two starts needing the same edge get the same port. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: ListenerPortsOptions) {
    this.#o = options;
    this.#range = options.range ?? DEFAULT_EAST_WEST_PORTS;
  }

  port(key: string): number | undefined {
    return this.#ports.get(key);
  }

  /** Replays assignments recorded since the last look. */
  async catchUp(): Promise<void> {
    const events = await this.#o.store.readEvents({ after: this.#replayedTo, kinds: [PORTS_ASSIGNED] });
    let changed = false;
    for (const event of events) {
      if (event.seq <= this.#replayedTo) continue;
      this.#replayedTo = event.seq;
      changed = this.#apply(event) || changed;
    }
    if (changed) this.#o.onAssigned?.();
  }

  /** The port of each wanted listener, assigning and recording the ones that have none yet. */
  ensure(wanted: readonly WantedListener[]): Promise<ReadonlyMap<string, number>> {
    const run = this.#queue.then(() => this.#ensure(wanted));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #ensure(wanted: readonly WantedListener[]): Promise<ReadonlyMap<string, number>> {
    await this.catchUp();
    const fresh: Record<string, number> = {};
    for (const listener of wanted) {
      if (this.#ports.has(listener.key) || listener.key in fresh) continue;
      const port = await this.#pick();
      fresh[listener.key] = port;
      this.#used.add(port);
    }
    if (Object.keys(fresh).length > 0) {
      const described = Object.entries(fresh)
        .map(([key, port]) => `${key} :${port}`)
        .join(', ');
      try {
        await this.#o.store.appendEvents([
          {
            kind: PORTS_ASSIGNED,
            actor: 'data-plane',
            message: `data-plane listeners: ${described}`,
            data: { ports: fresh },
            time: this.#o.clock.now().toISOString(),
          },
        ]);
      } finally {
        for (const port of Object.values(fresh)) this.#used.delete(port);
      }
      await this.catchUp();
    }
    const result = new Map<string, number>();
    for (const listener of wanted) {
      const port = this.#ports.get(listener.key);
      if (port !== undefined) result.set(listener.key, port);
    }
    return result;
  }

  #apply(event: StoredEvent): boolean {
    const ports = (event.data?.['ports'] ?? {}) as Record<string, unknown>;
    let changed = false;
    for (const [key, port] of Object.entries(ports)) {
      // The first record of a key wins: a racing replica's later one is ignored everywhere.
      if (typeof port !== 'number' || this.#ports.has(key)) continue;
      this.#ports.set(key, port);
      this.#used.add(port);
      changed = true;
    }
    return changed;
  }

  async #pick(): Promise<number> {
    const random = this.#o.random ?? Math.random;
    const { from, to } = this.#range;
    const size = to - from + 1;
    for (let i = 0; i < TRIES; i++) {
      const port = from + Math.floor(random() * size);
      if (this.#used.has(port)) continue;
      if (await this.#o.isFree(this.#o.host, port)) return port;
    }
    throw new Error(
      `no free data-plane port found in ${from}-${to} on ${this.#o.host} after ${TRIES} tries; widen the range (--east-west-ports)`,
    );
  }
}
