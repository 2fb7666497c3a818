// A streaming latency histogram with fixed logarithmic buckets (DDSketch's mapping): every
// quantile it answers is within 5 % of a value that was recorded, from 1 µs to ~3 hours,
// in 1 KiB whatever the traffic. Buckets are fixed, so histograms merge by adding counts:
// a sliding window is a ring of small histograms.

const RELATIVE_ACCURACY = 0.05;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
/** Values at or below this (in ms) share bucket 0. */
const MIN_MS = 0.001;
export const HISTOGRAM_BUCKETS = 240;

export class LogHistogram {
  readonly counts = new Uint32Array(HISTOGRAM_BUCKETS);
  count = 0;

  record(valueMs: number): void {
    this.counts[bucketOf(valueMs)]!++;
    this.count++;
  }

  merge(other: LogHistogram): void {
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
  }

  /** The q-quantile (0..1) in ms, null when empty. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    // The rank of the value a sorted array would hold at index floor(q·(n−1)).
    const rank = Math.floor(q * (this.count - 1)) + 1;
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return valueOf(i);
    }
    return valueOf(HISTOGRAM_BUCKETS - 1);
  }
}

function bucketOf(valueMs: number): number {
  if (!(valueMs > MIN_MS)) return 0;
  const index = Math.ceil(Math.log(valueMs / MIN_MS) / LOG_GAMMA);
  return index < HISTOGRAM_BUCKETS ? index : HISTOGRAM_BUCKETS - 1;
}

/** The value that is within RELATIVE_ACCURACY of everything in bucket `index`. */
function valueOf(index: number): number {
  if (index === 0) return MIN_MS;
  const estimate = (MIN_MS * 2 * GAMMA ** index) / (GAMMA + 1);
  return Math.round(estimate * 1000) / 1000;
}
