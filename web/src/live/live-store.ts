// The console's picture of the control plane, kept current by the event log: one SSE
// stream (GET /v1/events) says *that* something changed, and the store re-reads *what*
// (status, services, graph, revisions) — coalesced, so a rollout's burst of events costs
// a few reads, not one per event. Nothing anywhere needs a manual refresh.
import { ApiError, describeError, type ApiClient } from '../api/client.ts';
import { followEventStream, type StreamState } from '../api/streams.ts';
import type {
  EventsResponse,
  GraphResponse,
  HistoryEntry,
  RevisionsResponse,
  ServicesResponse,
  StatusResponse,
  StoredEvent,
} from '../api/types.ts';

export type AuthState = 'checking' | 'ok' | 'required';

export type Role = 'viewer' | 'operator' | 'admin';

/** Who the token stands for (GET /v1/whoami): the console shows it and hides what the role cannot do. */
export interface Identity {
  readonly name: string;
  readonly kind: string;
  readonly role: Role | null;
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether the signed-in identity may do what needs `role` (unknown yet: no). */
export function may(me: Identity | undefined, role: Role): boolean {
  return me?.role != null && RANK[me.role] >= RANK[role];
}

export interface LiveState {
  readonly auth: AuthState;
  readonly me: Identity | undefined;
  readonly connection: StreamState | 'idle';
  readonly status: StatusResponse | undefined;
  readonly services: ServicesResponse | undefined;
  /** null: nothing has been applied yet. */
  readonly graph: GraphResponse | null | undefined;
  readonly revisions: readonly HistoryEntry[] | undefined;
  /** The most recent events, oldest first. */
  readonly events: readonly StoredEvent[];
  /** The last refresh that failed, if the latest one did. */
  readonly error: string | undefined;
}

type Resource = 'status' | 'services' | 'graph' | 'revisions';
const ALL: readonly Resource[] = ['status', 'services', 'graph', 'revisions'];

/** How many past events the live buffer starts with, and keeps. */
const BACKLOG = 300;
const KEEP = 1000;
/** Events arriving within this window share one refresh. */
const COALESCE_MS = 100;

export class LiveStore {
  readonly client: ApiClient;
  #state: LiveState = {
    auth: 'checking',
    me: undefined,
    connection: 'idle',
    status: undefined,
    services: undefined,
    graph: undefined,
    revisions: undefined,
    events: [],
    error: undefined,
  };
  readonly #listeners = new Set<() => void>();
  #session: AbortController | undefined;
  /** Events up to this sequence number are reflected in what was loaded. */
  #baseline = 0;
  readonly #dirty = new Set<Resource>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushing = false;

  constructor(client: ApiClient) {
    this.client = client;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  getState = (): LiveState => this.#state;

  /** The server refused the token (or wants one): stop everything until someone signs in. */
  unauthorized(): void {
    this.#session?.abort();
    this.#session = undefined;
    this.#set({ auth: 'required', connection: 'idle' });
  }

  /** Loads everything, then follows the event log until stop() or a 401. */
  start(): void {
    this.#session?.abort();
    const session = new AbortController();
    this.#session = session;
    void this.#run(session.signal);
  }

  stop(): void {
    this.#session?.abort();
    this.#session = undefined;
  }

  /** Tries a token; keeps it (and starts) only if the server accepts it. */
  async signIn(token: string): Promise<boolean> {
    this.client.setToken(token);
    try {
      await this.client.get<EventsResponse>('/v1/events?limit=1');
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        this.client.setToken(undefined);
        return false;
      }
      throw error;
    }
    this.start();
    return true;
  }

  signOut(): void {
    this.client.setToken(undefined);
    this.unauthorized();
  }

  /** Re-reads resources now (after an action of this console, say). */
  refresh(...resources: Resource[]): void {
    this.#schedule(resources.length > 0 ? resources : ALL);
  }

  async #run(signal: AbortSignal): Promise<void> {
    this.#set({ auth: 'checking', error: undefined });
    let last = 0;
    let reloadOnOpen = false;
    try {
      ({ last } = await this.client.get<EventsResponse>('/v1/events?limit=1', signal));
      this.#set({ me: await this.client.get<Identity>('/v1/whoami', signal) });
      // Read after `last`: anything newer arrives on the stream and triggers a refresh.
      this.#baseline = last;
      await Promise.all(ALL.map((r) => this.#load(r, signal)));
    } catch (error) {
      if (signal.aborted || (error instanceof ApiError && error.status === 401)) return;
      this.#set({ auth: 'ok', error: describeError(error) });
      // The server may be restarting; the stream below retries and loads once connected.
      reloadOnOpen = true;
    }
    if (signal.aborted) return;
    this.#set({ auth: 'ok' });
    await followEventStream(
      this.client,
      `/v1/events?after=${Math.max(0, last - BACKLOG)}`,
      {
        onMessage: (message) => {
          if (message.event !== 'event') return;
          this.#receive(JSON.parse(message.data) as StoredEvent);
        },
        onState: (connection) => {
          this.#set({ connection });
          if (connection !== 'open') return;
          // Whatever happened while disconnected: read it all again once back.
          if (reloadOnOpen) this.#schedule(ALL);
          reloadOnOpen = true;
        },
        onFatal: (error) => this.#set({ connection: 'idle', error: describeError(error) }),
      },
      signal,
    );
  }

  #receive(event: StoredEvent): void {
    const events = [...this.#state.events, event];
    this.#set({ events: events.length > KEEP ? events.slice(events.length - KEEP) : events });
    if (event.seq <= this.#baseline) return;
    if (event.kind === 'revision.applied' || event.kind === 'revision.rolled-back') this.#schedule(ALL);
    else this.#schedule(['status']);
  }

  #schedule(resources: readonly Resource[]): void {
    for (const r of resources) this.#dirty.add(r);
    if (this.#timer === undefined && !this.#flushing)
      this.#timer = setTimeout(() => void this.#flush(), COALESCE_MS);
  }

  async #flush(): Promise<void> {
    this.#timer = undefined;
    const signal = this.#session?.signal;
    if (!signal || signal.aborted) return;
    this.#flushing = true;
    const batch = [...this.#dirty];
    this.#dirty.clear();
    try {
      await Promise.all(batch.map((r) => this.#load(r, signal)));
      this.#set({ error: undefined });
    } catch (error) {
      if (!signal.aborted) this.#set({ error: describeError(error) });
    } finally {
      this.#flushing = false;
    }
    if (this.#dirty.size > 0) this.#schedule([]);
  }

  async #load(resource: Resource, signal: AbortSignal): Promise<void> {
    switch (resource) {
      case 'status':
        this.#set({ status: await this.client.get<StatusResponse>('/v1/status', signal) });
        return;
      case 'services':
        this.#set({ services: await this.client.get<ServicesResponse>('/v1/services', signal) });
        return;
      case 'revisions': {
        const { revisions } = await this.client.get<RevisionsResponse>('/v1/revisions?limit=100', signal);
        this.#set({ revisions });
        return;
      }
      case 'graph':
        try {
          this.#set({ graph: await this.client.get<GraphResponse>('/v1/graph', signal) });
        } catch (error) {
          if (!(error instanceof ApiError && error.problem?.code === 'no-revision')) throw error;
          this.#set({ graph: null });
        }
        return;
    }
  }

  #set(patch: Partial<LiveState>): void {
    this.#state = { ...this.#state, ...patch };
    for (const listener of this.#listeners) listener();
  }
}
