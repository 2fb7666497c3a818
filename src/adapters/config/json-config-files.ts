// Config files as JSON, one per instance, each written to a temporary name and renamed over
// the old one: a reader sees the old file or the new one, never a torn write. They live
// outside the state folder, which holds the admin token and is the control plane's alone:
// in a folder anyone may traverse but not list, each file readable by its instance's user
// only (as root, instances run as their manifest `user`, `nobody` by default).
//
// For containers (`containerDir`), each instance has a folder of its own, bound read-only into
// its container at `containerDir`: the file is replaced inside it, which a bound folder shows
// and a bound file would not. The container's user is a name in its image, unknown here: the
// file is readable by all, in a folder named after the instance only (the parent cannot be
// listed). It holds config values, never a secret (no push of secrets to containers).
import { chmod, chown, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigFileContent, ConfigFiles } from '../../ports/config-files.ts';
import { instanceIdentity, type UnixIdentity } from '../runtime/process/run-as.ts';

export function jsonConfigFiles(
  folder: string,
  options: { readonly asRoot?: boolean | undefined; readonly containerDir?: string | undefined } = {},
): ConfigFiles {
  if (options.containerDir !== undefined) return containerConfigFiles(folder, options.containerDir);
  const asRoot = options.asRoot ?? process.getuid?.() === 0;
  const readers = new Map<string, UnixIdentity | undefined>();
  const path = (instance: string) => join(folder, `${instance}.json`);
  return {
    path,
    async write(instance: string, content: ConfigFileContent, user?: string) {
      await mkdir(folder, { recursive: true, mode: 0o711 });
      await chmod(folder, 0o711);
      if (!readers.has(instance)) readers.set(instance, await instanceIdentity(user, { asRoot }));
      const reader = readers.get(instance);
      const temporary = `${path(instance)}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(content, null, 2) + '\n', { mode: 0o400 });
      if (reader !== undefined) await chown(temporary, reader.uid, reader.gid);
      await rename(temporary, path(instance));
    },
    async remove(instance: string) {
      readers.delete(instance);
      await rm(path(instance), { force: true });
    },
  };
}

const CONTAINER_FILE = 'config.json';

/** Where containers find their config file's folder. */
export const CONTAINER_CONFIG_DIR = '/run/baton/config';

function containerConfigFiles(folder: string, containerDir: string): ConfigFiles {
  const dir = (instance: string) => join(folder, instance);
  const path = (instance: string) => join(dir(instance), CONTAINER_FILE);
  return {
    path,
    mount: (instance) => ({
      source: dir(instance),
      target: containerDir,
      file: `${containerDir}/${CONTAINER_FILE}`,
    }),
    async write(instance: string, content: ConfigFileContent) {
      await mkdir(folder, { recursive: true, mode: 0o711 });
      await chmod(folder, 0o711);
      await mkdir(dir(instance), { recursive: true, mode: 0o755 });
      // Beside the file, in the same folder: the rename stays inside what the container sees.
      const temporary = join(dir(instance), `.${CONTAINER_FILE}.${process.pid}.tmp`);
      await writeFile(temporary, JSON.stringify(content, null, 2) + '\n', { mode: 0o444 });
      await rename(temporary, path(instance));
    },
    async remove(instance: string) {
      await rm(dir(instance), { recursive: true, force: true });
    },
  };
}
