// Small line charts without a chart library: the RED series turned into plottable values,
// a round top for the y axis, and SVG path data. A null value is a gap in the line (no
// request in that slot: no error rate, no latency), not a zero.
import type { SeriesPoint } from '../api/types.ts';

export type Value = number | null;

export interface RedValues {
  /** Slot starts, ms since the epoch, oldest first. */
  readonly times: readonly number[];
  readonly rate: readonly number[];
  /** errors / count, 0..1; null for a slot without requests. */
  readonly errorRate: readonly Value[];
  readonly p50: readonly Value[];
  readonly p99: readonly Value[];
  readonly count: readonly number[];
}

/**
 * The complete slots of a series, as values to plot. The slot still filling (the one that
 * holds `atMs`) is left out: its rate would read low until it ends.
 */
export function redValues(series: readonly SeriesPoint[], slotMs: number, atMs: number): RedValues {
  const done = series.filter((p) => p.startMs + slotMs <= atMs);
  return {
    times: done.map((p) => p.startMs),
    rate: done.map((p) => p.ratePerSecond),
    errorRate: done.map((p) => (p.count > 0 ? p.errors / p.count : null)),
    p50: done.map((p) => p.p50Ms),
    p99: done.map((p) => p.p99Ms),
    count: done.map((p) => p.count),
  };
}

/** The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above the largest value; `floor` when all are lower. */
export function niceMax(values: readonly Value[], floor = 1): number {
  let max = 0;
  for (const v of values) if (v !== null && Number.isFinite(v) && v > max) max = v;
  if (max <= floor) return floor;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) {
    const top = m * magnitude;
    if (top >= max * (1 - 1e-12)) return Number(top.toPrecision(12));
  }
  return 10 * magnitude;
}

/**
 * Path data for `values` spread evenly over `width`, 0 at the bottom of `height` and `max`
 * at the top: `line` joins neighbours, nulls break it; `dots` holds the values that have
 * no neighbour to join (zero-length segments, which a round line cap draws as dots).
 */
export function linePaths(
  values: readonly Value[],
  width: number,
  height: number,
  max: number,
): { line: string; dots: string } {
  const n = values.length;
  if (n === 0 || !(max > 0)) return { line: '', dots: '' };
  const x = (i: number) => (n === 1 ? width / 2 : (i / (n - 1)) * width);
  const y = (v: number) => height - (Math.min(Math.max(v, 0), max) / max) * height;
  const present = (v: Value | undefined): v is number => v !== null && v !== undefined && Number.isFinite(v);
  const line: string[] = [];
  const dots: string[] = [];
  values.forEach((v, i) => {
    if (!present(v)) return;
    const point = `${fixed(x(i))},${fixed(y(v))}`;
    const joined = present(values[i - 1]);
    if (!joined && !present(values[i + 1])) dots.push(`M${point}h0`);
    else line.push(`${joined ? 'L' : 'M'}${point}`);
  });
  return { line: line.join(' '), dots: dots.join(' ') };
}

/** The latest value that is not a gap, with its index; undefined when there is none. */
export function latest(values: readonly Value[]): { value: number; index: number } | undefined {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v !== null && v !== undefined) return { value: v, index: i };
  }
  return undefined;
}

/** The largest value that is not a gap, with its index. */
export function peak(values: readonly Value[]): { value: number; index: number } | undefined {
  let best: { value: number; index: number } | undefined;
  values.forEach((v, index) => {
    if (v !== null && (best === undefined || v > best.value)) best = { value: v, index };
  });
  return best;
}

function fixed(v: number): string {
  return String(Math.round(v * 100) / 100);
}
