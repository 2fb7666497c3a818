// Telemetry figures as a person reads them: milliseconds with as many decimals as the
// magnitude deserves, rates, shares. Pure, so the same value reads the same everywhere.

/** `0.123 ms`-style numbers without the unit: 0.123, 4.56, 45.6, 456, 4 560. */
export function msNumber(ms: number): string {
  const abs = Math.abs(ms);
  if (abs === 0) return '0';
  if (abs < 1) return ms.toFixed(3);
  if (abs < 10) return ms.toFixed(2);
  if (abs < 100) return ms.toFixed(1);
  return Math.round(ms).toLocaleString('en-US').replace(/,/g, ' ');
}

/** A duration in ms, switching to seconds past 10 s: `12.3 ms`, `1.25 s`. */
export function msText(ms: number): string {
  if (Math.abs(ms) >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (Math.abs(ms) >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${msNumber(ms)} ms`;
}

/** Requests per second: `0`, `0.02`, `1.5`, `42`. */
export function rateText(perSecond: number): string {
  if (perSecond === 0) return '0';
  if (perSecond < 0.1) return perSecond.toFixed(2);
  if (perSecond < 10) return perSecond.toFixed(1);
  return String(Math.round(perSecond));
}

/** A share 0..1 as a percentage: `0%`, `0.5%`, `12%`. */
export function percentText(share: number): string {
  const pct = share * 100;
  if (pct === 0) return '0%';
  if (pct < 10) return `${pct.toFixed(1)}%`;
  return `${Math.round(pct)}%`;
}
