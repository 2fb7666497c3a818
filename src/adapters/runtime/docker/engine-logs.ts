// Logs as the engine gives them (containers' and Swarm services' alike): multiplexed frames,
// each line stamped by the engine. Several sources' history is merged by those stamps, so
// that `tail` counts across instances; following goes on from a moment, line by line.
import type { LogLine } from '../../../ports/runtime.ts';
import type { LineChannel } from './line-channel.ts';
import { LogFrames, splitTimestamp } from './log-frames.ts';

/** One instance's log source: what the engine answers for its history, and for following it. */
export interface LogSource {
  readonly instance: string;
  /** `until` (seconds) bounds the history when following comes after it. */
  readonly history: (options: { tail: number | 'all'; until?: number }) => Promise<Buffer>;
  readonly follow: (since: number) => Promise<NodeJS.ReadableStream & { destroy?: () => void }>;
}

/** Every source's lines up to `until`, oldest first, the last `tail` across them all. */
export async function mergedHistory(
  sources: readonly LogSource[],
  tail: number | undefined,
  until?: number,
): Promise<LogLine[]> {
  const stamped: (LogLine & { readonly time: string })[] = [];
  for (const source of sources) {
    const raw = await source.history({ tail: tail ?? 'all', ...(until === undefined ? {} : { until }) });
    const frames = new LogFrames();
    for (const { stream, line } of [...frames.push(raw), ...frames.end()]) {
      const { time, text } = splitTimestamp(line);
      stamped.push({ instance: source.instance, stream, line: text, time });
    }
  }
  stamped.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  const kept = tail === undefined ? stamped : stamped.slice(Math.max(0, stamped.length - tail));
  return kept.map(({ instance, stream, line }) => ({ instance, stream, line }));
}

/** Pushes a source's lines from `since` (seconds) into the channel until it ends or the channel closes. */
export async function followInto(
  source: LogSource,
  since: number,
  channel: LineChannel<LogLine>,
): Promise<void> {
  try {
    const stream = await source.follow(since);
    channel.onClose(() => stream.destroy?.());
    const frames = new LogFrames();
    for await (const chunk of stream as AsyncIterable<Buffer>)
      for (const { stream: kind, line } of frames.push(chunk))
        channel.push({ instance: source.instance, stream: kind, line: splitTimestamp(line).text });
    for (const { stream: kind, line } of frames.end())
      channel.push({ instance: source.instance, stream: kind, line: splitTimestamp(line).text });
  } catch {
    // A source removed while followed ends its lines; the others go on.
  }
}
