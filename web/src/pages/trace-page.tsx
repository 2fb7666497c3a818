// One trace, the way Pinpoint's Galileo shows it: a waterfall (when each span ran, on the
// trace's time scale) and the call tree as an indented table (start, gap, exec and self
// time, service, instance, error). The table is the accessible version and the one to
// work with by keyboard; the bars repeat it for the eye. Subtrees fold in both at once.
import { useMemo, useState, type CSSProperties } from 'react';
import type { TraceResponse, WaterfallRow } from '../api/types.ts';
import { ErrorNote, Loading, PageTitle } from '../components/common.tsx';
import { clockTime } from '../format.ts';
import { useClient } from '../live/hooks.ts';
import { usePoll } from '../live/use-poll.ts';
import { Link, servicePath } from '../router.tsx';
import { msNumber, msText } from '../telemetry/figures.ts';
import './traces.css';
import { barOf, descendantCounts, serviceSlots, ticks, visibleRows } from '../telemetry/waterfall.ts';

/** While the trace is not there yet (its spans are still being batched), look again this often. */
const RETRY_MS = 2_000;

export function TracePage({ traceId }: { traceId: string }) {
  const client = useClient();
  // Only to tell whether the trace is from today: no need to re-render a big trace every second.
  const [now] = useState(() => Date.now());
  // Looked for again only while it is missing (404), not once found nor when the id is wrong.
  const [waiting, setWaiting] = useState(true);
  const trace = usePoll<TraceResponse>(
    traceId,
    (signal) => client.get<TraceResponse>(`/v1/traces/${encodeURIComponent(traceId)}`, signal),
    waiting ? RETRY_MS : 0,
  );
  const stillWaiting =
    trace.data === undefined && (trace.errorStatus === undefined || trace.errorStatus === 404);
  if (stillWaiting !== waiting) setWaiting(stillWaiting);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const [selected, setSelected] = useState<string | undefined>();

  const view = trace.data;
  const rows = useMemo(() => (view ? visibleRows(view.rows, collapsed) : []), [view, collapsed]);
  const below = useMemo(() => (view ? descendantCounts(view.rows) : new Map<string, number>()), [view]);
  const slots = useMemo(() => serviceSlots(view?.services ?? []), [view]);
  const root = view?.rows[0];

  // The title stays in one place whatever loads below it: it keeps the focus a navigation gave it.
  const head = (
    <>
      <p className="breadcrumb">
        <Link href="/traces">Traces</Link> <span aria-hidden="true">›</span> trace
      </p>
      <div className="title-row">
        <PageTitle title={root ? `${root.name} · trace` : `Trace ${traceId.slice(0, 8)}`}>
          {root ? root.name : `Trace ${traceId.slice(0, 8)}`}
        </PageTitle>
        {root ? <span className="muted">{root.service}</span> : null}
      </div>
    </>
  );
  if (!view || !root) {
    return (
      <>
        {head}
        {trace.errorStatus === 404 ? (
          <p className="note" role="status">
            No span of trace <code>{traceId}</code> has arrived yet. Services send their spans in batches,
            every second or so: this page looks again every {RETRY_MS / 1000} s. An old trace may have been
            deleted by retention.
          </p>
        ) : trace.error ? (
          <ErrorNote>{trace.error}</ErrorNote>
        ) : (
          <Loading what="the trace" />
        )}
      </>
    );
  }

  const toggle = (spanId: string) => {
    const next = new Set(collapsed);
    if (!next.delete(spanId)) next.add(spanId);
    setCollapsed(next);
  };
  const withChildren = view.rows.filter((r) => r.children.length > 0).map((r) => r.spanId);

  return (
    <>
      {head}
      <dl className="facts">
        <div>
          <dt>Trace id</dt>
          <dd>
            <code className="trace-full-id">{view.traceId}</code>
          </dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>
            <time dateTime={view.start}>{clockTime(view.start, now)}</time>
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{msText(view.durationMs)}</dd>
        </div>
        <div>
          <dt>Spans</dt>
          <dd>{view.spanCount}</dd>
        </div>
        <div>
          <dt>Errors</dt>
          <dd className={view.errorCount > 0 ? 'text-failed' : undefined}>{view.errorCount}</dd>
        </div>
      </dl>
      <ul className="service-legend" aria-label="Services in this trace">
        {view.services.map((s) => (
          <li key={s}>
            <span className={`svc-swatch svc-${slots.get(s) ?? 0}`} aria-hidden="true" />
            <Link href={servicePath(s)}>{s}</Link>
          </li>
        ))}
      </ul>
      <div className="inline-form">
        <button type="button" onClick={() => setCollapsed(new Set())} disabled={collapsed.size === 0}>
          Expand all
        </button>
        <button
          type="button"
          onClick={() => setCollapsed(new Set(withChildren.filter((id) => id !== root.spanId)))}
          disabled={withChildren.length <= 1}
        >
          Collapse to the first calls
        </button>
        <button type="button" onClick={trace.refresh}>
          Reload
        </button>
        <span className="muted small" role="status">
          {rows.length < view.rows.length ? `${rows.length} of ${view.rows.length} spans shown` : ''}
        </span>
      </div>

      <Waterfall
        rows={rows}
        totalMs={view.durationMs}
        slots={slots}
        selected={selected}
        onSelect={(id) => setSelected(id === selected ? undefined : id)}
      />

      <section aria-labelledby="tree-title">
        <h2 id="tree-title">Call tree</h2>
        <div className="table-scroll" role="region" aria-labelledby="tree-title" tabIndex={0}>
          <table className="call-tree" aria-labelledby="tree-title">
            <thead>
              <tr>
                <th scope="col">Method</th>
                <th scope="col" className="num">
                  Start <span className="unit">ms</span>
                </th>
                <th scope="col" className="num">
                  Gap <span className="unit">ms</span>
                </th>
                <th scope="col" className="num">
                  Exec <span className="unit">ms</span>
                </th>
                <th scope="col" className="num">
                  Self <span className="unit">ms</span>
                </th>
                <th scope="col">Service</th>
                <th scope="col">Instance</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <TreeRow
                  key={r.spanId}
                  row={r}
                  below={below.get(r.spanId) ?? 0}
                  open={!collapsed.has(r.spanId)}
                  selected={selected === r.spanId}
                  slot={slots.get(r.service) ?? 0}
                  onToggle={() => toggle(r.spanId)}
                  onSelect={() => setSelected(selected === r.spanId ? undefined : r.spanId)}
                />
              ))}
            </tbody>
          </table>
        </div>
        <p className="muted small">
          Gap: time since the previous sibling ended (or the parent started); negative when they ran at the
          same time. Self: the span&apos;s own time, without its calls.
        </p>
      </section>
    </>
  );
}

