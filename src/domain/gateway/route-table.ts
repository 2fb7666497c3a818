// Which route a request takes. Compiled once per snapshot into maps, so a lookup costs a
// few map probes (one per path segment) however many routes there are.
//
// Most specific wins, in this order: a route naming the request's host beats any route
// without a host; then the longer path prefix; then a route with a method list; then the
// route with more header conditions; ties go to the service name, then manifest order, so
// every gateway picks the same route for the same request.
import type { GatewayRoute } from './snapshot.ts';

/** What the table needs from a request; header names are looked up lower-cased. */
export interface RouteRequest {
  /** Lower-case host without port; '' when the request named none. */
  readonly host: string;
  /** Path without the query, normalised (see normalizePath). */
  readonly path: string;
  readonly method: string;
  header(lowerCaseName: string): string | undefined;
}

export interface RouteTable<E> {
  match(request: RouteRequest): E | undefined;
  readonly size: number;
}

interface Candidate<E> {
  readonly entry: E;
  readonly methods: ReadonlySet<string> | undefined;
  readonly headers: readonly (readonly [string, string])[];
}

type PrefixIndex<E> = Map<string, Candidate<E>[]>;

/**
 * `entries` carry a route each plus whatever the caller wants back from a match (compiled
 * per-route state); their order is the manifest order used for the final tie-break.
 */
export function compileRouteTable<E extends { readonly route: GatewayRoute }>(
  entries: readonly E[],
): RouteTable<E> {
  const byHost = new Map<string, PrefixIndex<E>>();
  const anyHost: PrefixIndex<E> = new Map();
  const order = new Map<E, number>();
  entries.forEach((entry, index) => order.set(entry, index));

  for (const entry of entries) {
    const { route } = entry;
    let index = anyHost;
    if (route.host !== undefined && route.host !== '') {
      const host = route.host.toLowerCase();
      index = byHost.get(host) ?? new Map();
      byHost.set(host, index);
    }
    const prefix = routePrefix(route.path);
    const list = index.get(prefix) ?? [];
    list.push({
      entry,
      methods: route.methods !== undefined && route.methods.length > 0 ? new Set(route.methods) : undefined,
      headers: Object.entries(route.headers ?? {}).map(
        ([name, value]) => [name.toLowerCase(), value] as const,
      ),
    });
    index.set(prefix, list);
  }

  const bySpecificity = (a: Candidate<E>, b: Candidate<E>): number =>
    Number(b.methods !== undefined) - Number(a.methods !== undefined) ||
    b.headers.length - a.headers.length ||
    compareText(a.entry.route.service, b.entry.route.service) ||
    order.get(a.entry)! - order.get(b.entry)!;
  for (const index of [anyHost, ...byHost.values()]) {
    for (const list of index.values()) list.sort(bySpecificity);
  }

  return {
    size: entries.length,
    match(request) {
      if (request.host !== '' && byHost.size > 0) {
        const index = byHost.get(request.host);
        if (index !== undefined) {
          const found = matchIn(index, request);
          if (found !== undefined) return found;
        }
      }
      return matchIn(anyHost, request);
    },
  };
}

function matchIn<E>(index: PrefixIndex<E>, request: RouteRequest): E | undefined {
  if (index.size === 0) return undefined;
  let prefix = request.path;
  if (prefix.length > 1 && prefix.charCodeAt(prefix.length - 1) === 47 /* / */) prefix = prefix.slice(0, -1);
  for (;;) {
    const list = index.get(prefix);
    if (list !== undefined) {
      for (const candidate of list) {
        if (candidate.methods !== undefined && !candidate.methods.has(request.method)) continue;
        if (!headersMatch(candidate.headers, request)) continue;
        return candidate.entry;
      }
    }
    if (prefix === '/') return undefined;
    const cut = prefix.lastIndexOf('/');
    prefix = cut <= 0 ? '/' : prefix.slice(0, cut);
  }
}

function headersMatch(headers: readonly (readonly [string, string])[], request: RouteRequest): boolean {
  for (const [name, value] of headers) {
    if (request.header(name) !== value) return false;
  }
  return true;
}

/** A route path as a table key: no trailing slash except for the root. */
export function routePrefix(path: string): string {
  let prefix = path;
  while (prefix.length > 1 && prefix.endsWith('/')) prefix = prefix.slice(0, -1);
  return prefix;
}

/**
 * The path sent upstream: with `stripPrefix`, the route's prefix is removed (keeping a
 * leading slash) and the query string is kept as it came.
 */
export function upstreamPath(url: string, prefix: string, stripPrefix: boolean): string {
  if (!stripPrefix || prefix === '/') return url;
  const rest = url.slice(prefix.length);
  if (rest === '') return '/';
  return rest.charCodeAt(0) === 47 /* / */ ? rest : `/${rest}`;
}

/** Lower-case host of a Host header, without the port; '' when absent. */
export function hostOf(header: string | undefined): string {
  if (header === undefined || header === '') return '';
  let end = header.length;
  if (header.charCodeAt(0) === 91 /* [ */) {
    const close = header.indexOf(']');
    end = close === -1 ? end : close + 1;
  } else {
    const colon = header.indexOf(':');
    if (colon !== -1) end = colon;
  }
  const host = end === header.length ? header : header.slice(0, end);
  return hasUpperCase(host) ? host.toLowerCase() : host;
}

/**
 * Removes dot segments (RFC 3986 §5.2.4), including percent-encoded dots, so that
 * `/public/../admin` cannot be routed as `/public`. Returns undefined for a path that
 * climbs above the root. Cheap when there is nothing to do, which is almost always.
 */
export function normalizePath(path: string): string | undefined {
  if (!needsNormalizing(path)) return path;
  const decoded = path.replace(/%2e/gi, '.');
  const out: string[] = [];
  const segments = decoded.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '.' || (segment === '' && i < segments.length - 1)) continue;
    if (segment === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(segment);
  }
  const last = segments[segments.length - 1];
  const trailing = (last === '.' || last === '..') && out.length > 0 ? '/' : '';
  return `/${out.join('/')}${trailing}`;
}

/** A dot after a slash, a percent sign, or two slashes in a row: one pass, no allocation. */
function needsNormalizing(path: string): boolean {
  let previous = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 37 /* % */ || (previous === 47 && (c === 46 /* . */ || c === 47))) return true;
    previous = c;
  }
  return false;
}

function hasUpperCase(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) return true;
  }
  return false;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
