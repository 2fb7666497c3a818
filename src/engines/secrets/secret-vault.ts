// Secrets: set (sealed before the store sees them), listed by fingerprint, deleted, and opened
// only to start an instance of a service whose env refers to them. Nothing here returns a
// value to an API caller: `valuesFor` serves the runtime alone.
import { BatonError } from '../../domain/errors.ts';
import type { Manifest } from '../../domain/manifest/model.ts';
import {
  SECRET_NAME,
  referencedSecrets,
  servicesReferencing,
} from '../../domain/secrets/secret-references.ts';
import type { Clock } from '../../ports/clock.ts';
import type { SecretSealer } from '../../ports/secret-sealer.ts';
import type { Store } from '../../ports/store.ts';

/** Secrets go into environment variables: a few KiB is plenty, and keeps env under exec limits. */
export const MAX_SECRET_BYTES = 64 * 1024;

export interface SecretSummary {
  readonly name: string;
  readonly fingerprint: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
  /** Services of the current revision whose env refers to it. */
  readonly usedBy: readonly string[];
}

export interface SecretChange {
  readonly secret: SecretSummary;
  /** False when the value was already this one (nothing was written). */
  readonly changed: boolean;
  readonly created: boolean;
  /** Services restarted so that their instances get the new value. */
  readonly restarted: readonly string[];
  /** Services that declare `config.secrets: push`: the new value goes to their config files. */
  readonly pushed: readonly string[];
}

/** What a `config.secrets: push` service's instances get beside their config. */
export interface PushedSecrets {
  readonly values: Readonly<Record<string, string>>;
  /** Names and fingerprints: changes exactly when a value changes (no value in it). */
  readonly version: string;
}

export interface SecretVaultOptions {
  readonly store: Store;
  readonly sealer: SecretSealer;
  readonly clock: Clock;
  /** The manifest instances run now, to know who uses a secret. */
  readonly current: () => Promise<Manifest | undefined>;
  /** A rotated secret reaches running instances by a rolling restart of each service using it. */
  readonly restart?: ((service: string, actor: string) => Promise<void>) | undefined;
  /**
   * Whether instances have a config file kept current (ConfigFileKeeper): where they do not,
   * `config.secrets: push` cannot reach them and a rotation restarts them as for everyone.
   */
  readonly canPush?: boolean | undefined;
  /**
   * Config values may refer to secrets too (`${secret:NAME}` in a config set): who the config
   * in force hands one to, and which ones it hands a service. Those services use it as well.
   */
  readonly config?:
    | {
        servicesGivenSecret(secret: string, services: readonly string[]): string[];
        secretsGivenTo(service: string): string[];
      }
    | undefined;
}

export class SecretVault {
  readonly #o: SecretVaultOptions;
  readonly #rotated = new Set<(name: string) => void>();

  constructor(options: SecretVaultOptions) {
    this.#o = options;
  }

