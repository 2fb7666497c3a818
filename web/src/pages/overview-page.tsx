// Overview: every service at a glance, counts by status, and what is happening now.
import { useEffect } from 'react';
import type { ClusterView, ServiceState, ServiceSummary, StoredEvent } from '../api/types.ts';
import { Badge, Loading, PageTitle, TierTag } from '../components/common.tsx';
import { ago, duration } from '../format.ts';
import { HEALTH_ORDER, serviceHealth, serviceLabel, type Health } from '../health.ts';
import { useLive, useNow } from '../live/hooks.ts';
import { Link, servicePath } from '../router.tsx';

/** Kinds worth a line under "Happening now". */
const NOTABLE = /^(revision\.|rollout\.|alert\.|instance\.(failed|unhealthy)$|service\.(degraded|failed)$)/;

let readyMarked = false;

interface Row {
  readonly name: string;
  readonly summary: ServiceSummary | undefined;
  readonly state: ServiceState | undefined;
  readonly health: Health;
}

export function OverviewPage() {
  const { status, services, events } = useLive();
  const now = useNow();
  const rows = mergeRows(services?.services, status?.services);

  useEffect(() => {
    // First-load measurement: navigation start → this table rendered with data.
    if (!readyMarked && rows.length > 0) {
      readyMarked = true;
      performance.mark('baton:overview-ready');
    }
  }, [rows.length]);

  if (!status || !services) {
    return (
      <>
        <PageTitle title="Overview">Overview</PageTitle>
        <Loading what="the architecture" />
      </>
    );
  }
  if (services.revision === null) {
    return (
      <>
        <PageTitle title="Overview">Overview</PageTitle>
        <p>
          Nothing has been applied yet. Record the first revision with{' '}
          <code>npx baton apply -f baton.yaml</code>.
        </p>
      </>
    );
  }

  const counts = new Map<Health, number>();
  for (const row of rows) counts.set(row.health, (counts.get(row.health) ?? 0) + 1);
  const running = status.instances.filter((i) => i.phase === 'running').length;
  const desired = status.services.reduce((sum, s) => sum + s.desired, 0);
  const troubled = rows.filter((r) => r.health !== 'healthy');
  const notable = events
    .filter((e) => NOTABLE.test(e.kind))
    .slice(-6)
    .reverse();

  return (
    <>
      <PageTitle title="Overview">Overview</PageTitle>
      <section aria-labelledby="counts-title">
        <h2 id="counts-title" className="visually-hidden">
          Counts by status
        </h2>
        <ul className="stat-cards">
          <li className="stat">
            <span className="stat-value">{rows.length}</span>
            <span className="stat-label">services</span>
          </li>
          {HEALTH_ORDER.filter((h) => (counts.get(h) ?? 0) > 0).map((h) => (
            <li key={h} className={`stat stat-${h}`}>
              <span className="stat-value">{counts.get(h)}</span>
              <span className="stat-label">{h}</span>
            </li>
          ))}
          <li className="stat">
            <span className="stat-value">
              {running}/{desired}
            </span>
            <span className="stat-label">instances running</span>
          </li>
        </ul>
        {status.cluster && status.cluster.replicas.length > 1 ? (
          <ControlPlane cluster={status.cluster} />
        ) : null}
      </section>

      <section aria-labelledby="now-title" className="panel">
        <h2 id="now-title">Happening now</h2>
        <Happening troubled={troubled} events={events} now={now} />
        {notable.length > 0 ? (
          <>
            <h3>Recent changes</h3>
            <ul className="timeline">
              {notable.map((e) => (
                <li key={e.seq}>
                  <time dateTime={e.time}>{ago(e.time, now)}</time> <span className="kind">{e.kind}</span>{' '}
                  {e.message}
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </section>

      <section aria-labelledby="services-title">
        <h2 id="services-title">Services</h2>
        <table className="stack-table" aria-labelledby="services-title">
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Tier</th>
              <th scope="col">Owner</th>
              <th scope="col">Version</th>
              <th scope="col">Ready / desired</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.name} data-service={row.name} data-health={row.health}>
                <th scope="row" data-label="Service">
                  <Link href={servicePath(row.name)}>{row.name}</Link>
                </th>
                <td data-label="Tier">{row.summary ? <TierTag tier={row.summary.tier} /> : '—'}</td>
                <td data-label="Owner">{row.summary?.owner ?? '—'}</td>
                <td data-label="Version">
                  <code>{row.state?.version ?? row.summary?.version ?? '—'}</code>
                </td>
                <td data-label="Ready / desired">
                  {row.state ? `${row.state.ready} / ${row.state.desired}` : '—'}
                </td>
                <td data-label="Status">
                  <Badge health={row.health} label={serviceLabel(row.state)} />
                  {row.state?.reason ? <span className="muted small reason"> {row.state.reason}</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

function Happening({
  troubled,
  events,
  now,
}: {
  troubled: readonly Row[];
  events: readonly StoredEvent[];
  now: number;
}) {
  const rollout = latestRollout(events);
  return (
    <ul className="happening">
      {rollout ? (
        <li>
          <Badge health={rollout.health} label={rollout.label} /> {rollout.text}{' '}
          <time dateTime={rollout.time}>{ago(rollout.time, now)}</time>
        </li>
      ) : null}
      {troubled.map((row) => (
        <li key={row.name}>
          <Badge health={row.health} label={serviceLabel(row.state)} />{' '}
          <Link href={servicePath(row.name)}>{row.name}</Link>
          {row.state ? `: ${row.state.ready} of ${row.state.desired} ready` : ': not reported yet'}
          {row.state?.reason ? <span className="reason"> — {row.state.reason}</span> : null}
          {row.state?.deadline ? <DeadlineLeft deadline={row.state.deadline} now={now} /> : null}
        </li>
      ))}
      {troubled.length === 0 ? (
        <li>
          <Badge health="healthy" label="All quiet" /> every service runs its version with every instance
          ready.
        </li>
      ) : null}
    </ul>
  );
}

/** The time a rollout has left before its deadline fails it. */
export function DeadlineLeft({ deadline, now }: { deadline: string; now: number }) {
  const left = Date.parse(deadline) - now;
  return (
    <span className="muted small deadline">
      {' '}
      ({left > 0 ? `${duration(left)} left before its deadline` : 'past its deadline'})
    </span>
  );
}

/** The newest revision change and how its rollout stands, from the event log. */
function latestRollout(
  events: readonly StoredEvent[],
): { health: Health; label: string; text: string; time: string } | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.kind !== 'revision.applied' && e.kind !== 'revision.rolled-back') continue;
    const after = events.slice(i + 1).filter((x) => x.revision === e.revision);
    const what = e.kind === 'revision.applied' ? 'applied' : 'recorded as a rollback';
    const who = e.actor ? ` by ${e.actor}` : '';
    if (after.some((x) => x.kind === 'revision.converged'))
      return {
        health: 'healthy',
        label: 'Converged',
        text: `Revision ${e.revision} (${what}${who}) converged.`,
        time: e.time,
      };
    const failed = after.find((x) => x.kind === 'rollout.failed');
    if (failed)
      return {
        health: 'failed',
        label: 'Rollout failed',
        text: `Revision ${e.revision} did not converge: ${failed.message}.`,
        time: e.time,
      };
    const label = e.kind === 'revision.applied' ? 'Rolling out' : 'Rolling back';
    return {
      health: 'progressing',
      label,
      text: `Revision ${e.revision} ${what}${who}: ${e.message}.`,
      time: e.time,
    };
  }
  return undefined;
}

function mergeRows(
  summaries: readonly ServiceSummary[] | undefined,
  states: readonly ServiceState[] | undefined,
): Row[] {
  const byName = new Map<string, Row>();
  for (const summary of summaries ?? [])
    byName.set(summary.name, { name: summary.name, summary, state: undefined, health: 'unknown' });
  for (const state of states ?? []) {
    const row = byName.get(state.service);
    byName.set(state.service, {
      name: state.service,
      summary: row?.summary,
      state,
      health: serviceHealth(state),
    });
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Replicas over PostgreSQL: which one leads, its epoch and lease, and which one answers. */
function ControlPlane({ cluster }: { cluster: ClusterView }) {
  const leader = cluster.leader;
  return (
    <p className="muted" data-testid="control-plane">
      Control plane: {cluster.replicas.length} replicas;{' '}
      {leader
        ? `leader ${leader.address ?? '?'} (epoch ${leader.epoch}, lease renewed ${(leader.leaseAgeMs / 1000).toFixed(1)} s ago)`
        : 'no leader at the moment'}
      ; this page is served by {cluster.self.leading ? 'the leader' : cluster.self.address}.
    </p>
  );
}
