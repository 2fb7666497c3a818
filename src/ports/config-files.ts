// The ConfigFiles port: the file an instance reads its config from (BATON_CONFIG_FILE), kept
// current by the control plane. Only runtimes whose instances share this machine's disk (the
// process runtime) have one.
export interface ConfigFileContent {
  readonly release: number;
  readonly values: Readonly<Record<string, string | number | boolean>>;
  /**
   * For a service that declares `config.secrets: push`: the secrets its env refers to, by
   * name, so that a rotation reaches it without a restart.
   */
  readonly secrets?: Readonly<Record<string, string>> | undefined;
}

export interface ConfigFiles {
  path(instance: string): string;
  /**
   * Replaces the file whole (a reader never sees half of it). `user` is the instance's
   * manifest `user`, given at its start: the file is readable by that user alone.
   */
  write(instance: string, content: ConfigFileContent, user?: string): Promise<void>;
  remove(instance: string): Promise<void>;
}
