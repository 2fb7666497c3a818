// Baton's own probe of the cluster's nodes, faster than Swarm's: the manager marks a node Down
// only after missing its heartbeats (≈ 13 s measured here), while its instances stop answering
// at once. Every `intervalMs` each node's Swarm gossip port (7946, open on every node while its
// engine runs) is connected to; `failures` misses in a row make the node lost, one answer
// makes it alive again. A lost node's instances are reported gone by the runtime, and new
// instances are kept off it until it answers.
import { Socket } from 'node:net';

export const GOSSIP_PORT = 7946;

export interface WatchedNode {
  readonly id: string;
  readonly address: string;
}

export interface NodeWatchOptions {
  /** The nodes to watch now (re-read every round: nodes join and leave). */
  readonly nodes: () => readonly WatchedNode[];
  readonly onLost: (node: WatchedNode) => void;
  readonly onBack: (node: WatchedNode) => void;
  readonly intervalMs?: number | undefined;
  readonly failures?: number | undefined;
  readonly port?: number | undefined;
}

export class NodeWatch {
  readonly #o: NodeWatchOptions;
  readonly #misses = new Map<string, number>();
  readonly #lost = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> = Promise.resolve();

  constructor(options: NodeWatchOptions) {
    this.#o = options;
  }

  start(): void {
    const interval = this.#o.intervalMs ?? 500;
    this.#timer = setInterval(() => {
      this.#round = this.#round.then(() => this.#probeAll(interval));
    }, interval);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Node ids currently lost. */
  lost(): string[] {
    return [...this.#lost];
  }

  async #probeAll(timeoutMs: number): Promise<void> {
    const nodes = this.#o.nodes();
    await Promise.all(
      nodes.map(async (node) => {
        const alive = await connects(
          node.address,
          this.#o.port ?? GOSSIP_PORT,
          Math.max(100, timeoutMs - 50),
        );
        if (alive) {
          this.#misses.delete(node.id);
          if (this.#lost.delete(node.id)) this.#o.onBack(node);
          return;
        }
        const misses = (this.#misses.get(node.id) ?? 0) + 1;
        this.#misses.set(node.id, misses);
        if (misses >= (this.#o.failures ?? 2) && !this.#lost.has(node.id)) {
          this.#lost.add(node.id);
          this.#o.onLost(node);
        }
      }),
    );
  }
}

function connects(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (alive: boolean) => {
      socket.destroy();
      resolve(alive);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}
