// Summaries of a benchmark's samples.

/** The middle sample (the upper middle of an even count). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error('median of no samples');
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

export function max(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error('max of no samples');
  return Math.max(...samples);
}

/** `1234.5` → `1235 ms`. */
export function ms(value: number): string {
  return `${value.toFixed(0)} ms`;
}
