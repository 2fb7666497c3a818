// The spelling of durations and times in trace searches, shared by the API and the CLI.

const UNIT_US: Readonly<Record<string, number>> = {
  us: 1,
  µs: 1,
  ms: 1_000,
  s: 1_000_000,
  m: 60_000_000,
  h: 3_600_000_000,
};
const DURATION = /^(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)?$/;

/** `250` (ms), `250ms`, `1.5s`, `2m`, `800us` → microseconds; undefined when not a duration. */
export function parseSearchDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (match === null) return undefined;
  const us = Math.round(Number(match[1]) * UNIT_US[match[2] ?? 'ms']!);
  return Number.isSafeInteger(us) ? us : undefined;
}

/** An ISO 8601 date-time or epoch milliseconds → microseconds since the epoch. */
export function parseSearchTime(text: string): number | undefined {
  const trimmed = text.trim();
  const ms = /^\d{1,15}$/.test(trimmed) ? Number(trimmed) : Date.parse(trimmed);
  return Number.isFinite(ms) ? ms * 1000 : undefined;
}
