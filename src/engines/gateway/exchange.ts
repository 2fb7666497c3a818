// One request through the gateway, from arrival to the last byte of the answer: route,
// shed, rate-limit, inject faults, wait for a bulkhead slot, pick an endpoint, forward,
// retry, answer. It is also the undici dispatch handler of its own attempts, so the upstream
// response streams straight into the client's without a stream or promise in between.
//
// The hot path is written for the CPU: no closures or promises per request, raw header
// arrays instead of header objects, label children and route decisions precomputed per
// snapshot. Undici's original handler interface (onConnect/onHeaders/onData/onComplete/
// onError) is used because it is what undici runs internally: the newer one wraps it and
// parses every response header into an object first.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import type { Dispatcher } from 'undici';
import { cookieValue, hashString } from '../../domain/gateway/balancers.ts';
import { DENY, PASS } from '../../domain/gateway/circuit-breaker.ts';
import type { Admission } from '../../domain/gateway/circuit-breaker.ts';
import { decideFault } from '../../domain/gateway/fault-injection.ts';
import type { FaultDecision } from '../../domain/gateway/fault-injection.ts';
import { gatewayProblem } from './problem-response.ts';
import type { GatewayErrorCode } from '../../domain/errors.ts';
import {
  ATTEMPT_ERROR,
  attemptErrorOf,
  isIdempotent,
  retryBackoff,
} from '../../domain/gateway/retry-policy.ts';
import { upstreamPath } from '../../domain/gateway/route-table.ts';
import { namedCallee } from '../../domain/gateway/east-west.ts';
import type { CompiledRoute, GatewayCore, RouteLimiter, RoutingState } from './core.ts';
import { responseHeaders } from './http-headers.ts';
import { RequestHead } from './request-head.ts';
import type { Expiring } from './deadline-wheel.ts';
import type { EndpointGroup, ServiceRuntime, Waiter } from './service-runtime.ts';
import type { Upstream } from './upstream.ts';

/** What the exchange needs from the gateway beyond the core. */
export interface ExchangeContext {
  readonly core: GatewayCore;
  readonly maxBodyBytes: number;
  readonly loopDelayMs: () => number;
  readonly log: (exchange: Exchange) => void;
  readonly done: () => void;
}

/** Bodies up to this size of idempotent requests are buffered so that they can be retried. */
const RETRY_BUFFER_BYTES = 64 * 1024;
/** Seconds a client is asked to wait when the service has no instance to offer. */
const RETRY_AFTER_UNAVAILABLE_S = 5;
/** Seconds a client is asked to wait when shed or queued out: overload passes quickly. */
const RETRY_AFTER_OVERLOAD_S = 1;

const PHASE = {
  received: 0,
  /** Waiting for an injected delay. */
  faultDelay: 1,
  queued: 2,
  /** Reading a small body so that it can be sent again. */
  buffering: 3,
  /** An attempt is out, no response headers yet. */
  waiting: 4,
  /** A failed attempt's response is being read to the end (keeps the connection), a retry follows. */
  discarding: 5,
  backoff: 6,
  /** The upstream's response is being relayed. */
  streaming: 7,
  done: 8,
} as const;
type Phase = (typeof PHASE)[keyof typeof PHASE];

const kExchange = Symbol('baton.exchange');
const kWatched = Symbol('baton.watched');
type Tagged = { [kExchange]?: Exchange; [kWatched]?: boolean };

class GatewayError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export class Exchange extends RequestHead implements Dispatcher.DispatchHandler, Waiter, Expiring {
  readonly ctx: ExchangeContext;
  readonly res: ServerResponse;
  readonly startedAt: number;
  phase: Phase = PHASE.received;

  /** The east-west listener's port the request came in on; 0 for the gateway's own port. */
  listenerPort = 0;
  /** East-west: the calling service. */
  caller: string | undefined;
  /** East-west, observe mode: the caller does not declare the callee. */
  undeclared = false;
  /** East-west: the service the request named, even when it was refused. */
  callee: string | undefined;

  // Decisions.
  route: CompiledRoute | undefined;
  service: ServiceRuntime | undefined;
  group: EndpointGroup | null = null;
  hash: number | undefined;
  body: Buffer | NodeJS.ReadableStream | null = null;
  bodyChunks: Buffer[] | null = null;
  retryable = false;
  deadline = Infinity;
  admission: Admission = DENY;
  holdsSlot = false;
  fault: FaultDecision | undefined;

