// One trace as a call tree and its waterfall, the way Pinpoint's Galileo shows it: every
// span a row, in depth-first order, with where it starts, the gap before it, how long it
// ran and how much of that was its own work.
//
// Definitions (all in milliseconds, to the microsecond):
// - start: offset from the trace's earliest span.
// - gap: from the end of the previous sibling (siblings ordered by start), or from the
//   parent's start for the first child (from the previous root's end between roots; 0 for
//   the first root). Negative when the span started before its previous sibling ended:
//   they ran concurrently.
// - self: the span's duration minus the union of its children's intervals, each clipped to
//   the span's own interval. Overlapping children are counted once; a child that outlives
//   its parent (fire-and-forget) is counted only while the parent ran. So self ≥ 0, and when
//   children run one after another inside their parent, the self times of a subtree add up
//   to the duration of its root.
import { endUs, isError, type SpanRecord } from './span.ts';

export interface WaterfallRow {
  readonly spanId: string;
  /** As the span says; the parent may be missing from the trace (see `orphan`). */
  readonly parentSpanId: string | null;
  readonly depth: number;
  readonly name: string;
  readonly kind: SpanRecord['kind'];
  readonly service: string;
  readonly instance: string | null;
  readonly version: string | null;
  readonly startMs: number;
  readonly gapMs: number;
  readonly durationMs: number;
  readonly selfMs: number;
  readonly status: SpanRecord['status'];
  readonly statusMessage: string | null;
  /** Baton's reading of failure (5xx, or an ERROR status that is not a 4xx). */
  readonly error: boolean;
  /** The span names a parent this trace does not (yet) hold, so it is shown as a root. */
  readonly orphan: boolean;
  readonly children: readonly string[];
  readonly attributes: SpanRecord['attributes'];
  readonly events: readonly {
    readonly offsetMs: number;
    readonly name: string;
    readonly attributes?: unknown;
  }[];
}

export interface TraceView {
  readonly traceId: string;
  readonly start: string;
  readonly durationMs: number;
  readonly spanCount: number;
  readonly errorCount: number;
  readonly services: readonly string[];
  /** Span ids of the top-level rows: true roots first, then orphans, by start. */
  readonly roots: readonly string[];
  /** Depth-first, children by start: the waterfall, top to bottom. */
  readonly rows: readonly WaterfallRow[];
}

/** µs → ms, rounded to the µs: 1234 → 1.234. */
export function ms(us: number): number {
  return Math.round(us) / 1000;
}

/** Duplicate span ids (an exporter's retry) keep the first copy. */
export function buildTraceView(traceId: string, spans: readonly SpanRecord[]): TraceView | undefined {
  const byId = new Map<string, SpanRecord>();
  for (const span of spans) if (!byId.has(span.spanId)) byId.set(span.spanId, span);
  if (byId.size === 0) return undefined;

  const children = new Map<string, SpanRecord[]>();
  const tops: SpanRecord[] = [];
  for (const span of byId.values()) {
    const parent = span.parentSpanId;
    if (parent !== undefined && parent !== span.spanId && byId.has(parent)) {
      const list = children.get(parent);
      if (list) list.push(span);
      else children.set(parent, [span]);
    } else tops.push(span);
  }
  const byStart = (a: SpanRecord, b: SpanRecord) =>
    a.startUs - b.startUs || (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0);
  for (const list of children.values()) list.sort(byStart);
  // True roots before orphans: the entry point heads the waterfall.
  tops.sort(
    (a, b) => Number(a.parentSpanId !== undefined) - Number(b.parentSpanId !== undefined) || byStart(a, b),
  );

  let traceStart = Infinity;
  let traceEnd = -Infinity;
  for (const span of byId.values()) {
    traceStart = Math.min(traceStart, span.startUs);
    traceEnd = Math.max(traceEnd, endUs(span));
  }

  const rows: WaterfallRow[] = [];
  const placed = new Set<string>();
  const visit = (span: SpanRecord, depth: number, gapUs: number) => {
    placed.add(span.spanId);
    const kids = (children.get(span.spanId) ?? []).filter((k) => !placed.has(k.spanId));
    rows.push(row(span, depth, traceStart, gapUs, kids, byId.has(span.parentSpanId ?? '')));
    let previousEnd: number | undefined;
    for (const kid of kids) {
      visit(kid, depth + 1, kid.startUs - (previousEnd ?? span.startUs));
      previousEnd = endUs(kid);
    }
  };
  let previousRootEnd: number | undefined;
  for (const top of tops) {
    visit(top, 0, previousRootEnd === undefined ? 0 : top.startUs - previousRootEnd);
    previousRootEnd = endUs(top);
  }
  // Spans whose parent links form a loop reach no root: still shown, each as its own root.
  for (const span of [...byId.values()].sort(byStart)) {
    if (!placed.has(span.spanId)) visit(span, 0, 0);
  }

  const services = [...new Set([...byId.values()].map((s) => s.service))].sort();
  return {
    traceId,
    start: new Date(Math.floor(traceStart / 1000)).toISOString(),
    durationMs: ms(traceEnd - traceStart),
    spanCount: byId.size,
    errorCount: rows.filter((r) => r.error).length,
    services,
    roots: rows.filter((r) => r.depth === 0).map((r) => r.spanId),
    rows,
  };
}

function row(
  span: SpanRecord,
  depth: number,
  traceStart: number,
  gapUs: number,
  kids: readonly SpanRecord[],
  parentPresent: boolean,
): WaterfallRow {
  return {
    spanId: span.spanId,
    parentSpanId: span.parentSpanId ?? null,
    depth,
    name: span.name,
    kind: span.kind,
    service: span.service,
    instance: span.instance ?? null,
    version: span.version ?? null,
    startMs: ms(span.startUs - traceStart),
    gapMs: ms(gapUs),
    durationMs: ms(span.durationUs),
    selfMs: ms(selfUs(span, kids)),
    status: span.status,
    statusMessage: span.statusMessage ?? null,
    error: isError(span),
    orphan: span.parentSpanId !== undefined && !parentPresent,
    children: kids.map((k) => k.spanId),
    attributes: span.attributes,
    events: (span.events ?? []).map((e) => ({
      offsetMs: ms(e.timeUs - traceStart),
      name: e.name,
      ...(e.attributes ? { attributes: e.attributes } : {}),
    })),
  };
}

/** Duration minus the union of the children's intervals clipped to the span's own. */
export function selfUs(span: SpanRecord, kids: readonly SpanRecord[]): number {
  const start = span.startUs;
  const end = endUs(span);
  const intervals = kids
    .map((k) => [Math.max(start, k.startUs), Math.min(end, endUs(k))] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let covered = 0;
  let cursor = start;
  for (const [a, b] of intervals) {
    const from = Math.max(a, cursor);
    if (b > from) {
      covered += b - from;
      cursor = b;
    }
  }
  return span.durationUs - covered;
}
