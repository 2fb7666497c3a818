// `baton/node:<version>`: the leanest base a Node service can have without a registry — an
// image holding nothing but the Node binary that runs Baton and the shared libraries `ldd`
// lists for it (≈ 132 MB, nearly all of it the binary), made with `docker import` of a tar
// written here (faster than a build, and it keeps the owners and modes set below).
//
// Linux only: the binary must be one the engine's kernel can run, which holds when Baton and
// the engine share a machine. Elsewhere, build on any Node 24 image you have instead.
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { BatonError } from '../../../domain/errors.ts';
import { addBuffer } from './build-context.ts';
import { drain } from './engine-stream.ts';

export const NODE_BASE_REPOSITORY = 'baton/node';
/** The user instances run as unless the manifest says otherwise: nobody. */
export const NODE_BASE_USER = '65534:65534';

/** `baton/node:24.21.0` and `baton/node:24` for Node v24.21.0. */
export function nodeBaseTags(
  nodeVersion: string,
  repository = NODE_BASE_REPOSITORY,
): { exact: string; major: string } {
  const version = nodeVersion.replace(/^v/, '');
  return { exact: `${repository}:${version}`, major: `${repository}:${version.split('.')[0]}` };
}

/** Whether `image` names a base this module can make for the given Node. */
export function isNodeBase(image: string, options: NodeBaseOptions): boolean {
  const { exact, major } = nodeBaseTags(options.nodeVersion, options.repository);
  return image === exact || image === major;
}

/** The absolute library paths in `ldd` output, the dynamic loader included. */
export function librariesOf(lddOutput: string): string[] {
  const paths: string[] = [];
  for (const line of lddOutput.split('\n')) {
    const arrow = /=>\s+(\/\S+)\s+\(/.exec(line);
    const bare = /^\s*(\/\S+)\s+\(/.exec(line);
    const path = arrow?.[1] ?? bare?.[1];
    if (path !== undefined && !paths.includes(path)) paths.push(path);
  }
  return paths;
}

export interface NodeBaseOptions {
  /** The Node binary to put in the image: the one running Baton. */
  readonly nodePath: string;
  readonly nodeVersion: string;
  /** Default `baton/node`; tests make their own. */
  readonly repository?: string | undefined;
  /** Extra labels on the image (tests mark theirs for removal). */
  readonly labels?: Readonly<Record<string, string>> | undefined;
}

/** Makes the base image unless the engine has it; resolves to its exact tag. */
export async function ensureNodeBase(docker: Docker, options: NodeBaseOptions): Promise<string> {
  const { exact, major } = nodeBaseTags(options.nodeVersion, options.repository);
  if (await hasImage(docker, exact)) {
    if (!(await hasImage(docker, major))) await tag(docker, exact, major);
    return exact;
  }
  const libraries = librariesOf((await promisify(execFile)('ldd', [options.nodePath])).stdout);
  if (libraries.length === 0)
    throw new BatonError(
      'image-build-failed',
      `cannot make ${exact}: ldd lists no library for ${options.nodePath}`,
    );
  const pack = tar.pack();
  const writing = writeRoot(pack, options.nodePath, libraries);
  const [repo, version] = exact.split(':') as [string, string];
  const stream = await docker.importImage(pack, {
    repo,
    tag: version,
    changes: [
      'ENV PATH=/usr/local/bin',
      `USER ${NODE_BASE_USER}`,
      'WORKDIR /app',
      'ENTRYPOINT ["node"]',
      'LABEL dev.baton.base=node',
      ...Object.entries(options.labels ?? {}).map(([key, value]) => `LABEL ${key}=${value}`),
    ],
  });
  await Promise.all([writing, drain(stream, `importing ${exact}`)]);
  await tag(docker, exact, major);
  return exact;
}

async function writeRoot(pack: tar.Pack, nodePath: string, libraries: readonly string[]): Promise<void> {
  try {
    const dirs = new Set<string>(['etc', 'usr', 'usr/local', 'usr/local/bin', 'app']);
    for (const library of libraries) {
      const parts = library.split('/').filter(Boolean);
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    }
    for (const dir of [...dirs].sort()) await addBuffer(pack, dir, undefined, 0o755, 'directory');
    await addBuffer(pack, 'tmp', undefined, 0o1777, 'directory');
    // A volume mounted at /data starts owned by the instance's user (the engine copies the
    // image's folder, owner included, into a fresh named volume).
    await addBuffer(pack, 'data', undefined, 0o755, 'directory', { uid: 65534, gid: 65534 });
    await addBuffer(
      pack,
      'etc/passwd',
      Buffer.from(
        'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n',
      ),
      0o644,
    );
    await addBuffer(pack, 'etc/group', Buffer.from('root:x:0:\nnogroup:x:65534:\n'), 0o644);
    await addFile(pack, 'usr/local/bin/node', nodePath, 0o755);
    for (const library of libraries) await addFile(pack, library.slice(1), library, 0o755);
    pack.finalize();
  } catch (error) {
    pack.destroy(error as Error);
    throw error;
  }
}

/** Follows links (libraries are mostly links to versioned files): the image gets the content. */
async function addFile(pack: tar.Pack, name: string, source: string, mode: number): Promise<void> {
  const { size } = await stat(source);
  await new Promise<void>((done, fail) => {
    const sink = pack.entry({ name, size, mode, mtime: new Date(0), uid: 0, gid: 0 }, (error) =>
      error ? fail(error) : done(),
    );
    const input = createReadStream(source);
    input.once('error', fail);
    input.pipe(sink);
  });
}

export async function hasImage(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

async function tag(docker: Docker, image: string, as: string): Promise<void> {
  const colon = as.lastIndexOf(':');
  await docker.getImage(image).tag({ repo: as.slice(0, colon), tag: as.slice(colon + 1) });
}
