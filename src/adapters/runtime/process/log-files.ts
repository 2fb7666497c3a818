// Reading and capping the per-instance log files. Children write them directly (O_APPEND),
// so the control plane never sits between a service and its output: reading is by offsets,
// and rotation is copy-then-truncate, the only kind that works while the child keeps its
// file descriptor (with O_APPEND its next write lands at the new end, not at the old
// offset). Lines written between the copy and the truncation are lost, as with logrotate's
// `copytruncate`; the window is one file copy.
import { copyFile, open, rename, stat, truncate } from 'node:fs/promises';

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

export function rotatedPath(path: string, n: number): string {
  return `${path}.${n}`;
}

export async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/** Reads bytes [start, end) of a file; fewer if it shrank meanwhile. */
async function readRange(path: string, start: number, end: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(end - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function countNewlines(buffer: Buffer): number {
  let count = 0;
  for (let i = buffer.indexOf(NEWLINE); i !== -1; i = buffer.indexOf(NEWLINE, i + 1)) count++;
  return count;
}

/**
 * The last `want` lines (all when undefined) of bytes [0, end) of a file, reading backwards in
 * chunks so that a short tail of a large file costs one chunk.
 */
export async function lastLines(path: string, end: number, want: number | undefined): Promise<string[]> {
  if (end <= 0 || want === 0) return [];
  const chunks: Buffer[] = [];
  let start = end;
  let newlines = 0;
  // want + 1 newlines guarantee `want` whole lines even when the oldest chunk starts mid-line.
  while (start > 0 && (want === undefined || newlines <= want)) {
    const from = Math.max(0, start - CHUNK);
    const chunk = await readRange(path, from, start);
    chunks.unshift(chunk);
    newlines += countNewlines(chunk);
    start = from;
  }
  let text = Buffer.concat(chunks).toString('utf8');
  if (text.endsWith('\n')) text = text.slice(0, -1);
  const lines = text.split('\n');
  if (start > 0) lines.shift();
  return want === undefined ? lines : lines.slice(-want);
}

/** The offset just past the last newline of bytes [0, size): where whole lines end. */
export async function wholeLinesEnd(path: string, size: number): Promise<number> {
  let end = size;
  while (end > 0) {
    const from = Math.max(0, end - CHUNK);
    const chunk = await readRange(path, from, end);
    const last = chunk.lastIndexOf(NEWLINE);
    if (last !== -1) return from + last + 1;
    end = from;
  }
  return 0;
}

/** Whole lines written since `offset`, and the offset to read from next time. */
export async function linesSince(
  path: string,
  offset: number,
  size: number,
): Promise<{ lines: string[]; next: number }> {
  if (size <= offset) return { lines: [], next: offset };
  const bytes = await readRange(path, offset, size);
  const last = bytes.lastIndexOf(NEWLINE);
  if (last === -1) return { lines: [], next: offset };
  return { lines: bytes.subarray(0, last).toString('utf8').split('\n'), next: offset + last + 1 };
}

/**
 * Copies the file to `.1` (shifting `.1` → `.2` … up to `.files`, dropping the oldest) and
 * truncates it, if it has grown past `maxBytes`. Returns whether it rotated.
 */
export async function rotateIfLarger(path: string, maxBytes: number, files: number): Promise<boolean> {
  const size = await fileSize(path);
  if (size === undefined || size <= maxBytes) return false;
  for (let n = files; n >= 2; n--) {
    await rename(rotatedPath(path, n - 1), rotatedPath(path, n)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  if (files >= 1) await copyFile(path, rotatedPath(path, 1));
  await truncate(path, 0);
  return true;
}