function Waterfall({
  rows,
  totalMs,
  slots,
  selected,
  onSelect,
}: {
  rows: readonly WaterfallRow[];
  totalMs: number;
  slots: ReadonlyMap<string, number>;
  selected: string | undefined;
  onSelect: (spanId: string) => void;
}) {
  const marks = ticks(totalMs);
  const step = marks.length > 1 && totalMs > 0 ? (marks[1]! / totalMs) * 100 : 100;
  return (
    <section aria-labelledby="waterfall-title">
      <h2 id="waterfall-title">Waterfall</h2>
      <p className="muted small" id="waterfall-note">
        Each bar is a span, placed by when it started and as long as it ran, on the trace&apos;s scale of{' '}
        {msText(totalMs)}. The call tree below lists the same spans.
      </p>
      {/* The bars repeat the call tree for the eye; screen readers get the table. */}
      <div className="waterfall" aria-hidden="true" style={{ '--tick': `${step}%` } as CSSProperties}>
        <div className="wf-row wf-axis">
          <div className="wf-label" />
          <div className="wf-track">
            {marks.map((t) => {
              const at = totalMs > 0 ? (t / totalMs) * 100 : 0;
              return (
                <span
                  key={t}
                  className={`wf-tick${at > 80 ? ' wf-tick-end' : ''}`}
                  style={{ left: `${at}%` }}
                >
                  {t}
                  {t === 0 ? ' ms' : ''}
                </span>
              );
            })}
          </div>
        </div>
        {rows.map((r) => {
          const bar = barOf(r, totalMs);
          return (
            <div
              key={r.spanId}
              className={`wf-row${r.error ? ' wf-error' : ''}${selected === r.spanId ? ' wf-selected' : ''}`}
              data-span={r.spanId}
              onClick={() => onSelect(r.spanId)}
            >
              <div className="wf-label" style={{ '--depth': r.depth } as CSSProperties}>
                <span className="wf-name">
                  {r.error ? '✕ ' : ''}
                  {r.name}
                </span>
                <span className="wf-dur">{msText(r.durationMs)}</span>
              </div>
              <div className="wf-track">
                <span
                  className={`wf-bar svc-${slots.get(r.service) ?? 0}`}
                  style={{ left: `${bar.left}%`, width: `${bar.width}%` }}
                />
              </div>
            </div>
          );
        })}
      </div>
    </section>
  );
}

