// Header handling on the proxy path, working on Node's and undici's raw header arrays
// ([name, value, name, value, …]) so that no headers object is built per request.
// Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection and are never forwarded:
// Connection and every header it names, Keep-Alive, Proxy-Connection, TE, Trailer,
// Transfer-Encoding, Upgrade, plus the proxy's own credentials.

/** What a request header means to the gateway. */
export const REQ = {
  other: 0,
  hop: 1,
  host: 2,
  connection: 3,
  xForwardedFor: 4,
  /** X-Forwarded-Proto and -Host: replaced by the gateway's own. */
  xForwardedOwn: 5,
  forwarded: 6,
  traceparent: 7,
  requestId: 8,
  contentLength: 9,
  transferEncoding: 10,
  /** Expect: 100-continue is answered by the gateway itself; undici refuses it. */
  expect: 11,
  versionPin: 12,
  /** Hop-by-hop, but carried through on an upgrade. */
  upgrade: 13,
} as const;

// Only names of these lengths can be special, so most headers are classified without
// lower-casing them.
export function requestHeaderKind(name: string): number {
  switch (name.length) {
    case 2:
      return name.toLowerCase() === 'te' ? REQ.hop : REQ.other;
    case 4:
      return name.toLowerCase() === 'host' ? REQ.host : REQ.other;
    case 6:
      return name.toLowerCase() === 'expect' ? REQ.expect : REQ.other;
    case 7: {
      const lower = name.toLowerCase();
      if (lower === 'upgrade') return REQ.upgrade;
      return lower === 'trailer' ? REQ.hop : REQ.other;
    }
    case 9:
      return name.toLowerCase() === 'forwarded' ? REQ.forwarded : REQ.other;
    case 10: {
      const lower = name.toLowerCase();
      if (lower === 'connection') return REQ.connection;
      return lower === 'keep-alive' ? REQ.hop : REQ.other;
    }
    case 11:
      return name.toLowerCase() === 'traceparent' ? REQ.traceparent : REQ.other;
    case 12:
      return name.toLowerCase() === 'x-request-id' ? REQ.requestId : REQ.other;
    case 14:
      return name.toLowerCase() === 'content-length' ? REQ.contentLength : REQ.other;
    case 15: {
      const lower = name.toLowerCase();
      if (lower === 'x-forwarded-for') return REQ.xForwardedFor;
      if (lower === 'x-baton-version') return REQ.versionPin;
      // The gateway's own retry marker: a client does not get to set it.
      return lower === 'x-baton-attempt' ? REQ.hop : REQ.other;
    }
    case 16: {
      const lower = name.toLowerCase();
      if (lower === 'x-forwarded-host') return REQ.xForwardedOwn;
      return lower === 'proxy-connection' ? REQ.hop : REQ.other;
    }
    case 17: {
      const lower = name.toLowerCase();
      if (lower === 'transfer-encoding') return REQ.transferEncoding;
      return lower === 'x-forwarded-proto' ? REQ.xForwardedOwn : REQ.other;
    }
    case 19:
      return name.toLowerCase() === 'proxy-authorization' ? REQ.hop : REQ.other;
    default:
      return REQ.other;
  }
}

/** Hop-by-hop response headers (Connection's own tokens are handled by the caller). */
function isHopByHopResponse(name: string): boolean {
  switch (name.length) {
    case 2:
      return name.toLowerCase() === 'te';
    case 7: {
      const lower = name.toLowerCase();
      return lower === 'trailer' || lower === 'upgrade';
    }
    case 10: {
      const lower = name.toLowerCase();
      return lower === 'keep-alive' || lower === 'connection';
    }
    case 16:
      return name.toLowerCase() === 'proxy-connection';
    case 17:
      return name.toLowerCase() === 'transfer-encoding';
    case 18:
      return name.toLowerCase() === 'proxy-authenticate';
    default:
      return false;
  }
}