  // Attempts.
  attempts = 0;
  upstream: Upstream | undefined;
  lastFailed: Upstream | undefined;
  abortAttempt: ((error?: Error) => void) | null = null;
  resumeUpstream: (() => void) | null = null;
  // The deadline, as the gateway's deadline wheel tracks it.
  wheelSlot: (Expiring | undefined)[] | undefined;
  wheelIndex = 0;
  waitTimer: NodeJS.Timeout | undefined;

  // Outcome.
  status = 0;
  /** '' when the service answered; else why not (a problem code, upstream-5xx, client-closed). */
  outcome = '';
  bytesOut = 0;
  durationMs = 0;
  rateRemaining = -1;
  rateReset = 0;

  constructor(ctx: ExchangeContext, req: IncomingMessage, res: ServerResponse) {
    super(req);
    this.ctx = ctx;
    this.res = res;
    this.startedAt = performance.now();
    (res as Tagged)[kExchange] = this;
    // Client gone: watched once per connection rather than once per request, since a
    // keep-alive connection carries one exchange at a time (pipelined ones fall back to
    // watching their own response).
    const socket = req.socket as Tagged & Socket;
    if (socket[kExchange] === undefined) {
      if (socket[kWatched] !== true) {
        socket[kWatched] = true;
        socket.on('close', onSocketClose);
      }
      socket[kExchange] = this;
    } else {
      res.on('close', onResponseClose);
    }
  }

  start(): void {
    const core = this.ctx.core;
    this.readHead();
    const state = core.state;
    if (state === undefined)
      return this.reject('not-ready', 'no routing snapshot received yet', RETRY_AFTER_OVERLOAD_S);
    const problem = this.malformed ?? this.readTarget();
    if (problem !== undefined) return this.reject('bad-request', problem);
    if (this.contentLength > this.ctx.maxBodyBytes) {
      return this.reject('payload-too-large', `the body exceeds ${this.ctx.maxBodyBytes} bytes`);
    }
    const path = this.path;

    let route: CompiledRoute | undefined;
    if (this.listenerPort === 0) {
      route = state.table.match(this);
      if (route === undefined) return this.reject('no-route', `no route matches ${this.method} ${path}`);
    } else {
      route = this.eastWestRoute(state);
      if (route === undefined) return;
    }
    this.route = route;
    const service = route.service;
    if (service === undefined) {
      return this.reject(
        'no-healthy-instance',
        `service ${route.serviceName} has no instance`,
        RETRY_AFTER_UNAVAILABLE_S,
      );
    }
    this.service = service;
    // A timeout of 0 means none (long polls, streams).
    if (route.timeoutMs > 0) this.deadline = this.startedAt + route.timeoutMs;

    if (state.shedder.shed(service.tier, core.inFlight - 1, this.ctx.loopDelayMs())) {
      service.metrics.shed.inc();
      return this.reject('overloaded', `shedding ${service.tier}-tier traffic`, RETRY_AFTER_OVERLOAD_S);
    }
    if (route.limiter !== undefined && !this.takeToken(route.limiter)) return;
    if (service.faults !== undefined) {
      const fault = decideFault(service.faults, path, Date.now(), core.options.random);
      if (fault !== undefined) {
        this.fault = fault;
        if (fault.delayMs > 0) {
          this.phase = PHASE.faultDelay;
          this.armDeadline();
          this.waitTimer = setTimeout(afterFaultDelay, fault.delayMs, this);
          return;
        }
        return this.injectAbort();
      }
    }
    this.enter();
  }

  /**
   * East-west: the callee is the listener's, or on the caller's egress listener the one the
   * request names (Host, or x-baton-service), which the caller must declare in `enforce`
   * mode. Undefined once the request has been answered.
   */
  eastWestRoute(state: RoutingState): CompiledRoute | undefined {
    const edge = state.eastWest.get(this.listenerPort);
    if (edge === undefined) {
      this.reject('no-route', `no data-plane listener on port ${this.listenerPort} any more`);
      return undefined;
    }
    this.caller = edge.caller;
    let callee = edge.callee;
    let range = edge.range;
    if (callee === undefined) {
      callee = namedCallee(this.header('x-baton-service'), this.host);
      if (callee !== '') this.callee = callee;
      if (callee === '' || !state.services.has(callee)) {
        this.reject(
          'no-route',
          callee === ''
            ? 'name the service to call: Host: NAME, or x-baton-service: NAME'
            : `no service named ${callee}`,
        );
        return undefined;
      }
      range = edge.declared.get(callee);
      if (range === undefined) {
        if (state.eastWestMode === 'enforce') {
          this.reject(
            'undeclared-dependency',
            `${edge.caller} does not declare ${callee} in dependsOn: add \`${callee}: <range>\` to services.${edge.caller}.dependsOn`,
          );
          return undefined;
        }
        this.undeclared = true;
      }
    }
    const service = state.services.get(callee);
    if (service === undefined) {
      this.reject('no-healthy-instance', `service ${callee} has no instance`, RETRY_AFTER_UNAVAILABLE_S);
      return undefined;
    }
    return edge.route(service, callee, this.path, range, this.ctx.core.options.metrics);
  }

