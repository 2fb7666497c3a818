// Revisions: the history of the architecture, a diff between any two revisions, and
// rollback — the plan (which services move, and why) is shown before anything is recorded.
import { useEffect, useState, type FormEvent } from 'react';
import { describeError } from '../api/client.ts';
import type {
  ChangeOutcome,
  DiffResponse,
  HistoryEntry,
  RevisionSource,
  RevisionSummary,
  RollbackPlan,
  ServiceDiff,
} from '../api/types.ts';
import { ConfirmDialog, ErrorNote, Loading, PageTitle } from '../components/common.tsx';
import { ago, clockTime, value } from '../format.ts';
import { useClient, useLive, useNow, useStore } from '../live/hooks.ts';
import { may } from '../live/live-store.ts';
import { setQuery, useLocation } from '../router.tsx';

const OUTCOME_TEXT: Record<HistoryEntry['outcome'], string> = {
  converged: 'Converged',
  failed: 'Failed',
  'rolled-back': 'Failed, rolled back',
  'in-progress': 'Rolling out',
  superseded: 'Superseded',
};

type RollbackRequest = { readonly to: number } | { readonly service: string; readonly toVersion?: string };

export function RevisionsPage() {
  const { revisions, services, me } = useLive();
  const now = useNow();
  const [request, setRequest] = useState<RollbackRequest | undefined>();
  const [outcome, setOutcome] = useState<string | undefined>();
  const title = <PageTitle title="Revisions">Revisions</PageTitle>;

  if (!revisions)
    return (
      <>
        {title}
        <Loading what="the history" />
      </>
    );
  if (revisions.length === 0)
    return (
      <>
        {title}
        <p>No revision yet: nothing has been applied.</p>
      </>
    );
  const current = revisions[0]!.number;

  return (
    <>
      {title}
      {outcome ? (
        <p className="note" role="status">
          {outcome}
        </p>
      ) : null}
      <section aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <table className="stack-table" aria-labelledby="history-title">
          <thead>
            <tr>
              <th scope="col">Revision</th>
              <th scope="col">When</th>
              <th scope="col">Author</th>
              <th scope="col">Message</th>
              <th scope="col">Source</th>
              <th scope="col">Outcome</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {revisions.map((r) => (
              <tr key={r.number} data-revision={r.number}>
                <th scope="row" data-label="Revision">
                  #{r.number}
                  {r.number === current ? <span className="current-tag"> current</span> : null}
                </th>
                <td data-label="When">
                  <time dateTime={r.createdAt} title={clockTime(r.createdAt, now)}>
                    {ago(r.createdAt, now)}
                  </time>
                </td>
                <td data-label="Author">{r.author}</td>
                <td data-label="Message" className="wide">
                  {r.message || <span className="muted">—</span>}
                </td>
                <td data-label="Source">{sourceText(r.source)}</td>
                <td data-label="Outcome">
                  <span className={`outcome outcome-${r.outcome}`}>{OUTCOME_TEXT[r.outcome]}</span>
                </td>
                <td data-label="Actions" className="wide">
                  {r.number !== current ? (
                    <span className="row-actions">
                      <button
                        type="button"
                        onClick={() => setQuery({ from: String(r.number), to: String(current) })}
                      >
                        Diff with current
                      </button>
                      {may(me, 'admin') ? (
                        <button type="button" onClick={() => setRequest({ to: r.number })}>
                          Roll back to #{r.number}…
                        </button>
                      ) : null}
                    </span>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <DiffSection revisions={revisions} />

      {may(me, 'admin') ? (
        <section aria-labelledby="service-rollback-title" className="panel">
          <h2 id="service-rollback-title">Roll back one service</h2>
          <p className="muted">
            The service returns to an earlier version; Baton moves only the services its version ranges force
            along, and says why.
          </p>
          <ServiceRollbackForm
            services={(services?.services ?? []).map((s) => s.name)}
            onPlan={(service, toVersion) => setRequest(toVersion ? { service, toVersion } : { service })}
          />
        </section>
      ) : null}

      <RollbackDialog
        request={request}
        onClose={() => setRequest(undefined)}
        onDone={(o) => {
          setRequest(undefined);
          setOutcome(
            o.applied
              ? `Recorded revision ${o.revision.number} (${sourceText(o.revision.source)}). The controller is rolling it out.`
              : 'Nothing changed: the architecture already was that.',
          );
        }}
      />
    </>
  );
}

function sourceText(source: RevisionSource): string {
  switch (source.kind) {
    case 'apply':
      return 'apply';
    case 'rollback':
      return `rollback to #${source.toRevision}`;
    case 'rollback-service':
      return `rollback of ${source.service}`;
  }
}

function ServiceRollbackForm({
  services,
  onPlan,
}: {
  services: readonly string[];
  onPlan: (s: string, v: string) => void;
}) {
  const [service, setService] = useState('');
  const [version, setVersion] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (service) onPlan(service, version.trim());
  };
  return (
    <form className="inline-form" onSubmit={submit}>
      <label htmlFor="rollback-service">Service</label>
      <select id="rollback-service" value={service} onChange={(e) => setService(e.target.value)} required>
        <option value="">choose…</option>
        {services.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </select>
      <label htmlFor="rollback-version">To version</label>
      <input
        id="rollback-version"
        value={version}
        placeholder="the previous one"
        size={12}
        onChange={(e) => setVersion(e.target.value)}
      />
      <button type="submit" disabled={!service}>
        Plan rollback…
      </button>
    </form>
  );
}

function DiffSection({ revisions }: { revisions: readonly RevisionSummary[] }) {
  const client = useClient();
  const { query } = useLocation();
  const newest = revisions[0]!.number;
  const to = Number(query.get('to') ?? newest);
  const from = Number(query.get('from') ?? revisions[1]?.number ?? newest);
  const [diff, setDiff] = useState<DiffResponse | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to < 1) return;
    const abort = new AbortController();
    setError(undefined);
    client
      .get<DiffResponse>(`/v1/revisions/${from}/diff/${to}`, abort.signal)
      .then(setDiff)
      .catch((e: unknown) => abort.signal.aborted || setError(describeError(e)));
    return () => abort.abort();
  }, [client, from, to]);

  const options = revisions.map((r) => (
    <option key={r.number} value={r.number}>
      #{r.number}
      {r.message ? ` — ${r.message.slice(0, 40)}` : ''}
    </option>
  ));
  return (
    <section aria-labelledby="diff-title" className="panel">
      <h2 id="diff-title">Compare</h2>
      <div className="inline-form">
        <label htmlFor="diff-from">From</label>
        <select id="diff-from" value={from} onChange={(e) => setQuery({ from: e.target.value })}>
          {options}
        </select>
        <label htmlFor="diff-to">to</label>
        <select id="diff-to" value={to} onChange={(e) => setQuery({ to: e.target.value })}>
          {options}
        </select>
      </div>
      {error ? <ErrorNote>{error}</ErrorNote> : null}
      {diff && diff.from === from && diff.to === to ? (
        <DiffView diff={diff} />
      ) : error ? null : (
        <Loading what="the diff" />
      )}
    </section>
  );
}

export function DiffView({ diff }: { diff: Pick<DiffResponse, 'services' | 'top' | 'unchanged'> }) {
  if (diff.services.length === 0 && diff.top.length === 0) {
    return <p className="muted">No difference: both revisions describe the same architecture.</p>;
  }
  return (
    <div className="diff" aria-live="polite">
      {diff.top.map((f) => (
        <p key={f.path}>
          <strong>{f.path}</strong>: {value(f.before)} → {value(f.after)}
        </p>
      ))}
      {diff.services.map((s) => (
        <ServiceDiffView key={s.service} diff={s} />
      ))}
      <p className="muted small">
        {diff.unchanged} other service{diff.unchanged === 1 ? '' : 's'} unchanged.
      </p>
    </div>
  );
}

function ServiceDiffView({ diff }: { diff: ServiceDiff }) {
  const version = diff.version;
  const fields = diff.fields.filter((f) => f.path !== 'version');
  return (
    <article className={`diff-service diff-${diff.change}`}>
      <h3>
        <span className="diff-sign" aria-hidden="true">
          {diff.change === 'added' ? '+' : diff.change === 'removed' ? '−' : '~'}
        </span>{' '}
        {diff.service} <span className="muted small">{diff.change}</span>
      </h3>
      {version && (version.from || version.to) ? (
        <p>
          version <code>{version.from ?? '—'}</code> → <code>{version.to ?? '—'}</code>
          {version.bump !== 'none' ? (
            <span className={`bump bump-${version.bump}`}> {version.bump}</span>
          ) : null}
        </p>
      ) : null}
      {fields.length > 0 ? (
        <table className="diff-fields">
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </tr>
          </thead>
          <tbody>
            {fields.map((f) => (
              <tr key={f.path}>
                <th scope="row">
                  <code>{f.path}</code>
                </th>
                <td className="diff-before">
                  <code>{value(f.before)}</code>
                </td>
                <td className="diff-after">
                  <code>{value(f.after)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </article>
  );
}

function RollbackDialog({
  request,
  onClose,
  onDone,
}: {
  request: RollbackRequest | undefined;
  onClose: () => void;
  onDone: (outcome: ChangeOutcome) => void;
}) {
  const store = useStore();
  const [plan, setPlan] = useState<RollbackPlan | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setPlan(undefined);
    setError(undefined);
    if (!request) return;
    let current = true;
    store.client
      .post<RollbackPlan>('/v1/rollback/plan', request)
      .then((p) => current && setPlan(p))
      .catch((e: unknown) => current && setError(describeError(e)));
    return () => {
      current = false;
    };
  }, [store, request]);

  const confirm = async () => {
    if (!request) return;
    setBusy(true);
    try {
      const outcome = await store.client.post<ChangeOutcome>('/v1/rollback', {
        ...request,
        message: 'rollback from the console',
      });
      store.refresh('revisions');
      onDone(outcome);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const what = !request
    ? ''
    : 'to' in request
      ? `the architecture to revision #${request.to}`
      : request.service;
  const breaks = plan?.rollout.breaks ?? [];
  return (
    <ConfirmDialog
      open={request !== undefined}
      title={`Roll back ${what}?`}
      confirmLabel="Roll back"
      danger
      busy={busy}
      blocked={!plan || plan.unchanged || breaks.length > 0 || error !== undefined}
      onCancel={onClose}
      onConfirm={() => void confirm()}
    >
      {error ? <ErrorNote>{error}</ErrorNote> : null}
      {!plan && !error ? <Loading what="the plan" /> : null}
      {plan ? <PlanView plan={plan} /> : null}
    </ConfirmDialog>
  );
}

function PlanView({ plan }: { plan: RollbackPlan }) {
  if (plan.unchanged) return <p>The architecture already is that: nothing would change.</p>;
  const steps = plan.rollout.steps;
  return (
    <div className="plan">
      <p>
        A new revision is recorded on top of #{plan.from}; history is kept. {steps.length} service
        {steps.length === 1 ? '' : 's'} move{steps.length === 1 ? 's' : ''}:
      </p>
      {plan.moves && plan.moves.length > 0 ? (
        <ul className="plain moves" aria-label="Services that move, and why">
          {plan.moves.map((m) => (
            <li key={m.service}>
              <strong>{m.service}</strong> <code>{m.from}</code> → <code>{m.to}</code>
              <br />
              <span className="muted small">{m.reason}</span>
            </li>
          ))}
        </ul>
      ) : null}
      <ol className="steps" aria-label="Rollout steps, in order">
        {steps.map((s) => (
          <li key={s.index}>
            {s.action} <strong>{s.service}</strong>
            {s.fromVersion || s.toVersion ? (
              <>
                {' '}
                <code>{s.fromVersion ?? '—'}</code> → <code>{s.toVersion ?? '—'}</code>
              </>
            ) : null}
          </li>
        ))}
      </ol>
      {plan.rollout.breaks.length > 0 ? (
        <ErrorNote>
          This plan breaks a version range, so the console will not carry it out:{' '}
          {plan.rollout.breaks.map((b) => b.message).join('; ')}
        </ErrorNote>
      ) : null}
      {plan.warnings.length > 0 ? (
        <ul className="plain warnings" aria-label="Warnings">
          {plan.warnings.map((w, i) => (
            <li key={i}>⚠ {w.message}</li>
          ))}
        </ul>
      ) : null}
      <details>
        <summary>Every field that changes</summary>
        <DiffView diff={plan.rollout.diff} />
      </details>
    </div>
  );
}
