// The traces search as the address holds it (`/traces?service=orders&range=1h`) and as the
// API wants it (`/v1/traces?service=orders&since=…`). Time ranges are relative, so the
// API query is built at each request, from the time of that request.

export const RANGES = [
  { value: '15m', label: 'last 15 minutes', ms: 15 * 60_000 },
  { value: '1h', label: 'last hour', ms: 60 * 60_000 },
  { value: '6h', label: 'last 6 hours', ms: 6 * 60 * 60_000 },
  { value: '24h', label: 'last 24 hours', ms: 24 * 60 * 60_000 },
  { value: 'all', label: 'any time', ms: undefined },
] as const;

export type RangeValue = (typeof RANGES)[number]['value'];
export const DEFAULT_RANGE: RangeValue = '1h';
export const PAGE_SIZE = 50;
/** The API's own ceiling. */
export const MAX_LIMIT = 1000;

export interface TraceSearch {
  readonly service: string;
  readonly route: string;
  readonly status: '' | 'ok' | 'error';
  /** As typed: `250`, `250ms`, `1.5s` (the API parses them). */
  readonly min: string;
  readonly max: string;
  readonly range: RangeValue;
  readonly limit: number;
}

export function searchFromQuery(query: URLSearchParams): TraceSearch {
  const status = query.get('status');
  const range = query.get('range');
  const limit = Number(query.get('limit'));
  return {
    service: query.get('service') ?? '',
    route: query.get('route') ?? '',
    status: status === 'ok' || status === 'error' ? status : '',
    min: query.get('min') ?? '',
    max: query.get('max') ?? '',
    range: RANGES.some((r) => r.value === range) ? (range as RangeValue) : DEFAULT_RANGE,
    limit: Number.isInteger(limit) && limit > 0 ? Math.min(limit, MAX_LIMIT) : PAGE_SIZE,
  };
}

/** What setQuery() takes: defaults left out, so a plain search has a plain address. */
export function queryOfSearch(search: TraceSearch): Record<string, string | undefined> {
  return {
    service: search.service.trim() || undefined,
    route: search.route.trim() || undefined,
    status: search.status || undefined,
    min: search.min.trim() || undefined,
    max: search.max.trim() || undefined,
    range: search.range === DEFAULT_RANGE ? undefined : search.range,
    limit: search.limit === PAGE_SIZE ? undefined : String(search.limit),
  };
}

/** GET /v1/traces for this search, with `since` counted back from `nowMs`. */
export function apiPathOfSearch(search: TraceSearch, nowMs: number): string {
  const params = new URLSearchParams();
  const set = (key: string, value: string) => {
    if (value.trim() !== '') params.set(key, value.trim());
  };
  set('service', search.service);
  set('route', search.route);
  set('status', search.status);
  set('minDuration', search.min);
  set('maxDuration', search.max);
  const range = RANGES.find((r) => r.value === search.range);
  if (range?.ms !== undefined) params.set('since', String(nowMs - range.ms));
  params.set('limit', String(search.limit));
  return `/v1/traces?${params.toString()}`;
}