  takeToken(limiter: RouteLimiter): boolean {
    const now = this.startedAt;
    let bucket = limiter.bucket;
    if (bucket === undefined) {
      bucket = limiter.keyed!.bucket(this.rateLimitKey(limiter.key), now);
    }
    const allowed = bucket.take(limiter.rate, now);
    this.rateRemaining = bucket.remaining();
    this.rateReset = bucket.secondsUntilFull(limiter.rate);
    if (allowed) return true;
    this.route!.metrics.rateLimited();
    this.reject('rate-limited', 'rate limit exceeded', bucket.secondsUntilToken(limiter.rate));
    return false;
  }

  injectAbort(): void {
    const fault = this.fault!;
    if (fault.abortStatus > 0) {
      this.reject('fault-injected', `fault ${fault.id} aborted this request`, 0, fault.abortStatus);
    } else this.enter();
  }

  /** Into the service's bulkhead: a slot now, a place in its queue, or a refusal. */
  enter(): void {
    const service = this.service!;
    this.armDeadline();
    if (service.bulkhead.tryAcquire()) {
      this.holdsSlot = true;
      return this.proceed();
    }
    if (!service.bulkhead.enqueue(this)) {
      return this.reject(
        'service-busy',
        `service ${service.name} has too many requests waiting`,
        RETRY_AFTER_OVERLOAD_S,
      );
    }
    this.phase = PHASE.queued;
  }

  admit(): void {
    this.holdsSlot = true;
    if (this.phase !== PHASE.queued) {
      // Gave up while the slot was on its way: hand it on.
      return this.releaseSlot();
    }
    this.proceed();
  }

  proceed(): void {
    const service = this.service!;
    const runtime = this.route!.runtime!;
    // A request straight from arrival uses its arrival time: one clock read less per request.
    const now = this.phase === PHASE.received ? this.startedAt : performance.now();
    const admission = runtime.breaker.allow(now);
    if (admission === DENY) {
      const seconds = Math.max(1, Math.ceil(runtime.breaker.retryAfterMs(now) / 1000));
      return this.reject(
        'circuit-open',
        `the circuit of route ${this.route!.route.path} of service ${service.name} is open`,
        seconds,
      );
    }
    this.admission = admission;
    service.budget.recordRequest(now);

    const range = this.route!.range;
    const group = service.group(this.pin, range);
    if (group === null) {
      return this.reject('bad-request', 'x-baton-version must be a version such as 2.1.0 or a semver range');
    }
    if (runtime.usable(group).length === 0) {
      // Fails fast, never queued: the range is the caller's contract with the callee.
      if (range !== undefined && service.upstreams.length > 0)
        return this.reject(
          'no-matching-version',
          `no healthy instance of ${service.name} is within ${range}, the range ${this.caller} declares in dependsOn (running: ${versionsOf(service)})`,
          RETRY_AFTER_UNAVAILABLE_S,
        );
      return this.pin !== undefined
        ? this.reject(
            'no-matching-version',
            `no instance of ${service.name} matches ${this.pin}`,
            RETRY_AFTER_UNAVAILABLE_S,
          )
        : this.reject(
            'no-healthy-instance',
            `service ${service.name} has no healthy instance`,
            RETRY_AFTER_UNAVAILABLE_S,
          );
    }
    this.group = group;
    if (service.hashHeader !== undefined) {
      const key = this.header(service.hashHeader);
      if (key !== undefined) this.hash = hashString(key);
    } else if (service.hashCookie !== undefined) {
      const key = cookieValue(this.header('cookie'), service.hashCookie);
      if (key !== undefined) this.hash = hashString(key);
    }

    const idempotent = isIdempotent(this.method) && service.policy.retries.attempts > 0;
    if (this.chunked) {
      this.body = this.req.pipe(new BodyLimit(this.ctx.maxBodyBytes));
    } else if (this.contentLength > 0) {
      if (idempotent && this.contentLength <= RETRY_BUFFER_BYTES) {
        this.retryable = true;
        this.phase = PHASE.buffering;
        this.bodyChunks = [];
        (this.req as Tagged)[kExchange] = this;
        this.req.on('data', onBodyData);
        this.req.on('end', onBodyEnd);
        return;
      }
      this.body = this.req;
    } else {
      this.retryable = idempotent;
    }
    this.attempt();
  }

