// Traces: search by service, route, status, duration and time; newest first, each row
// opening the trace. The search lives in the address so a search can be shared; results
// follow new traces every few seconds unless paused.
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { RedResponse, TraceSummary, TracesResponse } from '../api/types.ts';
import { Badge, ErrorNote, Loading, PageTitle } from '../components/common.tsx';
import { ago, clockTime } from '../format.ts';
import { useClient, useLive, useNow } from '../live/hooks.ts';
import { usePoll } from '../live/use-poll.ts';
import { Link, setQuery, tracePath, useLocation } from '../router.tsx';
import { msText } from '../telemetry/figures.ts';
import {
  apiPathOfSearch,
  MAX_LIMIT,
  PAGE_SIZE,
  queryOfSearch,
  RANGES,
  searchFromQuery,
  type RangeValue,
  type TraceSearch,
} from '../telemetry/trace-search.ts';
import './traces.css';

const EVERY_MS = 5_000;
const EMPTY = searchFromQuery(new URLSearchParams());

export function TracesPage() {
  const client = useClient();
  const { services } = useLive();
  const { query } = useLocation();
  const now = useNow();
  const key = JSON.stringify(searchFromQuery(query));
  const search = useMemo(() => JSON.parse(key) as TraceSearch, [key]);
  const [form, setForm] = useState<TraceSearch>(search);
  const [following, setFollowing] = useState(true);

  // The address changed (back, a link, Clear): the form shows what is searched.
  useEffect(() => setForm(search), [search]);

  const result = usePoll<TracesResponse>(
    key,
    (signal) => client.get<TracesResponse>(apiPathOfSearch(search, Date.now()), signal),
    following ? EVERY_MS : 0,
  );
  // Route names to suggest: what RED has seen served. Read when the route field is first
  // used: the report carries every series too, more than a suggestion list is worth up front.
  const [suggest, setSuggest] = useState(false);
  const red = usePoll<RedResponse>(
    suggest ? 'red' : undefined,
    (signal) => client.get<RedResponse>('/v1/metrics/red', signal),
    0,
  );
  const serviceNames = useMemo(() => {
    const names = new Set((services?.services ?? []).map((s) => s.name));
    for (const s of red.data?.services ?? []) names.add(s.service);
    if (search.service) names.add(search.service);
    return [...names].sort();
  }, [services, red.data, search.service]);
  const routes = useMemo(() => {
    const all = new Set<string>();
    for (const s of red.data?.services ?? [])
      if (!form.service || s.service === form.service) for (const r of s.routes) all.add(r.route);
    return [...all].sort();
  }, [red.data, form.service]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setQuery(queryOfSearch({ ...form, limit: PAGE_SIZE }));
  };
  const field = <K extends keyof TraceSearch>(name: K, value: TraceSearch[K]) =>
    setForm((old) => ({ ...old, [name]: value }));

  const traces = result.data?.traces;
  const unavailable = result.errorStatus === 404 && traces === undefined;
  const slowest = Math.max(0, ...(traces ?? []).map((t) => t.durationMs));

  return (
    <>
      <PageTitle title="Traces">Traces</PageTitle>
      <form className="search-form" role="search" aria-label="Search traces" onSubmit={submit}>
        <div className="field">
          <label htmlFor="trace-service">Service</label>
          <select id="trace-service" value={form.service} onChange={(e) => field('service', e.target.value)}>
            <option value="">any service</option>
            {serviceNames.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-wide">
          <label htmlFor="trace-route">Route of the first span</label>
          <input
            id="trace-route"
            type="text"
            list="trace-routes"
            placeholder="e.g. POST /api/checkout"
            autoComplete="off"
            spellCheck={false}
            value={form.route}
            onFocus={() => setSuggest(true)}
            onChange={(e) => field('route', e.target.value)}
          />
          <datalist id="trace-routes">
            {routes.map((r) => (
              <option key={r} value={r} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor="trace-status">Status</label>
          <select
            id="trace-status"
            value={form.status}
            onChange={(e) => field('status', e.target.value as TraceSearch['status'])}
          >
            <option value="">ok or error</option>
            <option value="ok">ok only</option>
            <option value="error">with an error</option>
          </select>
        </div>
        <div className="field field-narrow">
          <label htmlFor="trace-min">Min duration</label>
          <input
            id="trace-min"
            type="text"
            inputMode="decimal"
            placeholder="250ms"
            aria-describedby="duration-hint"
            value={form.min}
            onChange={(e) => field('min', e.target.value)}
          />
        </div>
        <div className="field field-narrow">
          <label htmlFor="trace-max">Max duration</label>
          <input
            id="trace-max"
            type="text"
            inputMode="decimal"
            placeholder="2s"
            aria-describedby="duration-hint"
            value={form.max}
            onChange={(e) => field('max', e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="trace-range">Started</label>
          <select
            id="trace-range"
            value={form.range}
            onChange={(e) => field('range', e.target.value as RangeValue)}
          >
            {RANGES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-actions">
          <button type="submit" className="primary">
            Search
          </button>
          <button
            type="button"
            onClick={() => {
              setForm(EMPTY);
              setQuery(queryOfSearch(EMPTY));
            }}
          >
            Clear
          </button>
        </div>
        <p id="duration-hint" className="muted small field-hint">
          Durations: 250 (ms), 250ms, 1.5s, 2m.
        </p>
      </form>

      <div className="title-row">
        <h2 id="results-title">Results</h2>
        <span className="muted small" role="status">
          {traces === undefined
            ? ''
            : `${traces.length === search.limit ? `the latest ${traces.length}` : traces.length} trace${traces.length === 1 ? '' : 's'}, newest first${following ? ' · following new traces' : ' · updates paused'}`}
        </span>
        <button
          type="button"
          className="push-end toggle"
          aria-pressed={!following}
          onClick={() => setFollowing(!following)}
        >
          Pause updates
        </button>
      </div>
      {unavailable ? (
        <ErrorNote>Telemetry is not available on this control plane (GET /v1/traces answered 404).</ErrorNote>
      ) : result.error ? (
        <ErrorNote>{result.error}</ErrorNote>
      ) : null}
      {traces === undefined ? (
        result.error ? null : (
          <Loading what="traces" />
        )
      ) : traces.length === 0 ? (
        <p className="muted">
          No trace matches. Services send their spans every second or so: new requests show up here shortly.
        </p>
      ) : (
        <table className="stack-table traces-table" aria-labelledby="results-title">
          <thead>
            <tr>
              <th scope="col">Trace</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Spans</th>
              <th scope="col">Services</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {traces.map((t) => (
              <TraceRow key={t.traceId} trace={t} now={now} slowest={slowest} />
            ))}
          </tbody>
        </table>
      )}
      {traces !== undefined && traces.length === search.limit && search.limit < MAX_LIMIT ? (
        <p>
          <button
            type="button"
            onClick={() =>
              setQuery(queryOfSearch({ ...search, limit: Math.min(MAX_LIMIT, search.limit + PAGE_SIZE) }))
            }
          >
            Show {PAGE_SIZE} more
          </button>
        </p>
      ) : null}
    </>
  );
}

function TraceRow({ trace: t, now, slowest }: { trace: TraceSummary; now: number; slowest: number }) {
  const share = slowest > 0 ? Math.max(1, (t.durationMs / slowest) * 100) : 0;
  return (
    <tr data-trace={t.traceId} data-error={t.error}>
      <th scope="row" data-label="Trace">
        <Link href={tracePath(t.traceId)} className="trace-link">
          <span className="trace-service">{t.root.service}</span>{' '}
          <span className="trace-route">{t.root.route}</span>
        </Link>
        <span className="muted small trace-id">{t.traceId.slice(0, 8)}</span>
      </th>
      <td data-label="Started">
        <time dateTime={t.start} title={clockTime(t.start, now)}>
          {clockTime(t.start, now)}
        </time>{' '}
        <span className="muted small trace-ago">{ago(t.start, now)}</span>
      </td>
      <td data-label="Duration" className="num">
        {msText(t.durationMs)}
        <span className="duration-bar" aria-hidden="true">
          <span style={{ width: `${share}%` }} />
        </span>
      </td>
      <td data-label="Spans" className="num">
        {t.spanCount}
      </td>
      <td data-label="Services" className="wide">
        {t.services.join(', ')}
      </td>
      <td data-label="Status">
        {t.error ? (
          <Badge health="failed" label={t.errorCount === 1 ? 'Error' : `${t.errorCount} errors`} />
        ) : (
          <Badge health="healthy" label="OK" />
        )}
      </td>
    </tr>
  );
}
