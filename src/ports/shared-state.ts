// State of the leader's making that every replica serves as its own: the registry's instances
// (phases, addresses, health) and the services' states. The leader publishes what changed,
// fenced by its epoch; the other replicas follow the changes by sequence, from where they
// were, so that discovery, status and gateway snapshots answer the same from any of them.
// Only a store shared by several control planes has one (PostgreSQL).

export interface SharedEntry {
  readonly key: string;
  /** JSON; undefined removes the entry. */
  readonly value: unknown;
}

export interface SharedChanges {
  /** The sequence of the newest change read: where the next read goes on from. */
  readonly seq: number;
  readonly entries: readonly SharedEntry[];
  /**
   * The entries are the whole picture, not changes: what is not among them is gone. A read
   * from 0 is one; so is a read from so far behind that the removals since have been pruned.
   */
  readonly complete?: boolean | undefined;
}

export interface SharedState {
  /**
   * Records the entries; with `replaceAll`, every entry not among them is removed (a new
   * leader's first picture). Refused with `leadership-lost` unless `fence` holds the lease.
   */
  publish(entries: readonly SharedEntry[], options: { fence: number; replaceAll?: boolean }): Promise<void>;
  /** The changes after `after`, oldest first; from 0 (or from before pruned removals), every live entry. */
  read(after: number): Promise<SharedChanges>;
  /** Called after every publish by any replica (and after a lost connection returns). */
  onPublish(listener: (seq: number) => void): () => void;
  close(): Promise<void>;
}