  bodyBuffered(): void {
    if (this.phase !== PHASE.buffering) return;
    this.body = Buffer.concat(this.bodyChunks!);
    this.bodyChunks = null;
    this.attempt();
  }

  attempt(): void {
    // A retry looks again: a snapshot may have replaced the endpoints meanwhile.
    if (this.attempts > 0) this.group = this.service!.group(this.pin, this.route!.range) ?? this.group;
    const group = this.group!;
    const upstream = group.balancer.pick(this.route!.runtime!.usable(group), this.lastFailed, this.hash);
    if (upstream === undefined) {
      const service = this.service!.name;
      return this.reject(
        'no-healthy-instance',
        `service ${service} has no healthy instance`,
        RETRY_AFTER_UNAVAILABLE_S,
      );
    }
    this.upstream = upstream;
    upstream.active++;
    this.attempts++;
    this.phase = PHASE.waiting;
    const route = this.route!;
    upstream.pool.dispatch(
      {
        path: upstreamPath(this.url, route.prefix, route.stripPrefix),
        method: this.method as Dispatcher.HttpMethod,
        headers:
          this.attempts === 1 ? this.headers : [...this.headers, 'x-baton-attempt', String(this.attempts)],
        body: this.body as Dispatcher.DispatchOptions['body'],
      },
      this,
    );
  }

  // ---- undici handler ----

