// The waterfall's geometry and the call tree's folding, apart from React: where each bar
// sits on the trace's time scale, the ticks of that scale, and which rows show when some
// subtrees are collapsed. Rows arrive depth-first (the API's order), so a subtree is the
// run of rows after its head that are deeper than it.

export interface TreeRow {
  readonly spanId: string;
  readonly depth: number;
  readonly startMs: number;
  readonly durationMs: number;
}

export interface Bar {
  /** Percent of the trace's duration from its start. */
  readonly left: number;
  /** Percent of the trace's duration; never below `minWidth`, never past the right end. */
  readonly width: number;
}

/** Bars narrower than this (percent) are widened so that a 0.1 ms span stays visible. */
export const MIN_BAR_WIDTH = 0.4;

export function barOf(
  row: Pick<TreeRow, 'startMs' | 'durationMs'>,
  totalMs: number,
  minWidth = MIN_BAR_WIDTH,
): Bar {
  if (!(totalMs > 0)) return { left: 0, width: 100 };
  const clamp = (v: number) => Math.min(100, Math.max(0, v));
  const width = Math.max(minWidth, clamp((row.durationMs / totalMs) * 100));
  const left = Math.min(clamp((row.startMs / totalMs) * 100), 100 - width);
  return { left: round(left), width: round(width) };
}

/** Round steps (1, 2, 5 × 10ⁿ ms) from 0 to at most `totalMs`, about `count` of them. */
export function ticks(totalMs: number, count = 5): number[] {
  if (!(totalMs > 0)) return [0];
  const raw = totalMs / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const result: number[] = [];
  // Integer multiples, so 0.1 + 0.2 does not become 0.30000000000000004.
  for (let i = 0; i * step <= totalMs * (1 + 1e-9); i++) result.push(Number((i * step).toPrecision(12)));
  return result;
}

/** For every row, how many rows its subtree holds below it. */
export function descendantCounts(rows: readonly TreeRow[]): Map<string, number> {
  const counts = new Map<string, number>();
  const open: { id: string; depth: number; index: number }[] = [];
  const close = (until: number, index: number) => {
    while (open.length > 0 && open[open.length - 1]!.depth >= until) {
      const head = open.pop()!;
      counts.set(head.id, index - head.index - 1);
    }
  };
  rows.forEach((row, index) => {
    close(row.depth, index);
    open.push({ id: row.spanId, depth: row.depth, index });
  });
  close(-Infinity, rows.length);
  return counts;
}

/** The rows left showing when the subtrees under `collapsed` are folded away. */
export function visibleRows<T extends TreeRow>(rows: readonly T[], collapsed: ReadonlySet<string>): T[] {
  const shown: T[] = [];
  let hideDeeperThan: number | undefined;
  for (const row of rows) {
    if (hideDeeperThan !== undefined) {
      if (row.depth > hideDeeperThan) continue;
      hideDeeperThan = undefined;
    }
    shown.push(row);
    if (collapsed.has(row.spanId)) hideDeeperThan = row.depth;
  }
  return shown;
}

/** Each service's colour slot (0..slots-1), by its place in the sorted list of the trace. */
export function serviceSlots(services: readonly string[], slots = 8): Map<string, number> {
  return new Map([...services].sort().map((s, i) => [s, i % slots]));
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
