// One service: its instances, its traffic (RED), recent events, a live log tail, and scale /
// rolling restart.
import { lazy, Suspense, useEffect, useMemo, useRef, useState } from 'react';
import { describeError } from '../api/client.ts';
import { followNdjson, type StreamState } from '../api/streams.ts';
import type {
  EventsResponse,
  ExitFact,
  Instance,
  LogLine,
  ServiceDetail,
  StoredEvent,
} from '../api/types.ts';
import { Badge, ConfirmDialog, ErrorNote, Loading, PageTitle, TierTag } from '../components/common.tsx';
import { ago, clockTime, duration, logText } from '../format.ts';
import { instanceHealth, serviceHealth, serviceLabel } from '../health.ts';
import { useClient, useLive, useNow, useStore } from '../live/hooks.ts';
import { may } from '../live/live-store.ts';
import { Link, servicePath } from '../router.tsx';
import { DeadlineLeft } from './overview-page.tsx';

// The traffic charts come with their own small chunk, after the page's facts.
const RedPanel = lazy(() => import('../telemetry/red-panel.tsx').then((m) => ({ default: m.RedPanel })));

const TERMINAL = new Set(['stopped', 'failed']);
/** How many of a service's own newest events its page shows. */
const RECENT = 15;

export function ServicePage({ name }: { name: string }) {
  const live = useLive();
  const client = useClient();
  const now = useNow();
  const summary = live.services?.services.find((s) => s.name === name);
  const state = live.status?.services.find((s) => s.service === name);
  const instances = useMemo(
    () =>
      (live.status?.instances ?? [])
        .filter((i) => i.service === name)
        .sort(
          (a, b) => Number(TERMINAL.has(a.phase)) - Number(TERMINAL.has(b.phase)) || a.id.localeCompare(b.id),
        ),
    [live.status, name],
  );
  const revision = live.services?.revision ?? null;
  const [detail, setDetail] = useState<ServiceDetail | undefined>();
  const [detailError, setDetailError] = useState<string | undefined>();

  useEffect(() => {
    if (revision === null) return;
    const abort = new AbortController();
    client
      .get<ServiceDetail>(`/v1/services/${encodeURIComponent(name)}`, abort.signal)
      .then((d) => {
        setDetail(d);
        setDetailError(undefined);
      })
      .catch((error: unknown) => abort.signal.aborted || setDetailError(describeError(error)));
    return () => abort.abort();
  }, [client, name, revision]);

  const title = <PageTitle title={name}>{name}</PageTitle>;
  if (!live.services || !live.status)
    return (
      <>
        {title}
        <Loading what={name} />
      </>
    );
  if (!summary && !state) {
    return (
      <>
        {title}
        <ErrorNote>
          There is no service <code>{name}</code> in the current revision. <Link href="/">All services</Link>.
        </ErrorNote>
      </>
    );
  }

  return (
    <>
      <p className="breadcrumb">
        <Link href="/">Overview</Link> <span aria-hidden="true">›</span> service
      </p>
      <div className="title-row">
        {title}
        <Badge health={serviceHealth(state)} label={serviceLabel(state)} />
      </div>
      {summary?.description ? <p className="lead">{summary.description}</p> : null}
      <dl className="facts">
        <div>
          <dt>Tier</dt>
          <dd>{summary ? <TierTag tier={summary.tier} /> : '—'}</dd>
        </div>
        <div>
          <dt>Owner</dt>
          <dd>{summary?.owner ?? '—'}</dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>
            <code>{summary?.version ?? state?.version ?? '—'}</code>
          </dd>
        </div>
        <div>
          <dt>Ready / desired</dt>
          <dd>{state ? `${state.ready} / ${state.desired}` : '—'}</dd>
        </div>
        <div>
          <dt>Instances allowed</dt>
          <dd>{summary ? `${summary.instances.min}–${summary.instances.max} (${summary.mode})` : '—'}</dd>
        </div>
        {state?.reason ? (
          <div className="fact-wide">
            <dt>Why not settled</dt>
            <dd data-testid="reason">
              {state.reason}
              {state.deadline ? <DeadlineLeft deadline={state.deadline} now={now} /> : null}
            </dd>
          </div>
        ) : null}
      </dl>

      {summary && may(live.me, 'operator') ? (
        <Actions
          name={name}
          min={summary.instances.min}
          max={summary.instances.max}
          desired={state?.desired}
        />
      ) : null}

      <section aria-labelledby="instances-title">
        <h2 id="instances-title">Instances</h2>
        {instances.length === 0 ? (
          <p className="muted">No instance.</p>
        ) : (
          <table className="stack-table" aria-labelledby="instances-title">
            <thead>
              <tr>
                <th scope="col">Instance</th>
                <th scope="col">Version</th>
                <th scope="col">Config</th>
                <th scope="col">Node</th>
                <th scope="col">Address</th>
                <th scope="col">State</th>
                <th scope="col">Health</th>
                <th scope="col">Restarts</th>
                <th scope="col">Uptime</th>
                <th scope="col">Last exit</th>
              </tr>
            </thead>
            <tbody>
              {instances.map((i) => (
                <InstanceRow key={i.id} instance={i} now={now} />
              ))}
            </tbody>
          </table>
        )}
      </section>

      <Suspense fallback={<Loading what="traffic figures" />}>
        <RedPanel service={name} />
      </Suspense>

      <div className="columns">
        <section aria-labelledby="deps-title" className="panel">
          <h2 id="deps-title">Dependencies</h2>
          {detailError ? <ErrorNote>{detailError}</ErrorNote> : null}
          <h3>Calls</h3>
          <DependencyList
            items={Object.entries(summary?.dependsOn ?? {}).map(([service, d]) => ({ service, ...d }))}
            empty="Depends on nothing."
          />
          <h3>Called by</h3>
          <DependencyList items={detail?.consumers ?? []} empty="No service depends on it." />
          <h3>Blast radius</h3>
          {detail && detail.blastRadius.length > 0 ? (
            <ul className="plain">
              {detail.blastRadius.map((b) => (
                <li key={b.service}>
                  <Link href={servicePath(b.service)}>{b.service}</Link> <TierTag tier={b.tier} />{' '}
                  <span className="muted">
                    {b.distance === 1 ? 'calls it directly' : `${b.distance} hops away, via ${b.via}`}
                  </span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">{detail ? 'A failure here reaches no other service.' : '…'}</p>
          )}
          <p>
            <Link href={`/map?focus=${encodeURIComponent(name)}`}>Show on the map</Link>
          </p>
        </section>
        <RecentEvents name={name} live={live.events} now={now} />
      </div>

      <LogTail service={name} instances={instances} />
    </>
  );
}

function InstanceRow({ instance: i, now }: { instance: Instance; now: number }) {
  const up = i.startedAt && !TERMINAL.has(i.phase) ? duration(now - Date.parse(i.startedAt)) : '—';
  return (
    <tr data-instance={i.id} data-phase={i.phase}>
      <th scope="row" data-label="Instance">
        <code>{i.id}</code>
      </th>
      <td data-label="Version">
        <code>{i.version}</code>
      </td>
      <td data-label="Config">
        <ConfigRelease config={i.config} />
      </td>
      <td data-label="Node">{i.node ?? '—'}</td>
      <td data-label="Address">{i.address && i.port ? <code>{`${i.address}:${i.port}`}</code> : '—'}</td>
      <td data-label="State">
        <Badge health={instanceHealth(i.phase)} label={i.phase} />{' '}
        <span className="muted small">for {duration(now - Date.parse(i.since))}</span>
      </td>
      <td data-label="Health">{i.health || '—'}</td>
      <td data-label="Restarts">{i.restarts}</td>
      <td data-label="Uptime">{up}</td>
      <td data-label="Last exit">{i.lastExit ? <LastExit exit={i.lastExit} now={now} /> : '—'}</td>
    </tr>
  );
}

/** The config release an instance runs; a gray one marked, since only part of the service has it. */
function ConfigRelease({ config }: { config: Instance['config'] }) {
  if (!config || config.release === 0) return <>—</>;
  return (
    <span data-config-release={config.release} data-config-gray={config.gray ? 'true' : undefined}>
      <code>#{config.release}</code>
      {config.gray ? (
        <>
          {' '}
          <span
            className="tag tag-gray"
            title="A gray config release: only some instances have it until it is promoted"
          >
            gray
          </span>
        </>
      ) : null}
    </span>
  );
}

/** How an instance last ended, CrashLoopBackOff-style: the exit, when, and what it last wrote. */
function LastExit({ exit, now }: { exit: ExitFact; now: number }) {
  if (exit.output.length === 0)
    return (
      <span>
        {exit.reason}, {ago(exit.at, now)}
      </span>
    );
  return (
    <details className="last-exit">
      <summary>
        {exit.reason}, {ago(exit.at, now)}
      </summary>
      <pre className="log">{exit.output.join('\n')}</pre>
    </details>
  );
}

function DependencyList({
  items,
  empty,
}: {
  items: readonly { service: string; range: string; optional: boolean }[];
  empty: string;
}) {
  if (items.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul className="plain">
      {items.map((d) => (
        <li key={d.service}>
          <Link href={servicePath(d.service)}>{d.service}</Link> <code>{d.range}</code>
          {d.optional ? <span className="muted"> (optional)</span> : null}
        </li>
      ))}
    </ul>
  );
}

function Actions({
  name,
  min,
  max,
  desired,
}: {
  name: string;
  min: number;
  max: number;
  desired: number | undefined;
}) {
  const store = useStore();
  const [count, setCount] = useState(String(desired ?? min));
  const [confirm, setConfirm] = useState<'scale' | 'restart' | undefined>();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | undefined>();
  const target = Number(count);
  const valid = Number.isInteger(target) && target >= min && target <= max;

  useEffect(() => {
    if (desired !== undefined) setCount(String(desired));
  }, [desired]);

  const run = async () => {
    setBusy(true);
    try {
      if (confirm === 'scale') {
        await store.client.post(`/v1/services/${encodeURIComponent(name)}/scale`, { instances: target });
        setOutcome({ ok: true, text: `Scaling ${name} to ${target}: the controller converges.` });
      } else {
        await store.client.post(`/v1/services/${encodeURIComponent(name)}/restart`, {});
        setOutcome({ ok: true, text: `Rolling restart of ${name} under way.` });
      }
      store.refresh('status');
    } catch (error) {
      setOutcome({ ok: false, text: describeError(error) });
    } finally {
      setBusy(false);
      setConfirm(undefined);
    }
  };

  return (
    <section aria-labelledby="actions-title" className="panel actions">
      <h2 id="actions-title">Actions</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (valid) setConfirm('scale');
        }}
      >
        <label htmlFor="scale-count">Instances</label>
        <input
          id="scale-count"
          type="number"
          inputMode="numeric"
          min={min}
          max={max}
          value={count}
          disabled={min === max}
          aria-describedby="scale-hint"
          onChange={(e) => setCount(e.target.value)}
        />
        <button type="submit" disabled={!valid || min === max || target === desired}>
          Scale…
        </button>
        <span id="scale-hint" className="muted small">
          {min === max ? `fixed at ${min} by the manifest` : `${min}–${max}, from the manifest`}
        </span>
      </form>
      <button type="button" onClick={() => setConfirm('restart')}>
        Rolling restart…
      </button>
      {outcome ? (
        <p role="status" className={outcome.ok ? 'note' : 'note note-error'}>
          {outcome.text}
        </p>
      ) : null}
      <ConfirmDialog
        open={confirm !== undefined}
        title={confirm === 'scale' ? `Scale ${name}?` : `Restart ${name}?`}
        confirmLabel={confirm === 'scale' ? `Scale to ${target}` : 'Restart'}
        busy={busy}
        danger={confirm === 'restart'}
        onCancel={() => setConfirm(undefined)}
        onConfirm={() => void run()}
      >
        {confirm === 'scale' ? (
          <p>
            {name} goes from {desired ?? '?'} to {target} instance{target === 1 ? '' : 's'}. The manifest is
            not changed: the next revision that sets instances wins.
          </p>
        ) : (
          <p>
            Every instance of {name} is replaced one at a time, within the rollout&apos;s maxSurge and
            maxUnavailable, so it keeps serving.
          </p>
        )}
      </ConfirmDialog>
    </section>
  );
}

function RecentEvents({ name, live, now }: { name: string; live: readonly StoredEvent[]; now: number }) {
  const client = useClient();
  const [past, setPast] = useState<readonly StoredEvent[]>([]);

  useEffect(() => {
    const abort = new AbortController();
    // The live buffer holds only the latest events of every service; this reads the
    // service's own newest ones, however many other services' events came since.
    const load = async () => {
      const path = `/v1/events?service=${encodeURIComponent(name)}&newest=true&limit=${RECENT}`;
      setPast((await client.get<EventsResponse>(path, abort.signal)).events);
    };
    load().catch(() => undefined);
    return () => abort.abort();
  }, [client, name]);

  const events = useMemo(() => {
    const bySeq = new Map<number, StoredEvent>();
    for (const e of past) bySeq.set(e.seq, e);
    for (const e of live) if (e.service === name) bySeq.set(e.seq, e);
    return [...bySeq.values()].sort((a, b) => b.seq - a.seq).slice(0, RECENT);
  }, [past, live, name]);

  return (
    <section aria-labelledby="events-title" className="panel">
      <h2 id="events-title">Recent events</h2>
      {events.length === 0 ? (
        <p className="muted">None yet.</p>
      ) : (
        <ol className="timeline" aria-label={`Recent events of ${name}`}>
          {events.map((e) => (
            <li key={e.seq}>
              <time dateTime={e.time} title={clockTime(e.time, now)}>
                {ago(e.time, now)}
              </time>{' '}
              <span className="kind">{e.kind}</span> {e.message}
            </li>
          ))}
        </ol>
      )}
      <p>
        <Link href={`/events?service=${encodeURIComponent(name)}`}>All events of {name}</Link>
      </p>
    </section>
  );
}

const MAX_LINES = 400;

function LogTail({ service, instances }: { service: string; instances: readonly Instance[] }) {
  const client = useClient();
  const [instance, setInstance] = useState('');
  const [lines, setLines] = useState<readonly (LogLine & { n: number })[]>([]);
  const [stream, setStream] = useState<StreamState>('connecting');
  const [error, setError] = useState<string | undefined>();
  const [follow, setFollow] = useState(true);
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const abort = new AbortController();
    setLines([]);
    setError(undefined);
    let pending: LogLine[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    let n = 0;
    const flush = () => {
      timer = undefined;
      const batch = pending.map((l) => ({ ...l, n: n++ }));
      pending = [];
      setLines((old) => [...old, ...batch].slice(-MAX_LINES));
    };
    const only = instance ? `&instance=${encodeURIComponent(instance)}` : '';
    const base = `/v1/services/${encodeURIComponent(service)}/logs?follow=true${only}`;
    void followNdjson<LogLine>(
      client,
      `${base}&tail=50`,
      `${base}&tail=0`,
      {
        onItem: (line) => {
          pending.push(line);
          timer ??= setTimeout(flush, 100);
        },
        onState: setStream,
        onFatal: (e) => setError(describeError(e)),
      },
      abort.signal,
    );
    return () => {
      abort.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [client, service, instance]);

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, follow]);

  const ids = [...new Set([...instances.map((i) => i.id), ...(instance ? [instance] : [])])];
  return (
    <section aria-labelledby="logs-title">
      <div className="title-row">
        <h2 id="logs-title">Logs</h2>
        <span className="muted small" role="status">
          {stream === 'open' ? 'following' : stream === 'retrying' ? 'reconnecting…' : 'connecting…'}
        </span>
      </div>
      <div className="inline-form">
        <label htmlFor="log-instance">Instance</label>
        <select id="log-instance" value={instance} onChange={(e) => setInstance(e.target.value)}>
          <option value="">all instances</option>
          {ids.map((id) => (
            <option key={id} value={id}>
              {id}
            </option>
          ))}
        </select>
        <button type="button" aria-pressed={follow} onClick={() => setFollow(!follow)}>
          {follow ? 'Pause scrolling' : 'Follow'}
        </button>
      </div>
      {error ? <ErrorNote>{error}</ErrorNote> : null}
      <div
        ref={box}
        className="log"
        role="log"
        aria-live="off"
        aria-label={`Log tail of ${service}`}
        tabIndex={0}
      >
        {lines.length === 0 ? <p className="muted">No output yet.</p> : null}
        {lines.map((l) => {
          const { level, text } = logText(l.line);
          return (
            <div key={l.n} className={`log-line log-${l.stream}`}>
              <span className="log-instance">{l.instance.slice(l.instance.lastIndexOf('-') + 1)}</span>
              {level ? <span className={`log-level log-level-${level}`}>{level}</span> : null}
              <span className="log-text">{text}</span>
            </div>
          );
        })}
      </div>
    </section>
  );
}