  onConnect(abort: (error?: Error) => void): void {
    this.abortAttempt = abort;
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    if (this.phase !== PHASE.waiting) return false;
    if (status < 200) return true;
    // A 4xx is the caller's: it never counts against the route.
    const failed = status >= 500;
    this.recordAttempt(!failed);
    if (this.route!.runtime!.retryOn.has(status) && this.mayRetry()) {
      this.phase = PHASE.discarding;
      return true;
    }
    try {
      this.commit(status, raw);
    } catch {
      // Node refused a header the upstream sent: nothing went out yet, so answer 502.
      const abort = this.abortAttempt;
      this.phase = PHASE.received;
      this.endAttempt();
      this.reject('upstream-failed', `service ${this.service!.name} sent an invalid response head`);
      abort?.(new GatewayError('BATON_BAD_RESPONSE', 'invalid response head'));
      return false;
    }
    this.resumeUpstream = resume;
    if (failed) this.outcome = 'upstream-5xx';
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.phase !== PHASE.streaming) return true;
    this.bytesOut += chunk.length;
    if (this.res.write(chunk)) return true;
    if (this.res.listenerCount('drain') === 0) this.res.on('drain', onResponseDrain);
    return false;
  }

  onComplete(): void {
    if (this.phase === PHASE.streaming) {
      this.endAttempt();
      this.res.end();
      this.finish();
    } else if (this.phase === PHASE.discarding) {
      this.endAttempt();
      this.backoff();
    }
  }

  onError(error: Error): void {
    const phase = this.phase;
    if (phase === PHASE.streaming) {
      // Headers are out: the client can only learn of it by the connection closing early.
      this.endAttempt();
      this.outcome = 'upstream-failed';
      this.res.destroy();
      this.finish();
      return;
    }
    if (phase === PHASE.discarding) {
      this.endAttempt();
      this.backoff();
      return;
    }
    if (phase !== PHASE.waiting) return;
    this.endAttempt();
    const code = (error as { code?: string }).code;
    if (code === 'BATON_BODY_TOO_LARGE') {
      return this.reject('payload-too-large', `the body exceeds ${this.ctx.maxBodyBytes} bytes`);
    }
    if (code === 'BATON_CLIENT_GONE') return;
    const kind = attemptErrorOf(code);
    if (kind === ATTEMPT_ERROR.request) {
      // Nothing was sent: the client's request cannot be forwarded as it is.
      return this.reject('bad-request', `the request cannot be forwarded: ${error.message}`);
    }
    this.recordAttempt(false);
    if (kind !== ATTEMPT_ERROR.other && this.mayRetry()) return this.backoff();
    this.reject(
      'upstream-failed',
      `service ${this.service!.name} failed to answer (${code ?? error.message})`,
    );
  }

  // ---- attempts ----

  recordAttempt(ok: boolean): void {
    this.route!.runtime!.record(this.upstream!, this.admission, ok, performance.now());
    // Only the first attempt of a half-open probe is the probe.
    this.admission = PASS;
  }

  /** Whether another attempt may follow the one that just failed; spends from the budget if so. */
  mayRetry(): boolean {
    if (!this.retryable) return false;
    const service = this.service!;
    if (this.attempts > service.policy.retries.attempts) return false;
    const now = performance.now();
    // The backoff alone would eat the deadline: answer now with what we have.
    if (now + service.policy.retries.backoffMs >= this.deadline) return false;
    if (this.route!.runtime!.breaker.state === 'open') return false;
    return service.budget.tryAcquire(now);
  }

  backoff(): void {
    const service = this.service!;
    this.lastFailed = this.upstream;
    service.metrics.retries.inc();
    const delay = retryBackoff(this.attempts, service.policy.retries.backoffMs, this.ctx.core.options.random);
    this.phase = PHASE.backoff;
    if (performance.now() + delay >= this.deadline) {
      // Jitter pushed past the deadline: retry at once rather than never.
      return this.attempt();
    }
    this.waitTimer = setTimeout(afterBackoff, delay, this);
  }

  endAttempt(): void {
    const upstream = this.upstream;
    if (upstream !== undefined && upstream.active > 0) upstream.active--;
    this.abortAttempt = null;
    this.resumeUpstream = null;
  }

  // A request that named an Upgrade but was not tunnelled (a body, another method) leaves
  // Node's parser stopped at the upgrade, so nothing more is read on its connection: the
  // answer says so (Connection: close), and the client's next request takes a new one.
  commit(status: number, raw: Buffer[]): void {
    this.status = status;
    this.phase = PHASE.streaming;
    this.clearTimer();
    const extra = ['x-request-id', this.requestId];
    if (this.rateRemaining >= 0) this.pushRateHeaders(extra);
    if (this.ctx.core.draining || this.upgrade !== undefined) extra.push('connection', 'close');
    this.res.writeHead(status, responseHeaders(raw, extra));
  }

  pushRateHeaders(headers: string[]): void {
    headers.push(
      'ratelimit-limit',
      this.route!.limiter!.limitText,
      'ratelimit-remaining',
      String(this.rateRemaining),
      'ratelimit-reset',
      String(this.rateReset),
    );
  }

  // ---- deadline, giving up ----

  armDeadline(): void {
    if (this.wheelSlot === undefined && this.deadline !== Infinity)
      this.ctx.core.deadlines.add(this, this.deadline);
  }

  clearTimer(): void {
    if (this.wheelSlot !== undefined) this.ctx.core.deadlines.cancel(this);
  }

  /** The deadline passed (called by the deadline wheel). */
  expire(): void {
    const phase = this.phase;
    if (phase === PHASE.streaming || phase === PHASE.done) return;
    if (phase === PHASE.waiting || phase === PHASE.discarding) {
      const abort = this.abortAttempt;
      const wasWaiting = phase === PHASE.waiting;
      this.phase = PHASE.received;
      this.endAttempt();
      if (wasWaiting) this.recordAttempt(false);
      abort?.(new GatewayError('BATON_DEADLINE', 'deadline reached'));
    } else if (phase === PHASE.queued) {
      this.service!.bulkhead.remove(this);
    }
    this.reject(
      'upstream-timeout',
      `service ${this.route!.serviceName} did not answer within ${this.route!.timeoutMs} ms`,
    );
  }

  clientGone(): void {
    const phase = this.phase;
    if (phase === PHASE.done) return;
    if (this.status === 0) this.status = 499;
    this.outcome = 'client-closed';
    const abort = this.abortAttempt;
    if (phase === PHASE.waiting || phase === PHASE.discarding || phase === PHASE.streaming) this.endAttempt();
    if (phase === PHASE.queued) this.service!.bulkhead.remove(this);
    this.finish();
    abort?.(new GatewayError('BATON_CLIENT_GONE', 'the client closed the connection'));
  }

  /** Answers with a problem of the gateway's own (nothing was or will be forwarded). */
  reject(code: GatewayErrorCode, detail: string, retryAfterSeconds = 0, status?: number): void {
    if (this.phase === PHASE.done) return;
    const problem = gatewayProblem(code, detail, this.requestId || undefined, status);
    this.status = problem.status;
    this.outcome = code;
    const res = this.res;
    if (res.headersSent) {
      res.destroy();
    } else {
      const body = JSON.stringify(problem);
      const headers = [
        'content-type',
        'application/problem+json',
        'content-length',
        String(Buffer.byteLength(body)),
      ];
      if (this.requestId !== '') headers.push('x-request-id', this.requestId);
      if (retryAfterSeconds > 0) headers.push('retry-after', String(retryAfterSeconds));
      if (this.rateRemaining >= 0) this.pushRateHeaders(headers);
      // After a malformed request, what else the connection carries cannot be trusted either.
      if (this.ctx.core.draining || this.upgrade !== undefined || code === 'bad-request')
        headers.push('connection', 'close');
      res.writeHead(problem.status, headers);
      res.end(body);
    }
    this.finish();
  }

  /** Gives back everything held, records the request, exactly once. */
  finish(): void {
    if (this.phase === PHASE.done) return;
    this.phase = PHASE.done;
    // Node lets go of the request's socket once a request with a body has been read and
    // answered: by then there may be no socket to untag.
    const socket = this.req.socket as Tagged | null;
    if (socket !== null && socket[kExchange] === this) socket[kExchange] = undefined;
    this.clearTimer();
    if (this.waitTimer !== undefined) clearTimeout(this.waitTimer);
    if (this.bodyChunks !== null) {
      this.req.off('data', onBodyData);
      this.req.off('end', onBodyEnd);
      this.bodyChunks = null;
    }
    const service = this.service;
    if (service !== undefined) {
      this.route!.runtime!.breaker.abandon(this.admission);
      this.admission = DENY;
      if (this.holdsSlot) this.releaseSlot();
    }
    this.ctx.core.inFlight--;
    this.durationMs = performance.now() - this.startedAt;
    (this.route?.metrics ?? this.ctx.core.unrouted).answered(
      this.status,
      this.durationMs / 1000,
      this.outcome,
    );
    this.ctx.log(this);
    this.ctx.done();
  }

  releaseSlot(): void {
    this.holdsSlot = false;
    const next = this.service!.bulkhead.release();
    next?.admit();
  }
}

