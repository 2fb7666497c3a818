// The build context sent to the engine: the context folder as a tar stream, less what the
// ignore file leaves out. The engine's classic builder does not filter (the docker CLI does,
// client-side), so Baton does it here, with Docker's own matching rules (@balena/dockerignore).
// As BuildKit does, `<dockerfile>.dockerignore` beside the Dockerfile wins over the context's
// `.dockerignore`: one context (a repository root) can then serve several lean images.
import dockerignoreModule from '@balena/dockerignore';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';

export interface BuildContext {
  /** The tar stream; consume it once. */
  readonly stream: Readable;
  /** The Dockerfile's path inside the tar. */
  readonly dockerfile: string;
  /** The Dockerfile's text, for checking its base images first. */
  readonly dockerfileText: string;
  readonly files: number;
  readonly bytes: number;
}

// The package is CommonJS (`module.exports = factory`) while its types declare a default export.
const dockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;

/** Where a synthetic copy goes when the Dockerfile lies outside the context, as the docker CLI does. */
const OUTSIDE_DOCKERFILE = '.baton-dockerfile';

export async function packContext(contextDir: string, dockerfile: string): Promise<BuildContext> {
  const root = resolve(contextDir);
  const dockerfilePath = isAbsolute(dockerfile) ? dockerfile : resolve(root, dockerfile);
  const dockerfileText = await readFile(dockerfilePath, 'utf8');
  const inside = relative(root, dockerfilePath);
  const outside = inside.startsWith('..') || isAbsolute(inside);
  const dockerfileInTar = outside ? OUTSIDE_DOCKERFILE : toPosix(inside);
  const rules = await ignoreRules(root, dockerfilePath);
  const entries = await walk(root, rules);
  if (!outside && !entries.some((e) => e.path === dockerfileInTar)) {
    entries.push({
      path: dockerfileInTar,
      kind: 'file',
      size: Buffer.byteLength(dockerfileText),
      mode: 0o644,
    });
  }

  const pack = tar.pack();
  let bytes = 0;
  for (const entry of entries) bytes += entry.kind === 'file' ? entry.size : 0;
  void (async () => {
    try {
      for (const entry of entries) await addEntry(pack, root, entry);
      if (outside) await addBuffer(pack, OUTSIDE_DOCKERFILE, Buffer.from(dockerfileText), 0o644);
      pack.finalize();
    } catch (error) {
      pack.destroy(error as Error);
    }
  })();
  return { stream: pack, dockerfile: dockerfileInTar, dockerfileText, files: entries.length, bytes };
}

interface Entry {
  /** Relative, with forward slashes. */
  readonly path: string;
  readonly kind: 'file' | 'directory' | 'symlink';
  readonly size: number;
  readonly mode: number;
}

interface Rules {
  readonly ignores: (path: string) => boolean;
  /** Whether a directory that is ignored may still hold re-included (`!`) paths. */
  readonly mayReinclude: (directory: string) => boolean;
}

async function ignoreRules(root: string, dockerfilePath: string): Promise<Rules> {
  const text =
    (await readText(`${dockerfilePath}.dockerignore`)) ?? (await readText(join(root, '.dockerignore'))) ?? '';
  const patterns = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const matcher = dockerignore({ ignorecase: false }).add(patterns);
  const negations = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1).replace(/^\/+/, ''));
  return {
    ignores: (path) => matcher.ignores(path),
    mayReinclude: (directory) =>
      negations.some((negation) => {
        const literal = negation.split(/[*?[]/, 1)[0] ?? '';
        // A wildcard before the directory's depth could match anything beneath it.
        if (literal.length < negation.length && literal.length <= directory.length)
          return directory.startsWith(literal) || literal.startsWith(directory);
        return negation.startsWith(`${directory}/`);
      }),
  };
}

async function walk(root: string, rules: Rules): Promise<Entry[]> {
  const entries: Entry[] = [];
  const visit = async (dir: string) => {
    const names = (await readdir(join(root, dir))).sort();
    for (const name of names) {
      const path = dir === '' ? name : `${dir}/${name}`;
      const stats = await lstat(join(root, path));
      const ignored = rules.ignores(path);
      if (stats.isDirectory()) {
        if (ignored && !rules.mayReinclude(path)) continue;
        if (!ignored) entries.push({ path, kind: 'directory', size: 0, mode: stats.mode & 0o7777 });
        await visit(path);
      } else if (!ignored && (stats.isFile() || stats.isSymbolicLink())) {
        const kind = stats.isFile() ? 'file' : 'symlink';
        entries.push({ path, kind, size: stats.size, mode: stats.mode & 0o7777 });
      }
    }
  };
  await visit('');
  // A re-included file needs its folders in the tar even when they were ignored themselves.
  const present = new Set(entries.map((e) => e.path));
  const parents: Entry[] = [];
  for (const entry of entries) {
    const parts = entry.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (present.has(parent)) continue;
      present.add(parent);
      parents.push({ path: parent, kind: 'directory', size: 0, mode: 0o755 });
    }
  }
  return [...parents, ...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function addEntry(pack: tar.Pack, root: string, entry: Entry): Promise<void> {
  const absolute = join(root, ...entry.path.split('/'));
  const header = { name: entry.path, mode: entry.mode, mtime: new Date(0), uid: 0, gid: 0 };
  if (entry.kind === 'directory') return addBuffer(pack, entry.path, undefined, entry.mode, 'directory');
  if (entry.kind === 'symlink') {
    const linkname = await readlink(absolute);
    await new Promise<void>((done, fail) =>
      pack.entry({ ...header, type: 'symlink', linkname }, (error) => (error ? fail(error) : done())),
    );
    return;
  }
  await new Promise<void>((done, fail) => {
    const sink = pack.entry({ ...header, size: entry.size }, (error) => (error ? fail(error) : done()));
    const source = createReadStream(absolute);
    source.once('error', fail);
    source.pipe(sink);
  });
}

export function addBuffer(
  pack: tar.Pack,
  name: string,
  content: Buffer | undefined,
  mode: number,
  type: 'file' | 'directory' = 'file',
  owner: { uid: number; gid: number } = { uid: 0, gid: 0 },
): Promise<void> {
  return new Promise<void>((done, fail) => {
    const header = { name, mode, type, mtime: new Date(0), ...owner };
    pack.entry(header, type === 'file' ? (content ?? Buffer.alloc(0)) : undefined, (error) =>
      error ? fail(error) : done(),
    );
  });
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}