/** Header names a Connection header lists, beyond the usual keep-alive/close/upgrade. */
export function connectionTokens(value: string): string[] | undefined {
  if (isPlainConnection(value)) return undefined;
  let tokens: string[] | undefined;
  for (const raw of value.split(',')) {
    const token = raw.trim().toLowerCase();
    if (token === '' || token === 'keep-alive' || token === 'close' || token === 'upgrade') continue;
    (tokens ??= []).push(token);
  }
  return tokens;
}

/** The overwhelmingly common values, recognised without splitting. */
function isPlainConnection(value: string): boolean {
  switch (value.length) {
    case 5:
      return value === 'close' || value.toLowerCase() === 'close';
    case 7:
      return value.toLowerCase() === 'upgrade';
    case 10:
      return value === 'keep-alive' || value.toLowerCase() === 'keep-alive';
    default:
      return false;
  }
}

/** Removes from a flat header list every header named in `names` (lower-case). */
export function withoutNamed(headers: string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!names.includes(headers[i]!.toLowerCase())) out.push(headers[i]!, headers[i + 1]!);
  }
  return out;
}

/**
 * An upstream response's headers as a flat string list for `writeHead`, without hop-by-hop
 * headers, followed by `extra`.
 */
export function responseHeaders(raw: readonly Buffer[], extra: readonly string[]): string[] {
  const out: string[] = [];
  let named: string[] | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = latin1(raw[i]!);
    if (isHopByHopResponse(name)) {
      if (name.length === 10 && name.toLowerCase() === 'connection') {
        const tokens = connectionTokens(latin1(raw[i + 1]!));
        if (tokens !== undefined) (named ??= []).push(...tokens);
      }
      continue;
    }
    // The upstream's request id is ours (we sent it); the gateway adds it back from `extra`.
    if (name.length === 12 && name.toLowerCase() === 'x-request-id') continue;
    out.push(name, latin1(raw[i + 1]!));
  }
  for (const value of extra) out.push(value);
  return named === undefined ? out : withoutNamed(out, named);
}

type Latin1 = { latin1Slice(start: number, end: number): string };

/**
 * HTTP header bytes as a string, one byte per character (as Node writes them back). Buffer's
 * own latin1Slice: toString('latin1') reaches it after argument checks that cost more than
 * the copy, on the gateway's hottest loop.
 */
function latin1(buffer: Buffer): string {
  return (buffer as unknown as Latin1).latin1Slice(0, buffer.length);
}

// Clients send the same Host request after request: remember the last one found valid.
let lastValidHost = '';

/**
 * A Host header value as RFC 9110 §7.2 allows it: a host name, an IPv4 address or a
 * bracketed IPv6 address, with an optional port (or empty).
 */
export function isValidHost(value: string): boolean {
  if (value === lastValidHost) return true;
  if (!HOST.test(value)) return false;
  lastValidHost = value;
  return true;
}

const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]*)(?::[0-9]*)?$/;

/** The client address as proxies write it: without the IPv4-mapped IPv6 prefix. */
export function clientAddress(remote: string | undefined): string {
  if (remote === undefined) return 'unknown';
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}

// Clients send the same Host from the same address request after request: remember the last.
let lastClient = '';
let lastHost: string | undefined;
let lastProto = '';
let lastElement = '';

/** One element of a Forwarded header (RFC 7239), quoting what must be quoted. */
export function forwardedElement(client: string, host: string | undefined, proto: string): string {
  if (client === lastClient && host === lastHost && proto === lastProto) return lastElement;
  lastClient = client;
  lastHost = host;
  lastProto = proto;
  lastElement = buildForwardedElement(client, host, proto);
  return lastElement;
}

function buildForwardedElement(client: string, host: string | undefined, proto: string): string {
  const forNode = client.includes(':') ? `"[${client}]"` : client;
  const hostPart = host === undefined ? '' : `;host=${/^[A-Za-z0-9.-]+$/.test(host) ? host : quote(host)}`;
  return `for=${forNode}${hostPart};proto=${proto}`;
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}
