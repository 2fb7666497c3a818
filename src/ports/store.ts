// The Store port: everything Baton persists. Async everywhere so that PostgreSQL (and a
// network between control plane and database) fits the same interface as SQLite.
import type { ConfigSet } from '../domain/config/config-set.ts';
import type { GraySelector } from '../domain/config/gray.ts';
import type { NewRevision, Revision, RevisionSummary } from '../domain/revisions/revision.ts';

export interface NewEvent {
  /** Dotted kind, e.g. `revision.applied`, `instance.started`. */
  readonly kind: string;
  readonly service?: string | undefined;
  readonly revision?: number | undefined;
  /** Who or what caused it: a user, `controller`, `health`. */
  readonly actor: string;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>> | undefined;
  /** ISO 8601. */
  readonly time: string;
}

export interface StoredEvent extends NewEvent {
  /** Strictly increasing across the whole log; the resume point of every watch. */
  readonly seq: number;
}

export interface EventQuery {
  /** Only events with a sequence number greater than this. */
  readonly after?: number | undefined;
  /** Only events with a sequence number less than this: paging back through `newest`. */
  readonly before?: number | undefined;
  readonly limit?: number | undefined;
  readonly service?: string | undefined;
  readonly kinds?: readonly string[] | undefined;
  /**
   * The newest `limit` matching events instead of the oldest (still returned oldest first):
   * a service's recent history, however much the rest of the log has grown since.
   */
  readonly newest?: boolean | undefined;
}

export interface RevisionQuery {
  /** Only revisions numbered below this (paging backwards). */
  readonly before?: number | undefined;
  readonly limit?: number | undefined;
}

/**
 * A secret as the store keeps it: `sealed` is the cipher's output (the store never sees a
 * plaintext), `fingerprint` a keyed digest that tells two values apart without revealing either.
 */
export interface StoredSecret {
  readonly name: string;
  readonly sealed: string;
  readonly fingerprint: string;
  /** ISO 8601. */
  readonly updatedAt: string;
  readonly updatedBy: string;
}

/** `gray` goes to the instances its selector picks; promoted, it becomes `stable`; rolled back, `abandoned`. */
export type ConfigReleaseStatus = 'stable' | 'gray' | 'abandoned';

export interface NewConfigRelease {
  readonly content: ConfigSet;
  readonly status: ConfigReleaseStatus;
  readonly gray?: GraySelector | undefined;
  readonly author: string;
  readonly message: string;
  /** How it was made: `apply` (a whole set), `set` (keys changed), `rollback` (from an earlier one). */
  readonly source: { readonly kind: 'apply' | 'set' | 'rollback'; readonly from?: number | undefined };
  /** ISO 8601. */
  readonly createdAt: string;
}

export interface ConfigRelease extends NewConfigRelease {
  readonly number: number;
  readonly parent: number | null;
}

/** Thrown when a conditional write loses a race; the caller re-reads and retries or reports 409. */
export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
}

/**
 * A named API token. Only its SHA-256 digest is kept: the store (and a copy of it) never
 * holds anything a client could present.
 */
export interface TokenRecord {
  readonly name: string;
  /** `viewer`, `operator` or `admin`. */
  readonly role: string;
  /** Hex SHA-256 of the token. */
  readonly digest: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly createdBy: string;
  /** ISO 8601; a revoked token authenticates no one. */
  readonly revokedAt?: string | undefined;
}

/**
 * A leader's write carries its epoch: the store refuses it with `leadership-lost` unless that
 * epoch holds the lease when the write commits (checked in the write's own transaction). A
 * store with a single writer (SQLite, under its lock) has nothing to check.
 */
export interface WriteOptions {
  readonly fence?: number | undefined;
}

export interface Store {
  /**
   * Appends a revision numbered `latest + 1` whose parent is the latest, together with its
   * events, in one transaction: after a crash the revision is either whole or absent.
   * With `expectedParent` the append fails with StoreConflictError unless the latest
   * revision is still that one (optimistic concurrency between concurrent applies).
   */
  appendRevision(
    revision: NewRevision,
    options: {
      readonly expectedParent: number | null;
      readonly events: readonly NewEvent[];
    } & WriteOptions,
  ): Promise<Revision>;
  getRevision(number: number): Promise<Revision | undefined>;
  latestRevision(): Promise<Revision | undefined>;
  /** Newest first. */
  listRevisions(query?: RevisionQuery): Promise<RevisionSummary[]>;
  /** Newest first, with manifests: the history a rollback planner searches. */
  revisionHistory(limit: number): Promise<Revision[]>;

  appendEvents(events: readonly NewEvent[], options?: WriteOptions): Promise<StoredEvent[]>;
  /** Oldest first. */
  readEvents(query?: EventQuery): Promise<StoredEvent[]>;
  lastEventSeq(): Promise<number>;
  /** Called after every commit that added events, with the highest new sequence number. */
  onEvents(listener: (lastSeq: number) => void): () => void;

  /** Adds a token; StoreConflictError when its name is taken (revoked names stay taken). */
  createToken(token: TokenRecord): Promise<void>;
  /** The unrevoked token with this digest. */
  tokenByDigest(digest: string): Promise<TokenRecord | undefined>;
  /** Every token, revoked ones included, oldest first. */
  listTokens(): Promise<TokenRecord[]>;
  /** Revokes the named token; false when there is no such unrevoked token. */
  revokeToken(name: string, at: string): Promise<boolean>;

  /**
   * A value the whole control plane shares (the key service tokens derive from, the bootstrap
   * admin token's digest), under `name`: stored unless one is already there, and the stored
   * one returned either way, so that replicas starting at once all end up with the first.
   */
  claimServerKey(name: string, value: string): Promise<string>;
  /** Replaces a shared value (a single control plane rotating its own). */
  replaceServerKey(name: string, value: string): Promise<void>;

  /** Creates or replaces a secret, with its events, in one transaction. */
  putSecret(secret: StoredSecret, events: readonly NewEvent[]): Promise<void>;
  getSecret(name: string): Promise<StoredSecret | undefined>;
  /** By name. */
  listSecrets(): Promise<StoredSecret[]>;
  /** False when there was no such secret (and then no event is written). */
  deleteSecret(name: string, events: readonly NewEvent[]): Promise<boolean>;

  /** Like appendRevision: numbered latest + 1, with its events, refused unless `expectedParent` is the latest. */
  appendConfigRelease(
    release: NewConfigRelease,
    options: { readonly expectedParent: number | null; readonly events: readonly NewEvent[] },
  ): Promise<ConfigRelease>;
  getConfigRelease(number: number): Promise<ConfigRelease | undefined>;
  /** Newest first. */
  listConfigReleases(query?: RevisionQuery): Promise<ConfigRelease[]>;
  /** Promotes or abandons a gray release; the only change a release ever sees. */
  setConfigReleaseStatus(
    number: number,
    status: ConfigReleaseStatus,
    events: readonly NewEvent[],
  ): Promise<void>;

  close(): Promise<void>;
}
