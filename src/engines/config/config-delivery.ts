// How config reaches instances, besides the SDK's stream (config-routes.ts):
// - at start, in the environment: every key of its config as a variable (over the manifest's
//   env of the same name), BATON_CONFIG_RELEASE, and BATON_CONFIG_FILE when there is a file;
// - the file, rewritten on every release that changes what the instance gets.
// Values may hold `${secret:NAME}`: the secrets step after this one resolves them in the env.
// A service that declares `config.secrets: push` also finds the secrets its env refers to in
// its file, rewritten when one is rotated: that is how a rotation reaches it without a restart.
import type { ConfigFileContent, ConfigFiles } from '../../ports/config-files.ts';
import type { Runtime } from '../../ports/runtime.ts';
import { preparingStarts } from '../runtime/prepared-starts.ts';
import type { ConfigCenter, ConfigInstance } from './config-center.ts';

/** What config delivery needs of the secret vault. */
export interface FileSecrets {
  pushedTo(
    service: string,
  ): Promise<{ readonly values: Readonly<Record<string, string>>; readonly version: string } | undefined>;
  onRotated(listener: (name: string) => void): () => void;
}

/** An instance's file, and what it was made of (its release, its secrets' fingerprints). */
async function fileFor(
  center: ConfigCenter,
  secrets: FileSecrets['pushedTo'] | undefined,
  instance: ConfigInstance,
): Promise<{ content: ConfigFileContent; version: string }> {
  const config = center.configFor(instance);
  const pushed = await secrets?.(instance.service);
  return {
    content: pushed ? { ...config, secrets: pushed.values } : config,
    version: `${config.release}|${pushed?.version ?? ''}`,
  };
}

export function withConfig(
  runtime: Runtime,
  center: ConfigCenter,
  files: ConfigFiles | undefined,
  secrets?: FileSecrets,
): Runtime {
  return preparingStarts(runtime, async (spec) => {
    const config = center.configFor({ id: spec.id, service: spec.service, version: spec.version });
    const env: Record<string, string> = { ...spec.env };
    for (const [key, value] of Object.entries(config.values)) env[key] = String(value);
    env['BATON_CONFIG_RELEASE'] = String(config.release);
    if (files) {
      const file = await fileFor(center, secrets && ((service) => secrets.pushedTo(service)), {
        id: spec.id,
        service: spec.service,
        version: spec.version,
      });
      await files.write(spec.id, file.content, spec.workload.user);
      const mount = files.mount?.(spec.id);
      env['BATON_CONFIG_FILE'] = mount ? mount.file : files.path(spec.id);
      if (mount) return { ...spec, env, configMount: { source: mount.source, target: mount.target } };
    }
    return { ...spec, env };
  });
}

/** Rewrites each live instance's file when a release, or a pushed secret, changes what it gets. */
export class ConfigFileKeeper {
  readonly #center: ConfigCenter;
  readonly #files: ConfigFiles;
  readonly #secrets: FileSecrets | undefined;
  readonly #instances: () => readonly ConfigInstance[];
  readonly #written = new Map<string, string>();
  readonly #unsubscribe: (() => void)[] = [];
  #writing: Promise<void> = Promise.resolve();

  constructor(options: {
    center: ConfigCenter;
    files: ConfigFiles;
    secrets?: FileSecrets | undefined;
    instances: () => readonly ConfigInstance[];
  }) {
    this.#center = options.center;
    this.#files = options.files;
    this.#secrets = options.secrets;
    this.#instances = options.instances;
  }

  start(): void {
    // One pass at a time, in order: a slow disk never reorders two releases.
    const write = () => void (this.#writing = this.#writing.then(() => this.#writeAll()).catch(() => {}));
    this.#unsubscribe.push(this.#center.subscribe(write));
    if (this.#secrets) this.#unsubscribe.push(this.#secrets.onRotated(write));
  }

  /** Resolves once every change heard so far is on disk. */
  settled(): Promise<void> {
    return this.#writing;
  }

  async stop(): Promise<void> {
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    await this.#writing;
  }

  async #writeAll(): Promise<void> {
    const live = new Set<string>();
    // Once per service and pass: a release may touch hundreds of instances of a few services.
    const pushed = new Map<string, ReturnType<FileSecrets['pushedTo']>>();
    const secrets = this.#secrets;
    const pushedTo =
      secrets &&
      ((service: string) => {
        let answer = pushed.get(service);
        if (answer === undefined) pushed.set(service, (answer = secrets.pushedTo(service)));
        return answer;
      });
    for (const instance of this.#instances()) {
      live.add(instance.id);
      const file = await fileFor(this.#center, pushedTo, instance);
      if (this.#written.get(instance.id) === file.version) continue;
      await this.#files.write(instance.id, file.content);
      this.#written.set(instance.id, file.version);
    }
    for (const id of [...this.#written.keys()]) {
      if (live.has(id)) continue;
      await this.#files.remove(id);
      this.#written.delete(id);
    }
  }
}
