// Terminal output: colour and tables on a TTY, plain text otherwise, JSON on request.
import { styleText } from 'node:util';
import type { Problem } from '../../domain/problems.ts';
import { formatPath } from '../../domain/problems.ts';

type Style = Parameters<typeof styleText>[0];

export interface Output {
  readonly json: boolean;
  readonly color: boolean;
  line(text?: string): void;
  error(text: string): void;
  style(style: Style, text: string): string;
  printJson(value: unknown): void;
}

export function createOutput(options: { json: boolean; stream?: NodeJS.WriteStream }): Output {
  const stream = options.stream ?? process.stdout;
  const color = !options.json && stream.isTTY === true && !process.env['NO_COLOR'];
  return {
    json: options.json,
    color,
    line: (text = '') => void stream.write(text + '\n'),
    error: (text) => void process.stderr.write(text + '\n'),
    style: (style, text) => (color ? styleText(style, text, { validateStream: false }) : text),
    printJson: (value) => void stream.write(JSON.stringify(value, null, 2) + '\n'),
  };
}

/** Columns padded to their widest cell; the last column is never padded. */
export function table(out: Output, headers: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const render = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleLength(cell))))
      .join('  ')
      .trimEnd();
  out.line(out.style('bold', render(headers)));
  for (const row of rows) out.line(render(row));
}

function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}

const TIER_STYLE: Record<string, Style> = { critical: 'red', high: 'yellow', medium: 'cyan', low: 'gray' };

export function tier(out: Output, value: string): string {
  return out.style(TIER_STYLE[value] ?? 'white', value);
}

/** `file:line:col error code: message` then an indented hint — the shape editors and humans both read. */
export function printProblems(out: Output, problems: readonly Problem[]): void {
  for (const p of problems) {
    const where = [p.file ?? '<manifest>', p.line, p.column].filter((x) => x !== undefined).join(':');
    const severity = p.severity === 'error' ? out.style('red', 'error') : out.style('yellow', 'warning');
    out.error(`${out.style('bold', where)} ${severity} ${p.code}: ${p.message}`);
    if (p.path.length > 0) out.error(`  at ${formatPath(p.path)}`);
    if (p.hint) out.error(`  ${out.style('cyan', 'hint:')} ${p.hint}`);
  }
}

export function relativeTime(iso: string, now = Date.now()): string {
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)}h ago`;
  return `${Math.round(seconds / 86400)}d ago`;
}
