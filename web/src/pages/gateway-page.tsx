// Gateway: routes, traffic split per version and active fault injections, live from
// GET /v1/gateway/watch. A control plane without the gateway API answers 404: the page
// says so instead of failing.
import { useEffect, useState } from 'react';
import { ApiError, describeError } from '../api/client.ts';
import { followEventStream } from '../api/streams.ts';
import type { FaultInjection, GatewayService, GatewaySnapshot } from '../api/types.ts';
import { ConfirmDialog, ErrorNote, Loading, PageTitle, TierTag } from '../components/common.tsx';
import { duration } from '../format.ts';
import { useClient, useLive, useNow } from '../live/hooks.ts';
import { may } from '../live/live-store.ts';
import { Link, servicePath } from '../router.tsx';

type Load =
  | { readonly kind: 'loading' }
  | { readonly kind: 'unavailable' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'ready'; readonly snapshot: GatewaySnapshot; readonly live: boolean };

export function GatewayPage() {
  const client = useClient();
  const operator = may(useLive().me, 'operator');
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [editing, setEditing] = useState<string | undefined>();

  useEffect(() => {
    const abort = new AbortController();
    const run = async () => {
      try {
        const snapshot = await client.get<GatewaySnapshot>('/v1/gateway/snapshot', abort.signal);
        setLoad({ kind: 'ready', snapshot, live: false });
      } catch (error) {
        if (abort.signal.aborted) return;
        if (error instanceof ApiError && error.status === 404) setLoad({ kind: 'unavailable' });
        else setLoad({ kind: 'error', message: describeError(error) });
        return;
      }
      await followEventStream(
        client,
        '/v1/gateway/watch',
        {
          onMessage: (m) => {
            if (m.event !== 'snapshot') return;
            const next = JSON.parse(m.data) as GatewaySnapshot;
            setLoad((old) =>
              // Snapshots carry a sequence: an older one (a reconnect race) never replaces a newer.
              old.kind === 'ready' && old.snapshot.sequence > next.sequence
                ? old
                : { kind: 'ready', snapshot: next, live: true },
            );
          },
          onState: (s) => setLoad((old) => (old.kind === 'ready' ? { ...old, live: s === 'open' } : old)),
        },
        abort.signal,
      );
    };
    void run();
    return () => abort.abort();
  }, [client]);

  const title = <PageTitle title="Gateway">Gateway</PageTitle>;
  if (load.kind === 'loading')
    return (
      <>
        {title}
        <Loading what="the gateway" />
      </>
    );
  if (load.kind === 'unavailable') {
    return (
      <>
        {title}
        <div className="panel empty-state">
          <h2>Gateway not available</h2>
          <p>
            This control plane has no gateway API yet (<code>GET /v1/gateway/snapshot</code> answered 404).
            Routes, traffic splits and fault injections appear here once it does.
          </p>
        </div>
      </>
    );
  }
  if (load.kind === 'error')
    return (
      <>
        {title}
        <ErrorNote>The gateway state could not be read: {load.message}</ErrorNote>
      </>
    );

  const { snapshot } = load;
  const services = Object.entries(snapshot.services).sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      {title}
      <p className="muted" role="status">
        {load.live ? 'Live' : 'Not live (reconnecting)'} · revision {snapshot.revision} · snapshot{' '}
        {snapshot.sequence} · shedding above {snapshot.settings.shedding.maxInFlight} requests in flight or{' '}
        {snapshot.settings.shedding.maxLatencyMs} ms
      </p>

      <section aria-labelledby="routes-title">
        <h2 id="routes-title">Routes</h2>
        {snapshot.routes.length === 0 ? (
          <p className="muted">No route.</p>
        ) : (
          <table className="stack-table" aria-labelledby="routes-title">
            <thead>
              <tr>
                <th scope="col">Path</th>
                <th scope="col">Match</th>
                <th scope="col">Service</th>
                <th scope="col">Options</th>
              </tr>
            </thead>
            <tbody>
              {snapshot.routes.map((r) => (
                <tr key={`${r.host ?? ''}${r.path}${r.methods?.join() ?? ''}${r.service}`}>
                  <th scope="row" data-label="Path">
                    <code>{r.path}</code>
                  </th>
                  <td data-label="Match">
                    {[
                      r.host ? `host ${r.host}` : '',
                      r.methods ? r.methods.join(' ') : 'any method',
                      ...Object.entries(r.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
                    ]
                      .filter(Boolean)
                      .join(', ')}
                  </td>
                  <td data-label="Service">
                    <Link href={servicePath(r.service)}>{r.service}</Link>
                  </td>
                  <td data-label="Options" className="wide">
                    {[
                      r.stripPrefix ? 'strip prefix' : '',
                      r.timeoutMs !== undefined ? `timeout ${r.timeoutMs} ms` : '',
                      r.rateLimit ? `${r.rateLimit.requestsPerSecond}/s (burst ${r.rateLimit.burst})` : '',
                    ]
                      .filter(Boolean)
                      .join(', ') || '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="split-title">
        <h2 id="split-title">Services and traffic split</h2>
        <table className="stack-table" aria-labelledby="split-title">
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Tier</th>
              <th scope="col">Endpoints</th>
              <th scope="col">Balancing</th>
              <th scope="col">Split</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {services.map(([name, s]) => (
              <tr key={name}>
                <th scope="row" data-label="Service">
                  <Link href={servicePath(name)}>{name}</Link>
                </th>
                <td data-label="Tier">
                  <TierTag tier={s.tier} />
                </td>
                <td data-label="Endpoints">
                  {s.endpoints.length} ({versionsOf(s).join(', ') || 'none'})
                </td>
                <td data-label="Balancing">{s.policy.loadBalancing.kind}</td>
                <td data-label="Split" className="wide">
                  <SplitBar service={s} />
                </td>
                <td data-label="Actions" className="wide">
                  {operator ? (
                    <button type="button" onClick={() => setEditing(name)}>
                      Edit split…
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <Faults faults={snapshot.faults} />

      <SplitEditor
        name={editing}
        service={editing ? snapshot.services[editing] : undefined}
        onClose={() => setEditing(undefined)}
      />
    </>
  );
}

function versionsOf(s: GatewayService): string[] {
  return [...new Set([...s.endpoints.map((e) => e.version), ...Object.keys(s.split?.weights ?? {})])].sort();
}

function SplitBar({ service }: { service: GatewayService }) {
  if (!service.split) return <span className="muted">even over every healthy endpoint</span>;
  const weights = Object.entries(service.split.weights);
  return (
    <div>
      <div className="split-bar" aria-hidden="true">
        {weights.map(([version, w], i) => (
          <span key={version} className={`split-part split-${i % 4}`} style={{ width: `${w}%` }} />
        ))}
      </div>
      <span className="small">
        {weights.map(([version, w]) => `${version}: ${w}%`).join(', ')}{' '}
        <span className="muted">(by {service.split.setBy})</span>
      </span>
    </div>
  );
}

function Faults({ faults }: { faults: readonly FaultInjection[] }) {
  const now = useNow();
  return (
    <section aria-labelledby="faults-title">
      <h2 id="faults-title">Active fault injections</h2>
      {faults.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <table className="stack-table" aria-labelledby="faults-title">
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Path</th>
              <th scope="col">Effect</th>
              <th scope="col">Expires</th>
              <th scope="col">By</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {faults.map((f) => (
              <tr key={f.id}>
                <th scope="row" data-label="Service">
                  {f.service}
                </th>
                <td data-label="Path">{f.path ?? 'every route'}</td>
                <td data-label="Effect" className="wide">
                  {[
                    f.delay ? `delay ${f.delay.ms} ms on ${f.delay.percent}%` : '',
                    f.abort ? `abort with ${f.abort.status} on ${f.abort.percent}%` : '',
                  ]
                    .filter(Boolean)
                    .join('; ')}
                </td>
                <td data-label="Expires">
                  <time dateTime={f.expiresAt}>
                    {Date.parse(f.expiresAt) > now
                      ? `in ${duration(Date.parse(f.expiresAt) - now)}`
                      : 'expired'}
                  </time>
                </td>
                <td data-label="By">{f.createdBy}</td>
                <td data-label="Actions" className="wide">
                  <EndFault fault={f} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function SplitEditor({
  name,
  service,
  onClose,
}: {
  name: string | undefined;
  service: GatewayService | undefined;
  onClose: () => void;
}) {
  const client = useClient();
  const [weights, setWeights] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const versions = service ? versionsOf(service) : [];

  useEffect(() => {
    setError(undefined);
    if (!service) return;
    const initial: Record<string, string> = {};
    const even = Math.floor(100 / Math.max(1, versionsOf(service).length));
    for (const v of versionsOf(service)) initial[v] = String(service.split?.weights[v] ?? even);
    setWeights(initial);
    // Only on opening: a new snapshot arriving meanwhile must not wipe what is being typed.
  }, [name]);

  const numbers = Object.fromEntries(Object.entries(weights).map(([v, w]) => [v, Number(w)]));
  const total = Object.values(numbers).reduce((a, b) => a + b, 0);
  const valid =
    Object.values(numbers).every((w) => Number.isInteger(w) && w >= 0 && w <= 100) && total === 100;

  const clear = async () => {
    if (!name) return;
    setBusy(true);
    try {
      await client.delete(`/v1/services/${encodeURIComponent(name)}/traffic`);
      onClose();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const save = async () => {
    if (!name) return;
    setBusy(true);
    try {
      await client.put(`/v1/services/${encodeURIComponent(name)}/traffic`, {
        weights: numbers,
      });
      onClose();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <ConfirmDialog
      open={name !== undefined}
      title={`Traffic split of ${name ?? ''}`}
      confirmLabel="Apply split"
      busy={busy}
      blocked={!valid}
      onCancel={onClose}
      onConfirm={() => void save()}
      extra={
        service?.split ? (
          <button type="button" disabled={busy} onClick={() => void clear()}>
            Clear split
          </button>
        ) : null
      }
    >
      {versions.length === 0 ? <p>No version has an endpoint.</p> : null}
      <div className="split-form">
        {versions.map((v) => (
          <p key={v}>
            <label htmlFor={`w-${v}`}>
              <code>{v}</code>
            </label>{' '}
            <input
              id={`w-${v}`}
              type="number"
              min={0}
              max={100}
              value={weights[v] ?? ''}
              onChange={(e) => setWeights({ ...weights, [v]: e.target.value })}
            />{' '}
            %
          </p>
        ))}
      </div>
      <p className={valid ? 'muted' : 'note note-error'} role="status">
        Total {total}%{valid ? '' : ': the weights must add up to 100'}.
      </p>
      {error ? <ErrorNote>{error}</ErrorNote> : null}
    </ConfirmDialog>
  );
}

function EndFault({ fault }: { fault: FaultInjection }) {
  const client = useClient();
  const operator = may(useLive().me, 'operator');
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const end = async () => {
    setBusy(true);
    try {
      await client.delete(`/v1/faults/${encodeURIComponent(fault.id)}`);
      setConfirm(false);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  if (!operator) return null;
  return (
    <>
      <button type="button" onClick={() => setConfirm(true)}>
        End…
      </button>
      <ConfirmDialog
        open={confirm}
        title={`End the fault injection on ${fault.service}?`}
        confirmLabel="End it now"
        busy={busy}
        onCancel={() => setConfirm(false)}
        onConfirm={() => void end()}
      >
        <p>Requests to {fault.service} stop being delayed or aborted at once.</p>
        {error ? <ErrorNote>{error}</ErrorNote> : null}
      </ConfirmDialog>
    </>
  );
}
