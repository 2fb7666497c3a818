// The engine's log stream for a container without a TTY: frames of an 8-byte header (stream
// type, three zero bytes, payload size big-endian) and the payload. Turned into whole lines
// per stream; a partial last line waits for its end. Pure.

export interface FramedLine {
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

const HEADER = 8;

export class LogFrames {
  #pending: Buffer = Buffer.alloc(0);
  readonly #partial = { stdout: '', stderr: '' };

  /** Lines completed by this chunk. */
  push(chunk: Buffer): FramedLine[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const lines: FramedLine[] = [];
    while (this.#pending.length >= HEADER) {
      const size = this.#pending.readUInt32BE(4);
      if (this.#pending.length < HEADER + size) break;
      const type = this.#pending[0];
      const payload = this.#pending.subarray(HEADER, HEADER + size).toString('utf8');
      this.#pending = this.#pending.subarray(HEADER + size);
      // Type 0 (stdin) never comes back from `logs`; anything unknown is shown as stdout.
      const stream = type === 2 ? 'stderr' : 'stdout';
      lines.push(...this.#split(stream, payload));
    }
    return lines;
  }

  /** What is left at the end of the stream: partial lines, as lines. */
  end(): FramedLine[] {
    const lines: FramedLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.#partial[stream] !== '') lines.push({ stream, line: this.#partial[stream] });
      this.#partial[stream] = '';
    }
    return lines;
  }

  #split(stream: 'stdout' | 'stderr', text: string): FramedLine[] {
    const parts = (this.#partial[stream] + text).split('\n');
    this.#partial[stream] = parts.pop() ?? '';
    return parts.map((line) => ({ stream, line: line.endsWith('\r') ? line.slice(0, -1) : line }));
  }
}

/**
 * A line the engine stamped (`2026-12-03T09:00:00.1234Z text`): its time, its fraction padded
 * to nanoseconds so that times compare as strings, and the text. Unstamped lines sort first.
 */
export function splitTimestamp(line: string): { readonly time: string; readonly text: string } {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z ?/.exec(line);
  if (!match) return { time: '', text: line };
  return { time: `${match[1]}.${(match[2] ?? '').padEnd(9, '0')}Z`, text: line.slice(match[0].length) };
}
