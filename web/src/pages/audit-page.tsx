// Audit: who changed what, when, from where, and how it ended — every call that changed
// something or tried to (GET /v1/audit). Filters go to the server and into the URL.
import { useEffect, useState } from 'react';
import { describeError } from '../api/client.ts';
import type { StoredEvent } from '../api/types.ts';
import { ErrorNote, Loading, PageTitle } from '../components/common.tsx';
import { clockTime } from '../format.ts';
import { useClient, useLive, useNow } from '../live/hooks.ts';
import { setQuery, useLocation } from '../router.tsx';

interface AuditData {
  readonly action?: string;
  readonly method?: string;
  readonly path?: string;
  readonly status?: number;
  readonly source?: string;
}

export function AuditPage() {
  const client = useClient();
  const now = useNow();
  const { query } = useLocation();
  const { events: live } = useLive();
  const actor = query.get('actor') ?? '';
  const action = query.get('action') ?? '';
  const [events, setEvents] = useState<readonly StoredEvent[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  // A new audit event on the live stream means a new row here.
  const latestAudit = live.findLast((e) => e.kind === 'audit')?.seq ?? 0;

  useEffect(() => {
    const abort = new AbortController();
    const params = new URLSearchParams({ limit: '200' });
    if (actor) params.set('actor', actor);
    if (action) params.set('action', action);
    client
      .get<{ events: StoredEvent[] }>(`/v1/audit?${params}`, abort.signal)
      .then((r) => {
        setEvents(r.events);
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (!abort.signal.aborted) setError(describeError(e));
      });
    return () => abort.abort();
  }, [client, actor, action, latestAudit]);

  return (
    <>
      <PageTitle title="Audit">Audit</PageTitle>
      <form
        className="inline-form filters"
        role="search"
        aria-label="Filter the audit trail"
        onSubmit={(e) => e.preventDefault()}
      >
        <label htmlFor="audit-actor">Who</label>
        <input
          id="audit-actor"
          value={actor}
          placeholder="every identity"
          onChange={(e) => setQuery({ actor: e.target.value })}
        />
        <label htmlFor="audit-action">Action</label>
        <input
          id="audit-action"
          value={action}
          placeholder="apply, scale, injectFault…"
          onChange={(e) => setQuery({ action: e.target.value })}
        />
      </form>
      {error ? <ErrorNote>{error}</ErrorNote> : null}
      {events === undefined ? (
        error ? null : (
          <Loading what="the audit trail" />
        )
      ) : events.length === 0 ? (
        <p className="muted">Nothing recorded{actor || action ? ' for this filter' : ''}.</p>
      ) : (
        <table className="stack-table events-table" aria-label="Audit trail, newest first">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Who</th>
              <th scope="col">From</th>
              <th scope="col">Action</th>
              <th scope="col">Outcome</th>
              <th scope="col">Request</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => {
              const data = (e.data ?? {}) as AuditData;
              const refused = (data.status ?? 0) >= 400;
              return (
                <tr key={e.seq} data-seq={e.seq}>
                  <td data-label="Time">
                    <time dateTime={e.time}>{clockTime(e.time, now)}</time>
                  </td>
                  <td data-label="Who">
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => setQuery({ actor: e.actor })}
                    >
                      {e.actor}
                    </button>
                  </td>
                  <td data-label="From">{data.source ?? '—'}</td>
                  <td data-label="Action">{data.action ?? '—'}</td>
                  <td data-label="Outcome" className={refused ? 'bad' : undefined}>
                    {data.status ?? '—'}
                    {refused ? ' (refused)' : ''}
                  </td>
                  <td data-label="Request">
                    <code>
                      {data.method} {data.path}
                    </code>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}
