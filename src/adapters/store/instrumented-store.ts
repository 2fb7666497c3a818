// A Store that times every call of the store it wraps, for /metrics: how long the database
// takes, per operation, and how often it fails. A decorator, so that SQLite and PostgreSQL
// are measured the same way and neither adapter knows about metrics.
import { Counter, Histogram, type Registry } from 'prom-client';
import type { NewRevision, Revision, RevisionSummary } from '../../domain/revisions/revision.ts';
import type {
  ConfigRelease,
  ConfigReleaseStatus,
  NewConfigRelease,
  EventQuery,
  NewEvent,
  RevisionQuery,
  Store,
  StoredEvent,
  StoredSecret,
  TokenRecord,
  WriteOptions,
} from '../../ports/store.ts';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class InstrumentedStore implements Store {
  readonly #inner: Store;
  readonly #duration: Histogram<'operation'>;
  readonly #errors: Counter<'operation'>;

  constructor(inner: Store, registry: Registry) {
    this.#inner = inner;
    this.#duration = new Histogram({
      name: 'baton_store_operation_duration_seconds',
      help: 'How long store operations took (SQLite or PostgreSQL), failed ones included.',
      labelNames: ['operation'] as const,
      buckets: BUCKETS,
      registers: [registry],
    });
    this.#errors = new Counter({
      name: 'baton_store_errors_total',
      help: 'Store operations that failed.',
      labelNames: ['operation'] as const,
      registers: [registry],
    });
  }

  appendRevision(revision: NewRevision, options: Parameters<Store['appendRevision']>[1]): Promise<Revision> {
    return this.#timed('append_revision', () => this.#inner.appendRevision(revision, options));
  }

  getRevision(number: number): Promise<Revision | undefined> {
    return this.#timed('get_revision', () => this.#inner.getRevision(number));
  }

  latestRevision(): Promise<Revision | undefined> {
    return this.#timed('latest_revision', () => this.#inner.latestRevision());
  }

  listRevisions(query?: RevisionQuery): Promise<RevisionSummary[]> {
    return this.#timed('list_revisions', () => this.#inner.listRevisions(query));
  }

  revisionHistory(limit: number): Promise<Revision[]> {
    return this.#timed('revision_history', () => this.#inner.revisionHistory(limit));
  }

  appendEvents(events: readonly NewEvent[], options?: WriteOptions): Promise<StoredEvent[]> {
    return this.#timed('append_events', () => this.#inner.appendEvents(events, options));
  }

  readEvents(query?: EventQuery): Promise<StoredEvent[]> {
    return this.#timed('read_events', () => this.#inner.readEvents(query));
  }

  lastEventSeq(): Promise<number> {
    return this.#timed('last_event_seq', () => this.#inner.lastEventSeq());
  }

  onEvents(listener: (lastSeq: number) => void): () => void {
    return this.#inner.onEvents(listener);
  }

  createToken(token: TokenRecord): Promise<void> {
    return this.#timed('create_token', () => this.#inner.createToken(token));
  }

  tokenByDigest(digest: string): Promise<TokenRecord | undefined> {
    return this.#timed('token_by_digest', () => this.#inner.tokenByDigest(digest));
  }

  listTokens(): Promise<TokenRecord[]> {
    return this.#timed('list_tokens', () => this.#inner.listTokens());
  }

  revokeToken(name: string, at: string): Promise<boolean> {
    return this.#timed('revoke_token', () => this.#inner.revokeToken(name, at));
  }

  claimServerKey(name: string, value: string): Promise<string> {
    return this.#timed('claim_server_key', () => this.#inner.claimServerKey(name, value));
  }

  replaceServerKey(name: string, value: string): Promise<void> {
    return this.#timed('replace_server_key', () => this.#inner.replaceServerKey(name, value));
  }

  putSecret(secret: StoredSecret, events: readonly NewEvent[]): Promise<void> {
    return this.#timed('put_secret', () => this.#inner.putSecret(secret, events));
  }

  getSecret(name: string): Promise<StoredSecret | undefined> {
    return this.#timed('get_secret', () => this.#inner.getSecret(name));
  }

  listSecrets(): Promise<StoredSecret[]> {
    return this.#timed('list_secrets', () => this.#inner.listSecrets());
  }

  deleteSecret(name: string, events: readonly NewEvent[]): Promise<boolean> {
    return this.#timed('delete_secret', () => this.#inner.deleteSecret(name, events));
  }

  appendConfigRelease(
    release: NewConfigRelease,
    options: { readonly expectedParent: number | null; readonly events: readonly NewEvent[] },
  ): Promise<ConfigRelease> {
    return this.#timed('append_config_release', () => this.#inner.appendConfigRelease(release, options));
  }

  getConfigRelease(number: number): Promise<ConfigRelease | undefined> {
    return this.#timed('get_config_release', () => this.#inner.getConfigRelease(number));
  }

  listConfigReleases(query?: RevisionQuery): Promise<ConfigRelease[]> {
    return this.#timed('list_config_releases', () => this.#inner.listConfigReleases(query));
  }

  setConfigReleaseStatus(
    number: number,
    status: ConfigReleaseStatus,
    events: readonly NewEvent[],
  ): Promise<void> {
    return this.#timed('set_config_release_status', () =>
      this.#inner.setConfigReleaseStatus(number, status, events),
    );
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  async #timed<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const end = this.#duration.startTimer({ operation });
    try {
      return await call();
    } catch (error) {
      this.#errors.inc({ operation });
      throw error;
    } finally {
      end();
    }
  }
}
