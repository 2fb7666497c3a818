import { readFile, stat } from 'node:fs/promises';
import { LIMITS } from '../../domain/manifest/schema.ts';
import { CliExit, EXIT } from './exit-codes.ts';
import { expandManifest } from './manifest-expansion.ts';
import type { Output } from './output.ts';

/**
 * Reads a manifest file (or stdin for `-`), refusing oversized files before reading them, with
 * its `${VAR}`s and env files expanded (manifest-expansion.ts).
 */
export async function readManifestFile(path: string, out: Output): Promise<string> {
  return expandManifest(await readManifestText(path, out), path, out);
}

async function readManifestText(path: string, out: Output): Promise<string> {
  try {
    if (path === '-') return await readStdin();
    const info = await stat(path);
    if (info.size > LIMITS.manifestBytes) {
      out.error(
        `baton: ${path} is ${info.size} bytes; a manifest may be at most ${LIMITS.manifestBytes} bytes`,
      );
      out.error(
        '  hint: split rarely-changing detail out of the manifest, or check that this is the right file',
      );
      throw new CliExit(EXIT.invalid);
    }
    return await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof CliExit) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    out.error(`baton: cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    out.error('  hint: pass the manifest with -f, e.g. `baton apply -f baton.yaml`');
    throw new CliExit(EXIT.invalid);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > LIMITS.manifestBytes) throw new Error(`stdin exceeds ${LIMITS.manifestBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
