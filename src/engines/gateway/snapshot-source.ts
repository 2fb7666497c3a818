// Where a gateway's snapshots come from: the port the gateway depends on. The control plane
// is one source (control-plane-source.ts); tests and benchmarks use the two below.
import type { GatewaySnapshot } from '../../domain/gateway/snapshot.ts';

export interface SnapshotSource {
  /**
   * Delivers every snapshot from now on, starting with the current one if there is one
   * (possibly before `subscribe` returns). Returns the way to stop.
   */
  subscribe(onSnapshot: (snapshot: GatewaySnapshot) => void): () => void;
}

/** One fixed snapshot. */
export function staticSource(snapshot: GatewaySnapshot): SnapshotSource {
  return {
    subscribe(onSnapshot) {
      onSnapshot(snapshot);
      return () => {};
    },
  };
}

export interface UpdatableSource extends SnapshotSource {
  /** Sends a snapshot to every subscriber, synchronously. */
  publish(snapshot: GatewaySnapshot): void;
}

/** A source whose snapshot the owner replaces at will (tests, embedding). */
export function updatableSource(initial?: GatewaySnapshot): UpdatableSource {
  let current = initial;
  const subscribers = new Set<(snapshot: GatewaySnapshot) => void>();
  return {
    subscribe(onSnapshot) {
      subscribers.add(onSnapshot);
      if (current !== undefined) onSnapshot(current);
      return () => subscribers.delete(onSnapshot);
    },
    publish(snapshot) {
      current = snapshot;
      for (const subscriber of subscribers) subscriber(snapshot);
    },
  };
}