function versionsOf(service: ServiceRuntime): string {
  return [...new Set(service.upstreams.map((u) => u.version))].sort().join(', ');
}

// Listeners shared by every exchange (`this` is the emitter), so that none is allocated per request.
function onResponseClose(this: ServerResponse): void {
  const exchange = (this as Tagged)[kExchange];
  if (exchange !== undefined && exchange.phase !== PHASE.done) exchange.clientGone();
}

function onSocketClose(this: Socket): void {
  const exchange = (this as Tagged)[kExchange];
  if (exchange !== undefined && exchange.phase !== PHASE.done) exchange.clientGone();
}

function onResponseDrain(this: ServerResponse): void {
  (this as Tagged)[kExchange]?.resumeUpstream?.();
}

function onBodyData(this: IncomingMessage, chunk: Buffer): void {
  (this as Tagged)[kExchange]?.bodyChunks?.push(chunk);
}

function onBodyEnd(this: IncomingMessage): void {
  (this as Tagged)[kExchange]?.bodyBuffered();
}

function afterFaultDelay(exchange: Exchange): void {
  exchange.waitTimer = undefined;
  if (exchange.phase === PHASE.faultDelay) exchange.injectAbort();
}

function afterBackoff(exchange: Exchange): void {
  exchange.waitTimer = undefined;
  if (exchange.phase === PHASE.backoff) exchange.attempt();
}

/** Counts a streamed (chunked) body and fails it past the limit, which aborts the attempt. */
class BodyLimit extends Transform {
  readonly #max: number;
  #seen = 0;

  constructor(max: number) {
    super();
    this.#max = max;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.#max) {
      callback(new GatewayError('BATON_BODY_TOO_LARGE', `request body over ${this.#max} bytes`));
      return;
    }
    callback(null, chunk);
  }
}
