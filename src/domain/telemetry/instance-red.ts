// RED figures per instance, for judging a share of a service's instances apart from the rest
// (a gray config release: domain/config/gray-verdict.ts). An instance's own SERVER spans when
// it sends any, else what the data plane saw it answer (`baton.upstream.instance`), as the
// service figures do (red.ts mergeReports). Instance ids come from the network: capped.
import { dataPlaneSampleOf, redSampleOf } from './red.ts';
import type { SpanRecord } from './span.ts';
import { WindowedStats, type SeriesPoint } from './windowed-stats.ts';

export interface InstanceRedOptions {
  readonly slotMs: number;
  readonly slots: number;
  readonly maxInstances: number;
}

export const DEFAULT_INSTANCE_RED_OPTIONS: InstanceRedOptions = {
  slotMs: 10_000,
  // Ten minutes: enough for the longest `for` a gate is likely to have.
  slots: 60,
  maxInstances: 10_000,
};

export class InstanceRed {
  readonly #options: InstanceRedOptions;
  readonly #own = new Map<string, WindowedStats>();
  readonly #observed = new Map<string, WindowedStats>();

  constructor(options: InstanceRedOptions = DEFAULT_INSTANCE_RED_OPTIONS) {
    this.#options = options;
  }

  observe(span: SpanRecord, nowMs: number): void {
    const own = redSampleOf(span);
    if (own && span.instance !== undefined) this.#record(this.#own, span.instance, own, nowMs);
    const seen = dataPlaneSampleOf(span);
    const upstream = span.attributes['baton.upstream.instance'];
    if (seen && typeof upstream === 'string' && upstream !== '')
      this.#record(this.#observed, upstream, seen, nowMs);
  }

  /** The instances' figures summed, one point per slot, oldest first. */
  series(instances: readonly string[], nowMs: number): SeriesPoint[] {
    const sum = new WindowedStats(this.#options);
    for (const id of instances) {
      const own = this.#own.get(id);
      const figures = own !== undefined && !own.isEmpty(nowMs) ? own : this.#observed.get(id);
      if (figures !== undefined) sum.mergeFrom(figures, nowMs);
    }
    return sum.series(nowMs);
  }

  prune(nowMs: number): void {
    for (const map of [this.#own, this.#observed])
      for (const [id, stats] of map) if (stats.isEmpty(nowMs)) map.delete(id);
  }

  #record(
    map: Map<string, WindowedStats>,
    id: string,
    sample: { atMs: number; durationMs: number; error: boolean },
    nowMs: number,
  ): void {
    let stats = map.get(id);
    if (stats === undefined) {
      if (map.size >= this.#options.maxInstances) return;
      stats = new WindowedStats(this.#options);
      map.set(id, stats);
    }
    stats.record(sample.atMs, sample.durationMs, sample.error, nowMs);
  }
}
