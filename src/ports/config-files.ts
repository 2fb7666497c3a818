// The ConfigFiles port: the file an instance reads its config from (BATON_CONFIG_FILE), kept
// current by the control plane. Runtimes whose instances share this machine's disk (the
// process runtime) read it where it is; containers on this machine's engine get its folder
// bound read-only (`mount`), since a file bound alone would stay the old one after each
// atomic replacement (a rename gives the path a new inode; the bind keeps the old).
export interface ConfigFileContent {
  readonly release: number;
  readonly values: Readonly<Record<string, string | number | boolean>>;
  /**
   * For a service that declares `config.secrets: push`: the secrets its env refers to, by
   * name, so that a rotation reaches it without a restart.
   */
  readonly secrets?: Readonly<Record<string, string>> | undefined;
}

/** A host folder the runtime binds, read-only, into the instance; the file is inside it. */
export interface ConfigMount {
  readonly source: string;
  readonly target: string;
  /** The file as the instance sees it: BATON_CONFIG_FILE. */
  readonly file: string;
}

export interface ConfigFiles {
  path(instance: string): string;
  /** For instances that see the file through a bind mount (containers); absent for processes. */
  mount?(instance: string): ConfigMount;
  /**
   * Replaces the file whole (a reader never sees half of it). `user` is the instance's
   * manifest `user`, given at its start: the file is readable by that user alone.
   */
  write(instance: string, content: ConfigFileContent, user?: string): Promise<void>;
  remove(instance: string): Promise<void>;
}
