// Who called whom, from spans as they arrive. A call from service A to service B shows up
// as a CLIENT span in A whose child is a SERVER span in B (PRODUCER → CONSUMER for
// messages). The two come from different processes, in separate batches, in either order:
// whichever arrives first waits, for a bounded time and in a bounded map, for the other.
// A client span still alone when its wait ends (the callee is not traced, or was never
// reached) names its callee from `peer.service` or the address it called.
//
// A span of Baton's data plane names both ends itself: it is an edge the moment it arrives,
// instrumented services or not. It also stands in for the halves around it: the caller's own
// client span (its parent, when the caller is traced) and the callee's server span (its
// child) pair with it silently, so a traced call through the data plane counts once, and the
// caller's span never turns into an edge to the data plane's address.
import { dataPlaneCall, isError, peerOf, type SpanRecord } from './span.ts';

export interface EdgeObservation {
  readonly caller: string;
  readonly callee: string;
  /** As the caller saw it (the client span), network included. */
  readonly durationMs: number;
  readonly error: boolean;
  /** True from a client/server pair; false when the callee was named by the client alone. */
  readonly paired: boolean;
}

export interface EdgeMatcherOptions {
  /** How long a half waits for the other. */
  readonly windowMs: number;
  /** Each of the two waiting maps holds at most this many; the oldest goes first. */
  readonly maxPending: number;
}

interface WaitingClient {
  /** A data-plane span standing in for the client half: its partner is counted already. */
  readonly silent?: boolean;
  readonly service: string;
  readonly durationMs: number;
  readonly error: boolean;
  readonly peer: string | undefined;
  readonly expiresAt: number;
}

interface WaitingServer {
  readonly service: string;
  readonly error: boolean;
  readonly expiresAt: number;
  /** A data-plane span standing in for the server half: its partner is counted already. */
  readonly silent?: boolean;
}

export interface MatcherCounts {
  readonly waitingClients: number;
  readonly waitingServers: number;
  /** Halves evicted because a map was full, before their wait ended. */
  readonly evicted: number;
}

export class EdgeMatcher {
  readonly #options: EdgeMatcherOptions;
  // Maps keep insertion order, which is also expiry order: expiring walks from the front.
  readonly #clients = new Map<string, WaitingClient>();
  readonly #servers = new Map<string, WaitingServer>();
  #evicted = 0;

  constructor(options: EdgeMatcherOptions) {
    this.#options = options;
  }

  /** Feeds one span; returns the edge it completes, if any. */
  add(span: SpanRecord, nowMs: number): EdgeObservation | undefined {
    const call = dataPlaneCall(span);
    if (call !== undefined) return this.#dataPlane(span, call, nowMs);
    const { kind } = span;
    if (kind === 'client' || kind === 'producer') {
      const key = span.traceId + span.spanId;
      const server = this.#servers.get(key);
      const client = clientOf(span, nowMs + this.#options.windowMs);
      if (server) {
        this.#servers.delete(key);
        return server.silent === true ? undefined : pair(client, server);
      }
      this.#wait(this.#clients, key, client);
      return undefined;
    }
    if ((kind === 'server' || kind === 'consumer') && span.parentSpanId !== undefined) {
      const key = span.traceId + span.parentSpanId;
      const client = this.#clients.get(key);
      const server = {
        service: span.service,
        error: isError(span),
        expiresAt: nowMs + this.#options.windowMs,
      };
      if (client) {
        this.#clients.delete(key);
        return client.silent === true ? undefined : pair(client, server);
      }
      this.#wait(this.#servers, key, server);
    }
    return undefined;
  }

  #dataPlane(
    span: SpanRecord,
    call: { readonly caller: string; readonly callee: string },
    nowMs: number,
  ): EdgeObservation {
    const expiresAt = nowMs + this.#options.windowMs;
    const error = isError(span);
    // The callee's server span, if it is traced, is this call's other half.
    this.#wait(this.#clients, span.traceId + span.spanId, {
      silent: true,
      service: call.caller,
      durationMs: 0,
      error: false,
      peer: undefined,
      expiresAt,
    });
    // The caller's own client span, if it is traced, called the data plane: the same call.
    if (span.parentSpanId !== undefined) {
      const key = span.traceId + span.parentSpanId;
      if (this.#clients.has(key)) this.#clients.delete(key);
      else this.#wait(this.#servers, key, { silent: true, service: call.callee, error: false, expiresAt });
    }
    return {
      caller: call.caller,
      callee: call.callee,
      durationMs: span.durationUs / 1000,
      error,
      paired: true,
    };
  }

  /** Ends the wait of every half older than the window; lone clients with a known peer become edges. */
  expire(nowMs: number): EdgeObservation[] {
    const edges: EdgeObservation[] = [];
    for (const [key, client] of this.#clients) {
      if (client.expiresAt > nowMs) break;
      this.#clients.delete(key);
      const edge = client.silent === true ? undefined : alone(client);
      if (edge) edges.push(edge);
    }
    for (const [key, server] of this.#servers) {
      if (server.expiresAt > nowMs) break;
      this.#servers.delete(key);
    }
    return edges;
  }

  counts(): MatcherCounts {
    return { waitingClients: this.#clients.size, waitingServers: this.#servers.size, evicted: this.#evicted };
  }

  #wait<T>(map: Map<string, T>, key: string, value: T): void {
    map.delete(key); // a duplicate re-enters at the back, with a fresh wait
    map.set(key, value);
    if (map.size > this.#options.maxPending) {
      const oldest = map.keys().next().value as string;
      map.delete(oldest);
      this.#evicted++;
    }
  }
}

function clientOf(span: SpanRecord, expiresAt: number): WaitingClient {
  return {
    service: span.service,
    durationMs: span.durationUs / 1000,
    error: isError(span),
    peer: peerOf(span),
    expiresAt,
  };
}

function pair(client: WaitingClient, server: WaitingServer): EdgeObservation {
  return {
    caller: client.service,
    callee: server.service,
    durationMs: client.durationMs,
    error: client.error || server.error,
    paired: true,
  };
}

function alone(client: WaitingClient): EdgeObservation | undefined {
  if (client.peer === undefined) return undefined;
  return {
    caller: client.service,
    callee: client.peer,
    durationMs: client.durationMs,
    error: client.error,
    paired: false,
  };
}
