// Config files as JSON under `<stateDir>/config/<instance>.json`, private to the user, each
// written to a temporary name and renamed over the old one: a reader sees the old file or the
// new one, never a torn write.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigFileContent, ConfigFiles } from '../../ports/config-files.ts';

export function jsonConfigFiles(stateDir: string): ConfigFiles {
  const folder = join(stateDir, 'config');
  const path = (instance: string) => join(folder, `${instance}.json`);
  return {
    path,
    async write(instance: string, content: ConfigFileContent) {
      await mkdir(folder, { recursive: true, mode: 0o700 });
      const temporary = `${path(instance)}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(content, null, 2) + '\n', { mode: 0o600 });
      await rename(temporary, path(instance));
    },
    async remove(instance: string) {
      await rm(path(instance), { force: true });
    },
  };
}
