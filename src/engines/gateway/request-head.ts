// What the gateway reads from a request head, in one pass over Node's raw header array:
// the values it acts on (host, trace context, request id, body framing, version pin) and
// the header list it forwards, with hop-by-hop headers removed and the forwarding headers
// (X-Forwarded-*, Forwarded, traceparent, x-request-id) set.
import type { IncomingMessage } from 'node:http';
import { hostOf, normalizePath } from '../../domain/gateway/route-table.ts';
import type { RouteRequest } from '../../domain/gateway/route-table.ts';
import type { RateLimitKey } from '../../domain/gateway/snapshot.ts';
import {
  REQ,
  clientAddress,
  connectionTokens,
  forwardedElement,
  isValidHost,
  requestHeaderKind,
  withoutNamed,
} from './http-headers.ts';
import { isValidTraceparent, newSpanId, newTraceId, requestIdFrom, traceparent } from './trace-context.ts';

export class RequestHead implements RouteRequest {
  readonly req: IncomingMessage;
  readonly method: string;
  /** Lower-case, without port ('' when absent): what routes match. */
  host = '';
  hostHeader: string | undefined;
  path = '/';
  /** Path (normalised) and query, as sent upstream before any prefix stripping. */
  url = '/';
  clientIp = '';
  requestId = '';
  traceId = '';
  /** The gateway's span, parent of the upstream's. */
  spanId = '';
  /** The caller's span, '' when the gateway started the trace. */
  parentSpanId = '';
  traceFlags = '01';
  pin: string | undefined;
  upgrade: string | undefined;
  contentLength = -1;
  chunked = false;
  /** Headers to send upstream, flat: [name, value, name, value, …]. */
  headers: string[] = [];
  /**
   * Why the request must be refused with 400 before anything is forwarded; undefined when
   * it is well-formed. Node's parser refuses most malformed heads itself; these are the
   * ones it lets through and the upstream client (or the upstream) must not see.
   */
  malformed: string | undefined;

  constructor(req: IncomingMessage) {
    this.req = req;
    this.method = req.method ?? 'GET';
  }

  /** A request header by lower-case name (routes' header conditions, hash and rate-limit keys). */
  header(lowerCaseName: string): string | undefined {
    const raw = this.req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length === lowerCaseName.length && name.toLowerCase() === lowerCaseName) return raw[i + 1];
    }
    return undefined;
  }

  /** The bucket key of a per-key rate limit; clients without the header share their IP's bucket. */
  rateLimitKey(key: RateLimitKey): string {
    if (key === 'ip' || key === 'route') return this.clientIp;
    const header = this.header(key.header);
    return header === undefined ? `ip:${this.clientIp}` : `h:${header}`;
  }

  /** Reads the path and query of the request target; a problem's detail when unusable. */
  readTarget(): string | undefined {
    const url = this.req.url ?? '/';
    // Absolute-form and asterisk-form targets are for forward proxies, not for this one.
    if (url.charCodeAt(0) !== 47 /* / */) return 'the request target must be a path';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const path = normalizePath(rawPath);
    if (path === undefined) return 'the path climbs above the root';
    this.path = path;
    this.url = path === rawPath ? url : q === -1 ? path : path + url.slice(q);
    return undefined;
  }

  readHead(): void {
    const raw = this.req.rawHeaders;
    const out = this.headers;
    let xff: string | undefined;
    let forwarded: string | undefined;
    let incomingTrace: string | undefined;
    let incomingId: string | undefined;
    let dropNamed: string[] | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      const value = raw[i + 1]!;
      switch (requestHeaderKind(name)) {
        case REQ.other:
          out.push(name, value);
          break;
        case REQ.host:
          // RFC 9112 §3.2: more than one Host is a 400; which one would the upstream believe?
          if (this.hostHeader !== undefined) this.malformed = 'the request has more than one Host header';
          this.hostHeader = value;
          out.push(name, value);
          break;
        case REQ.connection:
          dropNamed = connectionTokens(value);
          break;
        case REQ.xForwardedFor:
          xff = xff === undefined ? value : `${xff}, ${value}`;
          break;
        case REQ.forwarded:
          forwarded = forwarded === undefined ? value : `${forwarded}, ${value}`;
          break;
        case REQ.traceparent:
          incomingTrace = value;
          break;
        case REQ.requestId:
          incomingId = value;
          break;
        case REQ.contentLength:
          if (this.contentLength !== -1)
            this.malformed = 'the request has more than one Content-Length header';
          this.contentLength = Number(value);
          out.push(name, value);
          break;
        case REQ.transferEncoding:
          this.chunked = true;
          break;
        case REQ.versionPin:
          this.pin = value;
          out.push(name, value);
          break;
        case REQ.upgrade:
          this.upgrade = value;
          break;
        default:
        // Hop-by-hop, Expect, X-Forwarded-Proto/-Host: dropped (the last two are set below).
      }
    }
    if (this.hostHeader === undefined) {
      if (this.req.httpVersionMajor === 1 && this.req.httpVersionMinor >= 1)
        this.malformed ??= 'an HTTP/1.1 request needs a Host header';
    } else if (!isValidHost(this.hostHeader)) {
      this.malformed ??= 'the Host header is not a host name or address (with an optional port)';
    }
    const ip = clientAddress(this.req.socket.remoteAddress);
    this.clientIp = ip;
    this.host = hostOf(this.hostHeader);
    this.requestId = requestIdFrom(incomingId);
    if (incomingTrace !== undefined && isValidTraceparent(incomingTrace)) {
      this.traceId = incomingTrace.slice(3, 35);
      this.parentSpanId = incomingTrace.slice(36, 52);
      this.traceFlags = incomingTrace.slice(53, 55);
    } else {
      this.traceId = newTraceId();
    }
    this.spanId = newSpanId();
    const element = forwardedElement(ip, this.hostHeader, 'http');
    const headers = dropNamed === undefined ? out : withoutNamed(out, dropNamed);
    headers.push(
      'x-forwarded-for',
      xff === undefined ? ip : `${xff}, ${ip}`,
      'x-forwarded-proto',
      'http',
      'forwarded',
      forwarded === undefined ? element : `${forwarded}, ${element}`,
      'traceparent',
      traceparent(this.traceId, this.spanId, this.traceFlags),
      'x-request-id',
      this.requestId,
    );
    if (this.hostHeader !== undefined) headers.push('x-forwarded-host', this.hostHeader);
    this.headers = headers;
  }
}
