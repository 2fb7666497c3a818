// What the process runtime keeps on disk per instance, under `<stateDir>/instances/<id>/`:
// - `instance.json`, the record: present while the instance lives; with the pid's start
//   time it lets a restarted control plane adopt the process (and never a stranger that
//   reused the pid);
// - `meta.json`: which service the folder belongs to, kept with the logs after the stop;
// - `stdout.log`, `stderr.log` and their rotated copies `.1` … `.n`.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { RunningInstance } from '../../../ports/runtime.ts';

export interface InstanceRecord {
  readonly instance: RunningInstance & { readonly pid: number };
  /** The process group to signal; the pid itself, since each instance leads its own group. */
  readonly pgid: number;
  /** From /proc/<pid>/stat; null where /proc could not tell. */
  readonly startTicks: string | null;
}

export interface InstanceMeta {
  readonly id: string;
  readonly service: string;
  readonly startedAt: string;
}

export type LogStream = 'stdout' | 'stderr';

const RecordSchema = z.object({
  instance: z.object({
    id: z.string().min(1),
    service: z.string(),
    version: z.string(),
    revision: z.number(),
    address: z.string(),
    port: z.number(),
    ports: z.record(z.string(), z.number()),
    node: z.string(),
    pid: z.number().int().positive(),
    startedAt: z.string(),
  }),
  pgid: z.number().int().positive(),
  startTicks: z.string().nullable(),
});

const MetaSchema = z.object({ id: z.string(), service: z.string(), startedAt: z.string() });

export function instancesDir(stateDir: string): string {
  return join(stateDir, 'instances');
}

export function instanceDir(stateDir: string, id: string): string {
  return join(instancesDir(stateDir), id);
}

export function logPath(stateDir: string, id: string, stream: LogStream): string {
  return join(instanceDir(stateDir, id), `${stream}.log`);
}

const recordPath = (stateDir: string, id: string) => join(instanceDir(stateDir, id), 'instance.json');
const metaPath = (stateDir: string, id: string) => join(instanceDir(stateDir, id), 'meta.json');

/** Atomic (temporary file + rename): a crash leaves the old record or the new one, never half of one. */
async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, path);
}

export async function writeMeta(stateDir: string, meta: InstanceMeta): Promise<void> {
  await mkdir(instanceDir(stateDir, meta.id), { recursive: true });
  await writeJsonAtomic(metaPath(stateDir, meta.id), meta);
}

export async function writeRecord(stateDir: string, record: InstanceRecord): Promise<void> {
  await writeJsonAtomic(recordPath(stateDir, record.instance.id), record);
}

export async function deleteRecord(stateDir: string, id: string): Promise<void> {
  await rm(recordPath(stateDir, id), { force: true });
}

/** Ids of every instance folder, live or not. */
export async function instanceIds(stateDir: string): Promise<string[]> {
  try {
    return (await readdir(instancesDir(stateDir), { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Missing → undefined; unreadable or corrupt → 'corrupt', so that the caller can drop it. */
export async function readRecord(
  stateDir: string,
  id: string,
): Promise<InstanceRecord | 'corrupt' | undefined> {
  const text = await readFile(recordPath(stateDir, id), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const record = RecordSchema.parse(JSON.parse(text));
    return record.instance.id === id ? record : 'corrupt';
  } catch {
    return 'corrupt';
  }
}

export async function readMeta(stateDir: string, id: string): Promise<InstanceMeta | undefined> {
  try {
    return MetaSchema.parse(JSON.parse(await readFile(metaPath(stateDir, id), 'utf8')));
  } catch {
    return undefined;
  }
}
