// How config reaches instances, besides the SDK's stream (config-routes.ts):
// - at start, in the environment: every key of its config as a variable (over the manifest's
//   env of the same name), BATON_CONFIG_RELEASE, and BATON_CONFIG_FILE when there is a file;
// - the file, rewritten on every release that changes what the instance gets.
// Values may hold `${secret:NAME}`: the secrets step after this one resolves them.
import type { ConfigFiles } from '../../ports/config-files.ts';
import type { Runtime } from '../../ports/runtime.ts';
import { preparingStarts } from '../runtime/prepared-starts.ts';
import type { ConfigCenter, ConfigInstance } from './config-center.ts';

export function withConfig(runtime: Runtime, center: ConfigCenter, files: ConfigFiles | undefined): Runtime {
  return preparingStarts(runtime, async (spec) => {
    const config = center.configFor({ id: spec.id, service: spec.service, version: spec.version });
    const env: Record<string, string> = { ...spec.env };
    for (const [key, value] of Object.entries(config.values)) env[key] = String(value);
    env['BATON_CONFIG_RELEASE'] = String(config.release);
    if (files) {
      await files.write(spec.id, config, spec.workload.user);
      env['BATON_CONFIG_FILE'] = files.path(spec.id);
    }
    return { ...spec, env };
  });
}

/** Rewrites each live instance's file when a release changes what it gets. */
export class ConfigFileKeeper {
  readonly #center: ConfigCenter;
  readonly #files: ConfigFiles;
  readonly #instances: () => readonly ConfigInstance[];
  readonly #written = new Map<string, number>();
  #unsubscribe: (() => void) | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(options: {
    center: ConfigCenter;
    files: ConfigFiles;
    instances: () => readonly ConfigInstance[];
  }) {
    this.#center = options.center;
    this.#files = options.files;
    this.#instances = options.instances;
  }

  start(): void {
    this.#unsubscribe = this.#center.subscribe(() => {
      // One pass at a time, in order: a slow disk never reorders two releases.
      this.#writing = this.#writing.then(() => this.#writeAll()).catch(() => {});
    });
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    await this.#writing;
  }

  async #writeAll(): Promise<void> {
    const live = new Set<string>();
    for (const instance of this.#instances()) {
      live.add(instance.id);
      const config = this.#center.configFor(instance);
      if (this.#written.get(instance.id) === config.release) continue;
      await this.#files.write(instance.id, config);
      this.#written.set(instance.id, config.release);
    }
    for (const id of [...this.#written.keys()]) {
      if (live.has(id)) continue;
      await this.#files.remove(id);
      this.#written.delete(id);
    }
  }
}
