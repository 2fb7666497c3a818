// Durations, times and values as a person reads them.

/** `45 s`, `3 min`, `2 h 5 min`, `3 d 4 h`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

export function ago(iso: string, now: number): string {
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  return ms < 1500 ? 'just now' : `${duration(ms)} ago`;
}

/** Local time of day, with the date when it is not today. */
export function clockTime(iso: string, now: number): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const sameDay = new Date(now).toDateString() === date.toDateString();
  const time = date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return sameDay ? time : `${date.toLocaleDateString()} ${time}`;
}

/** A manifest value in one line: strings bare, the rest as compact JSON, absence as an em dash. */
export function value(v: unknown): string {
  if (v === undefined) return '—';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** A log line from a service: JSON logs get `level message key=value`, others stay as they are. */
export function logText(line: string): { level: string | undefined; text: string } {
  if (!line.startsWith('{')) return { level: undefined, text: line };
  try {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    const { time: _time, level, message, msg, service: _service, ...rest } = parsed;
    const extra = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    const text = [String(message ?? msg ?? ''), extra].filter(Boolean).join(' ');
    return { level: typeof level === 'string' ? level : undefined, text };
  } catch {
    return { level: undefined, text: line };
  }
}
