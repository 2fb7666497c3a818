// How an instance ended, as people need to read it: the exit code or signal in words, and
// the last lines it wrote to stderr — what `Cannot find module` looks like, not a count.

export interface ExitFact {
  readonly code: number | null;
  readonly signal: string | null;
  /** ISO 8601. */
  readonly at: string;
  /** `exit code 1`, `killed by SIGKILL`, or why it could not start at all. */
  readonly reason: string;
  /** The last lines of its stderr (or of its output when stderr was empty), oldest first. */
  readonly output: readonly string[];
}

/** How many lines of a dead instance's output are kept with its exit. */
export const EXIT_OUTPUT_LINES = 20;
/** A line longer than this is cut: an event is no place for a megabyte of minified stack. */
const MAX_LINE_CHARS = 500;

export function describeExit(code: number | null, signal: string | null): string {
  if (signal) return `killed by ${signal}${signal === 'SIGKILL' ? ' (out of memory, or kill -9)' : ''}`;
  if (code === null)
    return 'exited (its exit code is unknown: it was adopted, not started, by this control plane)';
  if (code === 0) return 'exited with code 0 (a service is expected to keep running)';
  if (code === 127) return 'exit code 127 (command not found)';
  if (code === 126) return 'exit code 126 (command not executable)';
  return `exit code ${code}`;
}

/** The last `EXIT_OUTPUT_LINES` non-blank lines, each cut to a readable length. */
export function lastOutputLines(lines: readonly string[]): string[] {
  return lines
    .filter((line) => line.trim() !== '')
    .slice(-EXIT_OUTPUT_LINES)
    .map((line) => (line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line));
}

/**
 * The most telling line of an exit's output, for one-line summaries: the last line that
 * looks like an error (Node's `Error: Cannot find module …` comes before its stack), else
 * the last line.
 */
export function tellingLine(output: readonly string[]): string | undefined {
  const error = [...output].reverse().find((line) => /\b(error|exception|fatal|panic)\b/i.test(line));
  return (error ?? output.at(-1))?.trim();
}
