// Compose's spellings of durations, sizes and CPUs, turned into the manifest's. Pure.

/** `1m30s`, `500ms`, `2h`, `10` (seconds) → `90s`, `500ms`, `2h`, `10s`; undefined when unreadable. */
export function composeDuration(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return `${Math.round(value)}s`;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return `${text}s`;
  const units: Record<string, number> = {
    h: 3_600_000,
    m: 60_000,
    s: 1_000,
    ms: 1,
    us: 0.001,
    µs: 0.001,
    ns: 1e-6,
  };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  const ms = parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * units[unit!]!, 0);
  return shortest(Math.round(ms));
}

function shortest(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

/**
 * `512m`, `512M`, `512mb`, `1.5g`, `2GiB`, `1048576` (bytes) → `512Mi`, `1536Mi`, `2Gi`, `1Mi`:
 * compose's units are powers of 1024. Rounded up to whole KiB; undefined when unreadable.
 */
export function composeMemory(value: unknown): string | undefined {
  const text =
    typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([bkmg])?(?:i?b)?$/i.exec(text);
  if (!match) return undefined;
  const factor = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[
    (match[2] ?? 'b').toLowerCase() as 'b' | 'k' | 'm' | 'g'
  ];
  const bytes = Number(match[1]) * factor;
  if (!(bytes > 0)) return undefined;
  const kib = Math.ceil(bytes / 1024);
  if (kib % (1024 * 1024) === 0) return `${kib / (1024 * 1024)}Gi`;
  if (kib % 1024 === 0) return `${kib / 1024}Mi`;
  return `${kib}Ki`;
}

/** `'0.5'`, `2`, `"1.25"` → 0.5, 2, 1.25; undefined when not a positive number. */
export function composeCpus(value: unknown): number | undefined {
  const cpus = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  return Number.isFinite(cpus) && cpus > 0 ? cpus : undefined;
}
