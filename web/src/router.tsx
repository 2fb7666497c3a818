// Client-side routing with the History API: real paths (/services/orders), which the
// control plane answers with index.html (the SPA fallback in dashboard.ts).
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const CHANGE = 'baton:navigate';

function subscribe(listener: () => void): () => void {
  window.addEventListener('popstate', listener);
  window.addEventListener(CHANGE, listener);
  return () => {
    window.removeEventListener('popstate', listener);
    window.removeEventListener(CHANGE, listener);
  };
}

const snapshot = () => window.location.pathname + window.location.search;

/** The current path and query, e.g. `/events?service=orders`. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(href, window.location.origin);
  return { path: url.pathname, query: url.searchParams };
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(CHANGE));
}

/** Replaces the query string (filters, selections) without adding a history entry. */
export function setQuery(params: Record<string, string | undefined>): void {
  const url = new URL(window.location.href);
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === '') url.searchParams.delete(key);
    else url.searchParams.set(key, value);
  }
  navigate(url.pathname + url.search, { replace: true });
}

export type Route =
  | { readonly page: 'overview' }
  | { readonly page: 'map' }
  | { readonly page: 'traces' }
  | { readonly page: 'trace'; readonly traceId: string }
  | { readonly page: 'service'; readonly name: string }
  | { readonly page: 'revisions' }
  | { readonly page: 'events' }
  | { readonly page: 'gateway' }
  | { readonly page: 'audit' }
  | { readonly page: 'not-found' };

export function matchRoute(path: string): Route {
  const clean = path.replace(/\/+$/, '') || '/';
  if (clean === '/') return { page: 'overview' };
  if (clean === '/map') return { page: 'map' };
  if (clean === '/traces') return { page: 'traces' };
  if (clean === '/revisions') return { page: 'revisions' };
  if (clean === '/events') return { page: 'events' };
  if (clean === '/gateway') return { page: 'gateway' };
  if (clean === '/audit') return { page: 'audit' };
  const service = /^\/services\/([^/]+)$/.exec(clean);
  if (service) return { page: 'service', name: decodeURIComponent(service[1]!) };
  const trace = /^\/traces\/([^/]+)$/.exec(clean);
  if (trace) return { page: 'trace', traceId: decodeURIComponent(trace[1]!) };
  return { page: 'not-found' };
}

export const servicePath = (name: string) => `/services/${encodeURIComponent(name)}`;
export const tracePath = (traceId: string) => `/traces/${encodeURIComponent(traceId)}`;

/** An ordinary link (middle-click, copy address work) that navigates without a reload. */
export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const click = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={click} {...rest} />;
}
