// The Leadership port: which control plane acts. Every replica serves the API; only the
// leader runs the leader-only work (the controller, alerts; later schedules and workflows),
// as controller-runtime's manager starts its LeaderElectionRunnables only once elected.
//
// A term carries an epoch that grows with every election across the cluster: side effects
// can carry it, and a store can refuse those of a stale epoch (fencing). A term ends when
// leadership is lost (`lost` aborts: stop acting at once) or given up (`release`, on a clean
// shutdown, so that another candidate takes over without waiting out a lease).
//
// Adapters: SQLite allows one control plane per database: opening it takes a single-writer
// lock, refused at once while another live process holds it, so `campaign` resolves at once.
// A PostgreSQL lease lets replicas wait as candidates: `campaign` resolves when elected.

export interface Candidate {
  /** Who asks, as an operator would look for it: `ps`, `kill`. */
  readonly pid: number;
  readonly host: string;
}

export interface Term {
  /** Grows with every election, never reused: fences the side effects of a deposed leader. */
  readonly epoch: number;
  /** Aborted, its reason a BatonError (`leadership-lost`), when this term ends other than by `release`. */
  readonly lost: AbortSignal;
  /** Tells other candidates (and a refused second server) where this leader's API answers. */
  announce(address: string): Promise<void>;
  /** Gives leadership up at once (clean shutdown). */
  release(): Promise<void>;
  /**
   * Resolves while this term still holds, or throws `leadership-lost` (and aborts `lost`).
   * Called before every side effect outside the store (starting, stopping an instance): a
   * leader paused past its lease (GC, SIGSTOP, a slow disk) finds out here before it acts.
   */
  fence(): Promise<void>;
}

/** Who is in the control plane, as `baton status`, /metrics and the dashboard show it. */
export interface LeadershipView {
  readonly leadership: string;
  readonly leader:
    | {
        readonly pid: number | null;
        readonly host: string | null;
        readonly address: string | null;
        readonly epoch: number;
        readonly since: string | null;
        /** Since its last renewal, by the database's clock. */
        readonly leaseAgeMs: number;
        /** Until the lease runs out unless renewed. */
        readonly expiresInMs: number;
      }
    | undefined;
  readonly replicas: readonly {
    readonly id: string;
    readonly pid: number;
    readonly host: string;
    readonly address: string | null;
    readonly leader: boolean;
    /** Since it last said it was alive. */
    readonly seenAgoMs: number;
  }[];
}

export interface Leadership {
  /** `sqlite-lock`, `sole`, `postgres-lease`. */
  readonly name: string;
  /**
   * Resolves once this candidate leads. Rejects with `state-locked` (terminal) when the state
   * allows a single writer and another live control plane holds it, or with the signal's reason.
   */
  campaign(signal?: AbortSignal): Promise<Term>;
  /** Where this replica's API answers, whether it leads or not. */
  advertise(address: string): Promise<void>;
  /** The leader and the replicas now. */
  observe(): Promise<LeadershipView>;
  /** Releases any term and what the adapter holds (connections, timers). */
  close(): Promise<void>;
}
