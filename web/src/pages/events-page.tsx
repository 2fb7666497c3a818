// Events: the audit trail, live. Filters go to the server (GET /v1/events?service=&kind=)
// and into the URL, so a filtered view can be shared; the stream resumes by Last-Event-ID.
import { useEffect, useState } from 'react';
import { followEventStream, type StreamState } from '../api/streams.ts';
import type { EventsResponse, StoredEvent } from '../api/types.ts';
import { ErrorNote, PageTitle } from '../components/common.tsx';
import { clockTime } from '../format.ts';
import { useClient, useLive, useNow } from '../live/hooks.ts';
import { Link, servicePath, setQuery, useLocation } from '../router.tsx';

/** Kinds by family; the server filters on exact kinds, so a family expands to its members. */
export const KIND_GROUPS: Readonly<Record<string, readonly string[]>> = {
  revisions: ['revision.applied', 'revision.rolled-back', 'revision.converged', 'rollout.failed'],
  services: [
    'service.deploying',
    'service.running',
    'service.updating',
    'service.rolling-back',
    'service.scaling',
    'service.degraded',
    'service.failed',
    'service.destroying',
    'service.offline',
  ],
  instances: [
    'instance.provisioning',
    'instance.starting',
    'instance.started',
    'instance.ready',
    'instance.running',
    'instance.unhealthy',
    'instance.draining',
    'instance.stopped',
    'instance.failed',
  ],
  problems: [
    'rollout.failed',
    'service.degraded',
    'service.failed',
    'instance.unhealthy',
    'instance.failed',
    'alert.restarts-exhausted',
  ],
};

const KEEP = 500;
/** Rows drawn at first; more on request (a long table costs every render). */
const PAGE = 100;
/** How many events (of every kind) back the page starts reading from. */
const WINDOW = 2000;

export function EventsPage() {
  const client = useClient();
  const { services } = useLive();
  const { query } = useLocation();
  const now = useNow();
  const service = query.get('service') ?? '';
  const kind = query.get('kind') ?? '';
  const [events, setEvents] = useState<readonly StoredEvent[]>([]);
  const [stream, setStream] = useState<StreamState>('connecting');
  const [error, setError] = useState<string | undefined>();
  const [shown, setShown] = useState(PAGE);

  useEffect(() => {
    const abort = new AbortController();
    setEvents([]);
    setError(undefined);
    setShown(PAGE);
    const params = new URLSearchParams();
    if (service) params.set('service', service);
    const kinds = KIND_GROUPS[kind] ?? (kind ? [kind] : []);
    if (kinds.length > 0) params.set('kind', kinds.join(','));
    let pending: StoredEvent[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      const batch = pending;
      pending = [];
      setEvents((old) => [...batch.reverse(), ...old].slice(0, KEEP));
    };
    const run = async () => {
      const { last } = await client.get<EventsResponse>('/v1/events?limit=1', abort.signal);
      params.set('after', String(Math.max(0, last - WINDOW)));
      await followEventStream(
        client,
        `/v1/events?${params.toString()}`,
        {
          onMessage: (m) => {
            if (m.event !== 'event') return;
            pending.push(JSON.parse(m.data) as StoredEvent);
            timer ??= setTimeout(flush, 50);
          },
          onState: setStream,
          onFatal: (e) => setError(e.message),
        },
        abort.signal,
      );
    };
    run().catch((e: unknown) => abort.signal.aborted || setError(String(e)));
    return () => {
      abort.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [client, service, kind]);

  return (
    <>
      <PageTitle title="Events">Events</PageTitle>
      <form
        className="inline-form filters"
        role="search"
        aria-label="Filter events"
        onSubmit={(e) => e.preventDefault()}
      >
        <label htmlFor="filter-service">Service</label>
        <select id="filter-service" value={service} onChange={(e) => setQuery({ service: e.target.value })}>
          <option value="">every service</option>
          {(services?.services ?? []).map((s) => (
            <option key={s.name} value={s.name}>
              {s.name}
            </option>
          ))}
          {service && !services?.services.some((s) => s.name === service) ? (
            <option value={service}>{service}</option>
          ) : null}
        </select>
        <label htmlFor="filter-kind">Kind</label>
        <select id="filter-kind" value={kind} onChange={(e) => setQuery({ kind: e.target.value })}>
          <option value="">every kind</option>
          <option value="revisions">revisions and rollouts</option>
          <option value="services">service phases</option>
          <option value="instances">instance phases</option>
          <option value="problems">problems only</option>
          {kind && !KIND_GROUPS[kind] ? <option value={kind}>{kind}</option> : null}
        </select>
        <span className="muted small" role="status">
          {stream === 'open'
            ? `live · ${Math.min(shown, events.length)} of the latest ${events.length}`
            : stream === 'retrying'
              ? 'reconnecting…'
              : 'connecting…'}
        </span>
      </form>
      {error ? <ErrorNote>{error}</ErrorNote> : null}
      <table className="stack-table events-table" aria-label="Events, newest first">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Kind</th>
            <th scope="col">Service</th>
            <th scope="col">Actor</th>
            <th scope="col">What happened</th>
          </tr>
        </thead>
        <tbody>
          {events.slice(0, shown).map((e) => (
            <tr key={e.seq} data-seq={e.seq}>
              <td data-label="Time">
                <time dateTime={e.time}>{clockTime(e.time, now)}</time>
              </td>
              <td data-label="Kind">
                <button type="button" className="link-button kind" onClick={() => setQuery({ kind: e.kind })}>
                  {e.kind}
                </button>
              </td>
              <td data-label="Service">
                {e.service ? <Link href={servicePath(e.service)}>{e.service}</Link> : '—'}
              </td>
              <td data-label="Actor">{e.actor}</td>
              <td data-label="What happened">{e.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {events.length > shown ? (
        <p>
          <button type="button" onClick={() => setShown(shown + PAGE)}>
            Show {Math.min(PAGE, events.length - shown)} older
          </button>
        </p>
      ) : null}
      {events.length === 0 && stream === 'open' ? <p className="muted">No event matches.</p> : null}
    </>
  );
}