  async set(name: string, value: string, actor: string): Promise<SecretChange> {
    checkName(name);
    checkValue(name, value);
    const { store, sealer } = this.#o;
    const before = await store.getSecret(name);
    const fingerprint = sealer.fingerprint(value);
    const usedBy = await this.#usedBy(name);
    if (before?.fingerprint === fingerprint) {
      return {
        secret: { ...summary(before), usedBy },
        changed: false,
        created: false,
        restarted: [],
        pushed: [],
      };
    }
    const time = this.#o.clock.now().toISOString();
    const stored = { name, sealed: sealer.seal(name, value), fingerprint, updatedAt: time, updatedBy: actor };
    const verb = before === undefined ? 'created' : 'rotated';
    await store.putSecret(stored, [
      {
        kind: 'secret.set',
        actor,
        time,
        message: `secret ${name} ${verb} (${fingerprint})`,
        data: { secret: name, fingerprint, usedBy },
      },
    ]);
    // A new secret reaches instances as they start. A rotated one is pushed to the services
    // that declare it (their config files are rewritten) and restarts the others: their
    // environment is read once.
    const manifest = await this.#o.current();
    const pushed =
      before === undefined || !this.#o.canPush
        ? []
        : usedBy.filter((service) => declaresPush(manifest, service));
    for (const listener of this.#rotated) listener(name);
    const restarted =
      before !== undefined && this.#o.restart ? usedBy.filter((service) => !pushed.includes(service)) : [];
    for (const service of restarted) await this.#o.restart!(service, actor);
    return {
      secret: { ...summary(stored), usedBy },
      changed: true,
      created: before === undefined,
      restarted,
      pushed,
    };
  }

  async list(): Promise<SecretSummary[]> {
    const [secrets, manifest] = await Promise.all([this.#o.store.listSecrets(), this.#o.current()]);
    return secrets.map((s) => ({ ...summary(s), usedBy: this.#users(manifest, s.name) }));
  }

  /** Refused while the current revision refers to it: its instances could not start again. */
  async delete(name: string, actor: string): Promise<void> {
    const usedBy = await this.#usedBy(name);
    if (usedBy.length > 0) {
      throw new BatonError('secret-in-use', `secret ${name} is referenced by ${usedBy.join(', ')}`, {
        hint: `remove \`\${secret:${name}}\` from their env (and apply) or from the config set first`,
        details: { usedBy },
      });
    }
    const time = this.#o.clock.now().toISOString();
    const deleted = await this.#o.store.deleteSecret(name, [
      { kind: 'secret.deleted', actor, time, message: `secret ${name} deleted`, data: { secret: name } },
    ]);
    if (!deleted) throw notFound(name);
  }

  /**
   * The values of the secrets one instance needs, for the runtime that starts it. A missing
   * one makes the instance unstartable (it would run without its credentials) until it is set.
   */
  async valuesFor(service: string, names: readonly string[]): Promise<Map<string, string>> {
    const values = new Map<string, string>();
    for (const name of names) {
      const stored = await this.#o.store.getSecret(name);
      if (stored === undefined) {
        throw new BatonError(
          'instance-unstartable',
          `${service} refers to secret ${name}, which is not set`,
          {
            hint: `set it: \`baton secrets set ${name} < file\``,
          },
        );
      }
      values.set(name, this.#o.sealer.open(name, stored.sealed));
    }
    return values;
  }

  /** Called after a secret's value changed (set here: other replicas' changes are not heard). */
  onRotated(listener: (name: string) => void): () => void {
    this.#rotated.add(listener);
    return () => void this.#rotated.delete(listener);
  }

  /**
   * The secrets a service's env refers to, opened, when it declares `config.secrets: push`;
   * undefined otherwise (its instances get secrets in their environment only). For the
   * config file of its instances and the SDK stream of its own token: never for anyone else.
   */
  async pushedTo(service: string): Promise<PushedSecrets | undefined> {
    if (!this.#o.canPush) return undefined;
    const manifest = await this.#o.current();
    const spec = manifest?.services[service];
    if (!spec || !declaresPush(manifest, service)) return undefined;
    const names = [
      ...new Set([...referencedSecrets(spec.env), ...(this.#o.config?.secretsGivenTo(service) ?? [])]),
    ]
      .filter((name) => SECRET_NAME.test(name))
      .sort();
    if (names.length === 0) return undefined;
    const values: Record<string, string> = {};
    const versions: string[] = [];
    for (const name of names) {
      const stored = await this.#o.store.getSecret(name);
      // Not set yet: its instances cannot start (valuesFor says so); nothing to push.
      if (stored === undefined) continue;
      values[name] = this.#o.sealer.open(name, stored.sealed);
      versions.push(`${name}=${stored.fingerprint}`);
    }
    return { values, version: versions.join(',') };
  }

  /** The names that exist, for plan-time checks. */
  async names(): Promise<Set<string>> {
    return new Set((await this.#o.store.listSecrets()).map((s) => s.name));
  }

  async #usedBy(name: string): Promise<string[]> {
    return this.#users(await this.#o.current(), name);
  }

  /** Services whose env refers to it, and those the config in force hands it to. */
  #users(manifest: Manifest | undefined, name: string): string[] {
    if (!manifest) return [];
    const byConfig = this.#o.config?.servicesGivenSecret(name, Object.keys(manifest.services)) ?? [];
    return [...new Set([...servicesReferencing(manifest, name), ...byConfig])].sort();
  }
}

function declaresPush(manifest: Manifest | undefined, service: string): boolean {
  return manifest?.services[service]?.config?.secrets === 'push';
}

function summary(s: { name: string; fingerprint: string; updatedAt: string; updatedBy: string }) {
  return { name: s.name, fingerprint: s.fingerprint, updatedAt: s.updatedAt, updatedBy: s.updatedBy };
}

function checkName(name: string): void {
  if (!SECRET_NAME.test(name)) {
    throw new BatonError('bad-request', `\`${name.slice(0, 130)}\` is not a secret name`, {
      hint: 'letters, digits, `_`, `.` and `-`, starting with a letter or `_`, at most 128: DB_PASSWORD',
    });
  }
}

/** The message never quotes the value: an error is shown, logged, perhaps reported. */
function checkValue(name: string, value: string): void {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes === 0)
    throw new BatonError('bad-request', `the value of ${name} is empty`, {
      hint: 'pipe the value on stdin or pass --from-file',
    });
  if (bytes > MAX_SECRET_BYTES)
    throw new BatonError(
      'bad-request',
      `the value of ${name} is ${bytes} bytes; at most ${MAX_SECRET_BYTES}`,
      {
        hint: 'secrets are delivered as environment variables: keep large files (certificates bundles) elsewhere',
      },
    );
  if (value.includes('\0'))
    throw new BatonError(
      'bad-request',
      `the value of ${name} contains a NUL byte, which no environment variable can hold`,
    );
}

function notFound(name: string): BatonError {
  return new BatonError('secret-not-found', `no secret named ${name}`, {
    hint: 'list them with `baton secrets list`',
  });
}
