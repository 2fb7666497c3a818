// Manifest durations (`500ms`, `5s`, `2m`, `1h`) as milliseconds. The schema has already
// rejected anything else, so a malformed string here is a bug in the caller, not bad input.

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+)(ms|s|m|h)$/;

export function parseDuration(text: string): number {
  const match = DURATION.exec(text);
  if (match === null)
    throw new Error(`not a duration: ${JSON.stringify(text)} (expected e.g. 500ms, 5s, 2m, 1h)`);
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  // The pattern puts no cap on the digits; a value past 2^53 would silently lose precision.
  if (!Number.isSafeInteger(ms)) throw new Error(`duration out of range: ${text}`);
  return ms;
}