function TreeRow({
  row: r,
  below,
  open,
  selected,
  slot,
  onToggle,
  onSelect,
}: {
  row: WaterfallRow;
  below: number;
  open: boolean;
  selected: boolean;
  slot: number;
  onToggle: () => void;
  onSelect: () => void;
}) {
  const detailsId = `span-${r.spanId}`;
  return (
    <>
      <tr
        data-span={r.spanId}
        data-service={r.service}
        style={{ '--depth': r.depth } as CSSProperties}
        className={
          [r.error ? 'row-error' : '', selected ? 'row-chosen' : ''].filter(Boolean).join(' ') || undefined
        }
      >
        <th scope="row" className="tree-name">
          <span className="tree-cell">
            {r.children.length > 0 ? (
              <button
                type="button"
                className="tree-toggle"
                aria-expanded={open}
                aria-label={`${open ? 'Hide' : 'Show'} the ${below} span${below === 1 ? '' : 's'} under ${r.name}`}
                onClick={onToggle}
              >
                <span aria-hidden="true">{open ? '▾' : '▸'}</span>
              </button>
            ) : (
              <span className="tree-leaf" aria-hidden="true" />
            )}
            <span className={`svc-swatch svc-${slot}`} aria-hidden="true" />
            <span className="visually-hidden">level {r.depth + 1}: </span>
            <button
              type="button"
              className="link-button tree-span"
              aria-expanded={selected}
              aria-controls={selected ? detailsId : undefined}
              onClick={onSelect}
            >
              {r.name}
            </button>
            <span className="muted small tree-kind">{r.kind}</span>
            {r.orphan ? <span className="muted small"> · parent not in the trace</span> : null}
          </span>
        </th>
        <td className="num" data-label="start">
          {msNumber(r.startMs)}
        </td>
        <td className="num" data-label="gap">
          {msNumber(r.gapMs)}
        </td>
        <td className="num" data-label="exec">
          {msNumber(r.durationMs)}
        </td>
        <td className="num" data-label="self">
          {msNumber(r.selfMs)}
        </td>
        <td className="tree-service">
          <Link href={servicePath(r.service)}>{r.service}</Link>
        </td>
        <td className="tree-instance">
          <code className="small">{r.instance ?? '—'}</code>
        </td>
        <td className={r.error ? 'tree-error' : 'tree-ok'}>
          {r.error ? (
            <span className="error-mark" title={r.statusMessage ?? undefined}>
              <span aria-hidden="true">✕ </span>
              {errorText(r)}
            </span>
          ) : (
            <span className="muted">—</span>
          )}
        </td>
      </tr>
      {selected ? (
        <tr className="span-details-row">
          <td colSpan={8} id={detailsId}>
            <SpanDetails row={r} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

function errorText(r: WaterfallRow): string {
  const code = r.attributes['http.response.status_code'] ?? r.attributes['http.status_code'];
  return typeof code === 'number' || typeof code === 'string' ? `error ${code}` : 'error';
}

function SpanDetails({ row: r }: { row: WaterfallRow }) {
  const attributes = Object.entries(r.attributes).sort(([a], [b]) => a.localeCompare(b));
  return (
    <div className="span-details">
      <dl className="kv">
        <dt>Span</dt>
        <dd>
          <code>{r.spanId}</code>
          {r.parentSpanId ? (
            <>
              {' '}
              <span className="muted">parent</span> <code>{r.parentSpanId}</code>
            </>
          ) : null}
        </dd>
        <dt>Kind</dt>
        <dd>{r.kind}</dd>
        <dt>Status</dt>
        <dd>
          {r.status}
          {r.statusMessage ? `: ${r.statusMessage}` : ''}
        </dd>
        {r.version ? (
          <>
            <dt>Version</dt>
            <dd>
              <code>{r.version}</code>
            </dd>
          </>
        ) : null}
        {attributes.map(([key, value]) => (
          <AttributeLine key={key} name={key} value={value} />
        ))}
      </dl>
      {r.events.length > 0 ? (
        <>
          <h3>Events</h3>
          <ul className="plain">
            {r.events.map((e, i) => (
              <li key={i}>
                <span className="muted">{msNumber(e.offsetMs)} ms</span> {e.name}
                {e.attributes ? <code className="small"> {JSON.stringify(e.attributes)}</code> : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

function AttributeLine({ name, value }: { name: string; value: unknown }) {
  return (
    <>
      <dt>
        <code>{name}</code>
      </dt>
      <dd>
        <code>{typeof value === 'string' ? value : JSON.stringify(value)}</code>
      </dd>
    </>
  );
}
